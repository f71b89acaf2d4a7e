"""What each Learning Record Store has acknowledged (`xapi_sent`): what makes `learnflow sync` resumable."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learnflow.db.store import Store


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
