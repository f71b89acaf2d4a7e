"""`learnflow forget`: delete interactions for good (rows, search index, evidence), then VACUUM.

VACUUM matters: without it deleted text can survive in free pages of the file.
"""

from __future__ import annotations

from learnflow.db.store import Store

# Tables whose rows belong to the person's learning record (everything but schema bookkeeping).
ALL_TABLES = (
    "interaction_skills", "evidence", "tasks", "check_results", "skill_ratings", "review_cards",
    "action_items", "reflection_answers", "reflections", "interactions", "conversations", "goals",
)  # fmt: skip


def forget(store: Store, *, ids: list[int] | None = None, since: str | None = None, everything: bool = False) -> dict:
    """Delete the chosen interactions and what was derived from them. Returns counts."""
    db = store.db
    if everything:
        counts = {}

        def wipe():
            for table in ALL_TABLES:
                if table in db.table_names():
                    counts[table] = db.execute(f"DELETE FROM [{table}]").rowcount
            # Extension tables (sync state…) hold copies of records too.
            for table in db.table_names():
                if table.startswith("sync_") or table.startswith("xapi_"):
                    counts[table] = db.execute(f"DELETE FROM [{table}]").rowcount

        store._write(wipe)
        _compact(store)
        return {"interactions": counts.get("interactions", 0), "tables": counts}
    where, params = [], []
    if ids:
        where.append(f"id IN ({','.join('?' * len(ids))})")
        params += ids
    if since:
        where.append("created_at >= ?")
        params.append(since)
    if not where:
        return {"interactions": 0}
    chosen = [r[0] for r in db.execute(f"SELECT id FROM interactions WHERE {' OR '.join(where)}", params)]
    if not chosen:
        return {"interactions": 0}
    marks = ",".join("?" * len(chosen))

    def delete():
        db.execute(f"DELETE FROM interaction_skills WHERE interaction_id IN ({marks})", chosen)
        db.execute(f"DELETE FROM evidence WHERE source = 'interactions' AND source_id IN ({marks})", chosen)
        db.execute(f"UPDATE tasks SET interaction_id = NULL WHERE interaction_id IN ({marks})", chosen)
        if "review_cards" in db.table_names():
            db.execute(f"UPDATE review_cards SET interaction_id = NULL WHERE interaction_id IN ({marks})", chosen)
        db.execute(f"DELETE FROM interactions WHERE id IN ({marks})", chosen)  # FTS follows via triggers
        db.execute(
            "DELETE FROM conversations WHERE id NOT IN (SELECT DISTINCT conversation_id FROM interactions WHERE conversation_id IS NOT NULL)"
        )

    store._write(delete)
    _compact(store)
    return {"interactions": len(chosen), "ids": chosen}


def _compact(store: Store) -> None:
    db = store.db
    # Merge the FTS index so deleted terms leave its segments, then rewrite the file.
    db.execute("INSERT INTO interactions_fts(interactions_fts) VALUES('optimize')")
    db.conn.commit()
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
