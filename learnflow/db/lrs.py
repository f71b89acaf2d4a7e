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
