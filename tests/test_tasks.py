"""The work is evidence: every command run through `learnflow run` counts on its skill.

Mapping (command → skill, wrappers looked through, user extensions), error classes, task
evidence, recoveries, the "third time this week" line, and secrets kept out of the log.
Commands run as real processes (and through a pty where a terminal matters), on a real log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from terminal import Terminal

from learnflow.db.store import Store
from learnflow.learner import commands, tasks
from learnflow.tutor.wrap import Outcome

LEARNFLOW = [sys.executable, "-m", "learnflow"]
PY = sys.executable


def lf(*args, cwd=None):
    return subprocess.run([*LEARNFLOW, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def rows(sql: str, params=()) -> list[tuple]:
    s = Store()
    try:
        return s.conn.execute(sql, list(params)).fetchall()
    finally:
        s.close()


@pytest.fixture(autouse=True)
def fresh_table():
    commands.table.cache_clear()
    yield
    commands.table.cache_clear()


# -- the command → skill table ------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["git", "push"], ("git", "git")),
        (["/usr/bin/git", "status"], ("git", "git")),
        (["docker", "compose", "up"], ("docker", "containers")),
        (["docker-compose", "up"], ("docker-compose", "containers")),
        (["kubectl", "get", "pods"], ("kubectl", "containers")),
        (["terraform", "plan"], ("terraform", "cloud")),
        (["aws", "s3", "ls"], ("aws", "cloud")),
        (["psql", "-c", "select 1"], ("psql", "sql")),
        (["mysql", "-u", "root"], ("mysql", "sql")),
        (["sqlite3", "app.db"], ("sqlite3", "sql")),
        (["pytest", "-x"], ("pytest", "testing")),
        (["npm", "install"], ("npm", "javascript")),
        (["npm", "test"], ("npm", "testing")),
        (["npm", "run", "test:unit"], ("npm", "testing")),
        (["node", "server.js"], ("node", "javascript")),
        (["pip", "install", "requests"], ("pip", "python")),
        (["pip3", "install", "requests"], ("pip", "python")),
        (["curl", "-f", "https://example.invalid"], ("curl", "http-apis")),
        (["ssh", "host"], ("ssh", "networking")),
        (["make"], ("make", "ci-cd")),
        (["make", "test"], ("make", "testing")),
        (["grep", "-r", "x", "."], ("grep", "shell")),
        (["sed", "-i", "s/a/b/", "f"], ("sed", "shell")),
        (["awk", "{print $1}"], ("awk", "shell")),
        (["find", ".", "-name", "*.py"], ("find", "shell")),
        (["cargo", "test"], ("cargo", "testing")),
        (["go", "build"], ("go", "general")),
        (["systemctl", "restart", "nginx"], ("systemctl", "linux")),
        (["openssl", "x509", "-in", "c.pem"], ("openssl", "security")),
        # wrappers and the forms people type
        (["sudo", "-u", "postgres", "psql"], ("psql", "sql")),
        (["sudo", "-E", "--", "apt-get", "install", "jq"], ("apt-get", "linux")),
        (["env", "DEBUG=1", "FOO=bar", "pytest"], ("pytest", "testing")),
        (["time", "-p", "make", "build"], ("make", "ci-cd")),
        (["nice", "-n", "10", "rsync", "-a", "a", "b"], ("rsync", "networking")),
        (["timeout", "-s", "KILL", "30", "curl", "x"], ("curl", "http-apis")),
        (["sudo", "nice", "time", "git", "gc"], ("git", "git")),
        (["python", "-m", "pytest", "-q"], ("pytest", "testing")),
        (["python3.12", "-X", "dev", "-m", "pytest"], ("pytest", "testing")),
        (["python", "-m", "pip", "install", "x"], ("pip", "python")),
        (["python", "script.py"], ("python", "python")),
        (["/usr/local/bin/python3", "-c", "print(1)"], ("python", "python")),
        (["python", "-m", "http.server"], ("python", "python")),
        (["npx", "jest", "--watch"], ("jest", "testing")),
        (["npx", "-y", "cowsay", "hi"], ("cowsay", "javascript")),
        (["uv", "run", "pytest"], ("pytest", "testing")),
        (["uv", "run", "--with", "rich", "python", "-m", "pytest"], ("pytest", "testing")),
        (["uv", "pip", "install", "x"], ("uv", "python")),
        (["poetry", "run", "python", "manage.py", "migrate"], ("python", "python")),
        (["poetry", "run", "mytool"], ("mytool", "python")),
        (["uvx", "ruff", "check"], ("ruff", "python")),
        (["./manage.py", "runserver"], ("python", "python")),
        (["./deploy.sh"], ("bash", "shell")),
        (["./gradlew", "test"], ("gradlew", "testing")),
    ],
)
def test_command_maps_to_its_skill(argv, expected):
    assert commands.skill_for(argv) == expected


@pytest.mark.parametrize("argv", [["./my-own-binary"], ["sudo"], ["env", "A=1"], ["frobnicate", "--all"]])
def test_unknown_or_empty_commands_map_to_nothing(argv):
    assert commands.skill_for(argv) is None


def test_the_bundled_table_only_names_known_skills():
    from learnflow.learner.skills import taxonomy

    bundled = commands._read_table(commands.paths.package_dir() / "data" / "commands.toml", known_skills=set(taxonomy()))
    assert len(bundled.tools) > 150 and bundled.subcommands["cargo test"] == "testing"


def test_a_user_table_extends_and_overrides_the_bundled_one(home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "commands.toml").write_text('[tools]\nmytool = "cloud"\ngo = "software-design"\n[subcommands]\n"mytool test" = "testing"\n')
    assert commands.skill_for(["mytool", "deploy"]) == ("mytool", "cloud")
    assert commands.skill_for(["sudo", "mytool", "test"]) == ("mytool", "testing")
    assert commands.skill_for(["go", "build"]) == ("go", "software-design")
    assert commands.skill_for(["git", "push"]) == ("git", "git")  # the rest of the bundled table stays


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[tools]\nmytool = \n", "not valid TOML"),
        ('[tools]\nmytool = "no-such-skill"\n', "tools.mytool = 'no-such-skill' is not a known skill"),
        ("[tools]\nmytool = 3\n", "must be a skill id in quotes"),
        ('[tool]\nmytool = "git"\n', "unknown section 'tool'"),
        ('[subcommands]\n"mytool" = "git"\n', "two words"),
    ],
)
def test_a_broken_user_table_is_a_clear_error_naming_file_and_reason(home, text, reason):
    from learnflow.errors import ConfigError

    home.mkdir(parents=True, exist_ok=True)
    (home / "commands.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        commands.skill_for(["git"])
    assert str(home / "commands.toml") in err.value.message and reason in err.value.message


def test_run_with_a_broken_user_table_still_runs_records_and_keeps_the_exit_code(home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "commands.toml").write_text("[tools\nbroken")
    proc = lf("run", "--no-offer", "--", PY, "-c", "print('ran'); raise SystemExit(4)")
    assert proc.returncode == 4 and proc.stdout == "ran\n"
    assert "Command table" in proc.stderr and "commands.toml is not valid TOML" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert rows("SELECT exit_code, tool, skill FROM tasks") == [(4, None, None)]


# -- error classes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tool, code, out, err, expected",
    [
        ("git", 1, "CONFLICT (content): Merge conflict in a.py\nAutomatic merge failed; fix conflicts", "", "merge conflict"),
        ("git", 128, "", "fatal: pathspec 'nofile.txt' did not match any files", "pathspec did not match any files"),
        ("git", 128, "", "fatal: pathspec 'other.md' did not match any files", "pathspec did not match any files"),
        ("git", 1, "", " ! [rejected] main -> main (fetch first)\nerror: failed to push some refs to 'x'", "push rejected"),
        ("curl", 22, "", "curl: (22) The requested URL returned error: 404", "HTTP 404"),
        ("curl", 22, "", "", "HTTP error"),  # curl -sf says nothing; its exit code does
        ("curl", 6, "", "", "could not resolve host"),
        ("pytest", 1, "FAILED t.py::test_a\n==== 2 failed, 3 passed in 0.12s ====", "", "tests failed"),
        ("pytest", 5, "==== no tests ran in 0.01s ====", "", "no tests collected"),
        (
            "python",
            1,
            "",
            "Traceback (most recent call last):\n  File \"x\"\nModuleNotFoundError: No module named 'x'",
            "ModuleNotFoundError",
        ),
        ("make", 2, "", 'Traceback (most recent call last):\n  File "x"\njson.decoder.JSONDecodeError: Expecting value', "JSONDecodeError"),
        ("bash", 127, "", "bash: frob: command not found", "command not found"),
        ("bash", 126, "", "bash: ./x.sh: Permission denied", "permission denied"),
        ("npm", 1, "", "npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree", "npm ERESOLVE"),
        ("kubectl", 1, "", 'Error from server (NotFound): pods "web" not found', "server NotFound"),
        ("psql", 1, "", 'ERROR:  relation "users" does not exist\nLINE 1: select', "relation does not exist"),
        ("make", 2, "", "make: *** [build] Error 2", "exit 2"),
        ("python", 130, "", "", "interrupted"),
    ],
)
def test_error_class_names_the_kind_of_failure(tool, code, out, err, expected):
    assert commands.error_class(tool, code, out, err) == expected


def test_success_has_no_error_class():
    assert commands.error_class("git", 0, "", "fatal: whatever") is None


# -- task evidence, recovery, the third-time line (real processes) ---------------------------------


def test_each_run_stores_tool_skill_error_class_and_task_evidence(home):
    ok = lf("run", "--", PY, "-c", "print('fine')")
    bad = lf("run", "--no-offer", "--", PY, "-c", "raise KeyError('k')")
    assert ok.returncode == 0 and ok.stdout == "fine\n" and ok.stderr == ""  # a plain success prints nothing of ours
    assert bad.returncode == 1
    assert rows("SELECT id, tool, skill, error_class, exit_code FROM tasks ORDER BY id") == [
        (1, "python", "python", None, 0),
        (2, "python", "python", "KeyError", 1),
    ]
    assert rows("SELECT skill, kind, value, source, source_id FROM evidence ORDER BY id") == [
        ("python", "task", 1.0, "tasks", 1),
        ("python", "task", 0.0, "tasks", 2),
    ]


def test_a_success_after_a_failure_of_the_same_command_is_a_recovery(home, tmp_path):
    flag = tmp_path / "fixed"
    script = f"import os, sys; sys.exit(0 if os.path.exists({str(flag)!r}) else 3)"
    first = lf("run", "--no-offer", "--", PY, "-c", script)
    flag.write_text("x")
    other = lf("run", "--", PY, "-c", "pass")  # a different command in between: not a recovery of anything
    second = lf("run", "--", PY, "-c", script)
    assert (first.returncode, other.returncode, second.returncode) == (3, 0, 0)
    assert other.stderr == ""
    assert "learnflow: fixed: this command failed just now (exit 3, task #1) and now passes." in second.stderr
    assert rows("SELECT id, recovery_of FROM tasks ORDER BY id") == [(1, None), (2, None), (3, 1)]
    third = lf("run", "--", PY, "-c", script)
    assert third.stderr == "" and rows("SELECT recovery_of FROM tasks WHERE id = 4") == [(None,)]  # the last run passed already


def test_the_same_failure_a_third_time_prints_one_line_with_the_gap_and_next_step(home):
    fail = ["run", "--no-offer", "--", PY, "-c", "raise ValueError('bad')"]
    outs = [lf(*fail) for _ in range(4)]
    assert [p.returncode for p in outs] == [1, 1, 1, 1]
    lines = [[ln for ln in p.stderr.splitlines() if "in 7 days" in ln] for p in outs]
    assert lines[0] == lines[1] == [] and lines[3] == []  # once: not before the 3rd, not again the same day
    assert lines[2] == [
        "learnflow: 3rd `python` failure of this kind in 7 days (ValueError): python has too little evidence yet "
        "to say how you stand. Next: learnflow check --skill python -n 3"
    ]


def test_three_different_kinds_of_failure_print_nothing(home):
    for exc in ("KeyError", "ValueError", "TypeError"):
        proc = lf("run", "--no-offer", "--", PY, "-c", f"raise {exc}()")
        assert proc.returncode == 1 and "in 7 days" not in proc.stderr


def _outcome(code: int, err: str = "", argv=None) -> Outcome:
    return Outcome(argv or ["git", "merge", "feature"], "/repo", code, 50, "", err)


def test_the_line_names_the_gap_against_the_target_once_a_day(store):
    from learnflow.learner.goals import set_goal

    set_goal(store, "git", 0.8)
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    # Enough evidence for a number: seven checks, two right.
    store.add_evidence(
        [{"ts": (t0 - timedelta(days=1)).timestamp(), "skill": "git", "kind": "check", "value": float(i < 2)} for i in range(7)]
    )
    conflict = "CONFLICT (content): Merge conflict in a.py"
    told = [tasks.record(store, _outcome(1, conflict), now=t0 + timedelta(hours=h)).streak for h in (0, 1, 2, 3)]
    assert told[0] is None and told[1] is None and told[3] is None
    assert told[2] is not None and told[2].count == 3
    assert told[2].line.startswith("3rd `git` failure of this kind in 7 days (merge conflict): git is a gap (mastery 0.3")
    assert told[2].line.endswith(", target 0.80). Next: learnflow check --skill git -n 3")
    next_day = tasks.record(store, _outcome(1, conflict), now=t0 + timedelta(days=1, hours=4)).streak
    assert next_day is not None and next_day.count == 5  # still happening the next day: said again
    much_later = tasks.record(store, _outcome(1, conflict), now=t0 + timedelta(days=20)).streak
    assert much_later is None  # the earlier ones fell out of the 7 days


def test_a_recovery_needs_the_same_command_in_the_same_folder_within_the_window(store):
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    failed = tasks.record(store, _outcome(1, "fatal: boom"), now=t0)
    elsewhere = Outcome(["git", "merge", "feature"], "/other", 0, 5, "", "")
    assert tasks.record(store, elsewhere, now=t0 + timedelta(minutes=5)).recovery_of is None
    assert tasks.record(store, _outcome(0, argv=["git", "merge", "other"]), now=t0 + timedelta(minutes=6)).recovery_of is None
    late = tasks.record(store, _outcome(0), now=t0 + tasks.RECOVERY_WINDOW + timedelta(minutes=1))
    assert late.recovery_of is None
    failed = tasks.record(store, _outcome(1, "fatal: boom"), now=t0 + timedelta(hours=5))
    fixed = tasks.record(store, _outcome(0), now=t0 + timedelta(hours=5, minutes=12))
    assert fixed.recovery_of == failed.id and fixed.recovered_class == "boom"
    assert fixed.recovery_line == f"fixed: this command failed 12 min ago (boom, task #{failed.id}) and now passes."


def test_recovery_line_reaches_a_terminal(home, tmp_path):
    """Under a pty (as `lf` is used), the recovery line shows on the terminal and the exit code is kept."""
    flag = tmp_path / "fixed"
    script = f"import os, sys; sys.exit(0 if os.path.exists({str(flag)!r}) else 2)"
    assert lf("run", "--no-offer", "--", PY, "-c", script).returncode == 2
    flag.write_text("x")
    term = Terminal(*LEARNFLOW, "run", "--", PY, "-c", script)  # a real terminal as stdin/stdout/stderr
    assert term.finish() == 0
    assert b"fixed: this command failed" in term.seen


# -- secrets ---------------------------------------------------------------------------------------


def test_secrets_in_argv_and_output_are_redacted_before_they_are_stored(home):
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    code = f"import sys; print('token is {token}'); print('Authorization: Bearer abcdefghijklmnop1234', file=sys.stderr); sys.exit(5)"
    proc = lf("run", "--no-offer", "--", PY, "-c", code, "--password", "hunter2secret", "-u", "bob:s3cretpass")
    assert proc.returncode == 5
    assert token in proc.stdout  # the command's own output is untouched
    command, out, err = rows("SELECT command, stdout_tail, stderr_tail FROM tasks")[0]
    stored = json.loads(command)
    assert "hunter2secret" not in command and "s3cretpass" not in command and token not in command
    assert stored[-4:] == ["--password", "[REDACTED:password-flag]", "-u", "bob:[REDACTED:basic-auth]"]
    assert token not in out and "[REDACTED:github-token]" in out
    assert "abcdefghijklmnop1234" not in err and "[REDACTED:auth-header]" in err


def test_mysql_glued_password_is_redacted():
    from learnflow.redact import redact_argv

    argv, counts = redact_argv(["mysql", "-u", "root", "-pS3cretPw", "app"])
    assert argv == ["mysql", "-u", "root", "-p[REDACTED:password-flag]", "app"] and counts["password-flag"] == 1
    assert redact_argv(["curl", "-u", "bob:xxx", "--token", "<your-token>"])[0] == ["curl", "-u", "bob:xxx", "--token", "<your-token>"]


def test_a_run_stopped_with_ctrl_c_is_no_failure_of_the_skill_and_nothing_to_recover_from(store):
    import signal

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    stopped = Outcome(["git", "merge", "feature"], "/repo", 130, 50, "", "", killed_by=signal.SIGINT)
    rec = tasks.record(store, stopped, now=t0)
    assert rec.error_class == "interrupted"
    # The person stopped it: the run is logged, but it says nothing about how well they know git.
    assert store.query("SELECT count(*) AS n FROM evidence WHERE kind = 'task'")[0]["n"] == 0
    again = tasks.record(store, _outcome(0), now=t0 + timedelta(minutes=2))
    assert again.recovery_of is None and again.recovery_line is None
