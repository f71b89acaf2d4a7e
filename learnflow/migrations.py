"""Numbered schema migrations, each atomic, recorded in `_sqlite_migrations`.

Never edit a migration that has shipped: add the next one. `SCHEMA_VERSION`
is written to `PRAGMA user_version` so an older learnflow can refuse a
database written by a newer one instead of misreading it.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("learnflow")


@migrations()
def m001_initial(db: Database) -> None:
    db["conversations"].create(
        {"id": int, "created_at": str, "title": str},
        pk="id",
    )
    db["interactions"].create(
        {
            "id": int,
            "conversation_id": int,
            "created_at": str,
            "finished_at": str,
            "question": str,
            "context_summary": str,
            "context_text": str,
            "context_tokens": int,
            "context_cut_tokens": int,
            "mode": str,  # teach | direct
            "level": str,  # novice | intermediate | expert
            "backend": str,
            "model": str,
            "answer": str,
            "check_question": str,
            "tokens_in": int,
            "tokens_out": int,
            "cost": float,
            "latency_ms": int,
            "ttft_ms": int,
            "status": str,  # pending | ok | error | interrupted
            "error": str,
            "pid": int,  # process that wrote a pending row: tells a crash from a live ask
        },
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id")],
        not_null={"question", "status", "created_at"},
        defaults={"status": "pending", "mode": "teach"},
    )
    db["interactions"].create_index(["conversation_id"])
    db["interactions"].create_index(["created_at"])
    db["interaction_skills"].create(
        {"interaction_id": int, "skill": str, "relevance": float, "method": str},
        pk=("interaction_id", "skill"),
        foreign_keys=[("interaction_id", "interactions", "id")],
    )
    db["interaction_skills"].create_index(["skill"])
    db["interactions"].enable_fts(["question", "answer"], create_triggers=True, tokenize="porter")


SCHEMA_VERSION = len(migrations._migrations)


def apply(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    if pending:
        migrations.apply(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return pending
