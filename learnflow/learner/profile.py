"""The learner model: one Beta posterior per skill, from weighted evidence that fades.

Every piece of evidence is a (possibly fractional) Bernoulli observation of
"can this person do it": a right check is one success, a self-rating of 4/5 is
0.75 of a success and 0.25 of a failure, a "how do I" question is a small
failure. Each counts with its kind's weight, halved every `gaps_half_life_days`,
so an idle skill drifts back to the prior and its uncertainty grows again.
docs/learner-model.md has the formulas and the reasons.

Reads `evidence_daily` (per-day sums kept by triggers, migration m006) through
db.profile, never the evidence rows themselves, and lets SQLite apply the weights:
the cost depends on days × skills, not on how much was logged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from learnflow.db import profile as profile_db
from learnflow.db.profile import DAY  # the daily table's bucket, in seconds
from learnflow.errors import ConfigError
from learnflow.learner import beta

if TYPE_CHECKING:
    from learnflow.db.store import Store

# attempt: a judged try-first attempt; task: a wrapped command's outcome (1 ok, 0 failed);
# repeat: asking again what was answered (value 0, a lapse); flag: catching a wrong AI answer.
DIRECT_KINDS = ("check", "review", "self_rating", "imported", "attempt", "task", "repeat", "flag")
QUESTION_KINDS = ("question_how", "question_why")
# Beta(1, 1): before any evidence every mastery level is equally plausible (mean 0.5).
PRIOR_ALPHA = PRIOR_BETA = 1.0
# Evidence older than this many half-lives weighs < 0.1%: not read at all.
HORIZON_HALF_LIVES = 10
# An 80% interval wider than this is marked "uncertain" (about 6 checks' worth of evidence: Beta(4, 4) is 0.39 wide;
# one check, Beta(2, 1), is 0.63 wide).
UNCERTAIN_WIDTH = 0.4
# Teaching levels from mastery (expertise reversal: guidance shrinks as skill grows).
LEVEL_CUTS = ((0.4, "novice"), (0.75, "intermediate"), (math.inf, "expert"))


@dataclass(frozen=True)
class Params:
    """The model's configuration: `gaps_*` settings (see config.py)."""

    half_life_days: float = 30.0
    min_evidence: float = 3.0  # only ask's teaching level and the gap line wait for it; gaps shows any evidence
    default_target: float = 0.7
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "check": 1.0, "review": 0.25, "self_rating": 0.5, "imported": 0.75,
            "question_how": 0.15, "question_why": 0.05, "attempt": 0.5, "task": 0.1, "repeat": 0.3, "flag": 0.5,
        }
    )  # fmt: skip
    learn_weights: bool = True  # gaps_learn_weights: fit self-rating/attempt/task weights per learner (learner/weights.py)
    fit: dict | None = field(default=None, compare=False)  # what the fit measured, when it ran

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
            learn_weights=cfg.get("gaps_learn_weights") != "off",
        )

    @property
    def rate(self) -> float:
        """Decay per second: exp(-rate * age) halves every half-life."""
        return math.log(2) / (self.half_life_days * DAY)

    def horizon(self) -> float:
        """Seconds after which evidence weighs < 0.1% and is not read."""
        return HORIZON_HALF_LIVES * self.half_life_days * DAY


class Period(NamedTuple):
    """A day or a week of evidence on one skill, weights applied (summed in SQL from evidence_daily)."""

    t: float  # mean unix time of the period's rows: where decay is measured from
    succ: float  # weighted successes
    fail: float  # weighted failures (questions count here)
    evid: float  # weighted pieces of direct evidence
    ques: float  # weighted questions


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

    @property
    def measured(self) -> bool:
        """Any direct evidence at all: `gaps` shows a number with its interval from the first piece.

        Questions alone never make a number: they say what you need, not what you know, and
        the number would be the prior's 0.5 moved by how much the skill is used.
        """
        return self.evidence > 0

    def uncertain(self, mass: float = 0.8) -> bool:
        """The central `mass` interval is wider than UNCERTAIN_WIDTH: `gaps` marks the number "uncertain"."""
        low, high = self.interval(mass)
        return high - low > UNCERTAIN_WIDTH

    def enough(self, params: Params) -> bool:
        """Enough evidence to act on the mean alone (`gaps_min_evidence`): `ask`'s teaching level and the
        gap line use it. `gaps` itself shows a number whenever the skill is `measured`."""
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


def read_periods(
    store: Store, params: Params, *, since: float, daily_from: float, skill: str | None = None, until: float | None = None
) -> dict[str, list[Period]]:
    """Per skill, its evidence from `since` on in periods, oldest first, with the kind weights applied.

    Days from `daily_from` on are one period each (trend points there are exact
    to the day); older evidence, which only matters through its decayed sum, is
    grouped by week. SQLite sums the daily table (db.profile.period_sums), so Python
    sees a few thousand rows whatever was logged. Decaying a week's sum from its
    mean time instead of each row's own is off by < 0.2% at a 30-day half-life.
    `until` (gaps --as-of): evidence after that moment is not read.
    """
    rows = profile_db.period_sums(
        store,
        {k: params.weights.get(k, 0.0) for k in DIRECT_KINDS},
        {k: params.weights.get(k, 0.0) for k in QUESTION_KINDS},
        since_day=int(since // DAY),
        split_day=int(daily_from // DAY),
        skill=skill,
        until=until,
    )
    out: dict[str, list[Period]] = {}
    for sk, t, succ, fail, evid, ques in rows:
        # Sums of clamped values can drift by 1e-15 after deletes; never let them go negative.
        out.setdefault(sk, []).append(Period(t, max(succ, 0.0), max(fail, 0.0), max(evid, 0.0), max(ques, 0.0)))
    return out


def last_seen(store: Store, skills, *, until: float | None = None) -> dict[str, float]:
    """Per skill, the end of the last day with any evidence (up to `until`), however old (unix time)."""
    return {skill: (day + 1) * DAY for skill, day in profile_db.last_days(store, skills, until=until).items()}


def posteriors_at(periods: list[Period], times: list[float], params: Params) -> list[Posterior]:
    """The posterior at each of `times` (ascending), in one pass over the periods (oldest first).

    Running sums are decayed from one period to the next, so all the weekly
    points of a trend cost the same as one. A period counts at a moment once its
    mean time has passed.
    """
    rate = params.rate
    succ = fail = evid = ques = 0.0
    clock = None
    i, out = 0, []
    for when in times:
        while i < len(periods) and periods[i].t <= when:
            d = periods[i]
            if clock is not None:
                f = math.exp(-rate * (d.t - clock))
                succ, fail, evid, ques = succ * f, fail * f, evid * f, ques * f
            clock = d.t
            succ, fail, evid, ques = succ + d.succ, fail + d.fail, evid + d.evid, ques + d.ques
            i += 1
        f = math.exp(-rate * (when - clock)) if clock is not None else 0.0
        out.append(Posterior(PRIOR_ALPHA + succ * f, PRIOR_BETA + fail * f, evid * f, ques * f))
    return out


def window_counts(
    store: Store, *, since: float, recent: float, until: float | None = None
) -> dict[str, dict[str, tuple[int, float, float]]]:
    """Per skill and kind: (rows, sum of values) over whole UTC days from `since` (to `until`), and the
    sum of values from `recent` (for the recent-need term). Unweighted: what people did."""
    return window_and_fit_sums(store, since=since, recent=recent, until=until)[0]


def window_and_fit_sums(
    store: Store, *, since: float, recent: float, until: float | None = None, fit_since: float | None = None
) -> tuple[dict[str, dict[str, tuple[int, float, float]]], dict[str, dict[str, tuple[int, float, float]]]]:
    """`window_counts`, and (with `fit_since`) per skill and kind (rows, Σ values, Σ squared values) from
    `fit_since` on for the weight fit (learner/weights.py `fit`): one scan of the daily table for both."""
    counts: dict[str, dict] = {}
    fit: dict[str, dict] = {}
    fit_day = None if fit_since is None else int(fit_since // DAY)
    for row in profile_db.window_sums(store, since_day=int(since // DAY), recent_day=int(recent // DAY), until=until, fit_day=fit_day):
        skill, kind, n, sv, recent_sv = row[:5]
        if n or recent_sv:
            counts.setdefault(skill, {})[kind] = (n, max(sv, 0.0), max(recent_sv, 0.0))
        if fit_day is not None and row[5]:
            fit.setdefault(skill, {})[kind] = (row[5], max(row[6], 0.0), max(row[7], 0.0))
    return counts, fit


class Mastery(NamedTuple):
    """What `ask` needs to pick a teaching level."""

    mean: float  # posterior mean, 0..1 (0.5 with no evidence)
    evidence: float  # weighted, decayed direct evidence; compare with Params.min_evidence


def mastery_for(store: Store, skill: str, *, now: float | None = None, params: Params | None = None) -> Mastery:
    """Current mastery of one skill: one read of its few hundred daily rows (primary-key prefix)."""
    import time

    params = params or Params.from_config()
    now = time.time() if now is None else now
    periods = read_periods(store, params, since=now - params.horizon(), daily_from=now - 7 * DAY, skill=skill)
    post = posteriors_at(periods.get(skill, []), [now], params)[0]
    return Mastery(post.mean, post.evidence)


def teaching_level(mastery: Mastery, params: Params | None = None) -> str | None:
    """novice / intermediate / expert from mastery; None when the evidence is too thin to say.

    Unlike `gaps`, which shows a number with its interval from the first piece of evidence,
    `ask` acts on the mean alone: one wrong check (mean 0.33) would switch it to novice
    scaffolding for an expert. So the level still waits for `gaps_min_evidence`; until then
    `ask` teaches at its default level.
    """
    params = params or Params()
    if mastery.evidence < params.min_evidence or mastery.evidence <= 0:
        return None
    return level_of(mastery.mean)


def level_of(mean: float) -> str:
    """The teaching level for a mastery mean (LEVEL_CUTS)."""
    return next(name for cut, name in LEVEL_CUTS if mean < cut)
