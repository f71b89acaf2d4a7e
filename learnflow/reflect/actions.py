"""Action items: the "Now what?" of a reflection, kept open until done or dropped.

Small on purpose: `ask` imports it on every question to show the reminder, so
it must not pull in the rest of reflect (review cards, FSRS, prompts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from learnflow import paths
from learnflow.db import reflections
from learnflow.db.store import Store
from learnflow.errors import NotFound
from learnflow.timespec import iso, parse_iso


@dataclass
class Action:
    id: int
    text: str
    created_at: str
    reflection_id: int | None
    when: str  # "earlier today", "yesterday", "on Monday", …


def _when(created_at: str, now: datetime) -> str:
    day = parse_iso(created_at).astimezone().date()
    today = now.astimezone().date()
    if day == today:
        return "earlier today"
    if day == today - timedelta(days=1):
        return "yesterday"
    if today - day < timedelta(days=7):
        return f"on {day:%A}"
    return f"on {day:%d %b}"


def open_actions(store: Store, *, now: datetime | None = None, limit: int = 3) -> list[Action]:
    """Open action items, newest first."""
    now = now or datetime.now(UTC)
    rows = reflections.open_actions(store, limit)
    return [Action(**r, when=_when(r["created_at"], now)) for r in rows]


def open_action(store: Store, *, once_a_day: bool = False, now: datetime | None = None) -> Action | None:
    """The latest open action item, for the reminder at the start of `ask`.

    With `once_a_day`, an item already returned today is not returned again
    (remembered in the cache folder, so the log is not written on every ask).
    """
    found = open_actions(store, now=now, limit=1)
    if not found:
        return None
    action = found[0]
    if once_a_day:
        marker = paths.cache_dir() / "action-reminder.json"
        stamp = {"id": action.id, "day": (now or datetime.now(UTC)).astimezone().date().isoformat()}
        try:
            if json.loads(marker.read_text()) == stamp:
                return None
        except (OSError, ValueError):
            pass
        try:
            paths.ensure_private_dir(marker.parent)
            marker.write_text(json.dumps(stamp))
        except OSError:
            pass  # a reminder shown twice is better than none
    return action


def resolve_action(store: Store, action_id: int, status: str = "done") -> dict:
    """Mark an action item done (or dropped). Raises NotFound for an unknown id."""
    if reflections.action(store, action_id) is None:
        raise NotFound(f"No action item with id {action_id}.", hint="`learnflow reflections` lists the open ones.")
    reflections.set_action_status(store, action_id, status, iso(datetime.now(UTC)))
    return reflections.action(store, action_id) or {}
