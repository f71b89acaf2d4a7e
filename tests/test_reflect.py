"""`learnflow reflect` and `learnflow reflections` as a user meets them, offline: after a day of
asks, from an answers file and interactively; what is stored, the feedback, the action item."""

import json

import pytest
from logdb import rows

from learnflow.db.store import Store

GIT = "How do I undo my last git commit but keep the changes?"
SQL = "How do I write a SQL join between orders and customers?"
GIT_CHECK = "After `git reset --soft HEAD~1`, where are the changes from the undone commit?"

ANSWERS = """
[reflection]
trying = "Clean up my branch before review"
worked = "Reading git status before every step"
rule = "reset is useful"
action = "be better at git"

[[checks]]
skill = "git"
confidence = 4
answer = "They stay staged, in the index."

[[checks]]
skill = "sql"
confidence = 5
answer = "no idea"

[ratings]
git = 3
sql = 2
"""


@pytest.fixture
def day(cli):
    """A day of offline asks, one of them asked twice, and a failed command."""
    for q in (GIT, SQL, GIT):
        assert cli("ask", q).exit_code == 0
    s = Store()
    s.db["tasks"].insert({"created_at": s.db.execute("SELECT max(created_at) FROM interactions").fetchone()[0],
                          "command": json.dumps(["pytest", "-x"]), "exit_code": 1})  # fmt: skip
    s.close()


def reflect_with(cli, tmp_path, text, *args):
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return cli("reflect", "--since", "1h", "--answers", str(path), *args)


def test_reflect_from_an_answers_file_stores_every_step(cli, day, tmp_path):
    result = reflect_with(cli, tmp_path, ANSWERS, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)

    [r] = rows("SELECT * FROM reflections")
    assert r["id"] == out["id"] and r["status"] == "done" and r["finished_at"]
    summary = json.loads(r["summary"])
    assert summary["questions"] == 3 and summary["skills"][0]["skill"] == "git"
    assert summary["failed_commands"] == [{"id": 1, "command": "pytest -x", "exit_code": 1, "explained_in": None}]
    assert "3 question(s) asked" in r["narrative"] and "`pytest -x` exited 1" in r["narrative"]

    answers = rows("SELECT step, key, question, answer FROM reflection_answers ORDER BY id")
    assert [(a["step"], a["key"]) for a in answers] == [("what", "trying"), ("what", "worked"), ("so_what", "rule"), ("now_what", "action")]
    # The questions adapt to the day: the top skill, and the failed command.
    assert "mostly about Git" in answers[0]["question"]
    assert rows("SELECT text, status FROM action_items") == [{"text": "be better at git", "status": "open"}]
    assert {r["source"] for r in rows("SELECT source FROM check_results")} == {"reflect"}

    # Two cards: the git card asked twice is one card; the right answer is Easy, "no idea" Again.
    cards = rows("SELECT id, skill, card_id, reps, due, fsrs FROM review_cards ORDER BY id")
    assert [(c["skill"], c["card_id"], c["reps"]) for c in cards] == [("git", "git-undo-last-commit", 1), ("sql", cards[1]["card_id"], 1)]
    assert all(json.loads(c["fsrs"])["state"] == 2 and json.loads(c["fsrs"])["due"] for c in cards)
    checks = rows("SELECT skill, question, confidence, correct, score, rating, judge_method FROM check_results ORDER BY id")
    assert checks[0] == {
        "skill": "git",
        "question": GIT_CHECK,
        "confidence": 4,
        "correct": 1,
        "score": 1.0,
        "rating": 4,
        "judge_method": "card",
    }
    assert (checks[1]["skill"], checks[1]["correct"], checks[1]["rating"]) == ("sql", 0, 1)

    evidence = rows("SELECT skill, kind, value, source FROM evidence WHERE source != 'interactions' ORDER BY id")
    assert evidence == [
        {"skill": "git", "kind": "check", "value": 1.0, "source": "check_results"},
        {"skill": "git", "kind": "review", "value": 1.0, "source": "check_results"},
        {"skill": "sql", "kind": "check", "value": 0.0, "source": "check_results"},
        {"skill": "sql", "kind": "review", "value": 0.0, "source": "check_results"},
        {"skill": "git", "kind": "self_rating", "value": 0.5, "source": "skill_ratings"},
        {"skill": "sql", "kind": "self_rating", "value": 0.25, "source": "skill_ratings"},
    ]
    assert rows("SELECT skill, rating FROM skill_ratings ORDER BY id") == [{"skill": "git", "rating": 3}, {"skill": "sql", "rating": 2}]

    # Offline feedback flags the vague plan and the rule that is not a rule, and says so in JSON.
    assert r["feedback_method"] == "rules"
    vague = {i["key"]: i["text"] for i in out["feedback_items"] if i["kind"] == "vague"}
    assert "no concrete next step" in vague["action"] and "a time or a trigger" in vague["action"]
    assert "not a rule" in vague["rule"]
    assert "no concrete next step" in r["feedback"]
    assert out["calibration"]["n"] == 2 and out["calibration"]["session"] == {"n": 2, "right": 1}


def test_a_concrete_plan_and_a_general_rule_are_recognised(cli, day, tmp_path):
    text = ANSWERS.replace(
        '"reset is useful"', '"Before rewriting history, always check whether the branch is shared, because others build on it."'
    )
    text = text.replace('"be better at git"', '"Tomorrow before pushing, I will run `git log -p` to review my commit."')
    out = json.loads(reflect_with(cli, tmp_path, text, "--json").stdout)
    kinds = {(i["kind"], i["key"]) for i in out["feedback_items"]}
    assert ("good", "action") in kinds and ("good", "rule") in kinds
    assert not any(k == "vague" and key in ("action", "rule") for k, key in kinds)


def test_the_failed_command_shapes_the_surprise_question(cli, day, tmp_path):
    out = json.loads(reflect_with(cli, tmp_path, '[reflection]\nsurprised = "It ran the old build"\n', "--json").stdout)
    [answer] = out["answers"]
    assert answer["key"] == "surprised" and "`pytest -x` failed" in answer["question"]


def test_text_output_is_the_markdown_of_the_reflection(cli, day, tmp_path):
    result = reflect_with(cli, tmp_path, ANSWERS)
    assert result.exit_code == 0
    assert "### Now what?" in result.stdout and "- [ ] be better at git" in result.stdout
    assert "Calibration:" in result.stderr


def test_the_action_item_is_shown_at_the_next_ask_once_a_day(cli, day, tmp_path):
    reflect_with(cli, tmp_path, ANSWERS)
    first = cli("ask", SQL)
    assert "you planned to: be better at git" in first.stderr and "learnflow reflect --done 1" in first.stderr
    assert "planned" not in first.stdout  # the answer stays clean
    assert "planned" not in cli("ask", SQL).stderr
    assert "planned" not in cli("ask", "--json", SQL).stderr


def test_the_action_item_is_resolved_at_the_next_reflect_or_with_done(cli, day, tmp_path):
    reflect_with(cli, tmp_path, ANSWERS)
    reflect_with(cli, tmp_path, ANSWERS)  # a second plan, still open
    out = json.loads(reflect_with(cli, tmp_path, "[actions]\ndone = [1]\ndropped = [2]\n", "--json").stdout)
    assert [(a["id"], a["status"]) for a in out["resolved_actions"]] == [(2, "dropped"), (1, "done")]
    reflect_with(cli, tmp_path, ANSWERS)
    result = cli("reflect", "--done", "3")
    assert result.exit_code == 0 and "Marked done: be better at git" in result.stderr
    assert rows("SELECT status FROM action_items ORDER BY id") == [{"status": s} for s in ("done", "dropped", "done")]
    assert cli("reflect", "--done", "99").exit_code == 6


def test_checks_due_from_earlier_days_come_back(cli, day, tmp_path):
    reflect_with(cli, tmp_path, ANSWERS)
    s = Store()
    s.db.execute("UPDATE review_cards SET due = '2000-01-01T00:00:00.000Z'")  # as if days had passed
    s.db.conn.commit()
    s.close()
    out = json.loads(reflect_with(cli, tmp_path, ANSWERS, "--json").stdout)
    assert {c["kind"] for c in out["check_details"]} == {"review"} and len(out["check_details"]) == 2


def test_a_keyword_miss_can_be_overruled_in_the_answers_file(cli, day, tmp_path):
    text = '[[checks]]\nskill = "git"\nconfidence = 5\nanswer = "ready to commit again"\nself_grade = true\n'
    out = json.loads(reflect_with(cli, tmp_path, text, "--json").stdout)
    [c] = out["check_details"]
    assert c["correct"] and c["method"] == "self" and c["rating_name"] == "Good"


def test_reflections_list_json_and_markdown_export(cli, day, tmp_path):
    assert "No reflections yet" in cli("reflections").stderr
    reflect_with(cli, tmp_path, ANSWERS)
    listed = cli("reflections")
    assert listed.exit_code == 0 and "be better at git" in listed.stdout and "1/2" in listed.stdout
    assert "Open action #1" in listed.stderr
    [row] = json.loads(cli("reflections", "--json").stdout)
    assert row["answers"] == 4 and row["checks"] == 2 and row["checks_right"] == 1
    full = json.loads(cli("reflections", "--json", "--id", "1").stdout)
    assert [a["key"] for a in full["answers"]] == ["trying", "worked", "rule", "action"]

    md = cli("reflections", "--export", "md", "--id", "1").stdout
    assert md.startswith("## Reflection #1 — ")
    for part in ("### What happened", "### What?", "**What worked", "### So what?", "### Now what?",
                 "### Retrieval practice", f"- ✓ {GIT_CHECK}", "(confidence 4/5, Easy)", "### Self-ratings",
                 "git 3/5 · sql 2/5", "- [ ] be better at git", "### Feedback (the offline coach)"):  # fmt: skip
        assert part in md, part
    assert cli("reflections", "--export", "md").stdout == md  # the journal of one reflection is that one
    assert cli("reflections", "--export", "pdf").exit_code == 3
    assert cli("reflections", "--id", "7").exit_code == 6


@pytest.mark.parametrize(
    "text,message",
    [
        ("[reflection\n", "not valid TOML"),
        ("[mood]\nok = 1\n", "unknown section(s) mood"),
        ('[reflection]\nfeelings = "fine"\n', "no question feelings"),
        ("[[checks]]\nconfidence = 4\n", "needs answer"),
        ('[[checks]]\nanswer = "x"\nconfidence = 9\n', "from 1 to 5"),
        ("[ratings]\nastrology = 3\n", "unknown skill 'astrology'"),
        ("[actions]\ndone = 3\n", "list of action ids"),
    ],
)
def test_a_bad_answers_file_is_bad_input_and_writes_nothing(cli, tmp_path, text, message):
    result = reflect_with(cli, tmp_path, text)
    assert result.exit_code == 3 and message in result.stderr and "Hint:" in result.stderr
    assert rows("SELECT id FROM reflections") == []


def test_missing_answers_file_and_bad_since(cli, tmp_path):
    missing = cli("reflect", "--answers", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 3 and "Cannot read the answers file" in missing.stderr
    bad = cli("reflect", "--since", "soon")
    assert bad.exit_code == 3 and "--since 'soon' is not a time" in bad.stderr and "2d, 12h" in bad.stderr


def test_a_quiet_day_still_reflects_with_answers_on_stdin(cli):
    text = '[reflection]\naction = "Tomorrow at 9 I will write the test first"\n'
    out = json.loads(cli("reflect", "--answers", "-", "--json", input=text).stdout)
    assert "Nothing was logged" in out["narrative"] and out["checks"] == []
    assert out["answers"][0]["question"] == "What will you try tomorrow?"


# -- interactive ---------------------------------------------------------------------------


def test_interactive_reflection_walks_the_loop(cli, day):
    lines = [
        "I wanted a clean branch",  # What were you trying to get done?
        "",  # What worked: skipped
        "That pytest ran the old build",  # surprised (the failed command)
        "When a fix changes nothing, check which copy of the code runs, because stale installs lie.",
        "Tomorrow morning I will run `pip install -e .` before testing.",
        "4", "staged, in the index",  # check 1 (git): confidence, answer
        "s",  # check 2 (sql): skipped, stays due
        "3", "",  # self-ratings: git 3, sql skipped
    ]  # fmt: skip
    result = cli("reflect", "--since", "1h", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for shown in ("What happened", "What?", "So what?", "Now what?", "Check 1/2", "✓ Right", "Next review in",
                  "Rate yourself", "Feedback (offline coach)", "Your plan is concrete"):  # fmt: skip
        assert shown in out, shown
    assert "Saved as reflection #1" in result.stderr
    assert [a["key"] for a in rows("SELECT key FROM reflection_answers ORDER BY id")] == ["trying", "surprised", "rule", "action"]
    assert rows("SELECT skill, correct FROM check_results") == [{"skill": "git", "correct": 1}]
    assert rows("SELECT skill, rating FROM skill_ratings") == [{"skill": "git", "rating": 3}]


def test_interactive_shows_open_actions_first_and_marks_them(cli, day, tmp_path):
    reflect_with(cli, tmp_path, ANSWERS)
    result = cli("reflect", "--since", "1h", input="y\n")  # input ends after the first answer
    assert "you planned to: be better at git" in result.stdout
    assert result.exit_code == 3 and "Nothing was answered, so no reflection was kept" in result.stderr and "--answers" in result.stderr
    assert rows("SELECT status FROM action_items") == [{"status": "done"}]  # the action's own row keeps its status
    assert rows("SELECT id FROM reflections") == [{"id": 1}]  # no empty interrupted reflection #2


def test_an_interrupted_reflection_can_be_resumed_where_it_stopped(cli, day):
    first = cli("reflect", "--since", "1h", input="Clean up my branch\n")  # one answer, then the input ends
    assert first.exit_code == 3 and "learnflow reflect --resume" in first.stderr
    rest = [
        "", "", "", "Tomorrow at 9 I will run `git log` before pushing.",  # worked, surprised, rule: skipped; action
        "4", "staged, in the index", "s",  # check 1 (git) answered, check 2 skipped
        "3", "",  # ratings
    ]  # fmt: skip
    resumed = cli("reflect", "--resume", input="\n".join(rest) + "\n")
    assert resumed.exit_code == 0, resumed.output
    assert "What were you trying" not in resumed.stdout  # answered before the interruption: not asked again
    assert "Saved as reflection #1" in resumed.stderr
    assert rows("SELECT id, status FROM reflections") == [{"id": 1, "status": "done"}]  # the same reflection, finished
    assert [a["key"] for a in rows("SELECT key FROM reflection_answers ORDER BY id")] == ["trying", "action"]
    assert rows("SELECT skill, correct FROM check_results") == [{"skill": "git", "correct": 1}]


def test_resume_with_nothing_interrupted_says_so(cli):
    result = cli("reflect", "--resume")
    assert result.exit_code == 6 and "No interrupted reflection" in result.stderr


def test_interactive_with_json_keeps_stdout_for_json(cli, day):
    result = cli("reflect", "--since", "1h", "--json", input="\n" * 5 + "s\ns\n\n\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "done"
    assert "What happened" in result.stderr


def test_e_opens_the_editor_for_a_longer_answer(cli, day, tmp_path, monkeypatch):
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'First I reset.\\nThen I re-committed.\\n# a comment line\\n' > \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setenv("VISUAL", str(editor))
    result = cli("reflect", "--since", "1h", input="e\n")  # then input runs out: interrupted, answer kept
    assert result.exit_code == 3
    assert rows("SELECT key, answer FROM reflection_answers") == [{"key": "trying", "answer": "First I reset.\nThen I re-committed."}]


def test_a_broken_questions_override_is_a_config_error_before_anything_is_written(cli, home, tmp_path):
    (home / "prompts").mkdir(parents=True)
    (home / "prompts" / "reflect-questions.md").write_text("## trying\nstep: later\nWhat?\n")
    result = cli("reflect", "--since", "1h", input="\n")
    assert result.exit_code == 4 and "reflect-questions.md" in result.stderr and "step is one of" in result.stderr
    assert rows("SELECT id FROM reflections") == []


def test_a_missing_editor_falls_back_to_one_line(cli, day, monkeypatch):
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")
    monkeypatch.setenv("VISUAL", "/nonexistent/editor")
    result = cli("reflect", "--since", "1h", input="e\nOne line then\n")
    assert "The editor did not open" in result.stdout
    assert rows("SELECT answer FROM reflection_answers") == [{"answer": "One line then"}]
