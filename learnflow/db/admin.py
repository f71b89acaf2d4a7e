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
    "interaction_skills", "evidence", "tasks", "appeals", "check_results", "skill_ratings", "generated_cards", "review_cards",
    "action_items", "reflection_answers", "reflections", "flags", "interactions", "conversations", "goals",
)  # fmt: skip
_PARENTS_FIRST = ("conversations", "interactions", "reflections", "review_cards", "check_results", "tasks", "flags")
# Extension tables (sync state, xAPI identity and imports, coding-agent import cursors and items) hold copies of records too.
COPY_PREFIXES = ("sync_", "xapi_", "agent_")
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
    uri = Path(path).absolute().as_uri()
    try:
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=5)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.OperationalError:
            # A full disk or a read-only folder: no room for the WAL index; read the file as it is.
            conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=5)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM interactions").fetchone()[0] if version else 0
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(str(exc)) from None
    return FileHealth(version, result, count)


def readable_rows(path: Path) -> dict[str, list[dict]]:
    """Every row still readable, per table, from a (possibly damaged) file opened read-only.

    Python's sqlite3 has no binding for SQLite's recovery extension (the shell's `.recover`),
    so rows are read table by table and, past a damaged page, row by row (`_salvage`): one
    bad page costs the rows on it, never the table. A file whose schema cannot be read gives {}.
    """
    out: dict[str, list[dict]] = {}
    try:
        conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.DatabaseError:
        return out
    try:
        tables = _tables(conn)
    except sqlite3.DatabaseError:
        conn.close()
        return out  # the schema itself is unreadable
    for t in tables:
        if t.startswith(("_", "sqlite_")) or t.endswith(_FTS_SUFFIXES) or t in _DERIVED:
            continue
        out[t] = _salvage(conn, t)
    conn.close()
    return out


# Kept by triggers from another table (evidence_daily sums evidence): rebuilt, never copied,
# or a day's sums would count the copied evidence twice.
_DERIVED = ("evidence_daily",)
_MIN_ROWID = -(2**63)


def _salvage(conn: sqlite3.Connection, table: str) -> list[dict]:
    """The readable rows of one table, in rowid order.

    A scan stops at the first unreadable page. From the end, a backward scan reads up to the
    last damaged page; from the start, scans resume past each damaged page at the first rowid
    whose seek succeeds (a seek fails only while it lands on a damaged page), so every row a
    `WHERE rowid = ?` can read is kept. WITHOUT ROWID tables (small bookkeeping) keep what
    one scan reads.
    """
    q = f'"{table}"'
    try:
        cols = [row[1] for row in conn.execute(f"PRAGMA table_info({q})")]
        conn.execute(f"SELECT rowid FROM {q} LIMIT 0")
    except sqlite3.DatabaseError:
        rows = []
        try:
            cur = conn.execute(f"SELECT * FROM {q}")
            names = [d[0] for d in cur.description]
            for r in cur:
                rows.append(dict(zip(names, r)))
        except sqlite3.DatabaseError:
            pass
        return rows
    found: dict[int, dict] = {}

    def scan(sql: str, params: list) -> int | None:
        """Read rows until the end (None) or an unreadable page (the last rowid read, or _MIN_ROWID - 1)."""
        last = None
        try:
            for r in conn.execute(sql, params):
                found[r[0]] = dict(zip(cols, r[1:]))
                last = r[0]
        except sqlite3.DatabaseError:
            return last if last is not None else _MIN_ROWID - 1
        return None

    def seeks(rowid: int) -> bool:
        try:
            conn.execute(f"SELECT rowid FROM {q} WHERE rowid >= ? ORDER BY rowid LIMIT 1", [rowid]).fetchall()
            return True
        except sqlite3.DatabaseError:
            return False

    if scan(f"SELECT rowid, * FROM {q} ORDER BY rowid DESC", []) is None:
        return [found[k] for k in sorted(found)]  # the whole table read: nothing damaged here
    end = min(found) if found else _MAX_ROWID  # rows from here on were read backwards
    pos = _MIN_ROWID
    while pos < end:
        stop = scan(f"SELECT rowid, * FROM {q} WHERE rowid >= ? AND rowid < ? ORDER BY rowid", [pos, end])
        if stop is None:
            break
        # sqlite3 steps one row ahead: the row the scan died on may itself read fine alone.
        first = stop + 1 if stop >= pos else pos
        scan(f"SELECT rowid, * FROM {q} WHERE rowid = ?", [first])
        # learnflow's rowids start at 1: never step through 2^63 negative ones.
        nxt = _next_seek(seeks, max(first + 1, 1), end)
        if nxt is None:
            break  # the rest, up to the rows read backwards, is unreadable
        pos = nxt
    return [found[k] for k in sorted(found)]


_MAX_ROWID = 2**63 - 1


def _next_seek(seeks, start: int, end: int) -> int | None:
    """The first rowid in [start, end) whose seek reads, or None.

    Rowids are dense (1, 2, 3…), so a damaged leaf spans a few hundred: those are probed one by
    one. Beyond that (a damaged interior page spans more), probes double their stride and a
    bisection finds where the readable pages start again.
    """
    for rowid in range(start, min(start + 4096, end)):
        if seeks(rowid):
            return rowid
    low, stride = start + 4095, 4096
    while low + stride < end:
        if seeks(low + stride):
            high = low + stride
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (low, mid) if seeks(mid) else (mid, high)
            return high
        low, stride = low + stride, stride * 2
    return None


def restore_rows(store: Store, rows_by_table: dict[str, list[dict]]) -> dict[str, int]:
    """Copy salvaged rows into a fresh log (columns it knows, rows it lacks); rows offered per table.

    Rows are copied with foreign keys unenforced (a child may come before its parent, or its
    parent may be lost with a damaged page); `unlink_orphans` settles the links afterwards.
    """
    salvaged: dict[str, int] = {}
    known = set(_tables(store.conn))
    # Parents before children (m009 rebuilt the tables, so the file's own order no longer puts
    # conversations before interactions), and foreign keys off while rows come back: a child whose
    # parent was on a damaged page is handled after the copy (see below).
    order = {t: i for i, t in enumerate(_PARENTS_FIRST)}
    store.conn.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
    try:
        for t, rows in sorted(rows_by_table.items(), key=lambda kv: order.get(kv[0], len(order))):
            if t not in known or not rows or t in _DERIVED:
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
    finally:
        store.conn.execute("PRAGMA foreign_keys=ON")
    if "interactions" in salvaged:
        # Triggers indexed the copied rows; 'rebuild' makes sure the index matches the table.
        store._write(lambda: store.conn.execute("INSERT INTO interactions_fts(interactions_fts) VALUES('rebuild')"))
    return salvaged


# Rows that say something only about their parent row (a skill tag of one interaction): kept
# without it they would be noise, so they go with it.
_ONLY_ABOUT_PARENT = ("interaction_skills",)


def unlink_orphans(store: Store) -> dict[str, int]:
    """Rows whose parent was lost with a damaged page: a nullable link is cleared (the row is
    kept, e.g. a task whose question was lost), a required one drops the row, and so does a
    row that is only about its parent (`_ONLY_ABOUT_PARENT`). Per table, how
    many rows were changed or dropped. Without this a new row reusing the lost parent's id
    would inherit them."""
    changed: dict[str, int] = {}

    def fix() -> None:
        conn = store.conn
        for table, rowid, _parent, fk_index in conn.execute("PRAGMA foreign_key_check").fetchall():
            fk = [r for r in conn.execute(f'PRAGMA foreign_key_list("{table}")') if r[0] == fk_index]
            column = fk[0][3] if fk else None
            info = {r[1]: r for r in conn.execute(f'PRAGMA table_info("{table}")')}
            if column and column in info and not info[column][3] and table not in _ONLY_ABOUT_PARENT:  # [3]: NOT NULL
                conn.execute(f'UPDATE "{table}" SET "{column}" = NULL WHERE rowid = ?', [rowid])
            else:
                conn.execute(f'DELETE FROM "{table}" WHERE rowid = ?', [rowid])
            changed[table] = changed.get(table, 0) + 1

    store._write(fix)
    return changed


# -- forget -----------------------------------------------------------------------


# The kinds `forget` reports, per table, in the order they are told.
KINDS = {
    "interactions": "interaction", "conversations": "conversation", "tasks": "task", "check_results": "check",
    "review_cards": "review card", "generated_cards": "generated card", "appeals": "appeal", "flags": "flag", "reflections": "reflection",
    "reflection_answers": "reflection answer", "action_items": "action item", "skill_ratings": "self-rating",
    "goals": "goal", "evidence": "evidence row", "interaction_skills": "skill tag", "xapi_imported": "imported statement",
    "agent_files": "import cursor", "agent_items": "imported-item record",
}  # fmt: skip


@dataclass
class Erased:
    """What one `forget` chose (read inside its transaction, before anything is deleted) and deleted."""

    interactions: list[dict] = field(default_factory=list)  # id, created_at, status
    tasks: list[dict] = field(default_factory=list)  # id, created_at, command
    ids: dict[str, list[int]] = field(default_factory=dict)  # table -> ids deleted (statement tables and evidence sources)
    rescheduled: list[int] = field(default_factory=list)  # review cards kept that lost graded results: their schedule is rebuilt
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


# Where rows came from (`forget --source`): the coding agents' importers and hooks (sources/), and the MCP server.
SOURCES = ("claude", "codex", "gemini", "aider", "llm", "mcp", "hook")


def erase(
    store: Store, *, ids: Iterable[int] = (), since: str | None = None, source: str | None = None,
    before: Callable[[Erased], None] | None = None, after: Callable[[Erased], None] | None = None,
) -> Erased:  # fmt: skip
    """Forget interactions (those among `ids`, or asked at or after `since`), in one IMMEDIATE transaction,
    with every copy of their text and everything made from them:

    interaction_skills, evidence, the FTS index (triggers); flags on them; tasks linked to them or run
    since `since` (argv and output), with their evidence; review cards made from them and the checks
    answered on those cards or on the interactions (inline answers, attempts), with appeals and evidence;
    conversations left without turns (others are re-titled from their first remaining question); repeat
    links pointing at them (and the `repeat` evidence they gave). Choosing inside the transaction means
    a concurrent ask either is chosen whole or not at all. `before` runs once the choice is made and
    before anything is deleted (reflections rewritten, LRS voidings queued), in the same transaction.

    `source` (one of SOURCES) also chooses what came from a coding agent or the MCP server: its
    interactions, tasks and check results, and its import bookkeeping (cursors and taken items, so a
    later import starts afresh). 'hook' is the prompts a hook logged that no import has claimed since
    (a claimed one, and every shell command, is keyed like the agent's own import: `--source claude`).
    'mcp' also takes back the review cards the MCP server brought into review (bundled cards handed out
    as probes) when no other answer stands on them, as cards made from a forgotten ask go.

    A review card that stays but loses graded results (an MCP grade, an inline answer) is listed in
    `rescheduled`; `after` runs last, in the same transaction, to rebuild those schedules (admin/forget.py).
    """
    given = [int(i) for i in ids]
    erased = Erased()

    def delete() -> None:
        conn = store.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS forget_given (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM forget_given")
        conn.executemany("INSERT OR IGNORE INTO forget_given (id) VALUES (?)", [(i,) for i in given])
        where = "id IN (SELECT id FROM forget_given)" + (" OR created_at >= ?" if since else "")
        params: list = [since] if since else []
        by_source = ""  # tasks and check results chosen by their source column
        if source == "hook":
            where += " OR id IN (SELECT row_id FROM agent_items WHERE kind = 'prompt' AND tool = 'hook')"
        elif source is not None:
            where += " OR source = ?"
            by_source = " OR source = ?"
        missing = [i for (i,) in conn.execute("SELECT id FROM forget_given WHERE id NOT IN (SELECT id FROM interactions) ORDER BY id")]
        if missing:  # checked in the transaction: a typo deletes nothing, not the ids that happened to exist
            raise NotFound(
                f"No interaction with id {', '.join(map(str, missing))}; nothing was forgotten.", hint="learnflow history lists the ids."
            )
        sourced = [source] if by_source else []
        inter = _chosen(conn, "forget_i", f"SELECT id FROM interactions WHERE {where}", params + sourced)
        tasks = _chosen(
            conn, "forget_t",
            "SELECT id FROM tasks WHERE interaction_id IN (SELECT id FROM forget_i)" + (" OR created_at >= ?" if since else "")
            + by_source, params + sourced,
        )  # fmt: skip
        made = _cards_mcp_made(conn) if source == "mcp" else []  # read before its bookkeeping goes
        taken = _forget_agent_items(conn, source) if source else {}
        erased.counts.update(taken)
        if not inter and not tasks and not made and not (by_source and _any_check_from(conn, source)):
            return
        erased.interactions = store.query(
            "SELECT id, created_at, status FROM interactions WHERE id IN (SELECT id FROM forget_i) ORDER BY id"
        )
        erased.tasks = store.query("SELECT id, created_at, command FROM tasks WHERE id IN (SELECT id FROM forget_t) ORDER BY id")
        cards = _chosen(conn, "forget_c", "SELECT id FROM review_cards WHERE interaction_id IN (SELECT id FROM forget_i)")
        checks = _chosen(
            conn, "forget_k",
            "SELECT id FROM check_results WHERE interaction_id IN (SELECT id FROM forget_i) OR review_card_id IN (SELECT id FROM forget_c)"
            + by_source, sourced,
        )  # fmt: skip
        if made:  # a card the MCP server brought into review goes when only forgotten answers stand on it
            conn.executemany(
                "INSERT OR IGNORE INTO forget_c (id) SELECT id FROM review_cards r WHERE r.id = ? AND NOT EXISTS "
                "(SELECT 1 FROM check_results c WHERE c.review_card_id = r.id AND c.id NOT IN (SELECT id FROM forget_k))",
                [(i,) for i in made],
            )
            cards = [i for (i,) in conn.execute("SELECT id FROM forget_c ORDER BY id")]
        erased.rescheduled = [
            i for (i,) in conn.execute(
                "SELECT DISTINCT review_card_id FROM check_results WHERE id IN (SELECT id FROM forget_k) AND rating IS NOT NULL "
                "AND review_card_id IS NOT NULL AND review_card_id NOT IN (SELECT id FROM forget_c) ORDER BY review_card_id"
            )
        ]  # fmt: skip
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
        # An agent session's conversation that is gone: the next import of that session starts a new one
        # (a forgotten prompt's own item stays, so importing again does not bring it back).
        conn.execute("DELETE FROM agent_items WHERE kind = 'session' AND row_id NOT IN (SELECT id FROM conversations)")
        if after is not None:
            after(erased)

    store._write(delete)
    return erased


def _forget_agent_items(conn: sqlite3.Connection, source: str | None) -> dict[str, int]:
    """A source's import bookkeeping, rows deleted per table: its read cursors and taken items
    ('hook': the prompts the hooks logged that no import claimed)."""
    if source == "hook":
        return {"agent_items": conn.execute("DELETE FROM agent_items WHERE kind = 'prompt' AND tool = 'hook'").rowcount}
    return {
        "agent_files": conn.execute("DELETE FROM agent_files WHERE source = ?", [source]).rowcount,
        "agent_items": conn.execute("DELETE FROM agent_items WHERE source = ?", [source]).rowcount,
    }


def _cards_mcp_made(conn: sqlite3.Connection) -> list[int]:
    """Review cards still there that an MCP `learnflow_check` created (db/agents.hand_out_check: tool 'probe')."""
    rows = conn.execute(
        "SELECT row_id FROM agent_items WHERE source = 'mcp' AND session = 'checks' AND tool = 'probe' "
        "AND row_id IN (SELECT id FROM review_cards) ORDER BY row_id"
    )
    return [i for (i,) in rows]


def _any_check_from(conn: sqlite3.Connection, source: str | None) -> bool:
    return conn.execute("SELECT 1 FROM check_results WHERE source = ? LIMIT 1", [source]).fetchone() is not None


def compact(store: Store) -> None:
    """Leave no trace of deleted text in the file: merge the FTS index, VACUUM, truncate the WAL."""
    conn = store.conn
    # Merge the FTS index so deleted terms leave its segments, then rewrite the file.
    conn.execute("INSERT INTO interactions_fts(interactions_fts) VALUES('optimize')")
    conn.commit()
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
