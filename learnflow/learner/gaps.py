"""`learnflow gaps` as data: the profile, the gaps, their trend, and what to do next.

The CLI renders a `GapReport` as a table, JSON or an HTML page; nothing here
knows which. Every skill with any direct evidence gets a number and its 80%
interval, from the first piece; a wide interval is marked "uncertain" rather
than hidden. Ranking: importance × expected shortfall × recent need, where the
expected shortfall E[max(0, target − θ)] grows with the gap *and* with the
uncertainty, and need grows with the questions asked about the skill in the
last two weeks. `as_of` reproduces the report for a past moment.
"""

from __future__ import annotations

import math
import time
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from learnflow import paths
from learnflow.db import profile as profile_db
from learnflow.learner.cards import cards_for
from learnflow.learner.gapline import measure_command
from learnflow.learner.goals import goals as read_goals
from learnflow.learner.profile import (
    DAY,
    QUESTION_KINDS,
    UNCERTAIN_WIDTH,
    Params,
    Period,
    Posterior,
    last_seen,
    level_of,
    posteriors_at,
    read_periods,
    window_and_fit_sums,
)  # fmt: skip
from learnflow.learner.weights import fit_since, fitted_params
from learnflow.timespec import day_ts, iso_ts

if TYPE_CHECKING:
    from learnflow.db.store import Store

DEFAULT_SINCE_DAYS = 30
HISTORY_WEEKS = 12
TOP_GAPS = 3
RECENT_NEED_DAYS = 14
# Need multiplies priority by 1 to 1 + NEED_WEIGHT; NEED_SCALE relevance-weighted questions give ~63% of it.
NEED_WEIGHT, NEED_SCALE = 0.5, 3.0
CREDIBLE_MASS = 0.8


@dataclass
class EvidenceSummary:
    """What was logged about one skill in the report's window: the evidence behind the number."""

    checks_right: int = 0
    checks_wrong: int = 0
    reviews: int = 0
    review_mean: float | None = None  # FSRS rating 1-4
    self_ratings: int = 0
    self_rating_mean: float | None = None  # 1-5
    imported: int = 0
    attempts: int = 0  # try-first attempts judged
    tasks_ok: int = 0  # wrapped commands (`lf`) that succeeded
    tasks_failed: int = 0
    repeats: int = 0  # questions asked again (forgetting)
    flags: int = 0  # AI answers flagged as wrong or unverified
    questions_how: int = 0
    questions_why: int = 0
    last_seen: str | None = None  # UTC date of the last evidence, ever

    @property
    def direct(self) -> int:
        return (
            self.checks_right + self.checks_wrong + self.reviews + self.self_ratings + self.imported
            + self.attempts + self.tasks_ok + self.tasks_failed + self.repeats + self.flags
        )  # fmt: skip

    def sentence(self, skill: str, period: str) -> str:
        """E.g. "3 wrong and 1 right check on sql, self-rated 2.0 (1 novice … 5 expert), 4 how-questions in the last 2 weeks"."""
        parts = []
        right, wrong = self.checks_right, self.checks_wrong
        if right or wrong:
            noun = "check" if right + wrong == 1 else "checks"
            if right and wrong:
                parts.append(f"{wrong} wrong and {right} right {noun} on {skill}")
            else:
                parts.append(f"{wrong or right} {'wrong' if wrong else 'right'} {noun} on {skill}")
        if self.reviews:
            # Two scales side by side: each says what its ends mean (FSRS 1 again … 4 easy; self 1 novice … 5 expert).
            parts.append(f"{_n(self.reviews, 'review')} (recall {self.review_mean:.1f} on 1 again … 4 easy)")
        if self.self_ratings:
            times = f", {self.self_ratings}×" if self.self_ratings > 1 else ""
            parts.append(f"self-rated {self.self_rating_mean:.1f} (1 novice … 5 expert{times})")
        if self.imported:
            parts.append(_n(self.imported, "imported result"))
        if self.attempts:
            parts.append(_n(self.attempts, "try-first attempt"))
        if self.tasks_ok or self.tasks_failed:
            tasks = self.tasks_ok + self.tasks_failed
            parts.append(f"{_n(tasks, 'command')} run ({self.tasks_failed} failed)")
        if self.repeats:
            parts.append(_n(self.repeats, "question asked again"))
        if self.flags:
            parts.append(_n(self.flags, "AI answer flagged"))
        if self.questions_how:
            parts.append(_n(self.questions_how, "how-question"))
        if self.questions_why:
            parts.append(_n(self.questions_why, "why-question"))
        if not parts:
            seen = f" (last: {self.last_seen})" if self.last_seen else ""
            return f"no evidence on {skill} {period}{seen}"
        if not (right or wrong):
            parts[0] = f"{parts[0]} on {skill}"
        return ", ".join(parts) + f" {period}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass
class NextStep:
    level: str
    card_id: str | None
    card_title: str | None
    check_question: str | None
    practice: str
    docs: list[dict]
    command: str | None
    measure: str = ""  # answer a few checks on it now: new evidence for the number


@dataclass
class SkillGap:
    skill: str
    name: str
    enough: bool  # measured: any direct evidence, so a number with its interval; False: questions only, or nothing
    mastery: float | None
    low: float | None  # 80% credible interval
    high: float | None
    sd: float
    evidence: float  # weighted, decayed direct evidence
    target: float
    importance: float
    goal: str  # user | role:<name> | default
    gap: float | None  # target - mastery
    p_below: float | None  # P(true mastery < target)
    shortfall: float | None  # E[max(0, target - true mastery)]
    need: float  # 1 .. 1 + NEED_WEIGHT, from recent questions
    priority: float | None
    rank: int | None
    then: float | None  # mastery at the start of the window
    delta: float | None
    history: list[float | None]  # weekly, oldest first; None where there was no direct evidence yet
    level: str | None
    evidence_text: str
    summary: EvidenceSummary
    next_step: NextStep | None = None
    uncertain: bool = False  # the 80% interval is wider than profile.UNCERTAIN_WIDTH

    @property
    def status(self) -> str:
        """ok | uncertain (a number, but a wide interval) | not measured (no direct evidence)."""
        if not self.enough:
            return "not measured"
        return "uncertain" if self.uncertain else "ok"


@dataclass
class GapReport:
    now: str
    since: str
    since_days: float
    weeks: list[str]  # dates of the history points
    params: dict
    skills: list[SkillGap] = field(default_factory=list)
    ranked_count: int = 0  # skills with a number, before any --skill filter
    as_of: bool = False  # a report for a past moment (--as-of): evidence after `now` was not read

    @property
    def top(self) -> list[SkillGap]:
        return [s for s in self.skills if s.next_step is not None and s.enough and s.rank is not None]

    @property
    def thin(self) -> list[SkillGap]:
        return [s for s in self.skills if not s.enough]

    def to_dict(self) -> dict:
        skills = []
        for s in self.skills:
            d = asdict(s)
            d["status"] = s.status
            skills.append(_rounded(d))
        return {
            "now": self.now,
            "as_of": self.as_of,
            "since": self.since,
            "since_days": round(self.since_days, 2),
            "ranked_count": self.ranked_count,
            "weeks": self.weeks,
            "params": self.params,
            "top": [s.skill for s in self.top],
            "uncertain": [s.skill for s in self.skills if s.enough and s.uncertain],
            "not_measured": [s.skill for s in self.thin],
            # Before 0.x "not enough evidence" meant under gaps_min_evidence; now only skills without a
            # number are left, so the old key lists the same skills as not_measured (kept for scripts).
            "not_enough_evidence": [s.skill for s in self.thin],
            "skills": skills,
        }


def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def percent(p: float | None) -> str:
    """A probability for people: ">99%" and "<1%" rather than a confident 100% or 0%; "—" when unknown."""
    if p is None:
        return "—"
    return ">99%" if p > 0.995 else ("<1%" if p < 0.005 else f"{p:.0%}")


def period_text(days: float) -> str:
    """ "in the last 30 days", "in the last 2 weeks", "in the last day"."""
    d = max(1, round(days))
    if d % 7 == 0 and d >= 14:
        return f"in the last {d // 7} weeks"
    return "in the last week" if d == 7 else ("in the last day" if d == 1 else f"in the last {d} days")


def summarize(counts: dict[str, tuple[int, float, float]]) -> EvidenceSummary:
    """What one skill's window counts say, on the scales people answered on."""
    s = EvidenceSummary()
    n = lambda kind: counts.get(kind, (0, 0.0, 0.0))[0]  # noqa: E731
    total = lambda kind: counts.get(kind, (0, 0.0, 0.0))[1]  # noqa: E731
    s.checks_right = round(total("check"))
    s.checks_wrong = n("check") - s.checks_right
    s.reviews, s.self_ratings, s.imported = n("review"), n("self_rating"), n("imported")
    s.questions_how, s.questions_why = n("question_how"), n("question_why")
    s.attempts, s.repeats, s.flags = n("attempt"), n("repeat"), n("flag")
    s.tasks_ok = round(total("task"))
    s.tasks_failed = n("task") - s.tasks_ok
    # Values are stored on 0..1: back to FSRS's 1-4 and the 1-5 self-rating scale.
    if s.reviews:
        s.review_mean = 1 + 3 * total("review") / s.reviews
    if s.self_ratings:
        s.self_rating_mean = 1 + 4 * total("self_rating") / s.self_ratings
    return s


def need_of(counts: dict[str, tuple[int, float, float]]) -> float:
    """1 .. 1 + NEED_WEIGHT: grows with the relevance-weighted questions of the last two weeks."""
    recent = sum(counts.get(k, (0, 0.0, 0.0))[2] for k in QUESTION_KINDS)
    return 1.0 + NEED_WEIGHT * (1.0 - math.exp(-recent / NEED_SCALE))


def build_report(
    store,
    *,
    since: float | None = None,
    skill: str | None = None,
    now: float | None = None,
    params: Params | None = None,
    weeks: int = HISTORY_WEEKS,
    top: int = TOP_GAPS,
    as_of: float | None = None,
) -> GapReport:
    """The whole report. `since` and `now` are unix times (default: the last 30 days).

    `as_of`: the report as it was at that moment (`gaps --as-of`): it is `now`, and evidence
    logged after it is not read (its own day is summed from the rows up to that second).
    Goals are today's: the goals table keeps no history.
    """
    from learnflow.learner.skills import taxonomy

    params = params or Params.from_config()
    until = as_of
    now = as_of if as_of is not None else (time.time() if now is None else now)
    since = now - DEFAULT_SINCE_DAYS * DAY if since is None else min(since, now)
    known = taxonomy()
    if skill is not None and skill not in known:
        from learnflow.learner.goals import validate

        validate(skill, 0.5, 1.0)  # raises BadInput with "did you mean"
    history_times = [now - k * 7 * DAY for k in range(weeks - 1, -1, -1)]
    times = sorted({*history_times, since})
    # All skills even for --skill: its rank is among all of them (the read is per day, not per row).
    # Day by day over the window (its start is exact to the day), by week before it; the weekly
    # blocks then end the day before a weekly history point, so each point sees whole blocks.
    daily_from = now - math.ceil((now - since) / (7 * DAY)) * 7 * DAY
    # One scan for the window's counts and the weight fit's sums; then the periods with the fitted weights.
    counts, fit_sums = window_and_fit_sums(store, since=since, recent=now - RECENT_NEED_DAYS * DAY, until=until,
                                           fit_since=fit_since(params, now) if params.learn_weights else None)  # fmt: skip
    params = fitted_params(store, params, now=now, until=until, sums=fit_sums)
    periods = read_periods(store, params, since=times[0] - params.horizon(), daily_from=daily_from, until=until)
    goals = read_goals(store)
    names = set(periods) | set(goals) | ({skill} if skill else set())
    seen = last_seen(store, names, until=until)
    rows = [_skill_gap(sk, periods.get(sk, []), counts.get(sk, {}), goals.get(sk), times, history_times, since, now,
                       params, known, seen)
            for sk in names]  # fmt: skip
    ranked = sorted((r for r in rows if r.enough), key=lambda r: (-(r.priority or 0.0), r.skill))  # set when measured
    thin = sorted((r for r in rows if not r.enough), key=lambda r: (-r.importance, r.skill))
    for i, r in enumerate(ranked, 1):
        r.rank = i
    ranked_count = len(ranked)
    wanted = [r for r in ranked if r.gap is not None and r.gap > 0][:top]  # below target on average: a gap worth a next step
    if skill is not None:
        ranked, thin = [r for r in ranked if r.skill == skill], [r for r in thin if r.skill == skill]
        wanted = ranked + thin
    for r in wanted:
        r.next_step = next_step(store, r)
    return GapReport(
        now=iso_ts(now, timespec="seconds"),
        since=iso_ts(since, timespec="seconds"),
        since_days=(now - since) / DAY,
        weeks=[day_ts(t) for t in history_times],
        params={
            "half_life_days": params.half_life_days,
            "min_evidence": params.min_evidence,  # now only ask's teaching level and the gap line wait for it
            "uncertain_width": UNCERTAIN_WIDTH,
            "default_target": params.default_target,
            "weights": dict(params.weights),
            "learned_weights": params.fit,
        },  # fmt: skip
        skills=ranked + thin,
        ranked_count=ranked_count,
        as_of=as_of is not None,
    )


def _skill_gap(skill, periods: list[Period], counts, goal, times, history_times, since, now, params, known, seen) -> SkillGap:
    posts = dict(zip(times, posteriors_at(periods, times, params)))
    cur: Posterior = posts[now]
    then: Posterior = posts[since]
    target = goal.target if goal else params.default_target
    importance = goal.importance if goal else 1.0
    enough = cur.measured
    summary = summarize(counts)
    if skill in seen:
        summary.last_seen = day_ts(seen[skill] - DAY)
    need = need_of(counts)
    shortfall = cur.shortfall(target) if enough else None
    gap = SkillGap(
        skill=skill,
        name=known[skill].name if skill in known else skill,
        enough=enough,
        mastery=cur.mean if enough else None,
        low=None,
        high=None,
        sd=cur.sd,
        evidence=cur.evidence,
        target=target,
        importance=importance,
        goal=goal.source if goal else "default",
        gap=(target - cur.mean) if enough else None,
        p_below=cur.p_below(target) if enough else None,
        shortfall=shortfall,
        need=need,
        priority=None,
        rank=None,
        then=then.mean if then.measured else None,
        delta=None,
        history=[p.mean if p.measured else None for p in (posts[t] for t in history_times)],
        level=level_of(cur.mean) if enough else None,
        evidence_text=summary.sentence(skill, period_text((now - since) / DAY)),
        summary=summary,
    )
    if shortfall is not None:  # measured
        gap.low, gap.high = cur.interval(CREDIBLE_MASS)
        gap.uncertain = gap.high - gap.low > UNCERTAIN_WIDTH
        gap.priority = importance * shortfall * need
        if gap.then is not None:
            gap.delta = cur.mean - gap.then
    return gap


# -- what next ------------------------------------------------------------------


@lru_cache(maxsize=1)
def resources() -> dict[str, dict]:
    """Bundled per-skill official docs and practice tasks (learnflow/data/resources.toml)."""
    path = paths.package_dir() / "data" / "resources.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")).get("skills", {})


def next_step(store: Store, gap: SkillGap) -> NextStep:
    """A card to study, a task sized to the level, official docs: one concrete thing to do."""
    level = gap.level or "novice"
    cards = cards_for(gap.skill)
    card = None
    if cards:
        missed = profile_db.last_missed_card(store, gap.skill)
        card = next((c for c in cards if c.id == missed), None)
        if card is None:
            # Rotate with practice, so the suggestion moves on as evidence comes in.
            card = cards[gap.summary.direct % len(cards)]
    res = resources().get(gap.skill, {})
    practice = res.get("practice", {}).get(level) or f"Answer a few {gap.skill} checks: `learnflow check --skill {gap.skill}`."
    docs = [dict(d) for d in res.get("docs", [])]
    if not docs and card:
        docs = [{"title": url, "url": url} for url in card.docs]
    command = f'learnflow ask --level {level} "{card.title}"' if card else None
    return NextStep(
        level=level,
        card_id=card.id if card else None,
        card_title=card.title if card else None,
        check_question=card.check_question if card else None,
        practice=practice,
        docs=docs,
        command=command,
        measure=measure_command(gap.skill),
    )


def parse_as_of(text: str | None, now: float) -> float | None:
    """`--as-of` as unix time: a moment in the past (3d, yesterday, 2026-05-01, 2026-05-01T14:00)."""
    if text is None:
        return None
    from learnflow.timespec import parse_since as parse

    return parse(text, now=datetime.fromtimestamp(now, UTC), option="--as-of").timestamp()


def parse_since(text: str | None, now: float) -> float | None:
    """`--since` as unix time (learnflow.timespec reads 30d, 2w, today, ISO dates)."""
    if text is None:
        return None
    from learnflow.timespec import parse_since as parse

    return parse(text, now=datetime.fromtimestamp(now, UTC)).timestamp()
