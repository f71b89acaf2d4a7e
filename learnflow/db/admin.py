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
    store.conn.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
    try:
        for t, rows in rows_by_table.items():
            if t not in known or not rows or t in _DERIVED:
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
