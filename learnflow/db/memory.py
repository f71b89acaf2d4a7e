"""What `ask` tells the model about the learner, and the reliance view of `gaps`: named queries.

All reads go through the store's plain sqlite3 connection: `ask` runs them on
every question and must not pay for importing sqlite-utils. Each one is a
primary-key or index lookup (check_results.skill, goals.skill, action_items by
id, interactions.created_at), so their cost does not grow with the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from learnflow.db.store import marks

if TYPE_CHECKING:
    from learnflow.db.store import Store


def missed_checks(store: Store, skill: str, limit: int = 3) -> list[str]:
    """The questions of the latest checks answered wrong on `skill`, newest first (never the answers)."""
    rows = store.conn.execute(
        "SELECT question FROM check_results WHERE skill = ? AND correct = 0 AND coalesce(question, '') <> '' "
        "ORDER BY created_at DESC, id DESC LIMIT ?",
        [skill, limit],
    )
    return [r[0] for r in rows]


def open_action_text(store: Store) -> str | None:
    """The text of the latest open action item (the one `ask` reminds of), or None."""
    row = store.conn.execute("SELECT text FROM action_items WHERE status = 'open' ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row and row[0] else None


def goal_targets(store: Store, skills: list[str]) -> dict[str, float]:
    """Target mastery of the skills that have a goal (`learnflow goals`); the rest are left out."""
    if not skills:
        return {}
    rows = store.conn.execute(f"SELECT skill, target FROM goals WHERE skill IN ({marks(skills)}) AND target IS NOT NULL", skills)
    return {skill: float(target) for skill, target in rows}


def reliance_counts(store: Store, *, start: str, split: str, end: str) -> dict[str, tuple[int, int, int, int, int]]:
    """Asks in [start, split) ("before") and [split, end) ("now"): (asks, --direct, with an attempt, repeats, flagged).

    Times are ISO strings in the log's format (timespec.iso), so string order is time order and
    the created_at index bounds the scan. An answer flagged several times counts once.
    """
    rows = store.conn.execute(
        "SELECT CASE WHEN i.created_at >= :split THEN 'now' ELSE 'before' END AS side, count(*), "
        "coalesce(sum(i.mode = 'direct'), 0), coalesce(sum(coalesce(i.attempt, '') <> ''), 0), "
        "coalesce(sum(i.repeat_of IS NOT NULL), 0), "
        "coalesce(sum(EXISTS (SELECT 1 FROM flags f WHERE f.interaction_id = i.id)), 0) "
        # Prompts imported from coding agents (source set) were not asked through learnflow: not its reliance.
        "FROM interactions i WHERE i.created_at >= :start AND i.created_at < :end AND i.source IS NULL GROUP BY side",
        {"start": start, "split": split, "end": end},
    )
    return {side: (n, direct, attempt, repeat, flagged) for side, n, direct, attempt, repeat, flagged in rows}
