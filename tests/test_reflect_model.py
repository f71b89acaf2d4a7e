"""`learnflow reflect` with a model: a day of asks answered by the loopback server, then the
narrative, the answer key, the judge and the feedback come from scripted JSON. Asserts what was
sent and what was stored, and that a failing model falls back to the offline coach."""

import json

import pytest

from learnflow.db.store import Store

TAGGING = "Classify the user's question"
NARRATIVE = "Turn them into a short narrative"
KEY = "Write the reference answer for a retrieval-practice question"
JUDGE = "You are judging a learner's answer"
FEEDBACK = "giving feedback on someone's end-of-day reflection"

QUESTION = "How do I undo my last git commit but keep the changes?"
CHECK = "Where do the changes go after a soft reset?"

ANSWERS = """
[reflection]
trying = "Untangle a commit I made on the wrong branch"
rule = "Before undoing a commit, check whether it was pushed."
action = "Tomorrow I will try git reflog on a scratch repo."

[[checks]]
confidence = 3
answer = "They stay in the staging area"

[ratings]
git = 4
"""


def requests_for(server, marker):
    return [r for r in server.chat_requests if marker in r["body"]]


def prompt_of(request):
    return request["json"]["messages"][-1]["content"]


@pytest.fixture
def model_day(cli, openai_env, tmp_path):
    openai_env.rule(TAGGING, {"content": '{"skills": [{"skill": "git", "relevance": 0.9}]}'})
    openai_env.script({"content": f"Use `git reset --soft HEAD~1`.\n\n**Check:** {CHECK}"})
    assert cli("ask", QUESTION).exit_code == 0
    path = tmp_path / "answers.toml"
    path.write_text(ANSWERS)
    return path


def test_the_model_narrates_keys_judges_and_gives_feedback(cli, openai_env, model_day):
    openai_env.rule(NARRATIVE, {"content": "You spent the afternoon untangling a git commit."})
    openai_env.rule(KEY, {"content": '{"answer": "Staged, in the index.", "keywords": ["staged", "index"]}'})
    openai_env.rule(JUDGE, {"content": '{"correct": true, "score": 0.9, "feedback": "Right: the staging area is the index."}'})
    openai_env.rule(FEEDBACK, {"content": json.dumps({
        "insightful": "Checking whether a commit was pushed is the rule that matters.",
        "vague": "", "suggestion": "Try reflog on a throwaway repository first."})})  # fmt: skip

    result = cli("reflect", "--since", "1h", "--answers", str(model_day), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)

    # What was sent: the facts of the day, the source answer, the learner's answer, the reflection.
    [narrative] = requests_for(openai_env, NARRATIVE)
    assert QUESTION in prompt_of(narrative) and narrative["json"]["model"] == "my-model"
    [key] = requests_for(openai_env, KEY)
    assert CHECK in prompt_of(key) and "git reset --soft HEAD~1" in prompt_of(key)
    assert key["json"]["response_format"] == {"type": "json_object"}
    [judge] = requests_for(openai_env, JUDGE)
    sent = prompt_of(judge)
    assert CHECK in sent and "Staged, in the index." in sent and "They stay in the staging area" in sent
    assert "confidence" not in sent.lower().split("the learner's answer")[-1]  # the judge is not told how sure they were
    [feedback] = requests_for(openai_env, FEEDBACK)
    assert "check whether it was pushed" in prompt_of(feedback) and "git reflog on a scratch repo" in prompt_of(feedback)

    # What was stored.
    s = Store()
    r = s.db["reflections"].get(out["id"])
    assert r["narrative"] == "You spent the afternoon untangling a git commit."
    assert r["backend"] == "openai" and r["model"] == "openai/my-model"
    assert r["feedback_method"] == "model" and "reflog on a throwaway" in r["feedback"]
    card = s.db.execute("SELECT skill, answer, check_keywords, card_id, reps FROM review_cards").fetchone()
    assert card == ("git", "Staged, in the index.", '["staged", "index"]', None, 1)
    check = s.db.execute("SELECT correct, score, rating, judge_method, feedback FROM check_results").fetchone()
    assert check == (1, 0.9, 3, "model", "Right: the staging area is the index.")
    assert [i["kind"] for i in out["feedback_items"]] == ["good", "suggestion"]  # the empty "vague" is dropped
    assert out["warnings"] == []
    s.close()


def test_a_failing_model_falls_back_to_the_offline_coach(cli, openai_env, model_day):
    for marker in (NARRATIVE, JUDGE, FEEDBACK):
        openai_env.rule(marker, {"status": 500})
    openai_env.rule(KEY, {"content": "Sure! The answer is that the changes are staged."})  # not JSON

    result = cli("reflect", "--since", "1h", "--answers", str(model_day), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "1 question(s) asked" in out["narrative"]  # the offline list
    assert out["feedback_method"] == "rules"
    # No key and no judge: the card cannot be judged offline, and the file gave no self_grade.
    assert out["checks"] == []
    assert len(out["warnings"]) >= 3 and "used the offline coach instead" in result.stderr


def test_offline_later_a_model_made_card_is_self_graded(cli, openai_env, model_day, monkeypatch, tmp_path):
    # The card is made today with a model; tomorrow's review happens offline.
    openai_env.rule(KEY, {"status": 500})
    openai_env.rule(JUDGE, {"status": 500})
    cli("reflect", "--since", "1h", "--answers", str(model_day))  # no self_grade: check left due
    monkeypatch.setenv("LEARNFLOW_MODEL", "offline")
    path = tmp_path / "later.toml"
    path.write_text('[[checks]]\nconfidence = 2\nanswer = "staged?"\nself_grade = true\n')
    # The default period starts at the last reflection: the card is now a review from earlier.
    out = json.loads(cli("reflect", "--answers", str(path), "--json").stdout)
    [c] = out["check_details"]
    assert c["method"] == "self" and c["correct"] and c["rating_name"] == "Hard" and c["kind"] == "review"
