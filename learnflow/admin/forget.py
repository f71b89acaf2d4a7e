"""`learnflow forget`: delete interactions for good (rows, search index, evidence), then VACUUM.

VACUUM matters: without it deleted text can survive in free pages of the file.
"""

from __future__ import annotations

from learnflow.db import admin
from learnflow.db.store import Store


def forget(store: Store, *, ids: list[int] | None = None, since: str | None = None, everything: bool = False) -> dict:
    """Delete the chosen interactions and what was derived from them. Returns counts."""
    if everything:
        counts = admin.erase_all(store)
        admin.compact(store)
        return {"interactions": counts.get("interactions", 0), "tables": counts}
    chosen = admin.interaction_ids(store, ids=ids or [], since=since)
    if not chosen:
        return {"interactions": 0}
    admin.erase_interactions(store, chosen)
    admin.compact(store)
    return {"interactions": len(chosen), "ids": chosen}
