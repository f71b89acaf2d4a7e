"""The validity bench's simulator (bench/simulate.py) stays runnable and follows learnflow's own rules:
reflect's checks in review.pick_checks' order, probes only on goal skills, evidence gaps can read."""

import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
simulate = pytest.importorskip("simulate")


def run(tmp_path, seed=7, **world):
    rng = random.Random(seed)
    w = replace(simulate.World(), **{"days": 3, **world})
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


# --------------------------------------------------------------------------- learning-by-doing streams (issue 12)

NEW_KINDS = {"attempt", "task", "repeat"}


def inline_checks(rows):
    """Checks logged during the working day (reflect's come at 17:30): answered inline after an ask."""
    return [r for r in rows if r["kind"] == "check" and 9 * 3600 <= r["ts"] % simulate.DAY < 17.5 * 3600]


def test_without_streams_the_log_has_only_todays_kinds(tmp_path):
    _, store, rows = run(tmp_path, days=5)
    assert {r["kind"] for r in rows} <= {"check", "review", "self_rating", "question_how", "question_why"}
    assert inline_checks(rows) == []


def test_each_stream_writes_its_own_kind_of_evidence_as_learnflow_does(tmp_path):
    learner, store, rows = run(tmp_path, seed=1, days=5, streams=simulate.STREAMS)  # a backend developer: six tool skills
    kinds = {r["kind"] for r in store.db["evidence"].rows}  # written to the log, where gaps reads it
    assert kinds >= NEW_KINDS | {"check", "review"}
    tasks = [r for r in rows if r["kind"] == "task"]
    assert {r["value"] for r in tasks} == {0.0, 1.0}  # outcomes: most succeed, some fail
    assert sum(r["value"] for r in tasks) / len(tasks) > 0.6
    assert {r["skill"] for r in tasks} <= simulate.TOOL_SKILLS  # only skills a wrapped command reveals
    assert all(0 < r["value"] < 1 for r in rows if r["kind"] == "attempt")  # a judged score, not right/wrong
    assert {r["value"] for r in rows if r["kind"] == "repeat"} == {0.0}  # a lapse
    inline = inline_checks(rows)
    assert inline and all(any(q["kind"].startswith("question") and q["skill"] == c["skill"] and 0 < c["ts"] - q["ts"] <= 300 for q in rows)
                          for c in inline)  # fmt: skip
    assert len([r for r in rows if r["kind"] == "review"]) == len([r for r in rows if r["kind"] == "check"])  # each check rated


@pytest.mark.parametrize("off", simulate.STREAMS)
def test_switching_a_stream_off_removes_its_evidence_and_only_that(tmp_path, off):
    _, _, rows = run(tmp_path, days=5, streams=tuple(s for s in simulate.STREAMS if s != off))
    kinds = {r["kind"] for r in rows}
    if off == "inline":
        assert inline_checks(rows) == [] and kinds >= NEW_KINDS
    else:
        assert off not in kinds and kinds >= NEW_KINDS - {off} and inline_checks(rows)


def test_an_inline_answer_is_not_asked_again_as_new_at_reflect_but_comes_back_when_due(tmp_path):
    learner, _, rows = run(tmp_path, days=5, streams=("inline",), inline_prob=1.0, reflect_prob=1.0)
    inline = inline_checks(rows)
    evening = [r for r in rows if r["kind"] == "check" and r not in inline]
    assert inline and evening  # reflect still has due reviews and probes to ask
    # Every question's check was answered inline, so reflect made no new cards: only inline ones and probes.
    assert len(learner.cards) == len(inline) + sum(learner.probed.values())
    assert all(c["state"] is not None for c in learner.cards)  # every card, inline or not, is scheduled by FSRS


def test_the_ideal_observer_reads_a_repeat_as_evidence_of_a_lapse_only_when_the_stream_is_on():
    import bench_gaps_validity as bench

    day = simulate.START + 10 * 3600
    asked = [{"ts": day, "skill": "git", "kind": "question_how", "value": 0.9},
             {"ts": day + 3600, "skill": "git", "kind": "question_how", "value": 0.9}]  # fmt: skip
    lapse = [*asked, {"ts": day + 3600, "skill": "git", "kind": "repeat", "value": 0.0}]
    on = replace(simulate.World(), streams=("repeat",))
    assert bench.ideal_mastery(lapse, ["git"], on)["git"] < bench.ideal_mastery(asked, ["git"], on)["git"]
    # With the stream on, asking again *without* a repeat means it was remembered; off, it means nothing.
    assert bench.ideal_mastery(asked, ["git"], on)["git"] > bench.ideal_mastery(asked, ["git"], simulate.World())["git"]


def test_the_validity_bench_scores_learned_and_fixed_weights_and_measures_rating_accuracy(tmp_path):
    validity = pytest.importorskip("bench_gaps_validity")
    from learnflow.learner.profile import Params

    def scored(noise):
        w = replace(simulate.World(), days=4, rating_noise=noise)
        sub = tmp_path / str(noise)
        sub.mkdir()
        return validity.run_seed(1, w, 6, sub, Params(), False, per_learner=True)

    sharp, vague = scored(0.05), scored(0.6)
    for result in (sharp, vague):
        assert {"gaps", "gaps_prev", "gaps_fixed", "ideal"} <= set(result) and "spearman_all" in result["gaps_prev"]
        assert set(result["fitted_weights"]) <= {"self_rating", "attempt", "task", "question_how", "question_why"}
    assert sharp["rating_r_model"] > 0.7 > 0.4 > vague["rating_r_model"]  # the noise knob moves r where the table says
