"""Whole-log operations: checking a file without opening it as the Store, salvaging rows
from a damaged copy, erasing records, and compacting the file afterwards.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from learnflow.db.store import marks
from learnflow.errors import DatabaseError

if TYPE_CHECKING:
    from learnflow.db.store import Store

# Tables whose rows belong to the person's learning record (everything but schema bookkeeping).
RECORD_TABLES = (
    "interaction_skills", "evidence", "tasks", "check_results", "skill_ratings", "review_cards",
    "action_items", "reflection_answers", "reflections", "interactions", "conversations", "goals",
)  # fmt: skip
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
    for t, rows in rows_by_table.items():
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


def erase_all(store: Store) -> dict[str, int]:
    """Empty every record table and every copy of records, in one transaction; rows deleted per table."""
    counts: dict[str, int] = {}

    def wipe() -> None:
        present = _tables(store.conn)
        for table in RECORD_TABLES:
            if table in present:
                counts[table] = store.conn.execute(f"DELETE FROM [{table}]").rowcount
        for table in present:
            if table.startswith(COPY_PREFIXES):
                counts[table] = store.conn.execute(f"DELETE FROM [{table}]").rowcount

    store._write(wipe)
    return counts


def interaction_ids(store: Store, *, ids: Iterable[int] = (), since: str | None = None) -> list[int]:
    """The interactions among `ids`, or created at or after `since` (ISO time); either matches."""
    ids = list(ids)
    where: list[str] = []
    params: list[int | str] = []
    if ids:
        where.append(f"id IN ({','.join('?' * len(ids))})")
        params += ids
    if since:
        where.append("created_at >= ?")
        params.append(since)
    if not where:
        return []
    return [i for (i,) in store.conn.execute(f"SELECT id FROM interactions WHERE {' OR '.join(where)}", params)]


def erase_interactions(store: Store, chosen: list[int]) -> None:
    """Delete interactions and what was derived from them; unlink what only points at them."""
    placeholders = marks(chosen)

    def delete() -> None:
        conn = store.conn
        conn.execute(f"DELETE FROM interaction_skills WHERE interaction_id IN ({placeholders})", chosen)
        conn.execute(f"DELETE FROM evidence WHERE source = 'interactions' AND source_id IN ({placeholders})", chosen)
        conn.execute(f"UPDATE tasks SET interaction_id = NULL WHERE interaction_id IN ({placeholders})", chosen)
        if "review_cards" in _tables(conn):
            conn.execute(f"UPDATE review_cards SET interaction_id = NULL WHERE interaction_id IN ({placeholders})", chosen)
        conn.execute(f"DELETE FROM interactions WHERE id IN ({placeholders})", chosen)  # FTS follows via triggers
        conn.execute(
            "DELETE FROM conversations WHERE id NOT IN (SELECT DISTINCT conversation_id FROM interactions WHERE conversation_id IS NOT NULL)"
        )

    store._write(delete)


def compact(store: Store) -> None:
    """Leave no trace of deleted text in the file: merge the FTS index, VACUUM, truncate the WAL."""
    conn = store.conn
    # Merge the FTS index so deleted terms leave its segments, then rewrite the file.
    conn.execute("INSERT INTO interactions_fts(interactions_fts) VALUES('optimize')")
    conn.commit()
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
