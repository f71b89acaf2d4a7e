"""`learnflow check`: a few retrieval checks outside the evening reflection.

Due reviews first (FSRS), then gap probes on the goal skills `gaps` knows least
about (probes.py). Right after `goals role …` nothing is due, so a first
session with -n at the role's skill count is a placement: one check per skill,
and every skill of the role gets a first measurement in minutes instead of weeks. The loop and
the judging are shared with reflect (`ask_checks`); results are stored one by one,
so Ctrl-C keeps what was answered.
"""

from __future__ import annotations

from datetime import UTC, datetime

from learnflow.db.store import Store
from learnflow.practice import review

DEFAULT_CHECKS = review.MAX_CHECKS


class Practice:
    """One practice session: the same duck type as a reflect.Session for `ask_checks`, without a reflection row."""

    reflection_id = None

    def __init__(self, store: Store, *, model, limit: int = DEFAULT_CHECKS, skill: str | None = None, now: datetime | None = None):
        self.store = store
        self.skill = skill
        self.model = model
        self.limit = limit
        self.now = now or datetime.now(UTC)
        self.results: list[review.CheckResult] = []
        self.asked = 0  # checks offered (some may be skipped)

    def checks(self) -> list[review.Check]:
        picked = review.pick_checks(self.store, [], self.now, limit=self.limit, skill=self.skill, rounds=self.limit)
        self.asked = len(picked)
        return picked

    def judge(self, check: review.Check, answer: str) -> review.Judgement | None:
        return review.judge_answer(check, answer, self.model)

    def record(self, check: review.Check, attempt, judgement: review.Judgement) -> review.CheckResult:
        result = review.record(
            self.store, reflection_id=self.reflection_id, check=check, answer=attempt.answer,
            confidence=attempt.confidence, judgement=judgement, seconds=attempt.seconds, now=datetime.now(UTC),
        )  # fmt: skip
        self.results.append(result)
        return result


def ask_checks(session, provider) -> None:
    """Ask, judge and record each of `session.checks()`: a reflection's practice step, or a
    `learnflow check`. `provider` is a reflect.Answers (the terminal or an answers file)."""
    from learnflow.learner.probes import drop_unanswered

    checks = session.checks()
    answered: set[int] = set()
    try:
        for index, check in enumerate(checks, 1):
            review.add_answer_key(session.store, check, session.model)
            attempt = provider.attempt(check, index, len(checks))
            if attempt is None:
                continue  # skipped: the card stays due
            judgement = session.judge(check, attempt.answer) or review.judge_keywords(check, attempt.answer)
            # Keyword matching misses paraphrases: the person may overrule a "wrong", and decides when nothing can judge.
            if judgement is None or (judgement.method == "card" and not judgement.correct):
                graded = provider.self_grade(check, judgement)
                if graded is not None:
                    judgement = review.self_judgement(graded, overruled=judgement is not None)
            if judgement is None:
                continue
            provider.show("judged", session.record(check, attempt, judgement))
            answered.add(check.card_id)
    finally:
        drop_unanswered(session.store, [c.card_id for c in checks if c.kind == "probe" and c.card_id not in answered])


def summary(session: Practice) -> dict:
    """What `learnflow check --json` prints: the results, the score, calibration so far."""
    from dataclasses import asdict

    right = sum(r.correct for r in session.results)
    return {
        "checks": [asdict(r) for r in session.results],
        "right": right,
        "answered": len(session.results),
        "offered": session.asked,  # offered but not answered: skipped, or the session was stopped
        "calibration": asdict(review.calibration(session.store)),
        "warnings": list(session.model.warnings),
    }
