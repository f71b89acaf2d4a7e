"""The core underneath `reflect`: FSRS scheduling, ratings, judging, calibration, the
`--since` parser, a reflection interrupted half-way, and the offline feedback rules."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from learnflow.errors import BadInput
from learnflow.practice import judging, review, scheduling
from learnflow.practice.calibration import calibration
from learnflow.reflect import session as reflect
from learnflow.reflect.feedback import action_gaps, rules_feedback
from learnflow.reflect.period import default_start
from learnflow.reflect.session import Answers, Attempt
from learnflow.timespec import iso, local_midnight, parse_since

T0 = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def days(due: datetime, since: datetime) -> float:
    return (due - since).total_seconds() / 86400


# -- FSRS semantics -------------------------------------------------------------------


def test_a_new_card_answered_good_comes_back_days_later():
    state, due = scheduling.schedule(scheduling.new_state(1, T0), scheduling.GOOD, T0)
    assert days(due, T0) >= 2
    assert json.loads(state)["state"] == 2  # fsrs.State.Review: no minute-long learning steps


def test_a_new_card_answered_again_comes_back_the_next_day():
    _, due = scheduling.schedule(scheduling.new_state(1, T0), scheduling.AGAIN, T0)
    assert 0 < days(due, T0) <= 1


def test_a_known_card_forgotten_comes_back_the_next_day_and_remembered_goes_further():
    state, due = scheduling.schedule(scheduling.new_state(1, T0), scheduling.GOOD, T0)
    _, forgot = scheduling.schedule(state, scheduling.AGAIN, due)
    assert 0 < days(forgot, due) <= 1
    _, remembered = scheduling.schedule(state, scheduling.GOOD, due)
    assert days(remembered, due) > days(due, T0)  # spacing grows with each success


def test_easy_waits_longer_than_good_and_hard_not_longer():
    new = scheduling.new_state(1, T0)
    intervals = {r: days(scheduling.schedule(new, r, T0)[1], T0) for r in (scheduling.HARD, scheduling.GOOD, scheduling.EASY)}
    assert intervals[scheduling.HARD] <= intervals[scheduling.GOOD] < intervals[scheduling.EASY]


@pytest.mark.parametrize(
    "correct,score,confidence,seconds,rating",
    [
        (False, 0.0, 5, 3, scheduling.AGAIN),
        (True, 1.0, 1, 3, scheduling.HARD),  # right, but guessed
        (True, 0.5, 4, 3, scheduling.HARD),  # right idea, half the answer
        (True, 1.0, 3, 3, scheduling.GOOD),
        (True, 1.0, None, None, scheduling.GOOD),  # no confidence given: read as 3
        (True, 1.0, 5, 10, scheduling.EASY),
        (True, 1.0, 5, 300, scheduling.GOOD),  # right and sure, but it took five minutes
        (True, 0.8, 5, 10, scheduling.GOOD),  # sure, not complete
    ],
)
def test_rating_mapping(correct, score, confidence, seconds, rating):
    assert scheduling.rating_for(correct, score, confidence, seconds) == rating


# -- judging ----------------------------------------------------------------------------


def check(**kw):
    base = dict(card_id=1, skill="git", question="Where are the changes after `git reset --soft HEAD~1`?",
                expected="Still staged, in the index.", keywords=["staged", "index"], kind="new")  # fmt: skip
    return review.Check(**{**base, **kw})


@pytest.mark.parametrize(
    "answer,correct,score",
    [
        ("They stay staged in the index", True, 1.0),
        ("in the staging area", True, 1.0),  # "staging" is a form of "staged", and the staging area is the index
        ("INDEX!", True, 0.5),
        ("they are gone", False, 0.0),
    ],
)
def test_offline_judging_by_keywords(answer, correct, score):
    got = judging.judge_keywords(check(), answer)
    assert (got.correct, got.score, got.method) == (correct, score, "card")


def test_a_card_without_keywords_cannot_be_judged_offline():
    assert judging.judge_keywords(check(keywords=[]), "anything") is None


@pytest.mark.parametrize("answer", ["", "  ", "I don't know", "idk", "?", "no idea"])
def test_blank_answers_are_not_attempts(answer):
    assert judging.blank(answer)


def test_an_answer_mentioning_not_knowing_in_passing_is_an_attempt():
    assert not judging.blank("Staged; I don't know whether the working tree changes though")


def test_overruling_the_keyword_judge_is_good_at_best():
    j = judging.self_judgement(True, overruled=True)
    assert scheduling.rating_for(j.correct, j.score, 5, 1) == scheduling.GOOD


# -- calibration ------------------------------------------------------------------------


def add_results(store, pairs):
    store.db["check_results"].insert_all({"created_at": iso(T0), "skill": "git", "confidence": c, "correct": k} for c, k in pairs)


def test_calibration_needs_a_few_checks(store):
    assert calibration(store).verdict == "too_few"
    add_results(store, [(5, 1), (5, 0)])
    cal = calibration(store)
    assert cal.verdict == "too_few" and cal.n == 2 and "needs 5" in cal.message


def test_overconfidence_is_named(store):
    add_results(store, [(5, 0), (5, 0), (4, 1), (5, 0), (4, 0), (5, 1)])
    cal = calibration(store)
    assert cal.verdict == "overconfident" and "overconfident" in cal.message
    assert cal.mean_confidence_wrong == 4.75 and cal.mean_confidence_right == 4.5
    assert cal.gap > 0.15 and 0 < cal.brier < 1


def test_underconfidence_and_good_calibration(store):
    add_results(store, [(1, 1), (2, 1), (1, 1), (2, 1), (1, 1)])
    assert calibration(store).verdict == "underconfident"
    store.db["check_results"].delete_where()
    add_results(store, [(5, 1), (5, 1), (1, 0), (1, 0), (3, 1), (3, 0)])
    cal = calibration(store)
    assert cal.verdict == "calibrated" and cal.brier < 0.1


# -- --since ----------------------------------------------------------------------------


NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text,back",
    [
        ("2d", timedelta(days=2)),
        ("12h", timedelta(hours=12)),
        ("1w", timedelta(weeks=1)),
        ("30m", timedelta(minutes=30)),
        (" 1.5d ", timedelta(days=1.5)),
        ("90min", timedelta(minutes=90)),
    ],  # fmt: skip
)
def test_durations(text, back):
    assert parse_since(text, now=NOW) == NOW - back


def test_calendar_words_and_iso_dates():
    assert parse_since("today", now=NOW) == local_midnight(NOW)
    assert parse_since("yesterday", now=NOW) == local_midnight(local_midnight(NOW) - timedelta(hours=1))
    assert parse_since("2026-03-01T08:00:00Z", now=NOW) == datetime(2026, 3, 1, 8, tzinfo=UTC)
    local = parse_since("2026-03-01", now=NOW)
    assert local.tzinfo is not None and local == datetime(2026, 3, 1).astimezone().astimezone(UTC)


@pytest.mark.parametrize("text", ["", "soon", "2 days", "-1d", "0h", "2026-13-01", "d2", "9999-01-01"])
def test_invalid_since_is_bad_input_with_examples(text):
    with pytest.raises(BadInput) as err:
        parse_since(text, now=NOW)
    assert "--since" in err.value.message


# -- interruption ---------------------------------------------------------------------


class Quitter(Answers):
    """Answers the first two questions, then the terminal closes."""

    def __init__(self):
        self.given = 0

    def reflection(self, question):
        self.given += 1
        if self.given > 2:
            raise KeyboardInterrupt
        return f"answer to {question.key}"


class Offline:
    """A ModelCall stand-in for unit tests: no model connected."""

    class choice:
        backend, model = "offline", "offline"

    available = False
    warnings: list = []


def test_an_interrupted_reflection_keeps_what_was_answered(store):
    session = reflect.Session(store, model=Offline(), since=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(KeyboardInterrupt):
        reflect.run(session, Quitter())
    row = store.db["reflections"].get(session.id)
    assert row["status"] == "interrupted" and row["finished_at"]
    answers = list(store.db.query("SELECT key, answer FROM reflection_answers WHERE reflection_id = ?", [session.id]))
    assert answers == [{"key": "trying", "answer": "answer to trying"}, {"key": "worked", "answer": "answer to worked"}]
    assert store.db["action_items"].count == 0  # "Now what?" was never reached


def test_a_reflection_left_in_progress_by_a_killed_process_is_closed_by_the_next(store):
    first = reflect.Session(store, model=Offline(), since=datetime.now(UTC) - timedelta(hours=1))
    second = reflect.Session(store, model=Offline(), since=datetime.now(UTC) - timedelta(hours=1))
    assert store.db["reflections"].get(first.id)["status"] == "interrupted"
    assert store.db["reflections"].get(second.id)["status"] == "in_progress"


def test_the_default_period_starts_at_the_last_finished_reflection(store):
    now = datetime.now(UTC)
    assert default_start(store, now) == (local_midnight(now), "today")
    store.db["reflections"].insert({"status": "done", "period_end": iso(now - timedelta(hours=3))})
    store.db["reflections"].insert({"status": "interrupted", "period_end": iso(now - timedelta(hours=1))})
    start, label = default_start(store, now)
    assert abs((start - (now - timedelta(hours=3))).total_seconds()) < 0.01 and "last reflection" in label
    store.db["reflections"].update(1, {"period_end": iso(now - timedelta(days=30))})
    assert default_start(store, now)[0] == local_midnight(now)  # a month ago: just today


def test_attempt_records_schedule_and_evidence(store):
    now = datetime.now(UTC)
    cid = review.insert_card(store, now, question="Q?", skill="git", answer="A", check_keywords='["staged"]')
    session = reflect.Session(store, model=Offline(), since=now - timedelta(hours=1))
    c = review.pick_checks(store, [cid], now)[0]
    result = session.record(c, Attempt("staged", 3, 5.0), judging.judge_keywords(c, "staged"))
    assert result.rating_name == "Good" and result.interval_days >= 2
    card = store.db["review_cards"].get(cid)
    assert card["reps"] == 1 and card["due"] == result.next_due and json.loads(card["fsrs"])["card_id"] == cid
    evidence = list(store.db.query("SELECT kind, value, source, source_id FROM evidence ORDER BY kind"))
    assert evidence == [
        {"kind": "check", "value": 1.0, "source": "check_results", "source_id": result.id},
        {"kind": "review", "value": 0.667, "source": "check_results", "source_id": result.id},
    ]
    assert review.pick_checks(store, [], now) == []  # not due again today


# -- offline feedback rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    "plan,missing",
    [
        ("Tomorrow before pushing, I will run `git log -p` to review my commit.", []),
        ("At standup I'll ask Sam to pair on the flaky test", []),
        ("be better at git", ["action verb", "time or a trigger"]),
        ("learn docker", ["“learn” is an intention", "what exactly", "time or a trigger"]),
        ("write tests", ["what exactly", "time or a trigger"]),
        ("I will read the pytest fixtures docs", ["time or a trigger"]),
    ],
)
def test_a_plan_needs_a_verb_an_object_and_a_time(plan, missing):
    gaps = " | ".join(action_gaps(plan))
    assert all(m in gaps for m in missing) and (gaps == "") == (missing == [])


class Quiet:
    had_failures = False


@pytest.mark.parametrize(
    "rule,kind",
    [
        ("never rebase shared branches", "good"),
        ("When a fix changes nothing, check which copy of the code runs, because stale installs lie.", "good"),
        ("reset is useful", "vague"),
        ("it worked", "vague"),
    ],
)
def test_a_rule_should_be_general(rule, kind):
    items = {i.key: i for i in rules_feedback({"rule": rule, "action": "Tomorrow I will run the tests first"}, Quiet(), []).items}
    assert items["rule"].kind == kind


def test_short_answers_are_vague_and_there_is_always_one_suggestion():
    fb = rules_feedback({"worked": "reset", "action": ""}, Quiet(), [])
    kinds = [(i.kind, i.key) for i in fb.items]
    assert ("vague", "worked") in kinds and ("vague", "action") in kinds
    assert [k for k, _ in kinds].count("suggestion") == 1 and fb.method == "rules"
    assert fb.text.startswith("- **What is vague:**")


def test_a_resumed_reflection_only_asks_the_checks_it_has_left(store):
    session = reflect.Session(store, model=Offline(), since=datetime.now(UTC) - timedelta(hours=1))
    for _i in range(review.MAX_CHECKS):
        store.db["check_results"].insert({"reflection_id": session.id, "skill": "git", "correct": 1})
    session.finish("interrupted")
    from learnflow.learner.goals import set_goal

    set_goal(store, "sql", 0.8)  # a probe would be offered to a new reflection
    assert reflect.Session.resume(store, model=Offline()).checks() == []
    assert reflect.Session(store, model=Offline(), since=datetime.now(UTC) - timedelta(hours=1)).checks() != []
