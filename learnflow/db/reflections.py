"""Reflections: the SQL behind `learnflow reflect` (learnflow.reflect).

The rows of a reflection — `reflections`, `reflection_answers`, `skill_ratings`
(with their evidence), `action_items` — and the queries that summarize a period
of the log (interactions and tasks) for its "what happened". The reflection's
flow, its questions and its feedback live in reflect/; its checks are written by
learnflow.db.reviews. Every write runs in one `Store._write` transaction.
"""

from __future__ import annotations

from learnflow.db.store import Store

# -- the period: what the log shows between two instants --------------------------------


def last_done_period_end(store: Store) -> str | None:
    """Where the last finished reflection's period ended (None: no reflection finished yet)."""
    row = store.conn.execute("SELECT max(period_end) FROM reflections WHERE status = 'done'").fetchone()
    return row[0] if row else None


def question_counts(store: Store, start: str, end: str) -> tuple[int, int]:
    """(questions asked, questions answered) in the period."""
    asked, answered = store.conn.execute(
        "SELECT count(*), coalesce(sum(status = 'ok'), 0) FROM interactions WHERE created_at >= ? AND created_at <= ?", [start, end]
    ).fetchone()
    return asked, int(answered)


def period_skills(store: Store, start: str, end: str) -> list[dict]:
    """The skills the period's questions were tagged with: {skill, count, primary_count}, the most
    often top-tagged first (a question tagged git+shell touches both, but it is "about" its top tag)."""
    return store.query(
        "WITH ranked AS (SELECT t.skill, row_number() OVER (PARTITION BY t.interaction_id "
        "ORDER BY t.relevance DESC, t.rowid) AS rk FROM interaction_skills t "
        "JOIN interactions i ON i.id = t.interaction_id WHERE i.created_at >= ? AND i.created_at <= ?) "
        "SELECT skill, count(*) AS count, sum(rk = 1) AS primary_count FROM ranked "
        "GROUP BY skill ORDER BY primary_count DESC, count DESC, skill",
        [start, end],
    )


def recent_questions(store: Store, start: str, end: str, limit: int = 5) -> list[dict]:
    """The period's last questions, newest first: {id, question, status}."""
    return store.query(
        "SELECT id, question, status FROM interactions WHERE created_at >= ? AND created_at <= ? ORDER BY id DESC LIMIT ?",
        [start, end, limit],
    )


def failed_questions(store: Store, start: str, end: str) -> list[dict]:
    """The period's asks that ended in error or were interrupted: {id, question, status, error}."""
    return store.query(
        "SELECT id, question, status, error FROM interactions WHERE created_at >= ? AND created_at <= ? "
        "AND status IN ('error', 'interrupted') ORDER BY id",
        [start, end],
    )


def period_tasks(store: Store, start: str, end: str) -> list[dict]:
    """The commands run under `learnflow run` in the period, oldest first (whole rows)."""
    return store.query("SELECT * FROM tasks WHERE created_at >= ? AND created_at <= ? ORDER BY id", [start, end])


# -- a reflection's rows -------------------------------------------------------------------


def start(store: Store, row: dict, stamp: str) -> int:
    """Insert a reflection (status in_progress), first closing as interrupted any other left in
    progress (its process is gone), in one transaction."""

    def write():
        store.conn.execute("UPDATE reflections SET status = 'interrupted', finished_at = ? WHERE status = 'in_progress'", [stamp])
        return store._insert("reflections", row)

    return store._write(write)


def latest_unfinished(store: Store) -> dict | None:
    """The newest interrupted (or in progress) reflection: {id, summary, narrative}."""
    rows = store.query(
        "SELECT id, summary, narrative FROM reflections WHERE status IN ('interrupted', 'in_progress') ORDER BY id DESC LIMIT 1"
    )
    return rows[0] if rows else None


def reopen(store: Store, reflection_id: int, stamp: str) -> None:
    """Make this reflection the one in progress again (any other in progress becomes interrupted)."""

    def write():
        store.conn.execute(
            "UPDATE reflections SET status = 'interrupted', finished_at = ? WHERE status = 'in_progress' AND id != ?",
            [stamp, reflection_id],
        )
        store.conn.execute("UPDATE reflections SET status = 'in_progress', finished_at = NULL WHERE id = ?", [reflection_id])

    store._write(write)


def update(store: Store, reflection_id: int, **fields) -> None:
    """Set columns of a reflection (narrative, feedback, status, finished_at, …)."""
    sets = ", ".join(f"[{k}] = ?" for k in fields)
    store._write(lambda: store.conn.execute(f"UPDATE reflections SET {sets} WHERE id = ?", [*fields.values(), reflection_id]))


def answers_of(store: Store, reflection_id: int) -> dict[str, str]:
    """The reflection's answers so far, by question key."""
    return dict(store.conn.execute("SELECT key, answer FROM reflection_answers WHERE reflection_id = ?", [reflection_id]).fetchall())


def rated_skills(store: Store, reflection_id: int) -> set[str]:
    """The skills already rated in this reflection."""
    return {r for (r,) in store.conn.execute("SELECT skill FROM skill_ratings WHERE reflection_id = ?", [reflection_id])}


def checks_answered(store: Store, reflection_id: int) -> int:
    """How many checks this reflection has recorded."""
    return store.conn.execute("SELECT count(*) FROM check_results WHERE reflection_id = ?", [reflection_id]).fetchone()[0]


def discard_if_empty(store: Store, reflection_id: int) -> bool:
    """Delete a reflection that holds nothing of the person's (no answer, check or rating); True if deleted."""

    def write():
        return store.conn.execute(
            "DELETE FROM reflections WHERE id = ? "
            "AND NOT EXISTS (SELECT 1 FROM reflection_answers WHERE reflection_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM check_results WHERE reflection_id = ?) "
            "AND NOT EXISTS (SELECT 1 FROM skill_ratings WHERE reflection_id = ?)",
            [reflection_id] * 4,
        ).rowcount

    return bool(store._write(write))


def add_answer(store: Store, answer: dict, action: dict | None = None) -> None:
    """Insert an answer and, for the "Now what?" plan, its action item, in one transaction."""

    def write():
        store._insert("reflection_answers", answer)
        if action is not None:
            store._insert("action_items", action)

    store._write(write)


def add_skill_rating(store: Store, rating: dict, evidence: dict) -> int:
    """Insert a self-rating and its evidence row (source skill_ratings and the rating's id), in one transaction."""

    def write():
        rid = store._insert("skill_ratings", rating)
        store._insert("evidence", {**evidence, "source": "skill_ratings", "source_id": rid})
        return rid

    return store._write(write)


# -- reading reflections back ----------------------------------------------------------------


def reflection(store: Store, reflection_id: int) -> dict | None:
    """The reflection row with its answers, checks, ratings and action items (lists); None if there is none."""

    def rows(sql: str) -> list[dict]:
        return store.query(sql, [reflection_id])

    found = rows("SELECT * FROM reflections WHERE id = ?")
    if not found:
        return None
    out = found[0]
    out["answers"] = rows("SELECT step, key, question, answer, created_at FROM reflection_answers WHERE reflection_id = ? ORDER BY id")
    out["checks"] = rows(
        "SELECT c.id, c.skill, c.question, c.answer, c.confidence, c.correct, c.score, c.rating, c.judge_method, "
        "c.feedback, r.answer AS expected, r.due AS next_due FROM check_results c "
        "LEFT JOIN review_cards r ON r.id = c.review_card_id WHERE c.reflection_id = ? ORDER BY c.id"
    )
    out["ratings"] = rows("SELECT skill, rating FROM skill_ratings WHERE reflection_id = ? ORDER BY id")
    out["actions"] = rows("SELECT id, text, status, resolved_at FROM action_items WHERE reflection_id = ? ORDER BY id")
    return out


def newest(store: Store, limit: int = 20) -> list[dict]:
    """Reflections newest first, with their counts of answers, checks and right checks, and their last action."""
    return store.query(
        "SELECT r.id, r.created_at, r.period_start, r.period_end, r.status, "
        "(SELECT count(*) FROM reflection_answers a WHERE a.reflection_id = r.id) AS answers, "
        "(SELECT count(*) FROM check_results c WHERE c.reflection_id = r.id) AS checks, "
        "(SELECT coalesce(sum(correct), 0) FROM check_results c WHERE c.reflection_id = r.id) AS checks_right, "
        "(SELECT text FROM action_items i WHERE i.reflection_id = r.id ORDER BY id DESC LIMIT 1) AS action "
        "FROM reflections r ORDER BY r.id DESC LIMIT ?",
        [limit],
    )


# -- action items ------------------------------------------------------------------------------


def open_actions(store: Store, limit: int) -> list[dict]:
    """Open action items, newest first: {id, text, created_at, reflection_id}."""
    return store.query(
        "SELECT id, text, created_at, reflection_id FROM action_items WHERE status = 'open' ORDER BY id DESC LIMIT ?", [limit]
    )


def action(store: Store, action_id: int) -> dict | None:
    """One action item (the whole row), or None."""
    rows = store.query("SELECT * FROM action_items WHERE id = ?", [action_id])
    return rows[0] if rows else None


def set_action_status(store: Store, action_id: int, status: str, resolved_at: str) -> None:
    """Mark an action item done or dropped."""
    store._write(
        lambda: store.conn.execute("UPDATE action_items SET status = ?, resolved_at = ? WHERE id = ?", [status, resolved_at, action_id])
    )


# -- forget ------------------------------------------------------------------------------


def summaries(store: Store) -> list[dict]:
    """Every reflection's id, summary (JSON), narrative, feedback and feedback method: what `forget` may have to rewrite."""
    return store.query("SELECT id, summary, narrative, feedback, feedback_method FROM reflections WHERE summary IS NOT NULL ORDER BY id")


def rewrite(store: Store, reflection_id: int, fields: dict, question_fixes: list[tuple[str, str]]) -> None:
    """Set a reflection's columns and replace text in the questions it asked (`forget` taking a record out)."""

    def write() -> None:
        sets = ", ".join(f"[{k}] = ?" for k in fields)
        store.conn.execute(f"UPDATE reflections SET {sets} WHERE id = ?", [*fields.values(), reflection_id])
        for old, new in question_fixes:
            store.conn.execute(
                "UPDATE reflection_answers SET question = replace(question, ?, ?) WHERE reflection_id = ?", [old, new, reflection_id]
            )

    store._write(write)
