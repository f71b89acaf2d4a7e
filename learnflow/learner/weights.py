"""Evidence weights learned from the learner: how much is one of *your* self-ratings worth, in checks?

A fixed weight says a self-rating counts as half a check for everyone, but how well
people's self-ratings track their skill ranges from r ≈ 0.3 to r ≈ 0.8. This module
fits, per learner, the weights of the soft kinds of evidence (self-ratings, try-first
attempts, wrapped commands' outcomes, "how"/"why" questions) by how well they predict that learner's own
judged check answers, starting from the shipped weights and moving only as far as the
learner's evidence pays for (empirical Bayes: a MAP estimate under a prior centred on
the configured weight).

The criterion is leave-one-out prediction of every check by the model `gaps` uses.
On skill s, with kind sums (n_ks, S_ks) and checks (n_s, S_s = right, F_s = wrong):

    A_s = 1 + Σ_k w_k·S_ks            B_s = 1 + Σ_k w_k·(n_ks − S_ks)       T_s = A_s + B_s + n_s
    (a question kind: n_ks = Σ its values, S_ks = 0 — a failure of its value, as in the model)
    P(right check | the others) = (A_s + S_s − 1) / (T_s − 1)
    P(wrong check | the others) = (B_s + F_s − 1) / (T_s − 1)
    LL(w)  = Σ_s  S_s·log((A_s + S_s − 1)/(T_s − 1)) + F_s·log((B_s + F_s − 1)/(T_s − 1))
    w*     = argmax  LL(w) − Σ_k (log w_k − log w0_k)² / (2·τ²)

w0_k is the configured weight (`gaps_weight_*`), τ = PRIOR_SD: one prior standard
deviation is a factor e^τ. A new learner (no checks) has LL ≡ 0, so w* = w0: today's
defaults. With a few checks LL is flat and the prior holds; as checks accumulate LL
sharpens and w* moves to what predicts *this* learner's answers. Reviews are left out
of the criterion (they grade the very check being predicted) and keep their weight, as
do imports, repeats and flags (see LEARNED_KINDS). A graded check (0..1
score) counts as S right and n − S wrong. Evidence is counted over the last
FIT_HALF_LIVES half-lives, undecayed: the weights say how much a kind is worth, not how recent it is.

The search is coordinate ascent on a log grid (GRID coarse points from w0/20 to 3 checks, then a
fine grid around the best, two rounds): a few thousand logarithms, ~2-5 ms; the sums come from one grouped read of the
daily table (db.profile.window_sums, the scan `gaps` makes anyway for its evidence counts). So it is refitted on every `gaps` and needs no cache
(bench/bench_gaps_speed.py measures it at 1M events).
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

# Kinds whose evidence can be scored against checks. Not learned: reviews (they grade the check they
# sit beside: not an independent reading, and they would leak the held-out answer), imports (rare,
# judged elsewhere), repeats and flags (rare events: too few per learner). Questions are learned like
# the rest but start from small weights (0.15 / 0.05), and with one person's ~10 skills their likelihood
# is nearly flat, so the prior mostly holds (bench/README-gaps.md has the figures). A check's
# confidence rating is stored with the check, not as evidence: see docs/learner-model.md.
LEARNED_KINDS = ("self_rating", "attempt", "task", "question_how", "question_why")
# Before questions were learned (issue 13's first round): the bench runs both side by side.
READING_KINDS = ("self_rating", "attempt", "task")
# A question is a small failure in the model (profile.py): its value (the tag's relevance, 1 when
# unset) goes to β and nothing to α. The fit scores it the same way, so a learner whose questions do
# foretell wrong checks keeps or gains their weight, and one who asks about what they know loses it.
QUESTION_KINDS = ("question_how", "question_why")
# Prior standard deviation of log(weight / configured weight): 0.5 = a factor 1.65 per sd.
PRIOR_SD = 1.0
# Bounds on a fitted weight, in checks: never ignored entirely, never worth more than 3 checks.
W_MIN, W_MAX = 0.01, 3.0
GRID = 21  # coarse points per weight (then 10 fine ones around the best: fit)
# The fit reads the last 3 half-lives (90 days at the default 30): 7/8 of the decayed evidence the
# model uses, recent enough to follow a learner whose calibration changes, and a third of the daily
# rows the full horizon would aggregate (~4 ms of CPU at 1M events instead of ~15).
FIT_HALF_LIVES = 3.0
ROUNDS = 2


def _loglik(skills: list[tuple[float, float, list[tuple[float, float]]]], weights: list[float]) -> float:
    """Leave-one-out log-likelihood of the checks. `skills`: (right, wrong, [(n_k, S_k) per learned kind])."""
    total = 0.0
    for right, wrong, kinds in skills:
        a, b = 1.0, 1.0
        for w, (n, sv) in zip(weights, kinds):
            a += w * sv
            b += w * (n - sv)
        t1 = a + b + right + wrong - 1
        if right > 0:
            total += right * math.log((a + right - 1) / t1) if a + right - 1 > 0 else 0.0
        if wrong > 0:
            total += wrong * math.log((b + wrong - 1) / t1) if b + wrong - 1 > 0 else 0.0
    return total


def _reading(kind: str, n: float, sv: float) -> tuple[float, float]:
    """(pieces, successes) of one kind's sums as the model counts them: a question is a failure of its value."""
    if kind in QUESTION_KINDS:
        return (sv if sv > 0 else n), 0.0
    return n, sv


def fit(
    sums: dict[str, dict[str, tuple[int, float, float]]], prior: dict[str, float], kinds_learned: tuple[str, ...] = LEARNED_KINDS
) -> dict:
    """The learned weights from per-skill, per-kind (n, Σx, Σx²); `prior`: the configured weights.

    Returns {"weights": {kind: weight}, "checks": n, "gain": LL(w*) − LL(w0)} (kinds with a zero
    configured weight or no evidence on a checked skill keep the configured weight).
    """
    kinds = [k for k in kinds_learned if prior.get(k, 0.0) > 0]
    skills = []
    for per in sums.values():
        n, sv, _ = per.get("check", (0, 0.0, 0.0))
        if n > 0:
            skills.append((sv, n - sv, [_reading(k, float(per.get(k, (0, 0.0, 0.0))[0]), per.get(k, (0, 0.0, 0.0))[1]) for k in kinds]))
    active = [i for i, k in enumerate(kinds) if any(s[2][i][0] > 0 for s in skills)]
    w0 = [prior[k] for k in kinds]
    out: dict = {"weights": {}, "checks": round(sum(s[0] + s[1] for s in skills), 3), "gain": 0.0}
    if not active:
        return out
    weights = list(w0)
    base = _loglik(skills, weights)

    def objective(ws: list[float]) -> float:
        return _loglik(skills, ws) - sum((math.log(w / p)) ** 2 for w, p in zip(ws, w0)) / (2 * PRIOR_SD**2)

    def best_on(i: int, points: list[float]) -> float:
        best, best_w = -math.inf, weights[i]
        for x in points:
            trial = list(weights)
            trial[i] = math.exp(x)
            value = objective(trial)
            if value > best:
                best, best_w = value, trial[i]
        return best_w

    for _ in range(ROUNDS):
        for i in active:
            # A coarse log grid, then a fine one around its best point: 21 + 10 evaluations, a finer final
            # step (range/100) than one 61-point grid (range/60) at half its cost; five kinds stay ~5 ms.
            lo, hi = math.log(max(W_MIN, w0[i] / 20)), math.log(W_MAX)
            step = (hi - lo) / (GRID - 1)
            coarse = math.log(best_on(i, [lo + step * j for j in range(GRID)]))
            fine = [coarse + step * (j - 5) / 5 for j in range(11) if j != 5]
            weights[i] = best_on(i, [coarse, *(x for x in fine if lo <= x <= hi)])
    out["weights"] = {kinds[i]: weights[i] for i in active}
    out["gain"] = _loglik(skills, weights) - base
    return out


def read_sums(store: Store, *, since: float, until: float | None = None) -> dict[str, dict[str, tuple[int, float, float]]]:
    """Per skill and kind, (n, Σx, Σx²) of the checks and LEARNED_KINDS from `since` (to `until`)."""
    out: dict[str, dict[str, tuple[int, float, float]]] = {}
    for skill, kind, n, sv, sq in profile_db.kind_sums(store, ("check", *LEARNED_KINDS), since_day=int(since // DAY), until=until):
        out.setdefault(skill, {})[kind] = (n, sv, sq)
    return out


def fit_since(params: Params, now: float) -> float:
    """Where the fit's evidence starts: FIT_HALF_LIVES half-lives before `now`."""
    return now - FIT_HALF_LIVES * params.half_life_days * DAY


def fitted_params(
    store: Store,
    params: Params,
    *,
    now: float,
    until: float | None = None,
    sums: dict | None = None,
    kinds: tuple[str, ...] = LEARNED_KINDS,
) -> Params:
    """`params` with the learner's own weights for LEARNED_KINDS (when `gaps_learn_weights` is on).

    `sums`: per skill and kind (n, Σx, Σx²) from `fit_since(params, now)` on, when the caller has read them
    already (`gaps` does, in the scan it makes anyway: profile.window_and_fit_sums)."""
    if not params.learn_weights:
        return params
    if sums is None:
        sums = read_sums(store, since=fit_since(params, now), until=until)
    result = fit(sums, params.weights, kinds)
    summary = {
        "prior": {k: params.weights.get(k, 0.0) for k in LEARNED_KINDS},
        "weights": {k: round(w, 4) for k, w in result["weights"].items()},
        "checks": result["checks"],
        "gain": round(result["gain"], 4),
    }
    return replace(params, weights={**params.weights, **result["weights"]}, fit=summary)
