"""Calibration: how well the confidence given before each check matches being right.

Read from every check result with a confidence (reflections and `learnflow
check` alike); shown at the end of a reflection and in `check --json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from learnflow.db import reviews
from learnflow.db.store import Store

MIN_FOR_VERDICT = 5


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


def probability(confidence: int) -> float:
    """Confidence 1-5 read as a probability of being right: 0.1, 0.3, 0.5, 0.7, 0.9."""
    return (confidence - 0.5) / 5


def calibration(store: Store, reflection_id: int | None = None) -> Calibration:
    """Calibration over every rated check; with `reflection_id`, also that session's count and right answers."""
    rows = reviews.confidence_outcomes(store)
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
