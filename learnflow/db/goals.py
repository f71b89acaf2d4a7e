"""The `goals` table: one target mastery and importance per skill."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learnflow.db.store import Store

_COLUMNS = ("skill", "target", "importance", "source", "updated_at")
_UPSERT = (
    f"INSERT INTO goals ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (skill) DO UPDATE SET target = excluded.target, importance = excluded.importance, "
    "source = excluded.source, updated_at = excluded.updated_at"
)


def all_goals(store: Store) -> list[tuple]:
    """(skill, target, importance, source, updated_at) for every goal, by skill."""
    # Plain sqlite3 (`gaps` reads this and does not import sqlite-utils).
    return store.conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM goals ORDER BY skill").fetchall()


def upsert_goals(store: Store, rows: Iterable[dict]) -> None:
    """Create or replace goals (dicts with every column), in one transaction."""
    values = [[row[c] for c in _COLUMNS] for row in rows]
    store._write(lambda: store.conn.executemany(_UPSERT, values))


def delete_goal(store: Store, skill: str) -> bool:
    """Remove one skill's goal; False when there was none."""
    cur = store._write(lambda: store.conn.execute("DELETE FROM goals WHERE skill = ?", [skill]))
    return bool(cur.rowcount)
