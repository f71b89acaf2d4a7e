"""`learnflow answer`, `flag` and `appeal`: the learner answers an answer's check right away, flags
answers, and appeals verdicts. Offline (the bundled card's keywords judge), with the loopback model
(a scripted JSON verdict), and at a real terminal (ask offers the check; Enter skips)."""

import json

import pytest
from terminal import Terminal

from learnflow.db.store import Store

QUESTION = "How do I undo my last git commit but keep the changes?"
CARD_CHECK = "After `git reset --soft HEAD~1`, where are the changes from the undone commit?"  # the bundled git card's
MODEL_CHECK = "Where do the changes go after a soft reset?"
JUDGE = "You are judging a learner's answer"
KEY = "Write the reference answer for a retrieval-practice question"
TAGGING = "Classify the user's question"
SECRET = "sk-proj-" + "Ab3Cd4Ef5Gh6Ij7Kl8Mn9Op0Qr1St2Uv3Wx4Yz5" * 2


def rows(sql, *params):
    s = Store()
    try:
        return s.query(sql, params)
    finally:
        s.close()


def ask_offline(cli, *extra):
    result = cli("ask", "--backend", "offline", *extra, QUESTION)
    assert result.exit_code == 0, result.output
    return rows("SELECT max(id) AS id FROM interactions")[0]["id"]


def evidence(source="check_results"):
    return [(r["skill"], r["kind"], r["value"]) for r in rows("SELECT * FROM evidence WHERE source = ? ORDER BY id", source)]


def nothing_stored():
    return rows("SELECT (SELECT count(*) FROM check_results) + (SELECT count(*) FROM review_cards) AS n")[0]["n"] == 0


# -- answer, offline ----------------------------------------------------------------------


def test_an_answer_the_keywords_cannot_judge_is_kept_unjudged_not_guessed(cli):
    """The keyword judge sees "index" and its opposite: it cannot tell, so no verdict becomes evidence."""
    ask_offline(cli)
    out = json.loads(cli("answer", "--json", "they are unstaged: reset --soft moves them out of the index").stdout)
    assert out["correct"] is None and out["method"] == "none" and "could not tell" in out["feedback"]
    assert evidence() == []
    [row] = rows("SELECT correct, source FROM check_results")
    assert row == {"correct": None, "source": "inline"}


def test_a_right_answer_is_judged_by_the_card_stored_inline_and_scheduled(cli):
    iid = ask_offline(cli)
    result = cli("answer", "--json", "They stay staged, in the index")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"id", "skill", "correct", "score", "feedback", "next_due"} <= set(out)
    assert out["skill"] == "git" and out["correct"] is True and out["score"] == 1.0 and out["method"] == "card"
    [row] = rows("SELECT * FROM check_results")
    assert row["id"] == out["id"] and row["source"] == "inline" and row["interaction_id"] == iid
    assert row["question"] == CARD_CHECK and row["answer"] == "They stay staged, in the index"
    assert evidence() == [("git", "check", 1.0), ("git", "review", 0.667)]  # Good
    [card] = rows("SELECT * FROM review_cards")
    assert card["reps"] == 1 and card["due"] == out["next_due"] and card["due"] > row["created_at"]
    assert card["card_id"].startswith("git-") and card["skill"] == "git"  # the bundled card behind the question


def test_the_card_is_reused_and_reflect_does_not_ask_it_again_as_new(cli, tmp_path):
    ask_offline(cli)
    assert cli("answer", "staged in the index").exit_code == 0
    ask_offline(cli, "-c")  # the same question again: the same bundled card
    assert cli("answer", "in the index, staged").exit_code == 0
    assert rows("SELECT count(*) AS n FROM review_cards")[0]["n"] == 1
    assert rows("SELECT reps FROM review_cards")[0]["reps"] == 2
    answers = tmp_path / "a.toml"
    answers.write_text("[[checks]]\nanswer = 'x'\nconfidence = 3\n")
    out = json.loads(cli("reflect", "--since", "1h", "--answers", str(answers), "--json").stdout)
    assert out["checks"] == []  # answered already today, due in days: nothing new to ask


def test_a_wrong_answer_keeps_the_keyword_verdict_and_says_what_was_expected(cli):
    ask_offline(cli)
    result = cli("answer", "they are gone for good")
    assert result.exit_code == 0, result.output
    assert "Not yet (card)" in result.stdout and "Expected: Still in the index (staged)" in result.stdout
    [row] = rows("SELECT * FROM check_results")
    assert row["correct"] == 0 and row["judge_method"] == "card" and row["rating"] == 1
    assert f"learnflow appeal {row['id']}" in result.stdout
    assert evidence() == [("git", "check", 0.0), ("git", "review", 0.0)]


@pytest.mark.parametrize("args", [[], ["-"]])
def test_the_answer_may_come_on_stdin(cli, args):
    ask_offline(cli)
    result = cli("answer", "--json", *args, input="still staged in the index\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["correct"] is True
    assert rows("SELECT answer FROM check_results")[0]["answer"] == "still staged in the index"


def test_i_dont_know_is_judged_wrong_not_refused(cli):
    ask_offline(cli)
    out = json.loads(cli("answer", "--json", "I don't know").stdout)
    assert out["correct"] is False and out["score"] == 0.0


def test_answer_with_no_earlier_ask_is_not_found(cli):
    result = cli("answer", "staged")
    assert result.exit_code == 6 and "Nothing to answer yet" in result.stderr and "learnflow ask" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_id_is_not_found_and_an_answer_without_a_check_is_bad_input(cli):
    ask_offline(cli)
    assert cli("answer", "--id", "99", "x").exit_code == 6
    ask_offline(cli, "--direct")  # a direct answer ends without a check question
    direct = rows("SELECT max(id) AS id FROM interactions")[0]["id"]
    result = cli("answer", "--id", str(direct), "x")
    assert result.exit_code == 3 and f"Answer #{direct} has no check question" in result.stderr
    assert nothing_stored()


def test_the_default_stays_in_the_latest_conversation(cli):
    first = ask_offline(cli)
    ask_offline(cli, "--direct")  # a new conversation, without a check
    result = cli("answer", "staged")
    assert result.exit_code == 3 and f"newest one is answer #{first}" in result.stderr
    assert f"learnflow answer --id {first}" in result.stderr and nothing_stored()
    assert cli("answer", "--id", str(first), "staged in the index").exit_code == 0  # named: any conversation


def test_a_check_is_answered_once(cli):
    ask_offline(cli)
    cli("answer", "gone")
    result = cli("answer", "staged in the index")
    assert result.exit_code == 3 and "already answered (check result #1)" in result.stderr
    assert "learnflow appeal 1" in result.stderr
    assert rows("SELECT count(*) AS n FROM check_results")[0]["n"] == 1


@pytest.mark.parametrize("text, message", [("   ", "The answer is empty"), ("x" * 100_000, "100,000 characters")])
def test_empty_and_huge_answers_are_refused_and_store_nothing(cli, text, message):
    ask_offline(cli)
    result = cli("answer", "--json", input=text)
    assert result.exit_code == 3 and message in result.stderr and "Traceback" not in result.output
    assert nothing_stored() and result.stdout == ""


def test_secrets_in_an_answer_are_redacted_before_they_are_stored(cli):
    ask_offline(cli)
    result = cli("answer", f"staged in the index; my key is {SECRET}")
    assert result.exit_code == 0 and "Redacted 1 secret" in result.stderr
    stored = rows("SELECT answer FROM check_results")[0]["answer"]
    assert SECRET not in stored and "[REDACTED:openai-key]" in stored


def test_the_offline_coachs_general_closing_question_cannot_be_answered(cli, store):
    # The coach closes with this when no skill card fits (rare: it usually finds one).
    cid = store.new_conversation("x")
    i = store.begin_interaction(conversation_id=cid, question="lunch?", backend="offline", mode="teach")
    store.finish_interaction(
        i, answer="...", status="ok", check_question="In one sentence: what will you do next, and how will you know it worked?"
    )
    result = cli("answer", "a sandwich")
    assert result.exit_code == 3 and "general closing question" in result.stderr and nothing_stored()


# -- answer, with a model ---------------------------------------------------------------


@pytest.fixture
def model_answer(cli, openai_env):
    openai_env.rule(TAGGING, {"content": '{"skills": [{"skill": "git", "relevance": 0.9}]}'})
    openai_env.script({"content": f"Use `git reset --soft HEAD~1`.\n\n**Check:** {MODEL_CHECK}"})
    assert cli("ask", QUESTION).exit_code == 0
    return openai_env


def test_the_model_keys_and_judges_an_inline_answer(cli, model_answer):
    model_answer.rule(KEY, {"content": '{"answer": "Staged, in the index.", "keywords": ["staged", "index"]}'})
    model_answer.rule(JUDGE, {"content": '{"correct": true, "score": 0.9, "feedback": "Right: the index is the staging area."}'})
    result = cli("answer", "--json", f"they stay in the staging area {SECRET}")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["correct"] is True and out["score"] == 0.9 and out["method"] == "model" and out["skill"] == "git"
    assert out["feedback"] == "Right: the index is the staging area."
    [judge] = [r for r in model_answer.chat_requests if JUDGE in r["body"]]
    sent = judge["json"]["messages"][-1]["content"]
    assert MODEL_CHECK in sent and "Staged, in the index." in sent and "git reset --soft HEAD~1" in sent
    assert SECRET not in judge["body"] and "[REDACTED:openai-key]" in sent  # redacted before it was sent
    card = rows("SELECT skill, answer, check_keywords, reps FROM review_cards")[0]
    assert card == {"skill": "git", "answer": "Staged, in the index.", "check_keywords": '["staged", "index"]', "reps": 1}


def test_a_model_made_card_with_no_judge_is_kept_unjudged_and_asked_again(cli, model_answer, monkeypatch, tmp_path):
    monkeypatch.setenv("LEARNFLOW_MODEL", "offline")  # later, offline: no key was made, nothing can judge
    result = cli("answer", "--json", "in the staging area")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["correct"] is None and out["method"] == "none" and out["next_due"] is None
    [row] = rows("SELECT * FROM check_results")
    assert row["correct"] is None and row["answer"] == "in the staging area" and row["source"] == "inline"
    assert evidence() == []
    assert cli("appeal", str(row["id"]), "x").exit_code == 3  # no verdict to appeal
    answers = tmp_path / "a.toml"
    answers.write_text("[[checks]]\nanswer = 'staged'\nconfidence = 3\nself_grade = true\n")
    checked = json.loads(cli("check", "--answers", str(answers), "--json").stdout)
    assert [c["question"] for c in checked["checks"]] == [MODEL_CHECK]  # the card stayed due


def test_a_failing_judge_falls_back_to_the_keywords(cli, model_answer):
    model_answer.rule(KEY, {"content": '{"answer": "Staged, in the index.", "keywords": ["staged", "index"]}'})
    model_answer.rule(JUDGE, {"status": 500})
    result = cli("answer", "--json", "staged in the index")
    out = json.loads(result.stdout)
    assert out["correct"] is True and out["method"] == "card"
    assert "judged offline instead" in result.stderr


# -- flag --------------------------------------------------------------------------------


def test_flagging_a_model_answer_is_evidence_and_shows_in_history_and_show(cli, model_answer):
    result = cli("flag", "--json", f"reset has no --force-with-lease option {SECRET}")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["verdict"] == "wrong" and out["interaction_id"] == 1 and out["evidence"] is True
    assert SECRET not in out["reason"] and "[REDACTED:openai-key]" in out["reason"]
    [flag] = rows("SELECT * FROM flags")
    assert flag["reason"] == out["reason"] and flag["verdict"] == "wrong"
    assert evidence("flags") == [("evaluating-ai-output", "flag", 1.0)]
    assert rows("SELECT source_id FROM evidence WHERE source = 'flags'")[0]["source_id"] == flag["id"]
    assert "flagged wrong" in cli("history").stdout
    shown = cli("show", "1")
    assert "flagged wrong" in shown.stdout and "has no --force-with-lease option" in shown.stdout
    assert json.loads(cli("show", "1", "--json").stdout)["flags"][0]["verdict"] == "wrong"


def test_unverified_flag_with_an_id(cli, model_answer):
    result = cli("flag", "--unverified", "1", "could not confirm this in the docs")
    assert result.exit_code == 0 and "as unverified" in result.stderr
    assert rows("SELECT verdict FROM flags")[0]["verdict"] == "unverified"


def test_a_flagged_answer_is_never_reused_from_the_log(store):
    from learnflow.practice import inline

    cid = store.new_conversation("x")
    i = store.begin_interaction(conversation_id=cid, question="undo last git commit", backend="openai")
    store.finish_interaction(i, answer="use git reset --hard HEAD~1", status="ok")
    assert [r["id"] for r in store.related_answers("how to undo a commit in git")] == [i]
    inline.flag(store, "--hard throws the changes away", interaction_id=i)
    assert store.related_answers("how to undo a commit in git") == []


def test_flagging_the_offline_coach_is_kept_but_is_not_evidence(cli):
    ask_offline(cli)
    out = json.loads(cli("flag", "--json", "the card is out of date").stdout)
    assert out["evidence"] is False and rows("SELECT count(*) AS n FROM flags")[0]["n"] == 1
    assert evidence("flags") == []


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["99", "wrong"], 6, "No answer with id 99"),
        (["1"], 3, 'learnflow flag 1 "why"'),
        ([], 3, "The reason is empty"),
        (["1", "x" * 5000], 3, "5,000 characters"),
    ],
)
def test_flag_bad_input(cli, args, code, message):
    ask_offline(cli)
    result = cli("flag", *args)
    assert result.exit_code == code and message in result.stderr and "Traceback" not in result.output
    assert rows("SELECT count(*) AS n FROM flags")[0]["n"] == 0


def test_flag_with_nothing_logged_and_flag_twice(cli):
    assert cli("flag", "wrong").exit_code == 6
    ask_offline(cli)
    assert cli("flag", "wrong").exit_code == 0
    again = cli("flag", "1", "still wrong")
    assert again.exit_code == 3 and "already flagged wrong" in again.stderr


# -- appeal ------------------------------------------------------------------------------


def test_appealing_a_keyword_verdict_replaces_the_evidence_and_keeps_the_old_verdict(cli):
    ask_offline(cli)
    cli("answer", "git keeps them for the next commit")  # a paraphrase the keywords miss
    assert evidence() == [("git", "check", 0.0), ("git", "review", 0.0)]
    created = rows("SELECT created_at FROM check_results")[0]["created_at"]
    result = cli("appeal", "--json", f"that is the index, in other words {SECRET}")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["check_result_id"] == 1 and out["new_correct"] is True and out["new_score"] == 0.8 and out["old_method"] == "card"
    [row] = rows("SELECT * FROM check_results")
    assert (row["correct"], row["score"], row["judge_method"], row["rating"]) == (1, 0.8, "appeal", 3)
    [kept] = rows("SELECT * FROM appeals")
    assert (kept["old_correct"], kept["old_score"], kept["old_method"]) == (0, 0.0, "card")
    assert (kept["new_correct"], kept["new_score"], kept["new_method"]) == (1, 0.8, "appeal")
    assert SECRET not in kept["reason"] and "[REDACTED" in kept["reason"]
    assert evidence() == [("git", "check", 0.8), ("git", "review", 0.667)]  # the appeal's score, graded like any verdict
    from learnflow.timespec import parse_iso

    assert {r["ts"] for r in rows("SELECT ts FROM evidence WHERE source = 'check_results'")} == {
        parse_iso(created).timestamp()
    }  # the answer's time
    again = cli("appeal", "1", "really")
    assert again.exit_code == 3 and "appealed already" in again.stderr


def test_appealing_a_model_verdict(cli, model_answer):
    model_answer.rule(KEY, {"content": '{"answer": "Staged.", "keywords": ["staged"]}'})
    model_answer.rule(JUDGE, {"content": '{"correct": false, "score": 0.1, "feedback": "No."}'})
    rid = json.loads(cli("answer", "--json", "in the index").stdout)["id"]
    out = json.loads(cli("appeal", "--json", str(rid), "the index is where staged changes live").stdout)
    assert out["old_method"] == "model" and out["old_score"] == 0.1 and out["new_correct"] is True


@pytest.mark.parametrize(
    "setup, args, code, message",
    [
        (False, ["x"], 6, "No check answered yet"),
        (True, ["42", "x"], 6, "No check result with id 42"),
        (True, ["1", ""], 3, "The reason is empty"),
    ],
)
def test_appeal_bad_input(cli, setup, args, code, message):
    if setup:
        ask_offline(cli)
        cli("answer", "gone")
    result = cli("appeal", *args)
    assert result.exit_code == code and message in result.stderr and "Traceback" not in result.output
    assert rows("SELECT count(*) AS n FROM appeals")[0]["n"] == 0


def test_a_right_verdict_cannot_be_appealed(cli):
    ask_offline(cli)
    cli("answer", "staged in the index")
    result = cli("appeal", "it was right")
    assert result.exit_code == 3 and "judged right already" in result.stderr


def test_check_shows_the_appeal_command_when_judged_wrong():
    import io

    from rich.console import Console

    from learnflow.practice.checks import CheckResult
    from learnflow.ui.prompter import TerminalAnswers

    terminal = TerminalAnswers()
    terminal.console = Console(file=io.StringIO(), width=120)
    wrong = CheckResult(7, 1, "git", "review", "q", "a", 3, False, 0.0, 1, "Again", "card", "Not quite.", "staged", "2026-01-01", 0.0)
    terminal.show("judged", wrong)
    assert 'learnflow appeal 7 "why"' in terminal.console.file.getvalue()
    terminal.console = Console(file=io.StringIO(), width=120)
    terminal.show("judged", CheckResult(8, 1, "git", "review", "q", "a", 3, True, 1.0, 3, "Good", "card", "", None, "", 2.0))
    assert "appeal" not in terminal.console.file.getvalue()


# -- ask offers the check on a terminal ----------------------------------------------------


def test_ask_offers_the_check_at_a_terminal_and_judges_the_answer():
    term = Terminal.learnflow("ask", "--backend", "offline", QUESTION)
    term.expect("Enter skips")
    assert "Check:" in term.seen.decode(errors="replace")
    term.type("they stay staged in the index")
    term.expect("Next review in")
    assert term.finish() == 0
    [row] = rows("SELECT * FROM check_results")
    assert row["source"] == "inline" and row["correct"] == 1 and row["interaction_id"] == 1


def test_at_a_terminal_a_keyword_wrong_may_be_overruled():
    term = Terminal.learnflow("ask", "--backend", "offline", QUESTION)
    term.expect("Enter skips")
    term.type("git keeps them for the next commit")
    term.expect("Count your answer as right after all?")
    term.type("y")
    assert term.finish() == 0
    [row] = rows("SELECT * FROM check_results")
    assert (row["correct"], row["score"], row["judge_method"]) == (1, 0.8, "self")


def test_enter_skips_the_offered_check():
    term = Terminal.learnflow("ask", "--backend", "offline", QUESTION)
    term.expect("Enter skips")
    term.type("")
    assert term.finish() == 0
    assert rows("SELECT count(*) AS n FROM check_results")[0]["n"] == 0
    assert rows("SELECT status FROM interactions")[0]["status"] == "ok"


def test_the_setting_turns_the_offer_off(cli):
    assert cli("config", "set", "inline_check", "off").exit_code == 0
    term = Terminal.learnflow("ask", "--backend", "offline", QUESTION)
    assert term.finish() == 0
    assert b"Enter skips" not in term.seen and b"soft HEAD~1" in term.seen


def test_no_offer_without_a_terminal_or_with_json(cli):
    result = cli("ask", "--backend", "offline", QUESTION)  # CliRunner: not a terminal
    assert "Enter skips" not in result.output
    term = Terminal.learnflow("ask", "--backend", "offline", "--json", QUESTION)
    assert term.finish() == 0 and b"Enter skips" not in term.seen
    assert rows("SELECT count(*) AS n FROM check_results")[0]["n"] == 0
