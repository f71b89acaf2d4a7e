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


@migrations()
def m002_tasks(db: Database) -> None:
    """`learnflow run`: a wrapped command, its outcome, and the explanation asked for it."""
    db["tasks"].create(
        {
            "id": int,
            "created_at": str,
            "command": str,  # JSON list: the argv as typed
            "cwd": str,
            "exit_code": int,
            "duration_ms": int,
            "stdout_tail": str,
            "stderr_tail": str,
            "interaction_id": int,  # the explanation, when one was asked for
        },
        pk="id",
        foreign_keys=[("interaction_id", "interactions", "id")],
    )
    db["tasks"].create_index(["created_at"])


@migrations()
def m003_evidence(db: Database) -> None:
    """One row per piece of evidence about a skill, written when it happens.

    The learner model (`gaps`) aggregates this table in SQL; weights and
    half-life are applied at read time, so they stay configuration.
    kind: check (value 1 right / 0 wrong), review (FSRS rating 1-4 mapped to 0..1),
    self_rating (1-5 mapped to 0..1), question_how / question_why (value NULL:
    asking is weak evidence of a gap), imported (from xAPI; value as stated).
    """
    db["evidence"].create(
        {
            "id": int,
            "ts": float,  # unix seconds: cheap arithmetic for decay
            "skill": str,
            "kind": str,
            "value": float,
            "source": str,  # table the evidence came from: interactions, check_results, ...
            "source_id": int,
        },
        pk="id",
        not_null={"ts", "skill", "kind"},
    )
    db["evidence"].create_index(["skill", "ts"])
    db["evidence"].create_index(["ts"])
    db["evidence"].create_index(["source", "source_id"])


@migrations()
def m004_reflection(db: Database) -> None:
    """`learnflow reflect`: reflections, their answers, checks, reviews, ratings, actions."""
    db["reflections"].create(
        {
            "id": int,
            "created_at": str,
            "finished_at": str,
            "period_start": str,
            "period_end": str,
            "summary": str,  # JSON: what the log shows for the period
            "narrative": str,  # the model's short story of the day, or the offline list
            "feedback": str,
            "feedback_method": str,  # model | rules
            "backend": str,
            "model": str,
            "status": str,  # in_progress | done | interrupted
        },
        pk="id",
        defaults={"status": "in_progress"},
    )
    db["reflection_answers"].create(
        {"id": int, "reflection_id": int, "created_at": str, "step": str, "key": str, "question": str, "answer": str},
        pk="id",
        foreign_keys=[("reflection_id", "reflections", "id")],
    )
    db["reflection_answers"].create_index(["reflection_id"])
    db["action_items"].create(
        {"id": int, "reflection_id": int, "created_at": str, "text": str, "status": str, "resolved_at": str},
        pk="id",
        foreign_keys=[("reflection_id", "reflections", "id")],
        defaults={"status": "open"},
    )
    db["review_cards"].create(
        {
            "id": int,
            "created_at": str,
            "skill": str,
            "question": str,
            "answer": str,  # the expected answer (card answer, or the model's key point)
            "check_keywords": str,  # JSON list, for offline judging
            "card_id": str,  # bundled skill card, when the question came from one
            "interaction_id": int,  # the ask it came from
            "fsrs": str,  # JSON of the fsrs.Card state
            "due": str,  # ISO UTC
            "last_review": str,
            "reps": int,
        },
        pk="id",
        foreign_keys=[("interaction_id", "interactions", "id")],
    )
    db["review_cards"].create_index(["due"])
    db["check_results"].create(
        {
            "id": int,
            "created_at": str,
            "reflection_id": int,
            "review_card_id": int,
            "skill": str,
            "question": str,
            "answer": str,
            "confidence": int,  # 1-5, asked before the answer
            "correct": int,  # 1 / 0
            "score": float,  # 0..1
            "rating": int,  # FSRS rating given: 1 Again, 2 Hard, 3 Good, 4 Easy
            "judge_method": str,  # model | card | self
            "feedback": str,
        },
        pk="id",
        foreign_keys=[("reflection_id", "reflections", "id"), ("review_card_id", "review_cards", "id")],
    )
    db["check_results"].create_index(["skill"])
    db["skill_ratings"].create(
        {"id": int, "created_at": str, "reflection_id": int, "skill": str, "rating": int},
        pk="id",
        foreign_keys=[("reflection_id", "reflections", "id")],
    )


@migrations()
def m005_goals(db: Database) -> None:
    """`learnflow goals`: a target level (0..1) and importance per skill."""
    db["goals"].create(
        {"skill": str, "target": float, "importance": float, "source": str, "updated_at": str},
        pk="skill",
    )


SCHEMA_VERSION = len(migrations._migrations)


def apply(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    if pending:
        migrations.apply(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return pending
