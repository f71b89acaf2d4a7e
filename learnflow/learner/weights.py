"""Evidence weights learned from the learner: how much is one of *your* self-ratings worth, in checks?

A fixed weight says a self-rating counts as half a check for everyone, but how well
people's self-ratings track their skill ranges from r ≈ 0.3 to r ≈ 0.8. This module
fits, per learner, how well each kind of soft evidence (self-ratings, try-first
attempts, wrapped commands' outcomes) agrees with their judged check answers on the
same skills, and turns that into a weight, shrunk towards the shipped weight by
how much evidence there is (empirical Bayes). A new user starts at the shipped
weights and moves as their own evidence accumulates.

The model (one factor per learner, classical test theory): every observation x of
kind k on skill s is x = a_k + λ_k·θ_s + noise, with θ_s the learner's standardised
mastery of s and noise independent between observations. Then, across the learner's
skills,

    cov(check, check' on the same skill) = λ_c²          (two different checks)
    cov(x_k, check on the same skill)    = λ_k·λ_c

so with correlations in place of covariances, λ_c² = r_cc and λ_k² = r_kc² / r_cc.
One observation with loading λ carries information λ²/(1 − λ²) about θ; a check's
weight is 1 by definition, so

    ŵ_k = w_check · g(λ_k²) / g(λ_c²),   g(x) = x / (1 − x)

and the weight used is the shrunk geometric mean

    log w_k = (N0 · log w0_k + m_k · log ŵ_k) / (N0 + m_k)

where w0_k is the shipped (configured) weight, m_k the number of skills on which both
kind k and at least two checks were seen, and N0 = PRIOR_SKILLS the prior's strength
in skills. Questions, reviews, imports, repeats and flags keep their configured
weights (see `LEARNED_KINDS`).

Cost: one grouped read of the daily table (db.profile.kind_sums) and a loop over
skills × 4 kinds: milliseconds at any log size (bench/bench_gaps_speed.py), so it is
refitted on every `gaps` and needs no cache.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from learnflow.db import profile as profile_db
from learnflow.db.profile import DAY

if TYPE_CHECKING:
    from learnflow.db.store import Store
    from learnflow.learner.profile import Params

# Kinds whose value is a reading of mastery on the same scale as a check: their agreement with
# checks can be measured. Not learned: reviews (they grade the check they sit beside: not an
# independent reading), questions (their signal is how often one asks, which mostly follows how
# much the skill is used: the bench's naive baseline), imports (rare, judged elsewhere), repeats
# and flags (rare events: too few per learner to fit). A check's confidence rating is stored with
# the check, not as evidence: it says how sure the answer was, not a second reading of the skill.
LEARNED_KINDS = ("self_rating", "attempt", "task")
# Values that are 0 or 1: their sum of squares is their sum (the daily table keeps no squares).
BINARY_KINDS = frozenset({"task"})
# The prior's strength, in skills: with 8 skills' worth of the learner's own evidence a weight is
# halfway (on a log scale) from the shipped one to the learner's own.
PRIOR_SKILLS = 8.0
# Bounds on a fitted weight, in checks: never ignored entirely, never worth more than 3 checks.
W_MIN, W_MAX = 0.01, 3.0
# Loadings squared are kept inside (0, 1): a perfect agreement on 3 skills is luck, not a perfect signal.
R2_MIN, R2_MAX = 0.005, 0.9


def _moments(rows: list[tuple[int, float, float]]) -> tuple[float, float, float]:
    """(count, mean, variance) over all observations, from per-skill (n, sum, sum of squares)."""
    n = sum(r[0] for r in rows)
    if not n:
        return 0.0, 0.0, 0.0
    mean = sum(r[1] for r in rows) / n
    return n, mean, max(0.0, sum(r[2] for r in rows) / n - mean * mean)


def fit(sums: dict[str, dict[str, tuple[int, float, float]]], prior: dict[str, float]) -> dict:
    """The learned weights from per-skill, per-kind (n, Σx, Σx²); `prior`: the configured weights.

    Returns {"weights": {kind: weight}, "kinds": {kind: {...what was measured}}, "check_r2": λ_c² or None}.
    """
    checks = {s: k["check"] for s, k in sums.items() if "check" in k}
    out: dict = {"weights": {}, "kinds": {}, "check_r2": None}
    n_y, mean_y, var_y = _moments(list(checks.values()))
    # Pairs of different checks on the same skill: Σ_s [(S_s − n_s·ȳ)² − Σ_i (y_i − ȳ)²] over Σ_s n_s(n_s − 1).
    pairs = sum(n * (n - 1) for n, _, _ in checks.values())
    cov_yy = sum((sy - n * mean_y) ** 2 - (qy - 2 * mean_y * sy + n * mean_y * mean_y) for n, sy, qy in checks.values())
    if var_y <= 0 or pairs <= 0:
        return out  # no pair of checks on one skill yet: nothing to compare with, the prior stands
    r2_check = min(R2_MAX, max(R2_MIN, cov_yy / pairs / var_y))
    out["check_r2"] = r2_check
    g = lambda x: x / (1 - x)  # noqa: E731  information per observation, from its loading squared
    skills_2 = {s for s, (n, _, _) in checks.items() if n >= 2}
    for kind in LEARNED_KINDS:
        rows = {s: k[kind] for s, k in sums.items() if kind in k}
        n_k, mean_k, var_k = _moments(list(rows.values()))
        both = [s for s in rows if s in checks]
        m = len([s for s in both if s in skills_2])
        w0 = prior.get(kind, 0.0)
        if not both or var_k <= 0 or m == 0 or w0 <= 0:
            continue
        cross = sum(rows[s][0] * checks[s][0] for s in both)
        cov = sum((rows[s][1] - rows[s][0] * mean_k) * (checks[s][1] - checks[s][0] * mean_y) for s in both) / cross
        r = cov / math.sqrt(var_k * var_y)
        r2_kind = min(R2_MAX, max(R2_MIN, (r * abs(r) if r > 0 else 0.0) / r2_check))
        raw = min(W_MAX, max(W_MIN, prior.get("check", 1.0) * g(r2_kind) / g(r2_check)))
        weight = math.exp((PRIOR_SKILLS * math.log(w0) + m * math.log(raw)) / (PRIOR_SKILLS + m))
        out["weights"][kind] = weight
        out["kinds"][kind] = {"r_with_checks": r, "loading2": r2_kind, "raw_weight": raw, "skills": m, "n": n_k}
    return out


def read_sums(store: Store, *, since: float, until: float | None = None) -> dict[str, dict[str, tuple[int, float, float]]]:
    """Per skill and kind, (n, Σx, Σx²) of the checks and LEARNED_KINDS from `since` (to `until`)."""
    out: dict[str, dict[str, tuple[int, float, float]]] = {}
    for skill, kind, n, sv, sq in profile_db.kind_sums(store, ("check", *LEARNED_KINDS), since_day=int(since // DAY), until=until):
        out.setdefault(skill, {})[kind] = (n, sv, sv if kind in BINARY_KINDS else sq)
    return out


def fitted_params(store: Store, params: Params, *, now: float, until: float | None = None) -> Params:
    """`params` with the learner's own weights for LEARNED_KINDS (when `gaps_learn_weights` is on)."""
    if not params.learn_weights:
        return params
    result = fit(read_sums(store, since=now - params.horizon(), until=until), params.weights)
    summary = {
        "prior": {k: params.weights.get(k, 0.0) for k in LEARNED_KINDS},
        "weights": {k: round(w, 4) for k, w in result["weights"].items()},
        "check_r2": result["check_r2"],
        "kinds": result["kinds"],
    }
    return replace(params, weights={**params.weights, **result["weights"]}, fit=summary)
