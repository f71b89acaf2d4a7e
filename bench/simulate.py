"""Simulated learners with a known true mastery per skill, logged into real learnflow databases.

Each learner has a role (its skills, targets and importances come from
learnflow/data/roles.toml), a true mastery m in 0..1 per skill, and a work
pattern: some skills come up every hour, some once a week. Every simulated day:

- tasks: each touches one skill (by how much the job uses it) and teaches a
  little (learning from practice: m += rate * (1 - m));
- questions: asked during a task with a chance that grows as m falls ("asking
  more where they are weak"); "why" questions more often when m is high; a
  question teaches a little more; ~40% also get a weak second skill tag;
- forgetting: a skill not used that day loses a little (m -= rate * (m - floor));
- reflect (most evenings): checks picked the way learnflow/practice/review.py picks
  them: up to 3 from the day's questions (one per skill first), then due
  reviews (each check's card is scheduled by learnflow's own FSRS code), then
  gap probes on the goal skills learnflow knows least about (the same
  `learnflow.learner.probes.order`, over the same posteriors, read from the database as
  it fills; a skill's probes stop when its bundled cards run out), 5 in all.
  Answered right with chance guess + (1 - guess - slip) * m, each written as a
  check and an FSRS review rating (Again when wrong, Hard/Good/Easy by m) as
  review.py does; retrieval practice teaches a little too; and one or two
  self-ratings 1-5 that are noisy, biased per learner, and overconfident at low
  mastery (Dunning-Kruger).

Learning-by-doing streams (issue 12), each switched on by name in
`World.streams` (STREAMS; none by default, so the default is learnflow before them):

- inline: after some asks the learner answers the answer's check question at
  once (`learnflow answer`): a check and a review written as reflect writes them,
  and the card is scheduled by FSRS from then (reflect no longer asks it new);
- attempt: a try-first attempt before some answers (`ask --try`): a judged score
  0..1 whose mean rises with mastery, noisier than a check;
- task: commands on tool skills wrapped by `learnflow run` / `lf`, a few per task,
  failing with a realistic base rate plus a part that grows as mastery falls
  (value 1 ok, 0 failed);
- repeat: a question on a skill asked about within 30 days is the same question
  again when the learner forgot it (chance from true mastery): value 0.

Each stream draws from its own random stream, so switching one on leaves the
others' draws (and the base simulation's) where they were.

Everything is written through learnflow's own Store and goals code, day by
day, so the bench measures the same path `learnflow gaps` reads. Needs
learnflow's venv (fsrs for the schedule).

    python bench/simulate.py --learners 3 --days 7 --out /tmp/sim   # databases to look at
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = 86400.0
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC: fixed, so a seed gives the same database


@dataclass
class World:
    """The simulation's knobs: the bench's scenario (bench/README-gaps.md says which were changed, and why)."""

    days: int = 7
    tasks_per_day: float = 14.0
    checks_per_day: float = 5.0  # learnflow/practice/review.py: MAX_CHECKS
    reflect_prob: float = 0.85
    guess: float = 0.15
    slip: float = 0.10
    learn_practice: float = 0.004
    learn_question: float = 0.01
    learn_check: float = 0.01
    forget_per_day: float = 0.01
    floor: float = 0.05
    ask_base: float = 0.05
    ask_weak: float = 0.55
    rating_noise: float = 0.15
    rating_bias_sd: float = 0.08
    overconfidence: float = 0.3
    probes: bool = True  # reflect fills free slots with gap probes (learnflow/learner/probes.py)
    placement: bool = False  # `learnflow check -n <role's skills>` once, right after `goals role`
    morning_checks: int = 0  # a `learnflow check -n K` every working morning
    # Learning-by-doing streams (STREAMS) switched on; () is learnflow before issue 12.
    streams: tuple[str, ...] = ()
    inline_prob: float = 0.3  # asks whose check is answered at once (inline_check is on; Enter skips it)
    attempt_prob: float = 0.3  # asks with a try-first attempt (`ask --try`, or try_first on for the skill)
    attempt_guess: float = 0.2  # a try before any help is right more often by luck than a check...
    attempt_slip: float = 0.2  # ...and wrong more often by a slip: a weaker signal than a check
    task_wrapped: float = 0.5  # tasks on a tool skill run through `learnflow run` / `lf`
    commands_per_task: float = 2.0  # mean wrapped commands per such task (1 + Poisson(1))
    task_fail_base: float = 0.05  # commands fail this often whatever the skill (typos, flaky networks)
    task_fail_weak: float = 0.25  # plus this much more at zero mastery: a novice still succeeds ~70%
    repeat_same: float = 0.5  # a question on a skill asked about within 30 days is about the same thing
    repeat_window_days: float = 30.0


STREAMS = ("inline", "attempt", "task", "repeat")
# Skills that wrapped commands reveal: issue 12's command → skill table (git, docker/kubectl, terraform/aws,
# psql/mysql/sqlite3, pytest, npm/node, pip/python, curl, ssh, make, grep/sed/awk/find). Skills no command
# shows (design, review, AI judgement, ...) get no task evidence.
TOOL_SKILLS = frozenset({"git", "containers", "cloud", "sql", "testing", "javascript", "python", "http-apis",
                         "linux", "networking", "shell", "regex", "ci-cd"})  # fmt: skip


@dataclass
class Learner:
    id: int
    role: str
    skills: list[str]
    target: dict[str, float]
    importance: dict[str, float]
    usage: dict[str, float]
    mastery: dict[str, float]  # the truth, changes as the days pass
    bias: float
    initial: dict[str, float] = field(default_factory=dict)
    cards: list[dict] = field(default_factory=list)  # review cards: {"skill", "state", "due"} (FSRS, as review.py keeps them)
    probed: dict[str, int] = field(default_factory=dict)  # bundled cards used as probes, per skill
    last_asked: dict[str, float] = field(default_factory=dict)  # time of the last (primary-tag) question, per skill
    side: dict[str, random.Random] = field(default_factory=dict)  # one random stream per evidence stream


def side_rng(learner: Learner, stream: str) -> random.Random:
    """The stream's own random numbers for this learner, seeded from the learner (not drawn from the main stream)."""
    if stream not in learner.side:
        learner.side[stream] = random.Random(f"{stream}/{learner.id}/{sorted(learner.initial.items())}")
    return learner.side[stream]


def make_learner(rng: random.Random, lid: int, in_play: int | None = None) -> Learner:
    """A learner of a random role; `in_play` keeps only that many of its skills (a focused job)."""
    from learnflow.learner.goals import roles

    role = rng.choice(sorted(roles()))
    spec = roles()[role].skills
    skills = sorted(spec)
    if in_play:
        skills = sorted(rng.sample(skills, min(in_play, len(skills))))
    mastery = {s: rng.uniform(0.05, 0.95) for s in skills}
    # Work is lopsided: a few skills take most of the day (gamma weights, shape 1).
    usage = {s: rng.gammavariate(1.0, 1.0) + 0.05 for s in skills}
    total = sum(usage.values())
    return Learner(
        id=lid, role=role, skills=skills,
        target={s: spec[s][0] for s in skills}, importance={s: spec[s][1] for s in skills},
        usage={s: u / total for s, u in usage.items()}, mastery=mastery, bias=rng.gauss(0, World.rating_bias_sd),
        initial=dict(mastery),
    )  # fmt: skip


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _learn(m: float, rate: float) -> float:
    return m + rate * (1 - m)


def check_outcome(rng: random.Random, world: World, m: float) -> bool:
    return rng.random() < world.guess + (1 - world.guess - world.slip) * m


def review_rating(rng: random.Random, correct: bool, m: float) -> int:
    """FSRS rating as learnflow/practice/review.py would give it: Again when wrong, else Hard/Good/Easy by mastery."""
    if not correct:
        return 1
    u = rng.random()
    return 4 if u < 0.5 * m else (2 if u > 1 - 0.3 * (1 - m) else 3)


def attempt_score(rng: random.Random, world: World, m: float) -> float:
    """A judged try-first attempt: right in substance with chance attempt_guess + (1 - guess - slip) * m, then
    graded by a judge whose score scatters around it (Beta(4, 1.5) if right, Beta(1.5, 4) if not)."""
    right = rng.random() < world.attempt_guess + (1 - world.attempt_guess - world.attempt_slip) * m
    x = rng.betavariate(4, 1.5) if right else rng.betavariate(1.5, 4)
    return min(0.99, max(0.01, round(x, 2)))


def task_fails(world: World, m: float) -> float:
    return world.task_fail_base + world.task_fail_weak * (1 - m)


def repeat_chance(world: World, m: float) -> float:
    """P(a question is one asked before) when the skill was asked about within the window: forgotten with chance 1 - m."""
    return world.repeat_same * (1 - m)


def self_rating(rng: random.Random, world: World, learner: Learner, m: float) -> int:
    perceived = m + world.overconfidence * (0.5 - m) + learner.bias + rng.gauss(0, world.rating_noise)
    return min(5, max(1, round(1 + 4 * perceived)))


def simulate_days(rng: random.Random, world: World, learner: Learner, start: float, days: int, store=None) -> list[dict]:
    """Evidence rows (as learnflow writes them) for `days` days from `start`; updates the true mastery.

    With a `store` (see `open_learner`) the rows are written day by day, and
    reflect's gap probes read the posteriors from it as learnflow would.
    """
    rows: list[dict] = []
    skills, weights = learner.skills, [learner.usage[s] for s in learner.skills]
    m = learner.mastery
    on = set(world.streams)
    if on - set(STREAMS):
        raise ValueError(f"unknown streams: {sorted(on - set(STREAMS))} (known: {', '.join(STREAMS)})")
    if world.placement:
        rows += check_session(rng, world, learner, start + 8 * 3600, len(skills), store)
    for day in range(days):
        day0 = start + day * DAY
        practiced: dict[str, int] = {}
        asked: list[str] = []
        unchecked: list[str] = []
        today: list[dict] = []
        if world.morning_checks:
            rows += check_session(rng, world, learner, day0 + 8.5 * 3600, world.morning_checks, store)
        for _ in range(_poisson(rng, world.tasks_per_day)):
            ts = day0 + 9 * 3600 + rng.uniform(0, 8 * 3600)
            s = rng.choices(skills, weights)[0]
            practiced[s] = practiced.get(s, 0) + 1
            if "task" in on:
                today += wrapped_commands(world, learner, s, ts)
            if rng.random() < world.ask_base + world.ask_weak * (1 - m[s]):
                kind = "question_why" if rng.random() < 0.1 + 0.4 * m[s] else "question_how"
                today.append({"ts": ts, "skill": s, "kind": kind, "value": round(rng.uniform(0.6, 1.0), 3)})
                asked.append(s)
                if not ask_streams(world, learner, s, ts, on, today):  # a check answered inline is not new at reflect
                    unchecked.append(s)
                if rng.random() < 0.4:  # a weak second tag, as the offline tagger often adds
                    other = rng.choice(skills)
                    if other != s:
                        today.append({"ts": ts, "skill": other, "kind": kind, "value": round(rng.uniform(0.3, 0.5), 3)})
                m[s] = _learn(m[s], world.learn_question)
            m[s] = _learn(m[s], world.learn_practice)
        for s in skills:
            if s not in practiced:
                m[s] -= world.forget_per_day * (m[s] - world.floor)
        today.sort(key=lambda r: r["ts"])
        if store is not None:
            store.add_evidence(today)
        rows += today
        if rng.random() < world.reflect_prob:
            evening = reflect(rng, world, learner, asked, day0 + 17.5 * 3600, store, unchecked=unchecked)
            if store is not None:
                store.add_evidence(evening)
            rows += evening
    return rows


def ask_streams(world: World, learner: Learner, s: str, ts: float, on: set[str], out: list[dict]) -> bool:
    """The learning-by-doing evidence around one question on skill `s` (the primary tag), appended to `out`.
    Returns whether its check was answered inline. True mastery is read before the question teaches."""
    m = learner.mastery[s]
    last = learner.last_asked.get(s)
    learner.last_asked[s] = ts
    if "repeat" in on and last is not None and ts - last <= world.repeat_window_days * DAY:
        if side_rng(learner, "repeat").random() < repeat_chance(world, m):
            out.append({"ts": ts, "skill": s, "kind": "repeat", "value": 0.0})
    if "attempt" in on and side_rng(learner, "attempt").random() < world.attempt_prob:
        out.append({"ts": ts - 60, "skill": s, "kind": "attempt", "value": attempt_score(side_rng(learner, "attempt"), world, m)})
    if "inline" in on and side_rng(learner, "inline").random() < world.inline_prob:
        out += inline_check(world, learner, s, ts + 120)
        return True
    return False


def inline_check(world: World, learner: Learner, s: str, ts: float) -> list[dict]:
    """`learnflow answer` right after the answer: judged like a reflect check, and its card scheduled by FSRS."""
    from datetime import UTC, datetime

    from learnflow.practice.scheduling import schedule

    rng = side_rng(learner, "inline")
    m = learner.mastery[s]
    correct = check_outcome(rng, world, m)
    rating = review_rating(rng, correct, m)
    card: dict = {"skill": s, "state": None, "due": 0.0}
    card["state"], when = schedule(None, rating, datetime.fromtimestamp(ts, UTC))
    card["due"] = when.timestamp()
    learner.cards.append(card)
    learner.mastery[s] = _learn(m, world.learn_check)  # retrieval practice, as at reflect
    return [{"ts": ts, "skill": s, "kind": "check", "value": float(correct)},
            {"ts": ts, "skill": s, "kind": "review", "value": round((rating - 1) / 3, 3)}]  # fmt: skip


def wrapped_commands(world: World, learner: Learner, s: str, ts: float) -> list[dict]:
    """Commands of a task on a tool skill run through `learnflow run` / `lf`: value 1 ok, 0 failed."""
    rng = side_rng(learner, "task")
    if s not in TOOL_SKILLS or rng.random() >= world.task_wrapped:
        return []
    n = 1 + _poisson(rng, world.commands_per_task - 1)
    p_fail = task_fails(world, learner.mastery[s])
    return [{"ts": ts + 30 * (k + 1), "skill": s, "kind": "task", "value": float(rng.random() >= p_fail)} for k in range(n)]


def _due(learner: Learner, before: float, limit: int) -> list[dict]:
    """Cards due before `before`, most overdue first (review.pick_checks' ORDER BY due)."""
    due = sorted((c for c in learner.cards if c["due"] < before), key=lambda c: c["due"])
    return due[: max(0, limit)]


def _probes(learner: Learner, store, ts: float, exclude: set[str], slots: int, rounds: int = 1) -> list[str]:
    """The goal skills learnflow/probes.py would probe now, from the posteriors in `store`: one per
    skill in `probes.order` (skills in `exclude` wait a round), then more rounds up to `rounds`."""
    from learnflow.learner import probes
    from learnflow.learner.profile import Params, posteriors_at, read_periods

    if slots <= 0 or store is None:
        return []
    params = Params()
    goals = {s: (learner.target[s], learner.importance[s]) for s in learner.skills}
    periods = read_periods(store, params, since=ts - params.horizon(), daily_from=ts)
    posts = {s: posteriors_at(periods.get(s, []), [ts], params)[0] for s in goals}
    ranked = probes.order(goals, posts, params)
    left = {s: bundled_cards(s) - learner.probed.get(s, 0) for s in ranked}
    out: list[str] = []
    for turn in range(rounds):
        for s in ranked:
            if len(out) < slots and left[s] > 0 and not (turn == 0 and s in exclude):
                out.append(s)
                left[s] -= 1
    return out


def bundled_cards(skill: str) -> int:
    from learnflow.learner.cards import load_cards

    return sum(1 for c in load_cards() if c.skill == skill and c.check_question)


def reflect(rng, world: World, learner: Learner, asked: list[str], ts: float, store=None, unchecked: list[str] | None = None) -> list[dict]:
    """An evening reflection, picked like learnflow/practice/review.py picks checks, plus self-ratings.

    Up to 3 new checks from the day's questions (one per skill first; `unchecked`:
    those whose check was not answered inline), then due reviews (FSRS), then gap
    probes, up to `checks_per_day` in all.
    """
    limit = round(world.checks_per_day)
    pending = asked if unchecked is None else unchecked
    distinct = list(dict.fromkeys(pending))
    new = [{"skill": s, "state": None, "due": 0.0} for s in (distinct + [s for s in pending if s not in distinct[:3]])[: min(3, limit)]]
    rows = run_checks(rng, world, learner, new, ts, limit, store, probes=world.probes)
    m = learner.mastery
    pool = list(dict.fromkeys(asked)) or learner.skills
    for s in rng.sample(pool, min(len(pool), rng.choice((1, 2)))):
        r = self_rating(rng, world, learner, m[s])
        rows.append({"ts": ts + 1800, "skill": s, "kind": "self_rating", "value": round((r - 1) / 4, 3)})
    return rows


def run_checks(rng, world: World, learner: Learner, new: list[dict], ts: float, limit: int, store, *, probes: bool,
               rounds: int = 1) -> list[dict]:  # fmt: skip
    """`new` cards, then due reviews, then gap probes, `limit` in all: review.pick_checks' order
    (reflect: one probe per skill not already checked; `learnflow check`: `rounds` = its -n).
    Each is answered (guess/slip), rated, and its card rescheduled by learnflow's FSRS code."""
    from datetime import UTC, datetime

    from learnflow.practice.scheduling import schedule

    rows: list[dict] = []
    m = learner.mastery
    end_of_day = ts - (ts % DAY) + DAY
    due = _due(learner, end_of_day, limit - len(new))
    exclude = {c["skill"] for c in new + due}
    probe_skills = _probes(learner, store, ts, exclude, limit - len(new) - len(due), rounds) if probes else []
    probe_cards = [{"skill": s, "state": None, "due": 0.0} for s in probe_skills]
    for s in probe_skills:
        learner.probed[s] = learner.probed.get(s, 0) + 1
    learner.cards += new + probe_cards
    for i, card in enumerate(new + due + probe_cards):
        s = card["skill"]
        correct = check_outcome(rng, world, m[s])
        rating = review_rating(rng, correct, m[s])
        t = ts + 60 * i
        rows.append({"ts": t, "skill": s, "kind": "check", "value": float(correct)})
        rows.append({"ts": t, "skill": s, "kind": "review", "value": round((rating - 1) / 3, 3)})
        card["state"], when = schedule(card["state"], rating, datetime.fromtimestamp(t, UTC))
        card["due"] = when.timestamp()
        m[s] = _learn(m[s], world.learn_check)
    return rows


def check_session(rng, world: World, learner: Learner, ts: float, limit: int, store) -> list[dict]:
    """`learnflow check -n limit`: due reviews, then gap probes (learnflow/practice.py)."""
    rows = run_checks(rng, world, learner, [], ts, limit, store, probes=True, rounds=limit)
    if store is not None:
        store.add_evidence(rows)
    return rows


def open_learner(path: Path, learner: Learner):
    """A real learnflow database with the learner's goals (goals through learnflow.learner.goals), ready for evidence."""
    from learnflow.db.store import Store
    from learnflow.learner.goals import set_goal

    store = Store(path)
    for s in learner.skills:
        set_goal(store, s, learner.target[s], learner.importance[s], source=f"role:{learner.role}")
    return store


def parse_streams(text: str) -> tuple[str, ...]:
    """Streams from "all", "none" (or "") or a comma list of STREAMS, in STREAMS order."""
    names = set(STREAMS) if text.strip() == "all" else {n.strip() for n in text.split(",") if n.strip() not in ("", "none")}
    if names - set(STREAMS):
        raise argparse.ArgumentTypeError(f"unknown stream(s) {', '.join(sorted(names - set(STREAMS)))}; known: {', '.join(STREAMS)}")
    return tuple(n for n in STREAMS if n in names)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--learners", type=int, default=3)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True, help="folder for one learnflow database per learner")
    ap.add_argument(
        "--streams", type=parse_streams, default=(), help=f"learning-by-doing streams: all, none, or some of {','.join(STREAMS)}"
    )
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    world = World(days=args.days, streams=args.streams)
    for i in range(args.learners):
        learner = make_learner(rng, i)
        path = args.out / f"learner-{i}.db"
        path.unlink(missing_ok=True)
        store = open_learner(path, learner)
        rows = simulate_days(rng, world, learner, START, args.days, store)
        store.close()
        truth = ", ".join(f"{s} {learner.mastery[s]:.2f}" for s in learner.skills)
        print(f"{path}: {learner.role}, {len(rows)} evidence rows; true mastery: {truth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
