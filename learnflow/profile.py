"""The learner model: one Beta posterior per skill, from weighted evidence that fades.

Every piece of evidence is a (possibly fractional) Bernoulli observation of
"can this person do it": a right check is one success, a self-rating of 4/5 is
0.75 of a success and 0.25 of a failure, a "how do I" question is a small
failure. Each counts with its kind's weight, halved every `gaps_half_life_days`,
so an idle skill drifts back to the prior and its uncertainty grows again.
docs/learner-model.md has the formulas and the reasons.

Reads `evidence_daily` (per-day sums kept by triggers, migration m006), never
the evidence rows themselves: the cost depends on days × skills, not on how
much was logged. Pure data in, data out; no terminal here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from learnflow import beta
from learnflow.errors import ConfigError

DAY = 86400.0
DIRECT_KINDS = ("check", "review", "self_rating", "imported")
QUESTION_KINDS = ("question_how", "question_why")
# Beta(1, 1): before any evidence every mastery level is equally plausible (mean 0.5).
PRIOR_ALPHA = PRIOR_BETA = 1.0
# Evidence older than this many half-lives weighs < 0.1%: not read at all.
HORIZON_HALF_LIVES = 10
# Teaching levels from mastery (expertise reversal: guidance shrinks as skill grows).
LEVEL_CUTS = ((0.4, "novice"), (0.75, "intermediate"), (math.inf, "expert"))


@dataclass(frozen=True)
class Params:
    """The model's configuration: `gaps_*` settings (see config.py)."""

    half_life_days: float = 30.0
    min_evidence: float = 3.0
    default_target: float = 0.7
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "check": 1.0, "review": 0.25, "self_rating": 0.5, "imported": 0.75,
            "question_how": 0.15, "question_why": 0.05,
        }
    )  # fmt: skip

    @classmethod
    def from_config(cls, config=None) -> Params:
        """Read the `gaps_*` settings; a value that would break the model is a ConfigError."""
        from learnflow.config import Config

        cfg = config or Config()

        def number(key: str, low: float, high: float) -> float:
            try:
                value = float(cfg.get(key))
            except (TypeError, ValueError):
                value = math.nan
            if not low <= value <= high:
                raise ConfigError(
                    f"Setting {key} = {cfg.get(key)!r} is out of range ({low:g} to {high:g}).",
                    hint=f"Fix it with `learnflow config set {key} …`, or `learnflow config unset {key}`.",
                )
            return value

        return cls(
            half_life_days=number("gaps_half_life_days", 0.01, 36500),
            min_evidence=number("gaps_min_evidence", 0, 1e6),
            default_target=number("gaps_default_target", 0, 1),
            weights={k: number(f"gaps_weight_{k}", 0, 100) for k in (*DIRECT_KINDS, *QUESTION_KINDS)},
        )

    @property
    def rate(self) -> float:
        """Decay per second: exp(-rate * age) halves every half-life."""
        return math.log(2) / (self.half_life_days * DAY)

    def horizon(self) -> float:
        return HORIZON_HALF_LIVES * self.half_life_days * DAY


class Bucket(NamedTuple):
    """One day of one kind of evidence on one skill (a row of evidence_daily)."""

    day: int
    kind: str
    n: int  # rows
    sv: float  # sum of values, 0..1 each (questions: tag relevance)
    t: float  # mean unix time of the rows: where decay is measured from


@dataclass(frozen=True)
class Posterior:
    """Beta(alpha, beta) over the chance of getting this skill right, at one moment."""

    alpha: float = PRIOR_ALPHA
    beta: float = PRIOR_BETA
    evidence: float = 0.0  # weighted, decayed pieces of direct evidence (checks, reviews, ratings)
    questions: float = 0.0  # weighted, decayed questions (relevance-weighted)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def sd(self) -> float:
        a, b = self.alpha, self.beta
        return math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

    def enough(self, params: Params) -> bool:
        """Questions alone never make a confident number: they say what you need, not what you know."""
        return self.evidence >= params.min_evidence and self.evidence > 0

    def interval(self, mass: float = 0.8) -> tuple[float, float]:
        """Central credible interval holding `mass` of the probability."""
        tail = (1 - mass) / 2
        return beta.quantile(tail, self.alpha, self.beta), beta.quantile(1 - tail, self.alpha, self.beta)

    def p_below(self, target: float) -> float:
        """P(true mastery < target)."""
        return beta.cdf(target, self.alpha, self.beta)

    def shortfall(self, target: float) -> float:
        """Expected amount by which true mastery falls short of target (0 when above)."""
        return beta.expected_shortfall(target, self.alpha, self.beta)


def read_buckets(db, *, since: float, skill: str | None = None) -> dict[str, list[Bucket]]:
    """Daily sums from `since` (unix time) on, per skill, in time order."""
    sql = "SELECT skill, day, kind, n, sv, st FROM evidence_daily WHERE day >= ?"
    args: list = [int(since // DAY)]
    if skill is not None:
        sql += " AND skill = ?"
        args.append(skill)
    out: dict[str, list[Bucket]] = {}
    for sk, day, kind, n, sv, st in db.execute(sql, args).fetchall():
        if n > 0:
            out.setdefault(sk, []).append(Bucket(day, kind, n, min(max(sv, 0.0), float(n)), day * DAY + st / n))
    for rows in out.values():
        rows.sort(key=lambda b: b.t)
    return out


def last_seen(db) -> dict[str, float]:
    """Per skill, the end of the last day with any evidence (unix time), however old."""
    rows = db.execute("SELECT skill, max(day) FROM evidence_daily GROUP BY skill").fetchall()
    return {skill: (day + 1) * DAY for skill, day in rows}


def posteriors_at(buckets: list[Bucket], times: list[float], params: Params) -> list[Posterior]:
    """The posterior at each of `times` (ascending), in one pass over the buckets.

    Running sums are decayed from one event to the next, so all the weekly points
    of a trend cost the same as one. A bucket counts at a moment once its mean
    time has passed; within a day that is the only approximation (decay over a
    few hours is < 0.1% at a 30-day half-life).
    """
    rate, weights = params.rate, params.weights
    succ = fail = evid = ques = 0.0
    clock = None
    i, out = 0, []
    for when in times:
        while i < len(buckets) and buckets[i].t <= when:
            b = buckets[i]
            if clock is not None:
                f = math.exp(-rate * (b.t - clock))
                succ, fail, evid, ques = succ * f, fail * f, evid * f, ques * f
            clock = b.t
            w = weights.get(b.kind, 0.0)  # unknown kinds (from a newer writer) count for nothing
            if b.kind in QUESTION_KINDS:
                fail += w * b.sv
                ques += w * b.sv
            else:
                succ += w * b.sv
                fail += w * (b.n - b.sv)
                evid += w * b.n
            i += 1
        f = math.exp(-rate * (when - clock)) if clock is not None else 0.0
        out.append(Posterior(PRIOR_ALPHA + succ * f, PRIOR_BETA + fail * f, evid * f, ques * f))
    return out


class Mastery(NamedTuple):
    """What `ask` needs to pick a teaching level."""

    mean: float  # posterior mean, 0..1 (0.5 with no evidence)
    evidence: float  # weighted, decayed direct evidence; compare with Params.min_evidence


def mastery_for(store, skill: str, *, now: float | None = None, params: Params | None = None) -> Mastery:
    """Current mastery of one skill: one indexed read of at most a few hundred daily rows."""
    import time

    params = params or Params.from_config()
    now = time.time() if now is None else now
    rows = read_buckets(store.db, since=now - params.horizon(), skill=skill).get(skill, [])
    post = posteriors_at(rows, [now], params)[0]
    return Mastery(post.mean, post.evidence)


def teaching_level(mastery: Mastery, params: Params | None = None) -> str | None:
    """novice / intermediate / expert from mastery; None when the evidence is too thin to say."""
    params = params or Params()
    if mastery.evidence < params.min_evidence or mastery.evidence <= 0:
        return None
    return level_of(mastery.mean)


def level_of(mean: float) -> str:
    return next(name for cut, name in LEVEL_CUTS if mean < cut)
