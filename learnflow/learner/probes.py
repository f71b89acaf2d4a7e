"""Gap probe ordering: which goal skill a check would tell most about.

A reflection's checks come from the day's questions first, then from due
reviews. That teaches, but it measures lopsidedly: the skills asked
about get checked again and again, and the rest of a role's skills stay at "not
enough evidence" for weeks (in the validity bench 43% of a role's skills were
ranked after a simulated week; 52% with probes). A probe fills a free slot with a bundled skill card's
check question on the goal skill whose gap is least certain:

1. skills without enough evidence to rank, least evidence first
   (then the more important one);
2. then skills where it is most uncertain whether they fall short of target:
   largest importance × P(below) × (1 − P(below)).

This module is only that rule, `order`, a pure function over the learner model,
so the simulation bench uses the very same one. Choosing the probe cards and
writing them lives with the other review cards: practice/review.py (`pick_probes`).
"""

from __future__ import annotations

from learnflow.learner.profile import Params, Posterior


def order(goals: dict[str, tuple[float, float]], posts: dict[str, Posterior], params: Params) -> list[str]:
    """Goal skills, the one a check would tell most about first. `goals`: skill -> (target, importance)."""

    def key(skill: str):
        target, importance = goals[skill]
        post = posts.get(skill) or Posterior()
        if not post.enough(params):
            return (0, post.evidence, -importance, skill)
        p = post.p_below(target)
        return (1, -importance * p * (1 - p), 0.0, skill)

    return sorted(goals, key=key)
