"""Flags: answers the learner marked wrong or unverified (`learnflow flag`), the SQL behind them.

A flag row and its evidence (kind `flag` on `evaluating-ai-output`, source "flags") are
written in one transaction. Reads of flags for `history`/`show` and the exclusion of flagged
answers from the coach's "from your log" live in db/store.py, beside the queries they join.
"""

from __future__ import annotations

from learnflow.db.store import Store


def latest_answer(store: Store) -> int | None:
    """The newest interaction that has an answer (what `flag` marks by default)."""
    row = store.conn.execute("SELECT id FROM interactions WHERE coalesce(answer, '') != '' ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def interaction(store: Store, interaction_id: int) -> dict | None:
    """{id, answer, backend} of one interaction, or None."""
    rows = store.query("SELECT id, answer, backend FROM interactions WHERE id = ?", [interaction_id])
    return rows[0] if rows else None


def flag_of(store: Store, interaction_id: int) -> dict | None:
    """The flag on this answer, if it has one."""
    rows = store.query("SELECT * FROM flags WHERE interaction_id = ? ORDER BY id LIMIT 1", [interaction_id])
    return rows[0] if rows else None


def add_flag(store: Store, row: dict, evidence: list[dict], ts: float) -> int:
    """Insert the flag and its evidence rows (source "flags", source_id = the flag's id) in one transaction."""

    def write():
        fid = store._insert("flags", row)
        store._insert_many("evidence", [{"ts": ts, "source": "flags", "source_id": fid, **e} for e in evidence])
        return fid

    return store._write(write)
