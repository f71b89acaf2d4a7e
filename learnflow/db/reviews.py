"""Review cards and check results: the SQL behind retrieval practice (learnflow.practice).

practice/ decides which cards to ask, judges the answers and schedules the
cards with FSRS; this module only reads and writes the rows: `review_cards`
(one per question worth remembering, with its FSRS state), `check_results`
(one per answered check), the evidence rows a result adds for `gaps`, and `generated_cards` (check
questions written by the model for a skill without a guide, or imported from Markdown; each with its
review card, and never asked again once retired).
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


# A review card of a retired generated card is never asked again.
_LIVE = "NOT EXISTS (SELECT 1 FROM generated_cards g WHERE g.review_card_id = r.id AND g.retired_at IS NOT NULL)"


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
        f"{_CARDS} WHERE r.due < ? AND r.id NOT IN ({marks(taken)}){only} AND {_LIVE} ORDER BY r.due LIMIT ?",
        [before, *taken, *([skill] if skill else []), limit],
    )


def soonest_cards(store: Store, skill: str, *, exclude: list[int], limit: int) -> list[dict]:
    """Up to `limit` cards of `skill` not in `exclude`, the soonest due first."""
    taken = exclude or [-1]
    return store.query(
        f"{_CARDS} WHERE r.skill = ? AND r.id NOT IN ({marks(taken)}) AND {_LIVE} ORDER BY r.due LIMIT ?", [skill, *taken, limit]
    )


def card_schedule(store: Store, card_id: int) -> tuple[str | None, int]:
    """A card's FSRS state (JSON) and how many times it was reviewed."""
    state, reps = store.conn.execute("SELECT fsrs, reps FROM review_cards WHERE id = ?", [card_id]).fetchone()
    return state, reps or 0


def retired(store: Store, card_id: int) -> bool:
    """Whether this review card belongs to a retired generated card (never asked again)."""
    row = store.conn.execute("SELECT 1 FROM review_cards r WHERE r.id = ? AND NOT " + _LIVE, [card_id]).fetchone()
    return row is not None


def graded_history(store: Store, card_ids: list[int]) -> dict[int, dict]:
    """Per card: {created_at, ratings: [(created_at, rating), …] of its graded results, oldest first}
    (results without a verdict never rescheduled the card); what its schedule is rebuilt from."""
    out: dict[int, dict] = {}
    if not card_ids:
        return out
    for cid, created in store.conn.execute(f"SELECT id, created_at FROM review_cards WHERE id IN ({marks(card_ids)})", card_ids):
        out[cid] = {"created_at": created, "ratings": []}
    for cid, at, rating in store.conn.execute(
        f"SELECT review_card_id, created_at, rating FROM check_results WHERE review_card_id IN ({marks(card_ids)}) "
        "AND rating IS NOT NULL ORDER BY created_at, id",
        card_ids,
    ):
        out[cid]["ratings"].append((at, rating))
    return out


def set_schedule(store: Store, card_id: int, *, fsrs: str, due: str, last_review: str | None, reps: int) -> None:
    """Put back a card's schedule (after `forget` took away results that had moved it)."""
    store._write(
        lambda: store.conn.execute(
            "UPDATE review_cards SET fsrs = ?, due = ?, last_review = ?, reps = ? WHERE id = ?", [fsrs, due, last_review, reps, card_id]
        )
    )


# -- generated cards (`check --skill` with a model, `cards import`) ------------------------


def insert_generated(store: Store, cards: list[dict], review_row: Callable[[dict], dict], state: Callable[[int], str]) -> list[int]:
    """In one transaction: for each generated card, its review card (`review_row(card)`, with its first FSRS
    state `state(review card id)`) and the generated_cards row pointing at it; the generated cards' ids."""

    def write():
        ids = []
        for card in cards:
            rid = store._insert("review_cards", review_row(card))
            store.conn.execute("UPDATE review_cards SET fsrs = ? WHERE id = ?", [state(rid), rid])
            ids.append(store._insert("generated_cards", {**card, "review_card_id": rid}))
        return ids

    return store._write(write)


_GENERATED = (
    "SELECT g.*, r.due, r.reps, r.last_review, "
    "(SELECT count(*) FROM check_results c WHERE c.review_card_id = g.review_card_id) AS answered "
    "FROM generated_cards g LEFT JOIN review_cards r ON r.id = g.review_card_id"
)


def generated_cards(store: Store, *, skill: str | None = None, retired: bool = False) -> list[dict]:
    """Generated cards, oldest first, with their schedule (due, reps, last_review) and how often they were
    answered; with `skill` that skill's only; retired ones only with `retired`."""
    where = ["1 = 1"] + ([] if retired else ["g.retired_at IS NULL"]) + (["g.skill = ?"] if skill else [])
    return store.query(f"{_GENERATED} WHERE {' AND '.join(where)} ORDER BY g.id", [skill] if skill else [])


def generated_card(store: Store, card_id: int) -> dict | None:
    """One generated card (as in `generated_cards`), retired or not."""
    rows = store.query(f"{_GENERATED} WHERE g.id = ?", [card_id])
    return rows[0] if rows else None


def update_generated(store: Store, card_id: int, *, question: str, answer: str, keywords: str, edited_at: str) -> None:
    """A learner's edit: the generated card and the copy its review card is asked and judged by, together."""

    def write():
        store.conn.execute(
            "UPDATE generated_cards SET question = ?, answer = ?, keywords = ?, edited_at = ? WHERE id = ?",
            [question, answer, keywords, edited_at, card_id],
        )
        store.conn.execute(
            "UPDATE review_cards SET question = ?, answer = ?, check_keywords = ? WHERE id = "
            "(SELECT review_card_id FROM generated_cards WHERE id = ?)",
            [question, answer, keywords, card_id],
        )

    store._write(write)


def retire_generated(store: Store, card_id: int, retired_at: str) -> None:
    """Retire a generated card: its review card is never picked again (the checks answered on it stay)."""
    store._write(lambda: store.conn.execute("UPDATE generated_cards SET retired_at = ? WHERE id = ?", [retired_at, card_id]))


def skill_questions(store: Store, skill: str) -> list[str]:
    """Every question of `skill` in review or generated (retired too): what a new card must not repeat."""
    rows = store.conn.execute(
        "SELECT question FROM review_cards WHERE skill = ? UNION SELECT question FROM generated_cards WHERE skill = ?", [skill, skill]
    )
    return [q for (q,) in rows]


def known_questions(store: Store) -> set[tuple[str, str]]:
    """(skill, question) of every review card and generated card, retired too: what an import skips."""
    rows = store.conn.execute("SELECT skill, question FROM review_cards UNION SELECT skill, question FROM generated_cards")
    return {(s, q) for s, q in rows}


def deck(store: Store, skill: str | None = None) -> list[dict]:
    """The review deck to take along: every card with a reference answer and not retired, by skill then
    id: {id, skill, question, answer, check_keywords}."""
    only = " AND r.skill = ?" if skill else ""
    return store.query(
        f"SELECT r.id, r.skill, r.question, r.answer, r.check_keywords FROM review_cards r "
        f"WHERE coalesce(r.answer, '') != '' AND {_LIVE}{only} ORDER BY r.skill, r.id",
        [skill] if skill else [],
    )


def count_without_answer(store: Store, skill: str | None = None) -> int:
    """Review cards (not retired) with no reference answer yet: left out of an export."""
    only = " AND r.skill = ?" if skill else ""
    return store.conn.execute(
        f"SELECT count(*) FROM review_cards r WHERE coalesce(r.answer, '') = '' AND {_LIVE}{only}", [skill] if skill else []
    ).fetchone()[0]


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
