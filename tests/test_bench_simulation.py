"""The validity bench's simulator (bench/simulate.py) stays runnable and follows learnflow's own rules:
reflect's checks in review.pick_checks' order, probes only on goal skills, evidence gaps can read."""

import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
simulate = pytest.importorskip("simulate")


def run(tmp_path, **world):
    rng = random.Random(7)
    w = replace(simulate.World(), days=3, **world)
    learner = simulate.make_learner(rng, 0)
    store = simulate.open_learner(tmp_path / "learner.db", learner)
    rows = simulate.simulate_days(rng, w, learner, simulate.START, w.days, store)
    return learner, store, rows


def test_a_simulated_week_lands_in_a_real_log_that_gaps_reads(tmp_path):
    from learnflow.learner.gaps import build_report

    learner, store, rows = run(tmp_path)
    assert store.db["evidence"].count == len(rows) > 0
    report = build_report(store, now=simulate.START + 3 * simulate.DAY)
    assert {s.skill for s in report.skills} >= set(learner.skills)  # every goal skill is in the report
    assert all(r["skill"] in learner.skills for r in rows)


def test_reflect_never_checks_more_than_its_limit_and_probes_only_goal_skills(tmp_path):
    learner, store, rows = run(tmp_path, reflect_prob=1.0)
    per_evening: dict[int, int] = {}
    for r in rows:
        if r["kind"] == "check":
            per_evening[int(r["ts"] // simulate.DAY)] = per_evening.get(int(r["ts"] // simulate.DAY), 0) + 1
    assert per_evening and max(per_evening.values()) <= simulate.World.checks_per_day
    assert set(learner.probed) <= set(learner.skills)


def test_a_placement_checks_every_skill_of_the_role_once_before_work(tmp_path):
    learner, store, rows = run(tmp_path, placement=True)
    first = [r for r in rows if r["kind"] == "check" and r["ts"] < simulate.START + 9 * 3600]
    assert sorted(r["skill"] for r in first) == sorted(learner.skills)


def test_without_probes_the_checks_come_only_from_questions_and_reviews(tmp_path):
    learner, _, _ = run(tmp_path, probes=False, reflect_prob=1.0)
    assert learner.probed == {}
