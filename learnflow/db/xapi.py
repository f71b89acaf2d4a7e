"""The log as xAPI sees it: the install's identity (`xapi_meta`), the rows statements are built
from, and statements imported from elsewhere (`xapi_imported`) with the evidence they carry; and their sync to a Learning
Record Store: what each LRS has acknowledged (`xapi_sent`, what makes `learnflow sync`
resumable) and the voidings `forget` owes it (`lrs_voiding`).

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


# -- sync: what each Learning Record Store has acknowledged (`xapi_sent`) -----------------


def acknowledged_ids(store: Store, lrs_key: str) -> set[str]:
    """Ids of the statements the LRS named by `lrs_key` has acknowledged."""
    return {sid for (sid,) in store.conn.execute("SELECT statement_id FROM xapi_sent WHERE lrs = ?", [lrs_key])}


def record_acknowledged(store: Store, lrs_key: str, statement_ids: list[str], sent_at: str) -> None:
    """Record one acknowledged batch, in one transaction (recording it again changes nothing)."""
    rows = [(lrs_key, sid, sent_at) for sid in statement_ids]
    store._write(lambda: store.conn.executemany("INSERT OR IGNORE INTO xapi_sent (lrs, statement_id, sent_at) VALUES (?, ?, ?)", rows))


# -- voiding: what `forget` owes each LRS ------------------------------------------------


def queue_voiding(store: Store, voiding_ids: dict[str, str], actor: str, queued_at: str) -> int:
    """For each statement in `voiding_ids` (statement id -> its voiding statement's id) that an LRS
    acknowledged, queue a voiding for that LRS and forget the acknowledgement; the number queued.

    Called inside forget's transaction: the records go and the voidings they need are queued at once.
    """
    conn = store.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS forget_sids (sid TEXT PRIMARY KEY, vid TEXT NOT NULL)")
    conn.execute("DELETE FROM forget_sids")
    conn.executemany("INSERT OR IGNORE INTO forget_sids (sid, vid) VALUES (?, ?)", list(voiding_ids.items()))

    def write() -> int:
        n = conn.execute(
            "INSERT OR IGNORE INTO lrs_voiding (lrs, statement_id, voiding_id, actor, queued_at) "
            "SELECT s.lrs, s.statement_id, f.vid, ?, ? FROM xapi_sent s JOIN forget_sids f ON f.sid = s.statement_id",
            [actor, queued_at],
        ).rowcount
        conn.execute("DELETE FROM xapi_sent WHERE statement_id IN (SELECT sid FROM forget_sids)")
        return n

    return store._write(write)


def pending_voidings(store: Store, lrs_key: str) -> list[tuple[str, str, str, str]]:
    """(statement id, voiding id, actor JSON, queued at) of the voidings this LRS has not acknowledged yet."""
    return store.conn.execute(
        "SELECT statement_id, voiding_id, actor, queued_at FROM lrs_voiding WHERE lrs = ? ORDER BY queued_at, statement_id", [lrs_key]
    ).fetchall()


def voidings_owed(store: Store) -> dict[str, int]:
    """LRS -> voidings waiting for the next `learnflow sync`."""
    return dict(store.conn.execute("SELECT lrs, count(*) FROM lrs_voiding GROUP BY lrs").fetchall())


def record_voided(store: Store, lrs_key: str, voided: list[tuple[str, str]], sent_at: str) -> None:
    """The LRS acknowledged these (statement id, voiding id): drop them from the queue, record the voidings as sent."""

    def write() -> None:
        store.conn.executemany("DELETE FROM lrs_voiding WHERE lrs = ? AND statement_id = ?", [(lrs_key, sid) for sid, _ in voided])
        store.conn.executemany(
            "INSERT OR IGNORE INTO xapi_sent (lrs, statement_id, sent_at) VALUES (?, ?, ?)", [(lrs_key, vid, sent_at) for _, vid in voided]
        )

    store._write(write)


def anything_acknowledged(store: Store) -> bool:
    """Has any LRS acknowledged anything (else `forget` has nothing to void)?"""
    return store.conn.execute("SELECT 1 FROM xapi_sent LIMIT 1").fetchone() is not None
