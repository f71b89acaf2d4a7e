"""The check loop: ask each check, judge the answer, record the result. Shared by the
evening reflection (reflect/session.py) and `learnflow check` (`Practice`, here).

A new kind of practice session (a weekly quiz, say) is a class like `Practice`:
`checks()` picks the checks (review.py), `judge()` and `record()` delegate to
judging.py and `record` below, and `ask_checks` runs it with an answers provider.

`learnflow check`: due reviews first (FSRS), then gap probes on the goal skills
`gaps` knows least about. Right after `goals role …` nothing is due, so a first
session with -n at the role's skill count is a placement: one check per skill,
and every skill of the role gets a first measurement in minutes instead of weeks.
Results are stored one by one, so Ctrl-C keeps what was answered.

Recording a result (`record`) rates it (scheduling.rating_for), reschedules its
card with FSRS and adds evidence for `gaps`: kind "check" with the judged score
(1 complete and right, 0.5 partly right, 0 wrong: a partly right answer is part
of a success, not a whole one) and kind "review" (the rating mapped to 0..1:
Again 0, Hard 1/3, Good 2/3, Easy 1), both with source "check_results" and the
result's id.

When the offline judge cannot tell (`Judgement.certain` False), the loop shows the
reference answer and the person grades their own answer. From an answers file
without `self_grade`, such an answer is not recorded at all: no guess is stored
as evidence, the card stays due, and `learnflow check --json` lists it under
"ungraded".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from learnflow.db import reviews
from learnflow.db.store import Store
from learnflow.errors import BackendError
from learnflow.practice import judging, review
from learnflow.practice.calibration import calibration
from learnflow.practice.judging import Judgement
from learnflow.practice.review import Check
from learnflow.practice.scheduling import RATING_NAMES, rating_for, schedule
from learnflow.redact import redact, scrub
from learnflow.timespec import iso

DEFAULT_CHECKS = review.MAX_CHECKS


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


def record(
    store: Store,
    *,
    reflection_id: int | None,
    check: Check,
    answer: str,
    confidence: int | None,
    judgement: Judgement,
    seconds: float | None,
    now: datetime,
    source: str | None = None,
    interaction_id: int | None = None,
) -> CheckResult:
    """Write the result, reschedule the card and add the evidence, in one transaction.
    `source` says where it was answered (inline: `learnflow answer`), `interaction_id` which answer's check it was."""
    rating = rating_for(judgement.correct, judgement.score, confidence, seconds)
    state, reps = reviews.card_schedule(store, check.card_id)
    state, due = schedule(state, rating, now, check.card_id)
    result = {
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
        **({"source": source, "interaction_id": interaction_id} if source else {}),
    }
    card = {"fsrs": state, "due": iso(due), "last_review": iso(now), "reps": reps + 1}
    rid = reviews.record_result(store, result, card, evidence_rows(check.skill, judgement.score, rating), now.timestamp())
    return CheckResult(
        id=rid, card_id=check.card_id, skill=check.skill, kind=check.kind, question=check.question, answer=answer,
        confidence=confidence, correct=judgement.correct, score=judgement.score, rating=rating,
        rating_name=RATING_NAMES[rating], method=judgement.method, feedback=judgement.feedback,
        expected=check.expected, next_due=iso(due), interval_days=round((due - now).total_seconds() / 86400, 2),
    )  # fmt: skip


def evidence_rows(skill: str, score: float, rating: int) -> list[dict]:
    """The evidence a judged check adds: kind check (the judge's score, 0..1: a partly right answer
    is a partial success) and kind review (the rating as 0..1)."""
    return [
        {"skill": skill, "kind": "check", "value": round(float(score), 3)},
        {"skill": skill, "kind": "review", "value": round((rating - 1) / 3, 3)},
    ]


class Practice:
    """One practice session: the same duck type as a reflect.Session for `ask_checks`, without a reflection row."""

    reflection_id = None

    def __init__(self, store: Store, *, model, limit: int = DEFAULT_CHECKS, skill: str | None = None, now: datetime | None = None):
        self.store = store
        self.skill = skill
        self.model = model
        self.limit = limit
        self.now = now or datetime.now(UTC)
        self.results: list[CheckResult] = []
        self.ungraded: list[str] = []  # questions the judge could not tell and nobody graded
        self.asked = 0  # checks offered (some may be skipped)
        self.generated: list[int] = []  # cards the model wrote for this session (`--skill` without a guide)
        self.no_cards = False  # `--skill` has nothing to ask and no model could write a question
        self.fallback: str | None = None  # why: the model could not be reached to write one (config `fallback`)

    def checks(self) -> list[Check]:
        picked = review.pick_checks(self.store, [], self.now, limit=self.limit, skill=self.skill, rounds=self.limit)
        if not picked and self.skill:
            # No guide, no card in review: the model writes the skill's questions (stored, then asked),
            # else the person is told how to add a guide and offered a self-rating.
            if self.model.available:
                from learnflow.practice import generated

                try:
                    made = generated.generate(self.store, self.skill, self.model, count=self.limit, now=self.now)
                except BackendError as exc:
                    # The server cannot be reached: the offline way, as `ask` falls back to the offline
                    # coach (config `fallback = "off"` fails instead). A server that answered with an error
                    # or an unusable reply is still an error: it is there, and trying again may help.
                    if exc.kind != "connection" or self.model.config.get("fallback") != "offline":
                        raise
                    self.fallback = scrub((self.model.last_error or exc).message)
                    self.no_cards = True
                else:
                    self.generated = [c.id for c in made]
                    picked = [review.card_check(self.store, c.review_card_id, "generated") for c in made if c.review_card_id]
            else:
                self.no_cards = True
        self.asked = len(picked)
        return picked

    def judge(self, check: Check, answer: str) -> Judgement | None:
        return judging.judge_answer(check, answer, self.model)

    def record(self, check: Check, attempt, judgement: Judgement) -> CheckResult:
        result = record(
            self.store, reflection_id=self.reflection_id, check=check, answer=attempt.answer,
            confidence=attempt.confidence, judgement=judgement, seconds=attempt.seconds, now=datetime.now(UTC),
            source="check",
        )  # fmt: skip
        self.results.append(result)
        return result


def ask_checks(session, provider) -> None:
    """Ask, judge and record each of `session.checks()`: a reflection's practice step, or a
    `learnflow check`. `provider` is a reflect.Answers (the terminal or an answers file)."""
    checks = session.checks()
    answered: set[int] = set()
    try:
        for index, check in enumerate(checks, 1):
            review.add_answer_key(session.store, check, session.model)
            attempt = provider.attempt(check, index, len(checks))
            if attempt is None:
                continue  # skipped: the card stays due
            # Before the judge (a model) and the log see it: people paste what they just used.
            attempt.answer = redact(attempt.answer).text
            judgement = session.judge(check, attempt.answer) or judging.judge_keywords(check, attempt.answer)
            # The person decides when nothing can judge or the keyword judge cannot tell, and may
            # overrule its "wrong" (keyword matching misses some paraphrases).
            unsure = judgement is None or not judgement.certain
            if judgement is None or unsure or (judgement.method == "card" and not judgement.correct):
                graded = provider.self_grade(check, judgement)
                if graded is not None:
                    judgement = judging.self_judgement(graded, overruled=not unsure)
                elif unsure:
                    judgement = None  # no guess becomes evidence: the card stays due
            if judgement is None:
                if attempt.answer.strip():
                    getattr(session, "ungraded", []).append(check.question)
                continue
            provider.show("judged", session.record(check, attempt, judgement))
            answered.add(check.card_id)
    finally:
        review.drop_unanswered_probes(session.store, [c.card_id for c in checks if c.kind == "probe" and c.card_id not in answered])


def summary(session: Practice) -> dict:
    """What `learnflow check --json` prints: the results, the score, calibration so far."""
    from dataclasses import asdict

    right = sum(r.correct for r in session.results)
    return {
        "checks": [asdict(r) for r in session.results],
        "right": right,
        "answered": len(session.results),
        "offered": session.asked,  # offered but not answered: skipped, or the session was stopped
        "ungraded": session.ungraded,  # answered, but the offline judge could not tell and no self_grade was given
        "calibration": asdict(calibration(session.store)),
        "warnings": list(session.model.warnings),
        "generated": session.generated,  # ids of the cards the model wrote (`learnflow cards list`)
        "fallback": session.fallback,  # the model could not be reached to write them: why (then self_rating)
    }
