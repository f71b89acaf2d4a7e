"""Whole-log operations: checking a file without opening it as the Store, salvaging rows
from a damaged copy, erasing records, and compacting the file afterwards.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from learnflow.db.store import marks
from learnflow.errors import DatabaseError, NotFound

if TYPE_CHECKING:
    from learnflow.db.store import Store

# Tables whose rows belong to the person's learning record (everything but schema bookkeeping).
# Children before parents (foreign keys are on); appeals and flags were missing, so one appeal made
# `forget --all` fail on a foreign key.
RECORD_TABLES = (
    "interaction_skills", "evidence", "tasks", "appeals", "check_results", "skill_ratings", "review_cards",
    "action_items", "reflection_answers", "reflections", "flags", "interactions", "conversations", "goals",
)  # fmt: skip
_PARENTS_FIRST = ("conversations", "interactions", "reflections", "review_cards", "check_results", "tasks", "flags")
# Extension tables (sync state, xAPI identity and imports) hold copies of records too.
COPY_PREFIXES = ("sync_", "xapi_")
# FTS5 keeps an index in shadow tables: rebuilt from its table, never copied.
_FTS_SUFFIXES = ("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


# -- doctor -----------------------------------------------------------------------


class FileHealth(NamedTuple):
    version: int  # PRAGMA user_version: the schema the file was written with
    quick_check: str  # "ok", or SQLite's first complaint
    interactions: int


def file_health(path: Path) -> FileHealth:
    """Read-only look at a log file; DatabaseError (with SQLite's words) when it cannot be read at all."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM interactions").fetchone()[0] if version else 0
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(str(exc)) from None
    return FileHealth(version, result, count)


def readable_rows(path: Path) -> dict[str, list[dict]]:
    """Every row still readable, per table, from a (possibly damaged) file opened read-only.

    A table that fails part-way gives no rows; a file that cannot be read at all gives {}.
    Python's sqlite3 has no binding for SQLite's recovery extension (the shell's `.recover`),
    so rows are read table by table.
    """
    out: dict[str, list[dict]] = {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        for t in _tables(conn):
            if t.startswith("_") or t.endswith(_FTS_SUFFIXES):
                continue
            try:
                cur = conn.execute(f'SELECT * FROM "{t}"')
                cols = [d[0] for d in cur.description]
                out[t] = [dict(zip(cols, r)) for r in cur.fetchall()]
            except sqlite3.DatabaseError:
                out[t] = []
        conn.close()
    except sqlite3.DatabaseError:
        pass  # nothing readable
    return out


def restore_rows(store: Store, rows_by_table: dict[str, list[dict]]) -> dict[str, int]:
    """Copy salvaged rows into a fresh log (columns it knows, rows it lacks); rows offered per table."""
    salvaged: dict[str, int] = {}
    known = set(_tables(store.conn))
    # Parents before children: foreign keys are checked row by row (m009 rebuilt the tables, so
    # the file's own order no longer puts conversations before interactions).
    order = {t: i for i, t in enumerate(_PARENTS_FIRST)}
    for t, rows in sorted(rows_by_table.items(), key=lambda kv: order.get(kv[0], len(order))):
        if t not in known or not rows:
            continue
        if t == "sqlite_sequence":  # the ids handed out so far: never lower a high-water mark (ids are not reused)
            marks_ = [(r.get("seq"), r.get("name")) for r in rows if isinstance(r.get("seq"), int)]
            store._write(lambda m=marks_: store.conn.executemany("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", m))
            continue
        have = {name for (_, name, *_) in store.conn.execute(f'PRAGMA table_info("{t}")')}
        columns = [c for c in rows[0] if c in have]
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT OR IGNORE INTO "{t}" ({names}) VALUES ({marks(columns)})'
        values = [[r.get(c) for c in columns] for r in rows]
        store._write(lambda sql=sql, values=values: store.conn.executemany(sql, values))
        salvaged[t] = len(rows)
    if "interactions" in salvaged:
        # Triggers indexed the copied rows; 'rebuild' makes sure the index matches the table.
        store._write(lambda: store.conn.execute("INSERT INTO interactions_fts(interactions_fts) VALUES('rebuild')"))
    return salvaged


# -- forget -----------------------------------------------------------------------


# The kinds `forget` reports, per table, in the order they are told.
KINDS = {
    "interactions": "interaction", "conversations": "conversation", "tasks": "task", "check_results": "check",
    "review_cards": "review card", "appeals": "appeal", "flags": "flag", "reflections": "reflection",
    "reflection_answers": "reflection answer", "action_items": "action item", "skill_ratings": "self-rating",
    "goals": "goal", "evidence": "evidence row", "interaction_skills": "skill tag", "xapi_imported": "imported statement",
}  # fmt: skip


@dataclass
class Erased:
    """What one `forget` chose (read inside its transaction, before anything is deleted) and deleted."""

    interactions: list[dict] = field(default_factory=list)  # id, created_at, status
    tasks: list[dict] = field(default_factory=list)  # id, created_at, command
    ids: dict[str, list[int]] = field(default_factory=dict)  # table -> ids deleted (statement tables and evidence sources)
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows deleted


def erase_all(store: Store, before: Callable[[Erased], None] | None = None) -> Erased:
    """Empty every record table and every copy of records, in one transaction; rows deleted per table.

    `before` runs first, in the same transaction, while every row is still there (to queue LRS voidings).
    The ids' high-water marks (sqlite_sequence) stay: an id is never handed out twice.
    """
    erased = Erased()

    def wipe() -> None:
        conn = store.conn
        if before is not None:
            before(erased)
        present = _tables(conn)
        # Emptying a table row by row through its triggers (the FTS index, the evidence_daily sums) took
        # 2.7 of the 5.6 s on a 100k-ask log. Everything goes: drop the triggers, empty the tables (SQLite's
        # truncate), empty what they maintain, and put the triggers back, in this same transaction.
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('interactions', 'evidence')"
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for table in RECORD_TABLES:
            if table in present:
                erased.counts[table] = conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
                conn.execute(f"DELETE FROM [{table}]")
        conn.execute("INSERT INTO interactions_fts(interactions_fts) VALUES('delete-all')")
        conn.execute("DELETE FROM evidence_daily")
        for _, sql in triggers:
            conn.execute(sql)
        for table in present:
            if table.startswith(COPY_PREFIXES):
                erased.counts[table] = conn.execute(f"DELETE FROM [{table}]").rowcount

    store._write(wipe)
    return erased


def _chosen(conn: sqlite3.Connection, name: str, sql: str, params: Iterable = ()) -> list[int]:
    """Fill the temp table `name` with the ids `sql` selects; the ids. (Temp tables, not IN lists: a
    --since may choose 100,000 rows, beyond SQLite's limit on parameters.)"""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY)")
    conn.execute(f"DELETE FROM {name}")
    conn.execute(f"INSERT OR IGNORE INTO {name} (id) {sql}", list(params))
    return [i for (i,) in conn.execute(f"SELECT id FROM {name} ORDER BY id")]


def erase(store: Store, *, ids: Iterable[int] = (), since: str | None = None, before: Callable[[Erased], None] | None = None) -> Erased:
    """Forget interactions (those among `ids`, or asked at or after `since`), in one IMMEDIATE transaction,
    with every copy of their text and everything made from them:

    interaction_skills, evidence, the FTS index (triggers); flags on them; tasks linked to them or run
    since `since` (argv and output), with their evidence; review cards made from them and the checks
    answered on those cards or on the interactions (inline answers, attempts), with appeals and evidence;
    conversations left without turns (others are re-titled from their first remaining question); repeat
    links pointing at them (and the `repeat` evidence they gave). Choosing inside the transaction means
    a concurrent ask either is chosen whole or not at all. `before` runs once the choice is made and
    before anything is deleted (reflections rewritten, LRS voidings queued), in the same transaction.
    """
    given = [int(i) for i in ids]
    erased = Erased()

    def delete() -> None:
        conn = store.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS forget_given (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM forget_given")
        conn.executemany("INSERT OR IGNORE INTO forget_given (id) VALUES (?)", [(i,) for i in given])
        where = "id IN (SELECT id FROM forget_given)" + (" OR created_at >= ?" if since else "")
        params = [since] if since else []
        missing = [i for (i,) in conn.execute("SELECT id FROM forget_given WHERE id NOT IN (SELECT id FROM interactions) ORDER BY id")]
        if missing:  # checked in the transaction: a typo deletes nothing, not the ids that happened to exist
            raise NotFound(
                f"No interaction with id {', '.join(map(str, missing))}; nothing was forgotten.", hint="learnflow history lists the ids."
            )
        inter = _chosen(conn, "forget_i", f"SELECT id FROM interactions WHERE {where}", params)
        tasks = _chosen(
            conn, "forget_t",
            "SELECT id FROM tasks WHERE interaction_id IN (SELECT id FROM forget_i)" + (" OR created_at >= ?" if since else ""), params,
        )  # fmt: skip
        if not inter and not tasks:
            return
        erased.interactions = store.query(
            "SELECT id, created_at, status FROM interactions WHERE id IN (SELECT id FROM forget_i) ORDER BY id"
        )
        erased.tasks = store.query("SELECT id, created_at, command FROM tasks WHERE id IN (SELECT id FROM forget_t) ORDER BY id")
        cards = _chosen(conn, "forget_c", "SELECT id FROM review_cards WHERE interaction_id IN (SELECT id FROM forget_i)")
        checks = _chosen(
            conn, "forget_k",
            "SELECT id FROM check_results WHERE interaction_id IN (SELECT id FROM forget_i) OR review_card_id IN (SELECT id FROM forget_c)",
        )  # fmt: skip
        flags = _chosen(conn, "forget_f", "SELECT id FROM flags WHERE interaction_id IN (SELECT id FROM forget_i)")
        appeals = _chosen(conn, "forget_a", "SELECT id FROM appeals WHERE check_result_id IN (SELECT id FROM forget_k)")
        _chosen(conn, "forget_v", "SELECT DISTINCT conversation_id FROM interactions WHERE id IN (SELECT id FROM forget_i)")
        erased.ids = {
            "interactions": inter, "tasks": tasks, "review_cards": cards, "check_results": checks,
            "flags": flags, "appeals": appeals,
        }  # fmt: skip
        if before is not None:
            before(erased)

        def gone(sql: str, table: str, params: list = []) -> None:  # noqa: B006 - never mutated
            erased.counts[table] = erased.counts.get(table, 0) + conn.execute(sql, params).rowcount

        ev = "DELETE FROM evidence WHERE source = '{s}' AND source_id IN (SELECT id FROM {t})"
        gone("DELETE FROM appeals WHERE id IN (SELECT id FROM forget_a)", "appeals")
        gone(ev.format(s="check_results", t="forget_k"), "evidence")
        gone("DELETE FROM check_results WHERE id IN (SELECT id FROM forget_k)", "check_results")
        gone("DELETE FROM review_cards WHERE id IN (SELECT id FROM forget_c)", "review_cards")
        gone(ev.format(s="tasks", t="forget_t"), "evidence")
        conn.execute("UPDATE tasks SET recovery_of = NULL WHERE recovery_of IN (SELECT id FROM forget_t)")
        gone("DELETE FROM tasks WHERE id IN (SELECT id FROM forget_t)", "tasks")
        gone(ev.format(s="flags", t="forget_f"), "evidence")
        gone("DELETE FROM flags WHERE id IN (SELECT id FROM forget_f)", "flags")
        # A later ask that repeated a forgotten one: its `repeat` evidence stood on the forgotten ask.
        gone(
            "DELETE FROM evidence WHERE source = 'interactions' AND kind = 'repeat' AND source_id IN "
            "(SELECT id FROM interactions WHERE repeat_of IN (SELECT id FROM forget_i))",
            "evidence",
        )
        conn.execute("UPDATE interactions SET repeat_of = NULL WHERE repeat_of IN (SELECT id FROM forget_i)")
        gone(ev.format(s="interactions", t="forget_i"), "evidence")
        gone("DELETE FROM interaction_skills WHERE interaction_id IN (SELECT id FROM forget_i)", "interaction_skills")
        gone("DELETE FROM interactions WHERE id IN (SELECT id FROM forget_i)", "interactions")  # FTS follows via triggers
        # Conversations are titled with their first question. A conversation is created in the same
        # transaction as its first turn (Store.begin_conversation), so one without turns is left over.
        orphan = "NOT EXISTS (SELECT 1 FROM interactions i WHERE i.conversation_id = conversations.id)"
        left_over = (
            f"DELETE FROM conversations WHERE {orphan} AND (id IN (SELECT id FROM forget_v){' OR created_at >= ?' if since else ''})"
        )
        gone(left_over, "conversations", params)
        conn.execute(
            "UPDATE conversations SET title = (SELECT substr(question, 1, 200) FROM interactions i "
            "WHERE i.conversation_id = conversations.id ORDER BY i.id LIMIT 1) WHERE id IN (SELECT id FROM forget_v)"
        )

    store._write(delete)
    return erased


def compact(store: Store) -> None:
    """Leave no trace of deleted text in the file: merge the FTS index, VACUUM, truncate the WAL."""
    conn = store.conn
    # Merge the FTS index so deleted terms leave its segments, then rewrite the file.
    conn.execute("INSERT INTO interactions_fts(interactions_fts) VALUES('optimize')")
    conn.commit()
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
