"""Retrieval practice: review cards, judging an answer, FSRS scheduling, calibration.

Cards come from the check question that ends every teaching answer. An
offline answer's check question belongs to a bundled skill card, which brings
its own answer and keywords; a model answer's check question gets an answer
key from the model when one is connected.

Scheduling uses FSRS (the `fsrs` package) with no learning steps: learnflow
reviews once a day, at reflection time, so minute-long steps would only mean
"again tonight". With no steps, a first "Again" comes back the next day and a
first "Good" a few days later. Fuzzing is off so intervals are reproducible.

How a judged answer becomes an FSRS rating (`rating_for`):

    wrong                                                 -> Again (1)
    right, but confidence 1-2 or a partial answer (<0.7)  -> Hard  (2)
    right, confidence 4-5, complete (>=0.9), within 60 s  -> Easy  (4)
    right otherwise                                       -> Good  (3)

Evidence for `gaps`: every result writes kind "check" (1 right / 0 wrong) and
kind "review" (the rating mapped to 0..1: Again 0, Hard 1/3, Good 2/3, Easy 1),
both with source "check_results" and the result's id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from learnflow.db.store import Store
from learnflow.timespec import iso, local_midnight

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
RATING_NAMES = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
EASY_SECONDS = 60
MAX_NEW = 3  # checks drawn from the period's answers
MAX_CHECKS = 5  # with due reviews: keeps a reflection under five minutes
SOURCE_EXCERPT = 1500  # characters of the original answer given to the judge


@dataclass
class Check:
    """One question to answer from memory, backed by a review_cards row."""

    card_id: int
    skill: str
    question: str
    expected: str | None
    keywords: list[str]
    kind: str  # new (from this period's answers) | review (due from earlier days) | probe (a gap probe)
    interaction_id: int | None = None
    bundled_card: str | None = None
    source_answer: str = ""  # the answer the question came from, for the model judge


@dataclass
class Judgement:
    correct: bool
    score: float  # 0..1
    feedback: str
    method: str  # model | card | self


@dataclass
class CheckResult:
    id: int
    card_id: int
    skill: str
    kind: str
    question: str
    answer: str
    confidence: int | None
    correct: bool
    score: float
    rating: int
    rating_name: str
    method: str
    feedback: str
    expected: str | None
    next_due: str
    interval_days: float


def rating_for(correct: bool, score: float, confidence: int | None, seconds: float | None = None) -> int:
    """Map a judged answer and the confidence given before it to an FSRS rating (see module doc)."""
    conf = confidence or 3
    if not correct:
        return AGAIN
    if conf <= 2 or score < 0.7:
        return HARD
    if conf >= 4 and score >= 0.9 and (seconds is None or seconds <= EASY_SECONDS):
        return EASY
    return GOOD


# -- FSRS -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def scheduler():
    import fsrs  # only reflect pays for it

    return fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def new_state(card_id: int, now: datetime) -> str:
    """FSRS state of a card never reviewed, due at once."""
    import fsrs

    return json.dumps(fsrs.Card(card_id=card_id, due=now.astimezone(UTC)).to_dict())


def schedule(state: str | None, rating: int, when: datetime, card_id: int = 0) -> tuple[str, datetime]:
    """Review a card's FSRS state with `rating` at `when`: (new state JSON, next due)."""
    import fsrs

    card = fsrs.Card.from_dict(json.loads(state)) if state else fsrs.Card(card_id=card_id, due=when)
    card, _log = scheduler().review_card(card, fsrs.Rating(rating), review_datetime=when.astimezone(UTC))
    return json.dumps(card.to_dict()), card.due


# -- cards from the log ------------------------------------------------------------


def collect_cards(store: Store, start: str, end: str, now: datetime) -> list[int]:
    """Create review cards for the period's check questions; return the ids never reviewed yet,
    in the order the questions were asked.

    One card per bundled skill card (asking the offline coach the same thing
    twice does not make two cards) and per distinct model check question.
    """
    from learnflow.learner.cards import load_cards

    bundled = {c.check_question: c for c in load_cards() if c.check_question}
    rows = store.db.query(
        "SELECT i.id, i.backend, i.check_question, "
        "(SELECT skill FROM interaction_skills s WHERE s.interaction_id = i.id ORDER BY relevance DESC LIMIT 1) AS skill "
        "FROM interactions i WHERE i.created_at >= ? AND i.created_at <= ? AND i.status = 'ok' "
        "AND i.mode = 'teach' AND coalesce(i.check_question, '') != '' "
        "AND NOT EXISTS (SELECT 1 FROM review_cards r WHERE r.interaction_id = i.id) ORDER BY i.id",
        [start, end],
    )
    for row in list(rows):
        card = bundled.get(row["check_question"]) if row["backend"] == "offline" else None
        if row["backend"] == "offline" and card is None:
            continue  # the coach's generic closing question: nothing to remember
        if card is not None:
            exists = store.db.execute("SELECT 1 FROM review_cards WHERE card_id = ?", [card.id]).fetchone()
            fields = {
                "skill": card.skill,
                "answer": card.check_answer,
                "check_keywords": json.dumps(card.check_keywords),
                "card_id": card.id,
            }
        else:
            exists = store.db.execute("SELECT 1 FROM review_cards WHERE question = ?", [row["check_question"]]).fetchone()
            fields = {"skill": row["skill"] or "general"}
        if not exists:
            _insert_card(store, now, question=row["check_question"], interaction_id=row["id"], **fields)
    ids = store.db.execute(
        "SELECT r.id FROM review_cards r JOIN interactions i ON i.id = r.interaction_id "
        "WHERE coalesce(r.reps, 0) = 0 AND i.created_at >= ? AND i.created_at <= ? ORDER BY i.id",
        [start, end],
    ).fetchall()
    return [i for (i,) in ids]


def _insert_card(store: Store, now: datetime, **fields) -> int:
    def write():
        cid = store.db["review_cards"].insert({"created_at": iso(now), "reps": 0, "due": iso(now), **fields}).last_pk
        store.db["review_cards"].update(cid, {"fsrs": new_state(cid, now)})
        return cid

    return store._write(write)


def pick_checks(
    store: Store, period_cards: list[int], now: datetime, *, limit: int = MAX_CHECKS, skill: str | None = None, rounds: int = 1
) -> list[Check]:
    """Up to MAX_NEW cards from the period (one per skill first), then due reviews, then
    gap probes (probes.py) on the goal skills `gaps` knows least about, `limit` in all;
    with `skill`, only that skill's due reviews and probes; `rounds` > 1 lets probes
    take a second card of a skill once every skill has one (a long `learnflow check`).

    "Due" means due before the end of today, local time: a card scheduled for
    tomorrow 18:00 is reviewed at tomorrow's reflection, whatever its hour.
    """
    from learnflow.learner import probes

    rows = {r["id"]: r for r in _cards(store, "r.id IN (%s)" % ",".join("?" * len(period_cards)), period_cards)} if period_cards else {}
    ordered = [rows[i] for i in period_cards if i in rows]
    seen_skills: set[str] = set()
    first, rest = [], []
    for row in ordered:
        (rest if row["skill"] in seen_skills else first).append(row)
        seen_skills.add(row["skill"])
    new = (first + rest)[: min(MAX_NEW, limit)]
    horizon = iso(local_midnight(now) + timedelta(days=1))
    taken = [r["id"] for r in new] or [-1]
    only = " AND r.skill = ?" if skill else ""
    due = _cards(
        store,
        "r.due < ? AND r.id NOT IN (%s)%s ORDER BY r.due LIMIT ?" % (",".join("?" * len(taken)), only),
        [horizon, *taken, *([skill] if skill else []), limit - len(new)],
    )
    chosen = {r["skill"] for r in new + due}
    probe_ids = probes.pick(store, limit - len(new) - len(due), exclude=chosen, now=now, skill=skill, rounds=rounds)
    probed = {r["id"]: r for r in _cards(store, "r.id IN (%s)" % ",".join("?" * len(probe_ids)), probe_ids)} if probe_ids else {}
    early = []
    if skill and len(new) + len(due) + len(probe_ids) < limit:
        # Asked for this skill and its cards are all scheduled: review the soonest early (FSRS allows it).
        taken = [r["id"] for r in new + due] + probe_ids or [-1]
        early = _cards(store, "r.skill = ? AND r.id NOT IN (%s) ORDER BY r.due LIMIT ?" % ",".join("?" * len(taken)),
                       [skill, *taken, limit - len(new) - len(due) - len(probe_ids)])  # fmt: skip
    return ([_check(r, "new") for r in new] + [_check(r, "review") for r in due] + [_check(probed[i], "probe") for i in probe_ids]
            + [_check(r, "review") for r in early])  # fmt: skip


def _cards(store: Store, where: str, params: list) -> list[dict]:
    return list(
        store.db.query(
            f"SELECT r.*, i.answer AS source_answer FROM review_cards r LEFT JOIN interactions i ON i.id = r.interaction_id WHERE {where}",
            params,
        )
    )


def _check(row: dict, kind: str) -> Check:
    return Check(
        card_id=row["id"],
        skill=row["skill"] or "general",
        question=row["question"],
        expected=row["answer"] or None,
        keywords=json.loads(row["check_keywords"] or "[]"),
        kind=kind,
        interaction_id=row["interaction_id"],
        bundled_card=row["card_id"],
        source_answer=(row.get("source_answer") or "")[:SOURCE_EXCERPT],
    )


def add_answer_key(store: Store, check: Check, model) -> None:
    """Ask the model for the expected answer and keywords of a model-made card (kept for offline judging)."""
    if check.expected or not model.available:
        return
    data = model.json("reflect-key", question=check.question, source=check.source_answer or "(not kept)")
    answer = str((data or {}).get("answer") or "").strip()
    if not answer:
        return
    keywords = [str(k).strip() for k in (data.get("keywords") or []) if str(k).strip()][:4]
    check.expected, check.keywords = answer, keywords
    store._write(lambda: store.db["review_cards"].update(check.card_id, {"answer": answer, "check_keywords": json.dumps(keywords)}))


# -- judging -----------------------------------------------------------------------

_WORD = re.compile(r"[\w+#./-]+")
_DONT_KNOW = re.compile(r"^\s*(?:i\s+)?(?:don'?t|do not)\s+know\b|^\s*(?:no idea|\?+|idk|pass|skip)\s*[.!]*\s*$", re.I)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _mentions(tokens: list[str], keyword: str) -> bool:
    """Every word of the keyword appears in the answer, allowing plural/past/-ing forms."""
    return all(any(t == k or t.startswith(_stem(k)) for t in tokens) for k in _WORD.findall(keyword.lower()))


def blank(answer: str | None) -> bool:
    """No attempt: empty, "I don't know", "?"."""
    return not (answer or "").strip() or bool(_DONT_KNOW.search(answer or ""))


def judge_keywords(check: Check, answer: str) -> Judgement | None:
    """Offline judging by keyword overlap with the card; None when the card has no keywords."""
    if not check.keywords:
        return None
    tokens = _WORD.findall(answer.lower())
    hits = [k for k in check.keywords if _mentions(tokens, k)]
    score = round(len(hits) / len(check.keywords), 2)
    missing = [k for k in check.keywords if k not in hits]
    correct = score >= 0.5
    if correct and not missing:
        feedback = "You named the key ideas."
    elif correct:
        feedback = f"Right idea; a complete answer also mentions: {', '.join(missing)}."
    else:
        feedback = f"Not quite: the answer turns on {', '.join(check.keywords)}."
    return Judgement(correct, score, feedback, "card")


def judge_answer(check: Check, answer: str, model) -> Judgement | None:
    """A blank answer is wrong; otherwise the model judges when one is connected (None: judge offline)."""
    if blank(answer):
        return Judgement(False, 0.0, f"No answer given. Expected: {check.expected or 'see the original answer'}", "self")
    return judge_model(check, answer, model) if model.available else None


def judge_model(check: Check, answer: str, model) -> Judgement | None:
    """The model judges against the expected answer (or the original answer); None if it cannot."""
    data = model.json(
        "reflect-judge",
        question=check.question,
        expected=check.expected or "(no reference answer: judge from the source below)",
        source=check.source_answer or "(not kept)",
        answer=answer,
    )
    if data is None or "correct" not in data:
        return None
    correct = data["correct"] in (True, 1, "true", "yes", "True")
    try:
        score = min(1.0, max(0.0, float(data.get("score", 1.0 if correct else 0.0))))
    except (TypeError, ValueError):
        score = 1.0 if correct else 0.0
    return Judgement(correct, score, str(data.get("feedback") or "").strip(), "model")


def self_judgement(correct: bool, *, overruled: bool = False) -> Judgement:
    """The person's own verdict. Overruling the keyword judge counts as right but not complete
    (Good at best, never Easy): the words the card looks for were missing."""
    score = (0.8 if overruled else 1.0) if correct else 0.0
    return Judgement(correct, score, "Self-assessed against the expected answer.", "self")


# -- recording -------------------------------------------------------------------


def record(
    store: Store,
    *,
    reflection_id: int,
    check: Check,
    answer: str,
    confidence: int | None,
    judgement: Judgement,
    seconds: float | None,
    now: datetime,
) -> CheckResult:
    """Write the result, reschedule the card and add the evidence, in one transaction."""
    rating = rating_for(judgement.correct, judgement.score, confidence, seconds)
    card = store.db["review_cards"].get(check.card_id)
    state, due = schedule(card["fsrs"], rating, now, check.card_id)

    def write():
        rid = (
            store.db["check_results"]
            .insert(
                {
                    "created_at": iso(now),
                    "reflection_id": reflection_id,
                    "review_card_id": check.card_id,
                    "skill": check.skill,
                    "question": check.question,
                    "answer": answer,
                    "confidence": confidence,
                    "correct": int(judgement.correct),
                    "score": judgement.score,
                    "rating": rating,
                    "judge_method": judgement.method,
                    "feedback": judgement.feedback,
                }  # fmt: skip
            )
            .last_pk
        )
        store.db["review_cards"].update(
            check.card_id, {"fsrs": state, "due": iso(due), "last_review": iso(now), "reps": (card["reps"] or 0) + 1}
        )
        evidence = [
            {"skill": check.skill, "kind": "check", "value": float(judgement.correct)},
            {"skill": check.skill, "kind": "review", "value": round((rating - 1) / 3, 3)},
        ]
        store.db["evidence"].insert_all({"ts": now.timestamp(), "source": "check_results", "source_id": rid, **e} for e in evidence)
        return rid

    rid = store._write(write)
    return CheckResult(
        id=rid, card_id=check.card_id, skill=check.skill, kind=check.kind, question=check.question, answer=answer,
        confidence=confidence, correct=judgement.correct, score=judgement.score, rating=rating,
        rating_name=RATING_NAMES[rating], method=judgement.method, feedback=judgement.feedback,
        expected=check.expected, next_due=iso(due), interval_days=round((due - now).total_seconds() / 86400, 2),
    )  # fmt: skip


# -- calibration -----------------------------------------------------------------


@dataclass
class Calibration:
    """Confidence against correctness over every check answered with a confidence."""

    n: int
    accuracy: float | None = None
    mean_confidence_right: float | None = None
    mean_confidence_wrong: float | None = None
    gap: float | None = None  # mean stated probability - accuracy: > 0 overconfident
    brier: float | None = None  # mean (p - outcome)^2: 0 perfect, 0.25 a coin flip
    verdict: str = "too_few"  # too_few | overconfident | underconfident | calibrated
    message: str = ""
    session: dict = field(default_factory=dict)


MIN_FOR_VERDICT = 5


def probability(confidence: int) -> float:
    """Confidence 1-5 read as a probability of being right: 0.1, 0.3, 0.5, 0.7, 0.9."""
    return (confidence - 0.5) / 5


def calibration(store: Store, reflection_id: int | None = None) -> Calibration:
    rows = store.db.execute(
        "SELECT confidence, correct, reflection_id FROM check_results WHERE confidence IS NOT NULL AND correct IS NOT NULL"
    ).fetchall()
    cal = Calibration(n=len(rows))
    if reflection_id is not None:
        mine = [(c, k) for c, k, r in rows if r == reflection_id]
        cal.session = {"n": len(mine), "right": sum(k for _, k in mine)}
    if not rows:
        cal.message = "No confidence ratings yet: they build up with every check you answer."
        return cal
    right = [c for c, k, _ in rows if k]
    wrong = [c for c, k, _ in rows if not k]
    cal.accuracy = round(len(right) / len(rows), 3)
    cal.mean_confidence_right = round(sum(right) / len(right), 2) if right else None
    cal.mean_confidence_wrong = round(sum(wrong) / len(wrong), 2) if wrong else None
    cal.gap = round(sum(probability(c) for c, _, _ in rows) / len(rows) - cal.accuracy, 3)
    cal.brier = round(sum((probability(c) - k) ** 2 for c, k, _ in rows) / len(rows), 3)
    if len(rows) < MIN_FOR_VERDICT:
        cal.message = f"{len(rows)} rated check(s) so far; calibration needs {MIN_FOR_VERDICT} to say anything."
    elif cal.gap > 0.15:
        cal.verdict = "overconfident"
        cal.message = (
            f"You tend to be overconfident: you expect to be right {round(100 * (cal.gap + cal.accuracy))}% of the time "
            f"and are right {round(100 * cal.accuracy)}%. Before answering, ask yourself how you would know."
        )
    elif cal.gap < -0.15:
        cal.verdict = "underconfident"
        cal.message = (
            f"You know more than you think: right {round(100 * cal.accuracy)}% of the time while expecting "
            f"{round(100 * (cal.gap + cal.accuracy))}%. Trust your first answer a little more."
        )
    else:
        cal.verdict = "calibrated"
        cal.message = f"Your confidence matches your results (right {round(100 * cal.accuracy)}%, Brier {cal.brier})."
    return cal
