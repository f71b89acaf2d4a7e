"""`learnflow run`: the command runs unchanged, its exit code is ours, failures teach."""

import json
import os
import subprocess
import sys

import pytest

from learnflow.db.store import Store
from learnflow.tutor import wrap

LEARNFLOW = [sys.executable, "-m", "learnflow"]


def lf(*args, env=None, **kw):
    return subprocess.run([*LEARNFLOW, *args], capture_output=True, text=True, timeout=60, env=env or os.environ, **kw)


def test_failing_command_keeps_its_exit_code_and_is_explained(home):
    proc = lf("run", "--explain", "--", sys.executable, "-c", "import nosuchmodule")
    assert proc.returncode == 1
    assert "ModuleNotFoundError" in proc.stderr  # the command's own output, unchanged
    assert "nosuchmodule" in proc.stdout  # the explanation names the missing module
    assert "python -m pip" in proc.stdout
    s = Store()
    task = s.get_task()
    assert json.loads(task["command"])[-1] == "import nosuchmodule" and task["exit_code"] == 1
    assert "No module named 'nosuchmodule'" in task["stderr_tail"]
    explained = s.get(task["interaction_id"])
    assert explained["status"] == "ok" and "exit code 1" in explained["question"]


def test_success_passes_output_through_and_records_the_task(home):
    proc = lf("run", "--", sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(0)")
    assert proc.returncode == 0 and proc.stdout == "out\n" and proc.stderr == "err\n"
    task = Store().db.execute("SELECT exit_code, stdout_tail, interaction_id FROM tasks").fetchone()
    assert task == (0, "out", None)


@pytest.mark.parametrize("code", [2, 3, 42])
def test_exit_codes_pass_through_without_explanation_when_not_asked(home, code):
    proc = lf("run", "--", sys.executable, "-c", f"raise SystemExit({code})")
    assert proc.returncode == code
    assert "learnflow explain" in proc.stderr  # offered, not forced (no terminal here)
    assert Store().history() == []


def test_killed_command_exits_128_plus_signal(home):
    proc = lf("run", "--", sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert proc.returncode == 128 + 15


def test_explain_later_uses_the_stored_tail_without_rerunning(home, tmp_path):
    marker = tmp_path / "ran"
    script = f"open({str(marker)!r}, 'a').write('x'); raise SystemExit('fatal: boom')"
    lf("run", "--", sys.executable, "-c", script)
    assert marker.read_text() == "x"
    proc = lf("explain")
    assert proc.returncode == 0 and "fatal: boom" in proc.stdout
    assert marker.read_text() == "x"  # not run again


def test_explain_with_nothing_failed_is_a_clear_error(cli):
    result = cli("explain")
    assert result.exit_code == 6 and "No failed command" in result.stderr


def test_missing_command_exits_like_a_shell(cli):
    result = cli("run", "--", "definitely-not-a-command-xyz")
    assert result.exit_code == 127 and "command not found" in result.stderr


def test_tty_mode_keeps_colours(home):
    """Under a terminal, the command still sees a TTY (so it keeps colours)."""
    import pty

    code = "import sys; print(sys.stdout.isatty(), sys.stderr.isatty()); print('\\x1b[31mred\\x1b[0m')"
    pid, fd = pty.fork()
    if pid == 0:  # child: a real terminal as stdout/stderr
        os.execvpe(LEARNFLOW[0], [*LEARNFLOW, "run", "--no-offer", "--", sys.executable, "-c", code], os.environ)
    data = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"True True" in data and b"\x1b[31mred" in data
    task = Store().db.execute("SELECT stdout_tail FROM tasks").fetchone()[0]
    assert "red" in task and "\x1b" not in task  # the stored tail is plain text


def test_shell_init_snippets(cli):
    bash = cli("shell-init", "bash").stdout
    assert 'lf() { learnflow run -- "$@"; }' in bash and "learnflow explain" in bash
    check = subprocess.run(["bash", "-n"], input=bash, text=True, capture_output=True)
    assert check.returncode == 0, check.stderr
    assert "bindkey" in cli("shell-init", "zsh").stdout
    assert "function lf" in cli("shell-init", "fish").stdout
    assert cli("shell-init", "tcsh").exit_code == 3


def test_tail_is_bounded():
    t = wrap._Tail()
    for i in range(100_000):
        t.add(f"line {i}\n".encode())
    assert len(t.buf) <= 2 * wrap.TAIL_BYTES
    assert t.text().splitlines()[-1] == "line 99999" and len(t.text().splitlines()) == wrap.TAIL_LINES
