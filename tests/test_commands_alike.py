"""Commands that behave alike (issue 15 item 3): the same names for the same things, honest
reports, exit codes the README documents."""

import json
import os
import subprocess
import sys
import time

from conftest import free_port

from learnflow.db.store import Store

LEARNFLOW = [sys.executable, "-m", "learnflow"]
TAGGING = "Classify the user's question"


def lf(*args, env=None, **kw):
    return subprocess.run([*LEARNFLOW, *args], capture_output=True, text=True, timeout=60, env=env or os.environ, **kw)


def answers(server):
    return [r for r in server.chat_requests if TAGGING not in r["body"]]


def test_continue_keeps_the_level_chosen_on_the_first_turn(cli, openai_env):
    cli("config", "set", "tagging", "offline")
    assert cli("ask", "--level", "expert", "how do I squash my last three commits?").exit_code == 0
    assert cli("ask", "-c", "and if I already pushed them?").exit_code == 0
    first, second = (r["json"]["messages"][0]["content"] for r in answers(openai_env))
    assert "Challenge an expert" in first and "Challenge an expert" in second
    assert "Teach a novice" not in second
    assert [r["level"] for r in Store().history(limit=2)] == ["expert", "expert"]


def test_continue_with_its_own_level_uses_that_one(cli, openai_env):
    cli("config", "set", "tagging", "offline")
    cli("ask", "--level", "expert", "how do I squash my last three commits?")
    cli("ask", "-c", "--level", "novice", "and if I already pushed them?")
    assert [r["level"] for r in Store().history(limit=2)] == ["novice", "expert"]


def test_run_of_a_missing_command_exits_127_says_why_and_is_recorded(home):
    proc = lf("run", "--", "definitely-not-a-command-xyz", "--flag")
    assert proc.returncode == 127  # what a shell says
    assert proc.stderr.strip().splitlines() == ["Error: definitely-not-a-command-xyz: command not found (not on PATH)"]
    task = Store().get_task()
    assert json.loads(task["command"]) == ["definitely-not-a-command-xyz", "--flag"] and task["exit_code"] == 127
    assert "command not found" in task["stderr_tail"]


def test_run_of_a_file_that_is_not_executable_exits_126(home, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("echo hi\n")
    script.chmod(0o644)
    proc = lf("run", "--", str(script))
    assert proc.returncode == 126
    assert proc.stderr.strip().splitlines() == [f"Error: {script}: permission denied (not executable)"]
    assert Store().get_task()["exit_code"] == 126


def test_run_explain_of_a_missing_command_explains_it(home):
    proc = lf("run", "--explain", "--", "definitely-not-a-command-xyz")
    assert proc.returncode == 127 and proc.stdout.strip()  # asked for: the explanation follows
