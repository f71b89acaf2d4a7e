"""The CLI as a user meets it: first run, help, history, show, config, prompts, errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from learnflow import __version__

QUESTION = "How do I undo my last git commit but keep the changes?"


def test_first_run_answers_offline_and_logs_it(cli):
    result = cli("ask", QUESTION)
    assert result.exit_code == 0
    assert "git reset --soft HEAD~1" in result.stdout
    assert "offline coach" in result.stdout
    listed = cli("history")
    assert listed.exit_code == 0 and "How do I undo my last git commit" in listed.stdout


def test_every_command_and_subcommand_has_help_that_teaches(cli):
    from typer.main import get_command

    from learnflow.cli.app import app

    def walk(group, path):
        for name, command in group.commands.items():
            assert command.help and len(command.help) > 20, f"{' '.join([*path, name])} lacks help"
            assert cli(*path, name, "--help").exit_code == 0
            if hasattr(command, "commands"):
                walk(command, [*path, name])

    walk(get_command(app), [])


def test_version(cli):
    assert cli("--version").stdout.strip() == f"learnflow {__version__}"


def test_empty_question_is_bad_input(cli):
    result = cli("ask", "   ")
    assert result.exit_code == 3
    assert "The question is empty" in result.stderr


@pytest.mark.parametrize("path,message", [("/nonexistent/x.py", "File not found"), ("/", "is a directory")])
def test_bad_file_is_bad_input(cli, path, message):
    result = cli("ask", "-f", path, "what is this?")
    assert result.exit_code == 3 and message in result.stderr
    assert json.loads(cli("history", "--json").stdout) == []  # nothing half-written


def test_invalid_level_and_unknown_backend(cli):
    assert cli("ask", "--level", "guru", "x").exit_code == 3
    result = cli("ask", "--backend", "nope", "x")
    assert result.exit_code == 6 and "Unknown backend 'nope'" in result.stderr


def test_history_search_skill_and_json(cli):
    cli("ask", QUESTION)
    cli("ask", "How do I write a SQL join between orders and customers?")
    rows = json.loads(cli("history", "--json").stdout)
    assert len(rows) == 2 and rows[0]["question"].startswith("How do I write a SQL join")
    assert [r["id"] for r in json.loads(cli("history", "-q", "join", "--json").stdout)] == [rows[0]["id"]]
    assert [r["id"] for r in json.loads(cli("history", "--skill", "git", "--json").stdout)] == [rows[1]["id"]]
    assert json.loads(cli("history", "-n", "1", "--json").stdout)[0]["id"] == rows[0]["id"]


def test_show_prints_question_and_answer(cli):
    cli("ask", QUESTION)
    result = cli("show", "1")
    assert result.exit_code == 0
    assert QUESTION in result.stdout and "git reset --soft" in result.stdout
    assert json.loads(cli("show", "1", "--json").stdout)["skills"][0]["skill"] == "git"
    missing = cli("show", "42")
    assert missing.exit_code == 6 and "No interaction with id 42" in missing.stderr


def test_config_set_get_validates_and_is_private(cli):
    assert cli("config", "set", "default_level", "expert").exit_code == 0
    assert cli("config", "get", "default_level").stdout.strip() == "expert"
    assert cli("config", "set", "levels.git", "intermediate").exit_code == 0
    assert cli("config", "get", "levels.git").stdout.strip() == "intermediate"
    bad = cli("config", "set", "default_level", "guru")
    assert bad.exit_code == 3 and "must be one of" in bad.stderr
    typo = cli("config", "set", "modle", "x")
    assert typo.exit_code == 3 and "Unknown setting" in typo.stderr
    from learnflow import paths

    assert oct(paths.config_path().stat().st_mode & 0o777) == "0o600"


def test_configured_level_changes_the_offline_answer(cli):
    cli("config", "set", "levels.git", "expert")
    assert "How would you approach it?" in cli("ask", QUESTION).stdout


def test_malformed_config_names_file_and_line(cli):
    from learnflow import paths

    paths.config_path().parent.mkdir(parents=True, exist_ok=True)
    paths.config_path().write_text('model = "openai/x"\nthis is not toml\n')
    result = cli("ask", QUESTION)
    assert result.exit_code == 4
    assert str(paths.config_path()) in result.stderr and "line 2" in result.stderr


def test_prompts_lists_sources_and_user_override_wins(cli):
    rows = json.loads(cli("prompts", "--json").stdout)
    assert {r["name"] for r in rows} >= {"system", "level-novice", "level-intermediate", "level-expert", "direct", "tagging"}
    assert all(r["source"] == "bundled" for r in rows)
    assert cli("prompts", "offline", "--copy").exit_code == 0
    from learnflow import paths

    (paths.user_prompts_dir() / "offline.md").write_text("_My own offline footer._")
    rows = {r["name"]: r for r in json.loads(cli("prompts", "--json").stdout)}
    assert rows["offline"]["source"] == "user"
    assert "_My own offline footer._" in cli("ask", QUESTION).stdout


def test_models_explains_the_default(cli):
    data = json.loads(cli("models", "--json").stdout)
    assert data["default"]["model"] == "offline"
    assert "no model configured" in data["default"]["reason"]
    assert {m["backend"] for m in data["models"]} >= {"offline", "openai", "litellm"}


def test_model_from_env_is_the_default(cli, monkeypatch):
    monkeypatch.setenv("LEARNFLOW_MODEL", "anthropic/claude-3-5-haiku-latest")
    data = json.loads(cli("models", "--json").stdout)["default"]
    assert data == {**data, "model": "anthropic/claude-3-5-haiku-latest", "backend": "litellm"}
    assert "LEARNFLOW_MODEL" in data["reason"]


def test_console_script_and_python_m_work_in_a_real_process(home, server, tmp_path):
    """The installed entry points, a real pipe on stdin, and the network guard in the child."""
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.url,
        "OPENAI_API_KEY": "sk-proc",
        "LEARNFLOW_MODEL": "openai/proc-model",
    }
    server.rule("Classify the user's question", {"content": '{"skills": ["testing"]}'})
    server.set_default({"content": "It fails because of the assertion.\n\n**Check:** What does the test pin down?"})
    proc = subprocess.run(
        [sys.executable, "-m", "learnflow", "ask", "why does this test fail?"],
        input=b"E   AssertionError: assert 1 == 2\n",
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"It fails because of the assertion." in proc.stdout
    assert b"\x1b[" not in proc.stdout  # piped: plain text, no colour codes
    answered = [r for r in server.chat_requests if "Classify" not in r["body"]]
    assert "AssertionError" in answered[0]["json"]["messages"][-1]["content"]
    script = Path(sys.executable).parent / "learnflow"  # the console script pip installed
    hist = subprocess.run([str(script), "history", "--json"], capture_output=True, env=env, timeout=60)
    assert json.loads(hist.stdout)[0]["skills"] == [{"skill": "testing", "relevance": 1.0, "method": "model"}]


def test_out_of_range_settings_are_refused_when_set_not_when_used(cli):
    for key, value in [("gaps_half_life_days", "0"), ("connect_timeout", "0"), ("retries", "99"), ("gaps_default_target", "2")]:
        result = cli("config", "set", key, value)
        assert result.exit_code == 3 and "must be between" in result.stderr, key
    assert "needs a whole number" in cli("config", "set", "retries", "abc").stderr
    assert cli("config", "set", "levels.nosuch", "expert").exit_code == 3
    assert cli("ask", "git stash").exit_code == 0


def test_doctor_reports_everything_even_with_a_broken_config(cli):
    from learnflow import paths

    paths.config_path().parent.mkdir(parents=True, exist_ok=True)
    paths.config_path().write_text("model = = broken\n")
    result = cli("doctor", "--json")
    assert result.exit_code == 4
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["config"]["status"] == "fail" and "line 1" in checks["config"]["detail"]
    assert {"database", "tokenizer", "litellm"} <= set(checks)


def test_no_log_refuses_to_continue_and_says_it_was_not_logged(cli):
    assert cli("ask", "--no-log", "-c", "and then?").exit_code == 3
    result = cli("ask", "--no-log", "--json", QUESTION)
    assert json.loads(result.stdout)["id"] is None
    assert "not logged" in cli("ask", "--no-log", QUESTION).stderr


def test_forget_all_without_a_terminal_needs_yes_and_unknown_ids_are_not_found(cli):
    cli("ask", QUESTION)
    result = cli("forget", "--all")
    assert result.exit_code == 3 and "--yes" in result.stderr
    assert len(json.loads(cli("history", "--json").stdout)) == 1
    missing = cli("forget", "99")
    assert missing.exit_code == 6 and "No interaction with id 99" in missing.stderr


def test_keys_set_reads_a_piped_key_and_refuses_an_empty_one(cli):
    assert cli("keys", "set", "anthropic", input="sk-ant-from-a-pipe-123\n").exit_code == 0
    from learnflow import keys

    assert keys.find_key("anthropic") == "sk-ant-from-a-pipe-123"
    assert cli("keys", "set", "openai", input="\n").exit_code == 3


def test_history_checks_its_arguments(cli):
    assert cli("history", "-n", "0").exit_code == 2
    result = cli("history", "--skill", "nosuch")
    assert result.exit_code == 3 and "Unknown skill" in result.stderr


def test_unknown_prompt_is_not_found(cli):
    result = cli("prompts", "nope")
    assert result.exit_code == 6 and "learnflow prompts" in result.stderr


def test_run_piped_into_head_keeps_the_commands_exit_code(home):
    """The command's own code is what it does when `head` leaves: here a write error (exit 1), as bare."""
    command = f"{sys.executable} -c 'print(*range(100000), sep=chr(10)); raise SystemExit(3)'"
    for prefix, expected in (("", "rc=1"), (f"{sys.executable} -m learnflow run --no-offer -- ", "rc=1")):
        script = f"{prefix}{command} | head -2; echo rc=${{PIPESTATUS[0]}}"
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
        assert out.stdout.splitlines() == ["0", "1", expected], out.stderr
    quick = f"{sys.executable} -m learnflow run --no-offer -- {sys.executable} -c 'print(1, 2, sep=chr(10)); raise SystemExit(3)' | head -2"
    out = subprocess.run(["bash", "-c", quick + "; echo rc=${PIPESTATUS[0]}"], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["1", "2", "rc=3"]  # a command done before its reader left keeps its code


def test_the_cli_modules_keep_their_annotations_evaluated_at_import():
    """typer reads every command's annotations at each start. As strings (postponed annotations)
    they are compiled and eval'd on every run: ~0.02 s (15%) of `--help`, measured A/B with
    bench/bench_ab.py (0.113 s with them, 0.096 s without)."""
    import __future__

    import importlib
    from pathlib import Path

    import learnflow

    for path in sorted(Path(learnflow.__file__).parent.glob("cli*.py")):
        module = importlib.import_module(f"learnflow.{path.stem}")
        assert getattr(module, "annotations", None) is not __future__.annotations, path.name


BAD_VALUES = [
    ('read_timeout = "abc"', "needs a number"),
    ("model = 42", "needs text"),
    ('default_level = "guru"', "must be one of: novice, intermediate, expert"),
    ("retries = -5", "must be between 0 and 10"),
    ("context_tokens = -100", "must be between 256"),
    ('tagging = "maybe"', "must be one of: model, offline"),
    ("connect_timeout = true", "needs a number"),
]


@pytest.mark.parametrize("line,says", BAD_VALUES, ids=[b[0].split()[0] for b in BAD_VALUES])
def test_a_hand_edited_bad_value_is_a_config_error_before_anything_is_logged(cli, home, line, says):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(line + "\n")
    result = cli("ask", "how do I undo a commit")
    assert result.exit_code == 4, result.output
    key = line.split()[0]
    assert f"Setting {key} = " in result.stderr and says in result.stderr and f"config unset {key}" in result.stderr
    assert not (home / "learnflow.db").exists() or cli("history", "--json").stdout.strip() == "[]"
    fixed = cli("config", "unset", key)  # the way out works with the bad value still there
    assert fixed.exit_code == 0 and cli("ask", "how do I undo a commit").exit_code == 0


def test_a_non_utf8_config_file_is_a_config_error(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_bytes(b'model = "\xff"\n')
    result = cli("ask", "how do I undo a commit")
    assert result.exit_code == 4 and "not UTF-8" in result.stderr


def test_config_list_names_bad_and_unknown_settings_instead_of_failing(cli, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("retries = -5\nnonsense = 1\n")
    result = cli("config", "list")
    assert result.exit_code == 0
    assert "retries = -5" in result.stderr and "Unknown setting 'nonsense'" in result.stderr
    doctor = cli("doctor")
    assert "config" in doctor.stdout and "retries = -5" in doctor.stdout and doctor.exit_code == 4
