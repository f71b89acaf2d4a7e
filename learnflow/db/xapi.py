"""The log as xAPI sees it: the install's identity (`xapi_meta`), the rows statements are built
from, and statements imported from elsewhere (`xapi_imported`) with the evidence they carry.

Exports read tables whole, in id order; a statement's id is derived from its source row's
key, so the key queries (`row_ids`, `evidence_keys`) must stay in step with the builders.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learnflow.db.store import Store

# The tables whose rows become statements of their own (their ids name the statements).
STATEMENT_TABLES = ("interactions", "check_results", "skill_ratings", "reflections")


# -- identity --------------------------------------------------------------------


def meta(store: Store, key: str) -> str | None:
    """One value of the install's xAPI identity (namespace, pseudonym), None before it is made."""
    row = store.conn.execute("SELECT value FROM xapi_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def keep_meta(store: Store, key: str, value: str) -> str:
    """Store `value` unless the key already has one (another process may have been first); the kept value.

    A log that can only be read (full disk, read-only folder) still exports: the value is used
    for this run only, and `store.not_kept` says so (the next writable run makes a lasting one)."""
    if store.read_only is not None:
        store.not_kept.append(f"the xAPI {key}")
        return value
    store._write(lambda: store.conn.execute("INSERT OR IGNORE INTO xapi_meta (key, value) VALUES (?, ?)", [key, value]))
    return store.conn.execute("SELECT value FROM xapi_meta WHERE key = ?", [key]).fetchone()[0]


# -- what statements are built from ------------------------------------------------------


def exportable_evidence(store: Store) -> Iterator[tuple]:
    """(id, ts, skill, kind, value, source, source_id) of every evidence row not imported, by id."""
    return store.conn.execute("SELECT id, ts, skill, kind, value, source, source_id FROM evidence WHERE source IS NOT 'xapi' ORDER BY id")


def interaction_skills(store: Store) -> Iterator[tuple[int, str]]:
    """(interaction id, skill), most relevant skill first within an interaction."""
    return store.conn.execute("SELECT interaction_id, skill FROM interaction_skills ORDER BY interaction_id, relevance DESC")


def finished_interactions(store: Store) -> list[dict]:
    """Every ask that is no longer pending, by id."""
    return store.query("SELECT * FROM interactions WHERE status != 'pending' ORDER BY id")


def check_results(store: Store) -> list[dict]:
    """Every answered check, by id."""
    return store.query("SELECT * FROM check_results ORDER BY id")


def self_ratings(store: Store) -> list[dict]:
    """Every self-rating on the 1-5 scale, by id."""
    return store.query("SELECT * FROM skill_ratings WHERE rating BETWEEN 1 AND 5 ORDER BY id")


def reflection_skills(store: Store) -> Iterator[tuple[int, str]]:
    """(reflection id, skill) for each skill checked or rated in a reflection."""
    return store.conn.execute(
        "SELECT reflection_id, skill FROM check_results WHERE reflection_id IS NOT NULL "
        "UNION SELECT reflection_id, skill FROM skill_ratings WHERE reflection_id IS NOT NULL"
    )


def reflection_answers(store: Store) -> list[dict]:
    """Every answer given in a reflection, by id."""
    return store.query("SELECT * FROM reflection_answers ORDER BY id")


def done_reflections(store: Store) -> list[dict]:
    """Every finished reflection, by id."""
    return store.query("SELECT * FROM reflections WHERE status = 'done' ORDER BY id")


def evidence_per_skill(store: Store) -> list[tuple[str, int, int, float]]:
    """(skill, rows, last id, last ts) of all evidence, by skill: what a mastery snapshot is named by."""
    return store.conn.execute("SELECT skill, count(*), max(id), max(ts) FROM evidence GROUP BY skill ORDER BY skill").fetchall()


def row_ids(store: Store, table: str) -> list[int]:
    """The ids of one of STATEMENT_TABLES."""
    if table not in STATEMENT_TABLES:
        raise ValueError(f"not a statement table: {table}")
    return [i for (i,) in store.conn.execute(f"SELECT id FROM [{table}]")]


def evidence_keys(store: Store) -> tuple[list[tuple[str, int]], list[int]]:
    """The (source, source_id) pairs evidence was derived from, and the ids of rows with no source row."""
    sources = store.conn.execute("SELECT DISTINCT source, source_id FROM evidence WHERE source_id IS NOT NULL").fetchall()
    loose = [i for (i,) in store.conn.execute("SELECT id FROM evidence WHERE source_id IS NULL")]
    return sources, loose


# -- imported statements ----------------------------------------------------------------


def imported_statements(store: Store) -> Iterator[str]:
    """The JSON of every imported statement, in import order."""
    return (text for (text,) in store.conn.execute("SELECT statement FROM xapi_imported ORDER BY id"))


def imported_ids(store: Store) -> set[str]:
    """Ids of the statements imported so far."""
    return {sid for (sid,) in store.conn.execute("SELECT statement_id FROM xapi_imported")}


def known_ids(store: Store, ids: list[str]) -> set[str]:
    """Which of `ids` were imported before (the unique index answers each; chunked under SQLite's variable limit)."""
    from learnflow.db.store import marks

    found: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        sql = f"SELECT statement_id FROM xapi_imported WHERE statement_id IN ({marks(chunk)})"
        found.update(sid for (sid,) in store.conn.execute(sql, chunk))
    return found


def add_imported(store: Store, statements: list[tuple[str, str | None, str, list[tuple]]], imported_at: str) -> int:
    """Keep statements and add the evidence they carry, in one transaction; the number of evidence rows.

    Each statement is (id, timestamp, JSON, evidence rows (ts, skill, kind, value)); the rows
    get source "xapi" and source_id = the statement's rowid in `xapi_imported`.
    """

    def write() -> int:
        conn = store.conn  # plain sqlite3: 10,000 statements in well under a second
        evidence = []
        for sid, timestamp, text, rows in statements:
            cur = conn.execute(
                "INSERT INTO xapi_imported (statement_id, imported_at, timestamp, statement) VALUES (?, ?, ?, ?)",
                [sid, imported_at, timestamp, text],
            )
            evidence += [(*row, "xapi", cur.lastrowid) for row in rows]
        conn.executemany("INSERT INTO evidence (ts, skill, kind, value, source, source_id) VALUES (?, ?, ?, ?, ?, ?)", evidence)
        return len(evidence)

    return store._write(write)
