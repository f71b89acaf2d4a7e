"""`learnflow check`: checks outside the evening reflection — due reviews, then gap probes."""

import json

from logdb import rows


def test_with_nothing_due_and_no_goals_it_says_how_to_get_started(cli):
    result = cli("check")
    assert result.exit_code == 0
    assert "no goals are set" in result.stderr and "goals role" in result.stderr
    out = json.loads(cli("check", "--json").stdout)
    assert out["answered"] == 0 and out["checks"] == []


def test_after_choosing_a_role_the_first_check_is_a_placement_over_its_skills(cli):
    from learnflow.learner.goals import roles

    skills = set(roles()["data-analyst"].skills)
    chosen = cli("goals", "role", "data-analyst")
    assert chosen.exit_code == 0 and f"learnflow check -n {len(skills)}" in chosen.stderr  # the next step, spelled out
    answers = '[[checks]]\nanswer = "no idea"\nconfidence = 1\n' * len(skills)
    out = json.loads(cli("check", "-n", str(len(skills)), "--answers", "-", "--json", input=answers).stdout)
    assert out["answered"] == len(skills) and out["right"] == 0
    assert {c["skill"] for c in out["checks"]} == skills  # one question on every skill of the role
    assert {c["kind"] for c in out["checks"]} == {"probe"}
    evidence = rows("SELECT skill, count(*) AS n FROM evidence WHERE kind = 'check' GROUP BY skill")
    assert {r["skill"] for r in evidence} == skills and {r["n"] for r in evidence} == {1}
    assert {r["source"] for r in rows("SELECT source FROM check_results")} == {"check"}  # not reflect, not inline
    # Another session goes on measuring with the skills' other cards: never the same question twice in a day.
    again = json.loads(cli("check", "-n", "3", "--answers", "-", "--json", input=answers).stdout)
    assert again["answered"] == 3
    assert not {c["question"] for c in again["checks"]} & {c["question"] for c in out["checks"]}
    gaps = json.loads(cli("gaps", "--json").stdout)
    assert sum(s["summary"]["checks_wrong"] for s in gaps["skills"] if s["skill"] in skills) == len(skills) + 3


def test_answers_run_out_and_the_rest_stay_for_later(cli):
    assert cli("goals", "set", "sql", "0.8").exit_code == 0
    assert cli("goals", "set", "git", "0.8").exit_code == 0
    result = cli("check", "--answers", "-", input='[[checks]]\nanswer = "no idea"\n')
    assert result.exit_code == 0 and "0/1 right" in result.stderr
    assert len(rows("SELECT * FROM check_results")) == 1


def test_a_closed_terminal_keeps_what_was_answered(cli):
    assert cli("goals", "set", "sql", "0.8").exit_code == 0
    assert cli("goals", "set", "git", "0.8").exit_code == 0
    result = cli("check", input="3\nno idea\n")  # the first check answered, then the input ends
    assert result.exit_code == 3 and "1 answered check(s) are kept" in result.stderr
    assert len(rows("SELECT * FROM check_results")) == 1 and rows("SELECT reflection_id FROM check_results")[0]["reflection_id"] is None


def test_one_skill_on_demand_goal_or_not(cli):
    out = json.loads(cli("check", "--skill", "regex", "-n", "2", "--answers", "-", "--json",
                         input='[[checks]]\nanswer = "no idea"\n' * 2).stdout)  # fmt: skip
    assert [c["skill"] for c in out["checks"]] == ["regex", "regex"]
    assert len({c["question"] for c in out["checks"]}) == 2  # two different cards of the skill


def test_an_unknown_skill_is_bad_input_with_a_suggestion(cli):
    result = cli("check", "--skill", "regexp")
    assert result.exit_code == 3 and "regex" in result.stderr


def test_gaps_next_steps_say_how_to_measure_the_skill(cli):
    assert cli("goals", "set", "sql", "0.9").exit_code == 0
    cli("check", "--skill", "sql", "-n", "3", "--answers", "-", input='[[checks]]\nanswer = "no idea"\n' * 3)
    cli("check", "--skill", "sql", "-n", "1", "--answers", "-", input='[[checks]]\nanswer = "no idea"\n')
    report = json.loads(cli("gaps", "--json").stdout)
    (sql,) = [s for s in report["skills"] if s["skill"] == "sql"]
    assert sql["next_step"]["measure"] == "learnflow check --skill sql -n 3"
    assert "Measure" in cli("gaps").stdout


def test_skipped_probes_leave_nothing_behind_and_the_placement_still_reaches_every_skill(cli):
    from learnflow.learner.goals import roles

    skills = set(roles()["data-analyst"].skills)
    cli("goals", "role", "data-analyst")
    skipped = json.loads(cli("check", "--answers", "-", "--json", input="").stdout)  # answers ran out at once
    assert (skipped["offered"], skipped["answered"]) == (5, 0)
    assert rows("SELECT count(*) AS n FROM review_cards") == [{"n": 0}]  # never asked, never kept
    answers = '[[checks]]\nanswer = "no idea"\n' * len(skills)
    out = json.loads(cli("check", "-n", str(len(skills)), "--answers", "-", "--json", input=answers).stdout)
    assert {c["skill"] for c in out["checks"]} == skills


def test_a_closed_terminal_with_json_still_prints_what_was_kept(cli):
    cli("goals", "set", "sql", "0.8")
    cli("goals", "set", "git", "0.8")
    result = cli("check", "--json", input="3\nno idea\n")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["answered"] == 1


def test_asking_for_a_skill_whose_cards_are_all_scheduled_reviews_one_early(cli):
    from learnflow.learner.cards import load_cards

    n = sum(1 for c in load_cards() if c.skill == "regex" and c.check_question)
    cli("check", "--skill", "regex", "-n", str(n), "--answers", "-", input='[[checks]]\nanswer = "x"\nself_grade = true\n' * n)
    again = json.loads(cli("check", "--skill", "regex", "-n", "1", "--answers", "-", "--json",
                           input='[[checks]]\nanswer = "x"\nself_grade = true\n').stdout)  # fmt: skip
    assert [(c["skill"], c["kind"]) for c in again["checks"]] == [("regex", "review")]


def test_a_reflect_answers_file_is_refused_by_check_with_the_right_help(cli):
    result = cli("check", "--answers", "-", input='[reflection]\ntrying = "x"\n')
    assert result.exit_code == 3 and "unknown section(s) reflection" in result.stderr
    assert "learnflow check --help" in result.stderr
