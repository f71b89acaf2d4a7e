"""Graded, careful judging (issue 13): the offline judge treats a card's keywords as necessary, not
sufficient, leaves what it cannot tell to the learner, and a check's evidence is its judged score."""

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from logdb import rows

from learnflow.learner.cards import load_cards
from learnflow.practice import judging, review

ROOT = Path(__file__).resolve().parents[1]


def card_check(card_id: str) -> review.Check:
    card = next(c for c in load_cards() if c.id == card_id)
    return review.Check(card_id=1, skill=card.skill, question=card.check_question, expected=card.check_answer,
                        keywords=card.check_keywords, kind="probe", bundled_card=card.id)  # fmt: skip


def verdict(card_id: str, answer: str) -> str:
    j = judging.judge_answer(card_check(card_id), answer, type("NoModel", (), {"available": False})())
    j = j or judging.judge_keywords(card_check(card_id), answer)
    return "uncertain" if not j.certain else ("right" if j.correct else "wrong")


# -- the examples ---------------------------------------------------------------------


def test_always_no_matter_is_not_right_although_it_names_the_keywords():
    answer = "always, no matter whether make test succeeds or exits with a non-zero status"
    assert verdict("shell-exit-codes-and-safe-scripts", answer) in {"wrong", "uncertain"}
    assert verdict("shell-exit-codes-and-safe-scripts", "only if make test succeeds, i.e. exits with status 0") == "right"


@pytest.mark.parametrize(
    "card,answer",
    [
        ("debugging-python-debugger", "it stops in the debugger at the line that raised"),
        ("debugging-git-bisect", "about 10"),
        ("debugging-git-bisect", "roughly ten runs: it is a binary search"),
    ],
)
def test_right_answers_in_other_words_are_not_judged_wrong(card, answer):
    assert verdict(card, answer) in {"right", "uncertain"}


@pytest.mark.parametrize(
    "card,answer",
    [
        ("git-undo-last-commit", "they are not staged any more, only in the working tree"),
        ("debugging-logging-instead-of-print", "exception does not include the traceback, it only logs at a higher level"),
        ("linux-systemd-services", "nothing, there is no need to daemon-reload, restart reads the file"),
        ("security-leaked-secret", "yes, it is no longer in the history after the delete commit, so no need to rotate"),
    ],
)
def test_a_negated_keyword_does_not_count(card, answer):
    assert verdict(card, answer) == "wrong"


def test_a_number_the_reference_rules_out_is_wrong():
    assert verdict("debugging-git-bisect", "about 500, half of the commits") == "wrong"
    assert verdict("ci-cd-github-actions-workflow", "YAML reads 3.10 as 3.01") == "wrong"


def test_a_keyword_and_its_opposite_together_are_left_to_the_learner():
    j = judging.judge_keywords(card_check("git-undo-last-commit"), "they are unstaged: reset --soft moves them out of the index")
    assert not j.certain and "Expected:" in j.feedback


def test_swapped_roles_are_not_judged_right():
    answer = "cumtime is the function's own code, tottime includes all the calls"
    assert verdict("performance-profile-python", answer) != "right"


def test_swapped_roles_of_short_codes_are_not_judged_right():
    # numbers and flags are the question's terms too: "401 … not allowed" ties the keyword to the wrong code
    answer = "401 is for a caller who is known but not allowed, 403 for missing credentials"
    assert verdict("http-apis-status-codes", answer) != "right"
    assert verdict("http-apis-status-codes", "401: the credentials are missing; 403: known but not allowed") == "right"


def test_a_keyword_named_the_other_way_round_with_its_opposite_is_not_right():
    # the reference contrasts SIGTERM with SIGKILL, in that order; this answer swaps them
    answer = "plain kill sends SIGKILL, and SIGTERM is what -9 sends, so -9 lets it clean up"
    assert verdict("linux-stop-processes", answer) != "right"


def test_a_verb_that_takes_the_keyword_away_denies_it():
    assert verdict("debugging-logging-instead-of-print", "logger.exception hides the traceback to keep logs short") == "wrong"
    assert verdict("debugging-logging-instead-of-print", "logger.exception also adds the traceback") == "right"
    # a phrasal verb denies nothing
    answer = "on the crash it drops into post-mortem debugging so you can inspect the variables"
    assert verdict("debugging-python-debugger", answer) == "right"


def test_without_sets_a_condition_rather_than_denying_the_rest_of_the_sentence():
    # "without a timeout it waits forever" says the reference's "forever"; it is not a denial of it
    assert verdict("http-apis-python-client", "without a timeout requests just waits forever") != "wrong"
    assert (
        verdict("debugging-minimal-reproduction", "without a repro you cannot confirm the fix, and it becomes the regression test")
        == "right"
    )


def test_a_partly_right_answer_scores_part_of_a_success():
    j = judging.judge_keywords(card_check("git-stash-work-in-progress"), "because it is untracked")
    assert (j.correct, j.score, j.certain) == (True, 0.5, True)


# -- the model path -----------------------------------------------------------------------------


class Canned:
    """A model whose judge replies are given: what `judge_model` reads from a reply."""

    available = True

    def __init__(self, reply):
        self.reply = reply

    def json(self, prompt, **values):
        return self.reply


@pytest.mark.parametrize(
    "reply,correct,score",
    [
        ({"correct": True, "score": 0.5}, True, 0.5),
        ({"correct": True, "score": "50%"}, True, 0.5),
        ({"correct": "yes", "score": "1/2"}, True, 0.5),
        ({"score": 75}, True, 0.75),  # a score out of 100
        ({"verdict": "partial"}, True, 0.5),
        ({"correct": False}, False, 0.0),
        ({"correct": True, "score": 0.2}, False, 0.2),  # the score decides, not the model's own "correct"
    ],
)
def test_the_model_judges_with_a_graded_score(reply, correct, score):
    j = judging.judge_answer(card_check("git-undo-last-commit"), "staged", Canned(reply))
    assert (j.correct, j.score, j.method) == (correct, score, "model")


def test_an_unreadable_model_verdict_falls_back():
    assert judging.judge_answer(card_check("git-undo-last-commit"), "staged", Canned({"feedback": "hm"})) is None


def test_the_judge_prompt_anchors_the_score():
    from learnflow import prompts

    text = prompts.render("reflect-judge", question="q", expected="e", source="s", answer="a")
    assert "1 = complete and right" in text and "0.5 = partly right" in text and "0 = wrong" in text


# -- fractional evidence and the self-grade flow in `learnflow check` ------------------------------

SHELL = "shell-exit-codes-and-safe-scripts"
UNSURE = "when the tests pass; if make test fails, deploy is skipped"  # right, but it names "fails" too


def due_card(card_id: str) -> int:
    from learnflow.db.store import Store

    card = next(c for c in load_cards() if c.id == card_id)
    store = Store()
    try:
        return review.insert_card(store, datetime.now(UTC), question=card.check_question, skill=card.skill, answer=card.check_answer,
                                  check_keywords=json.dumps(card.check_keywords), card_id=card.id)  # fmt: skip
    finally:
        store.close()


def test_the_evidence_of_a_partly_right_answer_is_its_score(cli):
    due_card("git-stash-work-in-progress")
    out = json.loads(
        cli(
            "check", "--skill", "git", "-n", "1", "--answers", "-", "--json", input='[[checks]]\nanswer = "because it is untracked"\n'
        ).stdout
    )
    [c] = out["checks"]
    assert c["correct"] and c["score"] == 0.5
    assert rows("SELECT value FROM evidence WHERE kind = 'check'") == [{"value": 0.5}]  # not a whole success


def test_an_undecided_answer_is_graded_by_the_learner_at_the_terminal(cli):
    due_card(SHELL)
    result = cli("check", "--skill", "shell", "-n", "1", input=f"4\n{UNSURE}\ny\n")
    assert result.exit_code == 0
    assert "did you get it right?" in result.stdout and "Expected: Only when `make test` exits with status 0" in result.stdout
    assert rows("SELECT correct, score, judge_method FROM check_results") == [{"correct": 1, "score": 1.0, "judge_method": "self"}]
    assert rows("SELECT value FROM evidence WHERE kind = 'check'") == [{"value": 1.0}]


def test_an_undecided_answer_from_a_file_without_self_grade_is_not_recorded(cli):
    cid = due_card(SHELL)
    out = json.loads(
        cli("check", "--skill", "shell", "-n", "1", "--answers", "-", "--json", input=f'[[checks]]\nanswer = "{UNSURE}"\n').stdout
    )
    assert out["answered"] == 0 and out["ungraded"] == [next(c.check_question for c in load_cards() if c.id == SHELL)]
    assert rows("SELECT * FROM evidence") == [] and rows("SELECT reps FROM review_cards WHERE id = ?", cid) == [{"reps": 0}]  # still due
    graded = f'[[checks]]\nanswer = "{UNSURE}"\nself_grade = true\n'
    out = json.loads(cli("check", "--skill", "shell", "-n", "1", "--answers", "-", "--json", input=graded).stdout)
    assert [(c["method"], c["score"]) for c in out["checks"]] == [("self", 1.0)] and out["ungraded"] == []


def test_a_wrong_answer_full_of_keywords_is_recorded_wrong_from_a_file(cli):
    due_card(SHELL)
    text = '[[checks]]\nanswer = "always, no matter whether make test succeeds or exits with a non-zero status"\n'
    out = json.loads(cli("check", "--skill", "shell", "-n", "1", "--answers", "-", "--json", input=text).stdout)
    assert [(c["correct"], c["method"]) for c in out["checks"]] == [(False, "card")]


# -- third round: a "right" is certain only when the answer claims nothing the reference does not -------


def test_keywords_with_a_claim_the_reference_does_not_make_are_left_to_the_learner():
    # the right words about the other thing: "already … before" describes the existing row, not the new one
    assert verdict("sql-upsert", "the row that was already there before you tried to insert") == "uncertain"
    assert verdict("sql-upsert", "the row you tried to insert, its values") == "right"
    # a claim word inside a keyword's own synonym ("never committed" for untracked) adds no claim
    assert verdict("git-stash-work-in-progress", "it was never committed, so plain stash skips it; use git stash -u") == "right"


@pytest.mark.parametrize(
    "card,answer",
    [
        ("python-handle-exceptions", "no difference, Python always shows the original cause anyway"),
        ("sql-group-by-aggregate", "they do the same thing, HAVING is just older; both filter before and after"),
    ],
)
def test_an_answer_that_sees_no_difference_where_the_reference_names_one_is_wrong(card, answer):
    assert verdict(card, answer) == "wrong"


def test_a_yes_no_question_answered_the_other_way_is_wrong_and_the_same_way_is_never_wrong_for_sure():
    assert verdict("testing-coverage", "no, a line that ran has been checked by the assertion") == "wrong"
    assert verdict("testing-coverage", "yes") == "uncertain"  # the reference's own yes: partly right at least
    assert verdict("testing-coverage", "yes, coverage only tells you the line was executed, not that any assertion checked it") != "wrong"


# -- the labelled set ----------------------------------------------------------------------------


def bench():
    spec = importlib.util.spec_from_file_location("bench_judge", ROOT / "bench" / "bench_judge.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_judge"] = module
    spec.loader.exec_module(module)
    return module


def test_the_labelled_set_is_big_enough_and_split_once():
    items = bench().load("all")
    assert len(items) >= 150 and sum(i["split"] == "heldout" for i in items) >= 50
    by_card = {}
    for i in items:
        by_card.setdefault(i["card"], set()).add(i["split"])
    assert all(len(s) == 1 for s in by_card.values())  # split by card: no card on both sides


def test_held_out_agreement_stays_at_the_target():
    figures = bench().run_offline("heldout")["current"]
    assert figures["decided_agreement"] >= 0.90
    assert figures["uncertain_rate"] <= 0.30  # the judge may not reach the target by deciding nothing


def test_the_fresh_held_out_set_is_big_enough_and_varied():
    items = bench().load("fresh")
    assert len(items) >= 80 and {i["split"] for i in items} == {"fresh"}
    assert {"right", "partial", "wrong"} <= {i["verdict"] for i in items}
    assert {"paraphrase", "contradiction", "negated", "number", "vague"} <= {i["kind"] for i in items}


def test_the_second_fresh_held_out_set_is_big_enough_varied_and_mostly_on_new_cards():
    items = bench().load("fresh2")
    assert len(items) >= 120 and {i["split"] for i in items} == {"fresh2"}
    assert {"right", "partial", "wrong"} <= {i["verdict"] for i in items}
    kinds = {"paraphrase", "partial", "contradiction", "referent", "absolute", "negated", "number", "vague"}
    assert kinds <= {i["kind"] for i in items}
    cards = {i["card"] for i in items}
    seen = {i["card"] for split in ("all", "fresh") for i in bench().load(split)}
    assert len(cards) >= 30 and len(cards - seen) >= 15  # at least 15 cards no judge set had used
    assert sum("n't" in i["answer"] for i in items) >= 10  # contractions, the shape the "won't" bug hid in


def test_fresh_held_out_figures_do_not_fall_below_the_reported_ones():
    # reported once, after tuning on labelled.jsonl closed (bench/judge/README.md); a guard against regressions only
    figures = bench().run_offline("fresh")
    # 3 on the one held-out run; 2 after the "won't" fix; 0 once fresh.jsonl became tuning data (third round)
    assert figures["current"]["wrong_judged_right_certain"] == 0
    assert figures["current"]["uncertain_rate"] <= 0.30
    assert figures["current"]["decided_agreement"] >= figures["issue13"]["decided_agreement"]


def test_second_fresh_held_out_figures_do_not_fall_below_the_reported_ones():
    # reported once, after the third round's tuning closed (bench/judge/README.md): a guard against regressions
    # only; the targets (0 wrong judged right with certainty, decided agreement >= 0.90) were not met there
    figures = bench().run_offline("fresh2")
    assert figures["current"]["wrong_judged_right_certain"] <= 8
    assert figures["current"]["decided_agreement"] >= figures["round2"]["decided_agreement"]
    assert figures["current"]["uncertain_rate"] <= 0.40  # coverage stays >= 0.6


def test_a_contracted_will_not_after_a_keyword_denies_it():
    # found on the fresh held-out set after its one run (bench/judge/README.md): "won't" read as "wo not"
    # left the auxiliary unknown, so the denial after the keyword went unseen
    assert verdict("debugging-logging-instead-of-print", "the traceback won't be in the log, it only logs the message") != "right"
    assert verdict("debugging-logging-instead-of-print", "it won't just log the message: it adds the traceback") == "right"
