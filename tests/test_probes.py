"""Gap probes: a reflection's free check slots measure the goal skills `gaps` knows least about."""

import time
from datetime import UTC, datetime

from learnflow.learner import probes
from learnflow.learner.goals import set_goal
from learnflow.learner.profile import Params, Posterior
from learnflow.practice import checks, judging, review

P = Params()


def post(right: float, wrong: float) -> Posterior:
    return Posterior(1 + right, 1 + wrong, right + wrong)


def test_unmeasured_skills_come_first_then_the_least_certain():
    goals = {"git": (0.7, 1.0), "sql": (0.7, 1.0), "docker": (0.7, 1.0)}
    posts = {"git": post(8, 2), "sql": post(1, 1)}  # docker: nothing at all
    assert probes.order(goals, posts, P) == ["docker", "sql", "git"]


def test_among_equally_thin_skills_the_more_important_goes_first():
    goals = {"git": (0.7, 1.0), "sql": (0.7, 3.0)}
    assert probes.order(goals, {}, P) == ["sql", "git"]


def test_then_the_skill_whose_shortfall_is_least_certain():
    goals = {"sure-gap": (0.8, 1.0), "sure-fine": (0.8, 1.0), "unsure": (0.8, 1.0)}
    posts = {"sure-gap": post(1, 9), "sure-fine": post(30, 1), "unsure": post(4, 1)}  # unsure: mean 0.71, few checks
    assert probes.order(goals, posts, P)[0] == "unsure"


def _evidence(store, skill, right, wrong):
    now = time.time()
    store.add_evidence([{"ts": now - 60, "skill": skill, "kind": "check", "value": 1.0}] * right
                       + [{"ts": now - 60, "skill": skill, "kind": "check", "value": 0.0}] * wrong)  # fmt: skip


def test_free_slots_become_probes_on_goal_skills_from_bundled_cards(store):
    for skill in ("git", "sql", "containers"):
        set_goal(store, skill, 0.8)
    _evidence(store, "git", 6, 0)  # known well enough: probed last
    checks = review.pick_checks(store, [], datetime.now(UTC))
    assert [c.kind for c in checks] == ["probe"] * 3
    assert [c.skill for c in checks][-1] == "git" and {c.skill for c in checks} == {"git", "sql", "containers"}
    for c in checks:  # a bundled card: judged offline by its keywords
        assert c.bundled_card and c.expected and c.keywords


def test_no_goals_no_probes(store):
    _evidence(store, "git", 1, 1)
    assert review.pick_checks(store, [], datetime.now(UTC)) == []


def test_probes_only_fill_what_the_days_questions_and_due_reviews_leave(store):
    now = datetime.now(UTC)
    for skill in ("git", "sql", "containers", "python", "testing", "linux"):
        set_goal(store, skill, 0.8)
    day = [review.insert_card(store, now, question=f"Q{i}?", skill=s, answer="A", check_keywords="[]")
           for i, s in enumerate(("git", "sql"))]  # fmt: skip
    checks = review.pick_checks(store, day, now)
    assert [c.kind for c in checks] == ["new", "new", "probe", "probe", "probe"]
    assert not {"git", "sql"} & {c.skill for c in checks if c.kind == "probe"}  # one check per skill


def test_an_answered_probe_is_evidence_for_gaps_and_its_card_is_scheduled(store):
    set_goal(store, "sql", 0.8)
    now = datetime.now(UTC)
    (probe,) = review.pick_checks(store, [], now)
    answer = " ".join(probe.keywords)
    result = checks.record(store, reflection_id=None, check=probe, answer=answer, confidence=4,
                           judgement=judging.judge_keywords(probe, answer), seconds=20, now=now)  # fmt: skip
    assert result.correct
    assert store.db.execute("SELECT kind, value FROM evidence WHERE skill = 'sql' AND kind = 'check'").fetchall() == [("check", 1.0)]
    assert review.pick_checks(store, [], now) != [] and review.pick_checks(store, [], now)[0].card_id != probe.card_id


def test_a_skill_whose_bundled_cards_are_all_in_review_is_left_to_its_schedule(store):
    from learnflow.learner.cards import load_cards

    set_goal(store, "sql", 0.8)
    now = datetime.now(UTC)
    for card in [c for c in load_cards() if c.skill == "sql" and c.check_question]:
        review.insert_card(store, now, question=card.check_question, skill="sql", answer="A", check_keywords="[]",
                            card_id=card.id, due="2999-01-01T00:00:00+00:00")  # fmt: skip
    assert review.pick_checks(store, [], now) == []


def test_more_slots_than_goal_skills_go_round_again_with_other_cards(store):
    for skill in ("git", "sql"):
        set_goal(store, skill, 0.8)
    checks = review.pick_checks(store, [], datetime.now(UTC), limit=5, rounds=5)  # learnflow check -n 5
    assert [c.skill for c in checks][:2] in (["git", "sql"], ["sql", "git"])
    assert len(checks) == 5 and len({c.question for c in checks}) == 5
    assert [c.skill for c in checks][2:4] == [c.skill for c in checks][:2]  # the same order, round two


def test_a_reflection_probes_each_goal_skill_once(store):
    for skill in ("git", "sql"):
        set_goal(store, skill, 0.8)
    assert sorted(c.skill for c in review.pick_checks(store, [], datetime.now(UTC))) == ["git", "sql"]


def test_a_skill_with_a_review_due_waits_a_round_for_its_probe(store):
    now = datetime.now(UTC)
    for skill in ("git", "sql"):
        set_goal(store, skill, 0.8)
    review.insert_card(store, now, question="Q?", skill="git", answer="A", check_keywords="[]")  # due now
    checks = review.pick_checks(store, [], now, limit=3, rounds=3)
    assert [(c.kind, c.skill) for c in checks] == [("review", "git"), ("probe", "sql"), ("probe", "git")]


def test_a_skill_measured_many_times_at_its_target_is_not_probed_forever():
    """P(below) stays near 1/2 for a skill right at its target, but a hundred answers leave little to learn."""
    goals = {"at-target": (0.7, 1.0), "few": (0.7, 1.0)}
    posts = {"at-target": post(70, 30), "few": post(3, 1)}
    assert probes.order(goals, posts, P) == ["few", "at-target"]
    assert probes.expected_move(post(70, 30), 0.7) < probes.expected_move(post(3, 1), 0.7) / 3
