"""Queries of try first: where a conversation stands on its hint ladder."""

from __future__ import annotations

from learnflow.db.store import Store, marks


def ladder_turn(store: Store, conversation_id: int, *, latest_only: bool = False) -> dict | None:
    """The conversation's latest try-first turn (id, hint_step, level, attempt).

    With `latest_only`, only when it is the conversation's last turn at all (`ask -c` climbs the
    ladder only straight after a rung; a plain question in between starts over)."""
    rows = store.query(
        "SELECT id, hint_step, level, attempt FROM interactions WHERE conversation_id = ? "
        + ("" if latest_only else "AND hint_step IS NOT NULL ")
        + "ORDER BY id DESC LIMIT 1",
        [conversation_id],
    )
    return rows[0] if rows and rows[0]["hint_step"] is not None else None


def ladder_topic(store: Store, conversation_id: int, up_to: int) -> str:
    """The question the ladder ending at `up_to` is about: its rung-0 question."""
    rows = store.query(
        "SELECT question FROM interactions WHERE conversation_id = ? AND hint_step = 0 AND id <= ? ORDER BY id DESC LIMIT 1",
        [conversation_id, up_to],
    )
    return rows[0]["question"] if rows else ""


def attempt_scores(store: Store, interaction_ids: list[int]) -> dict[int, float]:
    """The judged score of each listed interaction's attempt (its `attempt` evidence); unjudged ones are absent."""
    if not interaction_ids:
        return {}
    rows = store.query(
        f"SELECT source_id, value FROM evidence WHERE source = 'interactions' AND kind = 'attempt' AND source_id IN ({marks(interaction_ids)})",
        interaction_ids,
    )
    return {r["source_id"]: r["value"] for r in rows}
