"""`learnflow gaps` and `learnflow goals` as a user meets them: text that fits 80 columns, JSON, errors."""

import io
import json
import subprocess
import sys
import time

import pytest

from learnflow.learner.profile import DAY


@pytest.fixture
def logged(store):
    """A fortnight: weak at sql (asked a lot), strong at git, self-rated middling at evaluating AI output,
    a single check on containers (a number, but uncertain), and only questions on docker (no number)."""
    now = time.time()
    rows = []
    for day in range(14):
        ts = now - day * DAY - 3600
        rows += [{"ts": ts, "skill": "sql", "kind": "check", "value": float(day % 3 == 0)},
                 {"ts": ts, "skill": "sql", "kind": "question_how", "value": 0.9},
                 {"ts": ts, "skill": "git", "kind": "check", "value": 1.0},
                 {"ts": ts, "skill": "evaluating-ai-output", "kind": "self_rating", "value": 0.5}]  # fmt: skip
    rows.append({"ts": now - 3600, "skill": "containers", "kind": "check", "value": 0.0})
    rows += [{"ts": now - 3600, "skill": "cloud", "kind": "question_how", "value": 0.9}] * 3
    store.add_evidence(rows)
    return store


def lines(text):
    return text.rstrip("\n").splitlines()


def test_empty_log_says_what_to_do(cli):
    result = cli("gaps")
    assert result.exit_code == 0
    assert "No evidence yet" in result.stdout and "learnflow goals role" in result.stdout


def test_report_ranks_gaps_and_says_what_next(cli, logged):
    cli("goals", "set", "sql", "0.8", "--importance", "2")
    out = cli("gaps").stdout
    table = out.split("Not measured yet")[0]
    assert table.index(" sql ") < table.index(" git ")
    containers = next(line for line in lines(table) if " containers " in line)
    assert "0.33?" in containers and "━●━" in containers  # one wrong check: a number, its interval, marked uncertain
    assert "? uncertain (wide interval, little evidence): containers, evaluating-ai-output." in " ".join(out.split())
    assert "Not measured yet" in out and "cloud: 3 how-questions on cloud" in out
    assert "What next" in out and "1. sql · teach me at novice level" in out
    assert "9 wrong and 5 right checks on sql, 14 how-questions in the last 30 days" in " ".join(out.split())
    assert "https://www.postgresql.org/docs/current/tutorial-sql.html" in out
    assert any(ch in out for ch in "▁▂▃▄▅▆▇█")


def test_terminal_report_fits_80_columns(cli, logged, monkeypatch):
    cli("goals", "role", "backend-developer")
    monkeypatch.setenv("COLUMNS", "80")
    for args in (["gaps"], ["gaps", "--skill", "sql"], ["goals", "list"]):
        out = cli(*args).stdout
        assert max(len(line) for line in lines(out)) <= 80, args
    from learnflow.db.store import Store
    from learnflow.learner.gaps import build_report
    from learnflow.ui import gaps as render_gaps

    buf = io.StringIO()
    render_gaps.print_report(build_report(Store()), render_gaps.console(file=buf, width=80))
    assert max(len(line) for line in lines(buf.getvalue())) <= 80
    assert "\x1b[" not in buf.getvalue()  # not a terminal: no colour codes


def test_json_has_numbers_uncertainty_trend_and_next_steps(cli, logged):
    data = json.loads(cli("gaps", "--json", "--since", "2w").stdout)
    assert set(data) >= {"now", "since", "since_days", "weeks", "params", "top", "uncertain", "not_measured", "skills"}
    assert data["since_days"] == pytest.approx(14, abs=0.01) and len(data["weeks"]) == 12 and data["as_of"] is False
    assert data["top"] == ["sql", "containers", "evaluating-ai-output"]
    assert data["uncertain"] == ["containers", "evaluating-ai-output"]
    assert data["not_measured"] == data["not_enough_evidence"] == ["cloud"]
    sql = data["skills"][0]
    assert sql["skill"] == "sql" and sql["status"] == "ok" and sql["rank"] == 1
    assert 0 < sql["low"] < sql["mastery"] < sql["high"] < 1 and 0.5 < sql["p_below"] <= 1
    assert len(sql["history"]) == 12 and sql["history"][-1] == pytest.approx(sql["mastery"], abs=1e-4)
    assert sql["summary"]["checks_wrong"] == 9 and sql["summary"]["questions_how"] == 14
    assert sql["next_step"]["card_id"].startswith("sql-") and sql["next_step"]["docs"]
    one = next(s for s in data["skills"] if s["skill"] == "containers")
    assert one["status"] == "uncertain" and one["low"] < one["mastery"] < one["high"] and one["high"] - one["low"] > 0.4
    thin = next(s for s in data["skills"] if s["skill"] == "cloud")
    assert thin["status"] == "not measured" and thin["mastery"] is None and thin["gap"] is None
    assert data["params"]["half_life_days"] == 30


def test_one_skill_shows_weekly_history(cli, logged):
    out = cli("gaps", "--skill", "git").stdout
    assert "Git and version control (git)" in out and "rank 4 of 4" in out
    assert "Weekly history" in out and out.count("no evidence yet") == 1  # 12 weeks, 2 with evidence: one line for the 10
    assert "no evidence yet (the 10 weeks to" in out
    assert "What next" in out


def test_bad_skill_and_bad_since_are_bad_input(cli):
    result = cli("gaps", "--skill", "gti")
    assert result.exit_code == 3 and "Did you mean git?" in result.stderr
    result = cli("gaps", "--since", "soon")
    assert result.exit_code == 3 and "--since 'soon'" in result.stderr


def test_goals_commands(cli):
    assert cli("goals", "set", "sql", "0.8", "--importance", "1.5").exit_code == 0
    bad = cli("goals", "set", "sql", "80")
    assert bad.exit_code == 3 and "between 0 and 1" in bad.stderr
    assert cli("goals", "role", "data-analyst").exit_code == 0
    rows = {g["skill"]: g for g in json.loads(cli("goals", "list", "--json").stdout)}
    assert rows["sql"]["target"] == 0.8 and rows["sql"]["source"] == "user"
    assert rows["data-analysis"]["source"] == "role:data-analyst"
    assert "backend-developer" in cli("goals", "role").stdout
    missing = cli("goals", "role", "wizard")
    assert missing.exit_code == 6 and "Bundled roles:" in missing.stderr
    assert cli("goals", "unset", "sql").exit_code == 0
    assert "sql" not in {g["skill"] for g in json.loads(cli("goals", "list", "--json").stdout)}


def test_goals_set_and_unset_speak_json_for_scripts(cli):
    goal = json.loads(cli("goals", "set", "git", "0.9", "--json").stdout)
    assert (goal["skill"], goal["target"], goal["importance"], goal["source"]) == ("git", 0.9, 1.0, "user")
    assert json.loads(cli("goals", "unset", "git", "--json").stdout) == {"skill": "git", "removed": True}
    assert json.loads(cli("goals", "unset", "git", "--json").stdout) == {"skill": "git", "removed": False}


def test_html_report_is_self_contained(cli, logged, tmp_path):
    path = tmp_path / "report.html"
    result = cli("gaps", "--html", str(path))
    assert result.exit_code == 0 and f"Wrote {path}" in result.stderr
    page = path.read_text()
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "Chart.js v4.6.1" in page and "sourceMappingURL" not in page
    data = json.loads(page.split('<script type="application/json" id="gaps-data">')[1].split("</script>")[0])
    assert data["top"][0] == "sql"
    folder = cli("gaps", "--html", str(tmp_path))
    assert folder.exit_code == 3 and "is a folder" in folder.stderr


def test_hostile_skill_names_are_escaped_in_html(store, tmp_path):
    from learnflow.learner.gaps import build_report
    from learnflow.ui.html import render

    store.add_evidence([{"skill": "</script><b>x", "kind": "check", "value": 0.0}] * 5)
    page = render(build_report(store))
    assert "</script><b>x" not in page and "&lt;/script&gt;&lt;b&gt;x" in page


def test_help_and_ask_do_not_import_the_model():
    code = "import sys, learnflow.cli.app; print(sorted(m for m in sys.modules if m.startswith('learnflow.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("learnflow.learner.profile", "learnflow.learner.gaps", "learnflow.ui.html", "learnflow.ui.gaps"):
        assert heavy not in loaded


def test_the_report_reads_the_log_without_importing_sqlite_utils(cli, logged):
    """sqlite-utils costs ~0.06 s to import; `gaps` reads plain SQL on an up-to-date log."""
    code = ("import sys\nfrom learnflow.cli.app import main\nsys.argv = ['learnflow', 'gaps', '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('sqlite_utils' in sys.modules, file=sys.stderr)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["skills"] and done.stderr.strip().endswith("False")


def test_after_a_placement_every_role_skill_has_a_number(cli, monkeypatch):
    """`goals role backend-developer && learnflow check -n 12`: the README's promise, every skill measured."""
    from learnflow.learner.goals import roles

    skills = set(roles()["backend-developer"].skills)
    cli("goals", "role", "backend-developer")
    # Wrong, right, unsure: the offline judge grades by the card's key words; a self-grade settles the rest.
    answers = "".join(f'[[checks]]\nanswer = "no idea"\nconfidence = 2\nself_grade = {str(i % 3 == 0).lower()}\n'
                      for i in range(len(skills)))  # fmt: skip
    done = json.loads(cli("check", "-n", str(len(skills)), "--answers", "-", "--json", input=answers).stdout)
    assert done["answered"] == len(skills) == 12
    report = json.loads(cli("gaps", "--json").stdout)
    rows = {s["skill"]: s for s in report["skills"]}
    assert set(rows) == skills and report["not_measured"] == [] and report["ranked_count"] == 12
    for s in rows.values():
        assert s["mastery"] is not None and s["low"] < s["mastery"] < s["high"] and s["status"] == "uncertain"
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("gaps").stdout
    assert "Not measured yet" not in out and "uncertain (wide interval, little evidence): every skill so far" in " ".join(out.split())
    table = [line for line in lines(out.split("Mastery: chance")[0]) if line.strip()[:1].isdigit()]
    assert len(table) == 12 and all("━" in line and "●" in line and "?" in line for line in table)  # a bar and a mark on every row


@pytest.fixture
def timeline(store):
    """sql: a right check 10 days ago, wrong ones 5 days ago, on the morning of day -2 and that afternoon."""
    from datetime import UTC, datetime

    day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp() - 2 * DAY
    rows = [{"ts": day0 - 10 * DAY + 36000, "skill": "sql", "kind": "check", "value": 1.0},
            {"ts": day0 - 5 * DAY + 36000, "skill": "sql", "kind": "check", "value": 0.0},
            {"ts": day0 - 5 * DAY + 36000, "skill": "git", "kind": "self_rating", "value": 0.75},
            {"ts": day0 + 10 * 3600, "skill": "sql", "kind": "check", "value": 0.0},
            {"ts": day0 + 16 * 3600, "skill": "sql", "kind": "check", "value": 0.0},
            {"ts": day0 + 16 * 3600, "skill": "docker", "kind": "check", "value": 1.0}]  # fmt: skip
    store.add_evidence(rows)
    return day0, rows


def test_as_of_is_the_report_as_it_was_then_later_evidence_ignored(store, timeline, tmp_path):
    """The report at noon of day -2 equals a report, at the same moment, of a log that stopped there."""
    from learnflow.db.store import Store
    from learnflow.learner.gaps import build_report

    day0, rows = timeline
    noon = day0 + 12 * 3600
    past = build_report(store, as_of=noon).to_dict()
    other = Store(tmp_path / "cut.db")
    other.add_evidence([r for r in rows if r["ts"] <= noon])
    cut = build_report(other, now=noon).to_dict()
    assert past["as_of"] is True and past["now"] == cut["now"]
    assert [s["skill"] for s in past["skills"]] == ["sql", "git"]  # docker came that afternoon
    for a, b in zip(past["skills"], cut["skills"]):
        a.pop("next_step"), b.pop("next_step")
        assert a == b
    sql = past["skills"][0]
    assert sql["summary"]["checks_wrong"] == 2 and sql["summary"]["checks_right"] == 1  # the 16:00 check is not there
    assert sql["summary"]["last_seen"] == past["now"][:10]


def test_as_of_on_the_command_line(cli, timeline, monkeypatch):
    day0, _ = timeline
    data = json.loads(cli("gaps", "--as-of", "3d", "--json").stdout)
    assert data["as_of"] is True and abs(time.time() - 3 * DAY - datetime_ts(data["now"])) < 5
    assert [s["skill"] for s in data["skills"]] == ["sql", "git"]
    assert data["skills"][0]["summary"]["checks_wrong"] == 1  # only the check of day -5
    assert data["reliance"]["now"] == data["now"]  # the reliance view ends at the same moment
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("gaps", "--as-of", "3d").stdout
    assert out.startswith(f"Skill profile · as of {data['now'][:10]}") and " docker " not in out
    assert "docker" not in cli("gaps", "--as-of", "3d", "--skill", "sql").stdout
    bad = cli("gaps", "--as-of", "soon")
    assert bad.exit_code == 3 and "--as-of 'soon'" in bad.stderr
    future = cli("gaps", "--as-of", "2999-01-01")
    assert future.exit_code == 3 and "in the future" in future.stderr


def datetime_ts(text: str) -> float:
    from learnflow.timespec import parse_iso

    return parse_iso(text).timestamp()


def test_the_evidence_line_names_the_work_as_evidence(cli, store):
    """Only `lf` runs, attempts, repeats and flags on a skill: the report says so, not "no evidence"."""
    store.add_evidence(
        [{"skill": "shell", "kind": "task", "value": v} for v in (1.0, 1.0, 0.0)]
        + [{"skill": "shell", "kind": "attempt", "value": 0.5}, {"skill": "shell", "kind": "repeat", "value": 0.0}]
    )
    out = cli("gaps", "--skill", "shell").stdout
    assert "no evidence on shell" not in out
    assert "3 commands run (1 failed)" in out and "1 try-first attempt" in out and "1 question asked again" in out
    summary = next(s for s in json.loads(cli("gaps", "--json").stdout)["skills"] if s["skill"] == "shell")["summary"]
    assert (summary["tasks_ok"], summary["tasks_failed"], summary["attempts"], summary["repeats"]) == (2, 1, 1, 1)
