"""Review cards and check results: the SQL behind retrieval practice (learnflow.practice).

practice/ decides which cards to ask, judges the answers and schedules the
cards with FSRS; this module only reads and writes the rows: `review_cards`
(one per question worth remembering, with its FSRS state), `check_results`
(one per answered check) and the evidence rows a result adds for `gaps`.
Every write runs in one `Store._write` transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from learnflow.db.store import Store, marks

# -- creating cards ------------------------------------------------------------------


def period_check_questions(store: Store, start: str, end: str) -> list[dict]:
    """Teaching answers of the period that ended with a check question and have no card yet,
    oldest first: {id, backend, check_question, skill (the top tag, or None)}."""
    return store.query(
        "SELECT i.id, i.backend, i.check_question, "
        "(SELECT skill FROM interaction_skills s WHERE s.interaction_id = i.id ORDER BY relevance DESC LIMIT 1) AS skill "
        "FROM interactions i WHERE i.created_at >= ? AND i.created_at <= ? AND i.status = 'ok' "
        "AND i.mode = 'teach' AND coalesce(i.check_question, '') != '' "
        "AND NOT EXISTS (SELECT 1 FROM review_cards r WHERE r.interaction_id = i.id) ORDER BY i.id",
        [start, end],
    )


def card_id_for(store: Store, *, bundled_card: str | None = None, question: str | None = None) -> int | None:
    """The id of the review card for this bundled skill card (by id), or else for this question text."""
    if bundled_card is not None:
        row = store.conn.execute("SELECT id FROM review_cards WHERE card_id = ? ORDER BY id LIMIT 1", [bundled_card]).fetchone()
    else:
        row = store.conn.execute("SELECT id FROM review_cards WHERE question = ? ORDER BY id LIMIT 1", [question]).fetchone()
    return row[0] if row else None


def used_bundled_cards(store: Store) -> set[str]:
    """Ids of the bundled skill cards that already have a review card."""
    return {cid for (cid,) in store.conn.execute("SELECT card_id FROM review_cards WHERE card_id IS NOT NULL")}


def insert_card(store: Store, row: dict, state: Callable[[int], str]) -> int:
    """Insert a review card and give it its first FSRS state, `state(card id)`, in one transaction."""

    def write():
        cid = store._insert("review_cards", row)
        store.conn.execute("UPDATE review_cards SET fsrs = ? WHERE id = ?", [state(cid), cid])
        return cid

    return store._write(write)


def set_answer_key(store: Store, card_id: int, answer: str, keywords: str) -> None:
    """Store the expected answer and the keywords (JSON) a card is judged by offline."""
    store._write(
        lambda: store.conn.execute("UPDATE review_cards SET answer = ?, check_keywords = ? WHERE id = ?", [answer, keywords, card_id])
    )


def drop_unreviewed(store: Store, card_ids: list[int]) -> None:
    """Delete these cards, those of them never reviewed only."""
    if card_ids:
        store._write(
            lambda: store.conn.execute(f"DELETE FROM review_cards WHERE id IN ({marks(card_ids)}) AND coalesce(reps, 0) = 0", card_ids)
        )


# -- choosing cards ------------------------------------------------------------------

# Every card read carries the answer it came from (`source_answer`), for the model judge.
_CARDS = "SELECT r.*, i.answer AS source_answer, i.created_at AS asked_at FROM review_cards r LEFT JOIN interactions i ON i.id = r.interaction_id"


def unreviewed_in_period(store: Store, start: str, end: str) -> list[int]:
    """Ids of the cards made from the period's answers and never reviewed, in the order the questions were asked."""
    rows = store.conn.execute(
        "SELECT r.id FROM review_cards r JOIN interactions i ON i.id = r.interaction_id "
        "WHERE coalesce(r.reps, 0) = 0 AND i.created_at >= ? AND i.created_at <= ? ORDER BY i.id",
        [start, end],
    ).fetchall()
    return [i for (i,) in rows]


def cards(store: Store, ids: list[int]) -> list[dict]:
    """These cards (any order)."""
    if not ids:
        return []
    return store.query(f"{_CARDS} WHERE r.id IN ({marks(ids)})", ids)


def due_cards(store: Store, before: str, *, exclude: list[int], skill: str | None, limit: int) -> list[dict]:
    """Up to `limit` cards due before `before`, most overdue first, not in `exclude`; with `skill`, that skill's only."""
    taken = exclude or [-1]
    only = " AND r.skill = ?" if skill else ""
    return store.query(
        f"{_CARDS} WHERE r.due < ? AND r.id NOT IN ({marks(taken)}){only} ORDER BY r.due LIMIT ?",
        [before, *taken, *([skill] if skill else []), limit],
    )


def soonest_cards(store: Store, skill: str, *, exclude: list[int], limit: int) -> list[dict]:
    """Up to `limit` cards of `skill` not in `exclude`, the soonest due first."""
    taken = exclude or [-1]
    return store.query(f"{_CARDS} WHERE r.skill = ? AND r.id NOT IN ({marks(taken)}) ORDER BY r.due LIMIT ?", [skill, *taken, limit])


def card_schedule(store: Store, card_id: int) -> tuple[str | None, int]:
    """A card's FSRS state (JSON) and how many times it was reviewed."""
    state, reps = store.conn.execute("SELECT fsrs, reps FROM review_cards WHERE id = ?", [card_id]).fetchone()
    return state, reps or 0


# -- results ---------------------------------------------------------------------------


def record_result(store: Store, result: dict, card: dict, evidence: Iterable[dict], ts: float) -> int:
    """In one transaction: insert the check result, update its card (`card`: fields to set, with
    its `review_card_id`), and add the evidence rows with source check_results and the result's id."""

    def write():
        rid = store._insert("check_results", result)
        sets = ", ".join(f"[{k}] = ?" for k in card)
        store.conn.execute(f"UPDATE review_cards SET {sets} WHERE id = ?", [*card.values(), result["review_card_id"]])
        store._insert_many("evidence", [{"ts": ts, "source": "check_results", "source_id": rid, **e} for e in evidence])
        return rid

    return store._write(write)


def confidence_outcomes(store: Store) -> list[tuple[int, int, int | None]]:
    """(confidence, correct, reflection_id) of every check answered with a confidence, for calibration."""
    return store.conn.execute(
        "SELECT confidence, correct, reflection_id FROM check_results WHERE confidence IS NOT NULL AND correct IS NOT NULL"
    ).fetchall()


# -- inline answers (`learnflow answer`) and appeals ----------------------------------------

_ANSWER_CHECK = (
    "SELECT i.id, i.conversation_id, i.backend, i.mode, i.status, i.check_question, "
    "(SELECT skill FROM interaction_skills s WHERE s.interaction_id = i.id ORDER BY relevance DESC LIMIT 1) AS skill, "
    "(SELECT c.id FROM check_results c WHERE c.interaction_id = i.id AND c.source = 'inline' ORDER BY c.id DESC LIMIT 1) "
    "AS answered_by FROM interactions i"
)


def answer_check(store: Store, interaction_id: int) -> dict | None:
    """One logged answer and its check question: {id, conversation_id, backend, mode, status,
    check_question, skill (the top tag), answered_by (the id of its inline check result, if any)}."""
    rows = store.query(f"{_ANSWER_CHECK} WHERE i.id = ?", [interaction_id])
    return rows[0] if rows else None


def latest_answer_check(store: Store) -> dict | None:
    """The newest answer that ended with a check question (same fields as `answer_check`)."""
    rows = store.query(f"{_ANSWER_CHECK} WHERE i.status = 'ok' AND coalesce(i.check_question, '') != '' ORDER BY i.id DESC LIMIT 1")
    return rows[0] if rows else None


def insert_result(store: Store, result: dict) -> int:
    """A check result kept without a verdict (nothing could judge it): no card update, no evidence."""
    return store._write(lambda: store._insert("check_results", result))


def check_result(store: Store, result_id: int | None = None) -> dict | None:
    """One check result with its appeal id (`appealed`, or None); by default the newest."""
    sql = "SELECT c.*, (SELECT a.id FROM appeals a WHERE a.check_result_id = c.id ORDER BY a.id LIMIT 1) AS appealed FROM check_results c"
    rows = store.query(f"{sql} WHERE c.id = ?", [result_id]) if result_id is not None else store.query(f"{sql} ORDER BY c.id DESC LIMIT 1")
    return rows[0] if rows else None


def record_appeal(store: Store, appeal: dict, verdict: dict, evidence: list[dict]) -> int:
    """In one transaction: keep the appeal (old and new verdict), set the result's new verdict
    (`verdict`: fields of check_results) and replace the evidence derived from it."""
    rid = appeal["check_result_id"]

    def write():
        aid = store._insert("appeals", appeal)
        sets = ", ".join(f"[{k}] = ?" for k in verdict)
        store.conn.execute(f"UPDATE check_results SET {sets} WHERE id = ?", [*verdict.values(), rid])
        store.replace_evidence("check_results", rid, evidence)  # nested: a savepoint inside this transaction
        return aid

    return store._write(write)
