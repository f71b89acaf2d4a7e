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
    db.table("conversations").create(
        {"id": int, "created_at": str, "title": str},
        pk="id",
    )
    db.table("interactions").create(
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
    db.table("interactions").create_index(["conversation_id"])
    db.table("interactions").create_index(["created_at"])
    db.table("interaction_skills").create(
        {"interaction_id": int, "skill": str, "relevance": float, "method": str},
        pk=("interaction_id", "skill"),
        foreign_keys=[("interaction_id", "interactions", "id")],
    )
    db.table("interaction_skills").create_index(["skill"])
    db.table("interactions").enable_fts(["question", "answer"], create_triggers=True, tokenize="porter")


@migrations()
def m002_tasks(db: Database) -> None:
    """`learnflow run`: a wrapped command, its outcome, and the explanation asked for it."""
    db.table("tasks").create(
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
    db.table("tasks").create_index(["created_at"])


@migrations()
def m003_evidence(db: Database) -> None:
    """One row per piece of evidence about a skill, written when it happens.

    The learner model (`gaps`) aggregates this table in SQL; weights and
    half-life are applied at read time, so they stay configuration.
    kind: check (value 1 right / 0 wrong), review (FSRS rating 1-4 mapped to 0..1),
    self_rating (1-5 mapped to 0..1), question_how / question_why (value NULL:
    asking is weak evidence of a gap), imported (from xAPI; value as stated).
    """
    db.table("evidence").create(
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
    db.table("evidence").create_index(["skill", "ts"])
    db.table("evidence").create_index(["ts"])
    db.table("evidence").create_index(["source", "source_id"])


@migrations()
def m004_reflection(db: Database) -> None:
    """`learnflow reflect`: reflections, their answers, checks, reviews, ratings, actions."""
    db.table("reflections").create(
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
    db.table("reflection_answers").create(
        {"id": int, "reflection_id": int, "created_at": str, "step": str, "key": str, "question": str, "answer": str},
        pk="id",
        foreign_keys=[("reflection_id", "reflections", "id")],
    )
    db.table("reflection_answers").create_index(["reflection_id"])
    db.table("action_items").create(
        {"id": int, "reflection_id": int, "created_at": str, "text": str, "status": str, "resolved_at": str},
        pk="id",
        foreign_keys=[("reflection_id", "reflections", "id")],
        defaults={"status": "open"},
    )
    db.table("review_cards").create(
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
    db.table("review_cards").create_index(["due"])
    db.table("check_results").create(
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
    db.table("check_results").create_index(["skill"])
    db.table("skill_ratings").create(
        {"id": int, "created_at": str, "reflection_id": int, "skill": str, "rating": int},
        pk="id",
        foreign_keys=[("reflection_id", "reflections", "id")],
    )


@migrations()
def m005_goals(db: Database) -> None:
    """`learnflow goals`: a target level (0..1) and importance per skill."""
    db.table("goals").create(
        {"skill": str, "target": float, "importance": float, "source": str, "updated_at": str},
        pk="skill",
    )


# The bucket of a timestamp: its UTC day, and the seconds into that day.
_DAY = "CAST({r}.ts / 86400 AS INTEGER)"
_INTO_DAY = "({r}.ts - 86400 * CAST({r}.ts / 86400 AS INTEGER))"
# Questions carry their tag's relevance (NULL read as 1); other kinds need a value to count.
_COUNTS = "({r}.value IS NOT NULL OR {r}.kind LIKE 'question%')"
_VALUE = "min(max(coalesce({r}.value, 1.0), 0.0), 1.0)"


@migrations()
def m006_evidence_daily(db: Database) -> None:
    """Per-day sums of the evidence, kept by triggers: what `gaps` reads instead of every row.

    One row per (skill, UTC day, kind): n rows, sv = sum of values (clamped to 0..1),
    st = sum of seconds into the day (st / n is the bucket's mean time, for decay).
    Triggers keep it right for every writer (ask, reflect, imports, a hand-made DELETE).
    """
    db.execute(
        """CREATE TABLE evidence_daily (
            skill TEXT NOT NULL, day INTEGER NOT NULL, kind TEXT NOT NULL,
            n INTEGER NOT NULL, sv REAL NOT NULL, st REAL NOT NULL,
            PRIMARY KEY (skill, day, kind)
        ) WITHOUT ROWID"""
    )
    add = """INSERT INTO evidence_daily (skill, day, kind, n, sv, st)
        VALUES ({r}.skill, {day}, {r}.kind, 1, {value}, {into})
        ON CONFLICT (skill, day, kind) DO UPDATE
        SET n = n + 1, sv = sv + excluded.sv, st = st + excluded.st;"""
    sub = """UPDATE evidence_daily SET n = n - 1, sv = sv - {value}, st = st - {into}
        WHERE skill = {r}.skill AND day = {day} AND kind = {r}.kind;
        DELETE FROM evidence_daily WHERE skill = {r}.skill AND day = {day} AND kind = {r}.kind AND n <= 0;"""

    def sql(template: str, r: str) -> str:
        parts = {k: v.format(r=r) for k, v in {"day": _DAY, "into": _INTO_DAY, "value": _VALUE}.items()}
        return template.format(r=r, **parts)

    db.execute(f"CREATE TRIGGER evidence_daily_insert AFTER INSERT ON evidence WHEN {_COUNTS.format(r='NEW')} BEGIN {sql(add, 'NEW')} END")
    db.execute(f"CREATE TRIGGER evidence_daily_delete AFTER DELETE ON evidence WHEN {_COUNTS.format(r='OLD')} BEGIN {sql(sub, 'OLD')} END")
    # An update is a delete of the old row and an insert of the new one; each half only if it counted.
    db.execute(
        f"CREATE TRIGGER evidence_daily_update_old AFTER UPDATE OF ts, skill, kind, value ON evidence "
        f"WHEN {_COUNTS.format(r='OLD')} BEGIN {sql(sub, 'OLD')} END"
    )
    db.execute(
        f"CREATE TRIGGER evidence_daily_update_new AFTER UPDATE OF ts, skill, kind, value ON evidence "
        f"WHEN {_COUNTS.format(r='NEW')} BEGIN {sql(add, 'NEW')} END"
    )
    r = "e"
    db.execute(
        f"INSERT INTO evidence_daily (skill, day, kind, n, sv, st) "
        f"SELECT skill, {_DAY.format(r=r)} AS d, kind, count(*), sum({_VALUE.format(r=r)}), sum({_INTO_DAY.format(r=r)}) "
        f"FROM evidence {r} WHERE {_COUNTS.format(r=r)} GROUP BY skill, d, kind"
    )


@migrations()
def m007_sync(db: Database) -> None:
    """xAPI: this install's identity, statements acknowledged by each LRS, statements imported.

    xapi_meta holds the per-install UUID namespace (statement ids are UUIDv5 under it, so a
    re-export never makes new ids) and the default pseudonym. xapi_sent is what makes
    `learnflow sync` resumable: a statement is recorded once the LRS acknowledged it.
    xapi_imported keeps each imported statement whole (it is re-exported as it came);
    evidence rows made from it have source "xapi" and source_id = its rowid.
    """
    db.table("xapi_meta").create({"key": str, "value": str}, pk="key")
    db.execute(
        "CREATE TABLE xapi_sent (lrs TEXT NOT NULL, statement_id TEXT NOT NULL, sent_at TEXT NOT NULL, "
        "PRIMARY KEY (lrs, statement_id)) WITHOUT ROWID"
    )
    db.table("xapi_imported").create(
        {"id": int, "statement_id": str, "imported_at": str, "timestamp": str, "statement": str},
        pk="id",
        not_null={"statement_id", "statement"},
    )
    db.table("xapi_imported").create_index(["statement_id"], unique=True)


@migrations()
def m008_learning_by_doing(db: Database) -> None:
    """Learning by doing: the learner's own moves and the work itself become evidence.

    interactions.attempt     the try-first attempt or prediction (redacted), sent fenced to the model
    interactions.hint_step   how far up the hint ladder this answer went (0 = critique of the attempt)
    interactions.repeat_of   an earlier interaction this question asks again (same skill, similar, <= 30 days)
    tasks.tool / skill       the wrapped command's tool and the skill it maps to (command -> skill table)
    tasks.error_class        a short class of the failure (e.g. "ModuleNotFoundError", "exit 127")
    tasks.recovery_of        the failed task this success recovers from (same command)
    check_results.interaction_id / source
                             the ask an inline answer (`learnflow answer`) or attempt belongs to, and
                             where the result came from: reflect | check | inline | attempt
    flags                    answers the learner marked wrong or unverified (`learnflow flag`)
    appeals                  a check verdict appealed: the old and the new verdict, both kept
    New evidence kinds (docs/learner-model.md): attempt, task, repeat, flag.
    """
    db.table("interactions").add_column("attempt", str)
    db.table("interactions").add_column("hint_step", int)
    db.table("interactions").add_column("repeat_of", int)
    for col in ("tool", "skill", "error_class"):
        db.table("tasks").add_column(col, str)
    db.table("tasks").add_column("recovery_of", int)
    db.table("tasks").create_index(["tool", "created_at"])
    db.table("check_results").add_column("interaction_id", int)
    db.table("check_results").add_column("source", str)
    db.table("check_results").create_index(["interaction_id"])
    db.table("flags").create(
        {"id": int, "interaction_id": int, "created_at": str, "verdict": str, "reason": str},
        pk="id",
        foreign_keys=[("interaction_id", "interactions", "id")],
        not_null={"interaction_id", "created_at", "verdict"},
    )
    db.table("flags").create_index(["interaction_id"])
    db.table("appeals").create(
        {
            "id": int,
            "check_result_id": int,
            "created_at": str,
            "reason": str,
            "old_correct": int,
            "old_score": float,
            "old_method": str,
            "new_correct": int,
            "new_score": float,
            "new_method": str,
        },
        pk="id",
        foreign_keys=[("check_result_id", "check_results", "id")],
        not_null={"check_result_id", "created_at"},
    )


# Tables whose ids are seen outside the log (statement ids, `--cid`, `show ID`): never reused.
_KEEP_IDS = (
    "conversations", "interactions", "tasks", "evidence", "reflections", "reflection_answers", "action_items",
    "review_cards", "check_results", "skill_ratings", "xapi_imported", "flags", "appeals",
)  # fmt: skip
# The verb each statement table's rows are named by (interop/xapi.py: uuid5(namespace, f"{verb}:{id}")).
_STATEMENT_VERBS = {"interactions": "asked", "check_results": "answered", "skill_ratings": "self-assessed", "reflections": "reflected"}


def _sent_high_water(db: Database, table: str, top: int) -> int:
    """The highest id above `top` whose statement an LRS acknowledged: a row forgotten after it was synced."""
    import uuid

    verb = _STATEMENT_VERBS.get(table)
    row = db.execute("SELECT value FROM xapi_meta WHERE key = 'namespace'").fetchone()
    sent = {sid for (sid,) in db.execute("SELECT statement_id FROM xapi_sent")}
    if verb is None or row is None or not sent:
        return top
    ns = uuid.UUID(row[0])
    # Ids were handed out one above the highest, so a forgotten one lies not far above what is left.
    found = [i for i in range(top + 1, top + len(sent) + 1001) if str(uuid.uuid5(ns, f"{verb}:{i}")) in sent]
    return max(found, default=top)


@migrations()
def m009_ids_never_reused(db: Database) -> None:
    """Ids are never handed out twice, even after `forget`; LRS voidings wait in a queue.

    SQLite gives a new row max(id) + 1, so forgetting the newest rows made the next ones reuse
    their ids, and with them their xAPI statement ids (an LRS kept the forgotten statement and
    took the new one for a copy of it). AUTOINCREMENT keeps the high-water mark in
    sqlite_sequence. A column cannot be made AUTOINCREMENT in place: each table is rebuilt
    (SQLite's documented 12 steps; apply() turns foreign keys off around it), its indexes and
    triggers recreated, and the mark seeded with the highest id it holds, or higher when
    xapi_sent shows that an LRS was sent a statement of a row forgotten since.

    lrs_voiding holds the xAPI voiding statements `forget` owes each LRS until it acknowledges them.
    """
    conn = db.conn
    for table in _KEEP_IDS:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()
        rebuilt = sql.replace(f'CREATE TABLE "{table}"', f'CREATE TABLE "{table}_m009"', 1)
        rebuilt = rebuilt.replace('"id" INTEGER PRIMARY KEY', '"id" INTEGER PRIMARY KEY AUTOINCREMENT', 1)
        assert rebuilt.count("AUTOINCREMENT") == 1 and f'"{table}_m009"' in rebuilt, f"unexpected schema for {table}: {sql}"
        extras = [
            s
            for (s,) in conn.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL", [table]
            )
        ]
        top = conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0]
        conn.execute(rebuilt)
        conn.execute(f'INSERT INTO "{table}_m009" SELECT * FROM "{table}"')
        conn.execute(f'DROP TABLE "{table}"')
        conn.execute(f'ALTER TABLE "{table}_m009" RENAME TO "{table}"')
        for statement in extras:
            conn.execute(statement)
        mark = _sent_high_water(db, table, top)
        conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", [table])
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [table, mark])
    db.execute(
        "CREATE TABLE lrs_voiding (lrs TEXT NOT NULL, statement_id TEXT NOT NULL, voiding_id TEXT NOT NULL, "
        "actor TEXT NOT NULL, queued_at TEXT NOT NULL, PRIMARY KEY (lrs, statement_id)) WITHOUT ROWID"
    )


@migrations()
def m010_agent_sources(db: Database) -> None:
    """Coding-agent sessions as evidence (`learnflow import --from claude|codex|gemini|aider|llm`).

    interactions.source / tasks.source   the agent a row was imported from (NULL: learnflow's own)
    agent_files    how far each session file (or llm's logs.db) has been read: identity (inode, size),
                   the byte offset of the last complete line or the last row ids, and the reader's
                   state between runs (the current session, tool calls still waiting for their result)
    agent_items    every item taken from a source, keyed by (source, session, item): importing again
                   adds nothing, and a file re-read from the start is not counted twice
    """
    db.table("interactions").add_column("source", str)
    db.table("tasks").add_column("source", str)
    db.table("agent_files").create(
        {"id": int, "source": str, "path": str, "inode": int, "size": int, "offset": int, "state": str, "updated_at": str},
        pk="id",
        not_null={"source", "path"},
    )
    db.table("agent_files").create_index(["source", "path"], unique=True)
    db.table("agent_items").create(
        {"id": int, "source": str, "session": str, "item": str, "kind": str, "row_id": int, "tool": str, "failed": int},
        pk="id",
        not_null={"source", "session", "item", "kind"},
    )
    db.table("agent_items").create_index(["source", "session", "item"], unique=True)
    db.table("agent_items").create_index(["source", "session", "kind", "tool"])


@migrations()
def m011_generated_cards(db: Database) -> None:
    """Check questions written for a skill that has no guide (`learnflow check --skill S` with a model),
    and cards imported from Markdown (`learnflow cards import`): the learner's own deck.

    generated_cards   the card as written (question, reference answer, keywords as a JSON list), where it
                      came from (origin model | import, and which model), and its review card (the FSRS
                      schedule, shared with every other check); edited_at when the learner changed it,
                      retired_at when they retired it (never asked again, kept for the checks answered on it)
    """
    db.execute(
        "CREATE TABLE generated_cards (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, skill TEXT NOT NULL, "
        "question TEXT NOT NULL, answer TEXT NOT NULL, keywords TEXT NOT NULL DEFAULT '[]', origin TEXT NOT NULL, model TEXT, "
        "review_card_id INTEGER REFERENCES review_cards(id), edited_at TEXT, retired_at TEXT)"
    )
    db.execute("CREATE UNIQUE INDEX generated_cards_review_card ON generated_cards (review_card_id)")
    db.execute("CREATE INDEX generated_cards_skill ON generated_cards (skill)")


SCHEMA_VERSION = len(migrations._migrations)


def apply(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    if not migrations.pending(db):
        return []
    # Several first runs may start at once (e.g. parallel asks on a new machine):
    # take the write lock, then look again, so only one process migrates.
    # Foreign keys are off while tables are rebuilt (m009: dropping a parent table would
    # otherwise delete its rows' children); the pragma only changes outside a transaction.
    fks = db.conn.execute("PRAGMA foreign_keys").fetchone()[0]
    db.conn.execute("PRAGMA foreign_keys=OFF")
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)  # each migration runs in a savepoint inside this transaction
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.conn.commit()
    except BaseException:
        db.conn.rollback()
        raise
    finally:
        db.conn.execute(f"PRAGMA foreign_keys={'ON' if fks else 'OFF'}")
    return pending
