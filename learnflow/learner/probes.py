"""Gap probe ordering: which goal skill a check would tell most about.

A reflection's checks come from the day's questions first, then from due
reviews. That teaches, but it measures lopsidedly: the skills asked
about get checked again and again, and the rest of a role's skills go
unmeasured for weeks. A probe fills a free slot with a bundled skill card's
check question on the goal skill the model is least sure about:

1. skills with no direct evidence at all (no number yet), the more important first;
2. then the skill where one more answer would move P(mastery < target) most:
   largest importance × E|ΔP|, where, with p = the posterior mean (the chance the
   answer is right), P = I_τ(α, β), P₁ = I_τ(α+1, β) and P₀ = I_τ(α, β+1),

       E|ΔP| = p·|P₁ − P| + (1 − p)·|P₀ − P|.

   It is large where the interval is wide *and* straddles the target, and shrinks
   as evidence piles up: a skill sitting right at its target with a hundred checks
   behind it is not probed forever (importance × P(1 − P), the rule before, did that).

This module is only that rule, `order`, a pure function over the learner model,
so the simulation bench uses the very same one. Choosing the probe cards and
writing them lives with the other review cards: practice/review.py (`pick_probes`).
"""

from __future__ import annotations

from learnflow.learner import beta
from learnflow.learner.profile import Params, Posterior


def expected_move(post: Posterior, target: float) -> float:
    """E|ΔP(mastery < target)| after one more check answer, weighted by how likely each outcome is."""
    a, b = post.alpha, post.beta
    now = beta.cdf(target, a, b)
    p = post.mean
    return p * abs(beta.cdf(target, a + 1, b) - now) + (1 - p) * abs(beta.cdf(target, a, b + 1) - now)


def order(goals: dict[str, tuple[float, float]], posts: dict[str, Posterior], params: Params) -> list[str]:
    """Goal skills, the one a check would tell most about first. `goals`: skill -> (target, importance).

    `params` is kept for callers' sake (and a future rule that reads the weights); the rule needs none.
    """

    def key(skill: str):
        target, importance = goals[skill]
        post = posts.get(skill) or Posterior()
        if not post.measured:
            return (0, -importance, skill)
        return (1, -importance * expected_move(post, target), skill)

    return sorted(goals, key=key)
