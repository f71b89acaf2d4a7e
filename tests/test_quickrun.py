"""The `lf` fast path (cli/quickrun.py): what it parses, what it imports, and that the command it
starts sees what it would see from the shell."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from learnflow.cli.quickrun import Parsed, parse
from learnflow.db.store import Store
from learnflow.tutor import wrap

LEARNFLOW = [sys.executable, "-m", "learnflow"]


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--", "git", "status"], Parsed(["git", "status"])),
        (["git", "--version"], Parsed(["git", "--version"])),  # options stop at the command's name
        (["--explain", "--no-offer", "--", "make", "--", "x"], Parsed(["make", "--", "x"], explain=True, no_offer=True)),
        (["-m", "openai/gpt-4o-mini", "--", "ls"], Parsed(["ls"], model="openai/gpt-4o-mini")),
        (["--model=ollama/llama3.2", "ls"], Parsed(["ls"], model="ollama/llama3.2")),
    ],
)
def test_run_options_are_read_as_typer_reads_them(args, expected):
    assert parse(args) == expected


@pytest.mark.parametrize("args", [[], ["--"], ["--help"], ["--explain"], ["--bogus", "--", "ls"]])
def test_anything_else_goes_to_the_full_cli(args):
    assert parse(args) is None


# Each of these costs milliseconds of every command typed under `lf` (README "Speed").
SLOW_IMPORTS = ("typer", "click", "rich", "dataclasses", "inspect", "typing", "tomllib", "subprocess", "learnflow.config")


def _modules_after_run(*command: str) -> tuple[int, list[str]]:
    # Only what the run imported: the tests' network guard (a sitecustomize) loads modules of its own first.
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import learnflow.__main__ as entry\n"
        f"sys.argv = ['learnflow', 'run', '--no-offer', '--', *{list(command)!r}]\n"
        "try:\n    entry.main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(json.dumps([code, sorted(set(sys.modules) - before)]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    exit_code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return exit_code, modules


@pytest.mark.parametrize("command", [["true"], ["sh", "-c", "echo 'fatal: boom' >&2; exit 3"]])
def test_running_and_recording_imports_nothing_slow(home, command):
    Store()  # a log already made (the first run creates it with sqlite-utils' migrations)
    _modules_after_run("true")  # and the command table already cached (the first run parses the TOML)
    code, modules = _modules_after_run(*command)
    assert code == (0 if command == ["true"] else 3)
    assert [m for m in SLOW_IMPORTS if m in modules] == []
    assert Store().query("SELECT exit_code FROM tasks ORDER BY id DESC LIMIT 1") == [{"exit_code": code}]  # and it was recorded


def test_a_keys_file_does_not_bring_the_config_module_in_unless_it_holds_keys(home):
    """Redaction reads the keys file (its values are secrets to remove); only then is TOML parsed."""
    Store()
    _modules_after_run("true")
    _, modules = _modules_after_run("true")
    assert "learnflow.config" not in modules
    home.mkdir(parents=True, exist_ok=True)
    (home / "keys.toml").write_text('openai = "sk-test-0123456789abcdefghij"\n')
    code = (
        "import sys\nimport learnflow.__main__ as entry\n"
        "sys.argv = ['learnflow', 'run', '--', 'echo', 'sk-test-0123456789abcdefghij']\n"
        "try:\n    entry.main()\nexcept SystemExit:\n    pass\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    stored = Store().query("SELECT command, stdout_tail FROM tasks ORDER BY id DESC LIMIT 1")[0]
    assert "sk-test-0123456789abcdefghij" not in stored["command"] + stored["stdout_tail"]  # redacted before storing


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads signal dispositions from /proc")
def test_the_command_starts_with_the_signal_dispositions_it_has_from_a_shell(home):
    """Python ignores SIGPIPE and SIGXFSZ, and `run` ignores SIGINT while the command runs: none of
    that may reach the command (`yes | head` must end, Ctrl-C must stop it)."""
    probe = ["sh", "-c", "grep '^SigIgn' /proc/$$/status"]

    def ignored(text: str) -> int:
        # Signals 32 and 33 are glibc's own (no program can set or see them; SIGRTMIN is 34): its
        # posix_spawn leaves them ignored, as CPython's subprocess does when it uses posix_spawn.
        return int(text.split()[1], 16) & ~((1 << 31) | (1 << 32))

    bare = subprocess.run(probe, capture_output=True, text=True, check=True).stdout
    wrapped = subprocess.run([*LEARNFLOW, "run", "--", *probe], capture_output=True, text=True, timeout=60, check=True).stdout
    assert ignored(wrapped) == ignored(bare)
    for signum in (2, 13, 25):  # SIGINT, SIGPIPE, SIGXFSZ (bit n-1 of the mask)
        assert not ignored(wrapped) & (1 << (signum - 1))


def test_descriptors_the_shell_passed_reach_the_command(home, tmp_path):
    """`lf cmd 3>file` behaves as `cmd 3>file`: the command writes to the descriptor it was given."""
    target = tmp_path / "fd3.txt"
    with open(target, "w") as f:
        fd = f.fileno()
        done = subprocess.run(
            [*LEARNFLOW, "run", "--", sys.executable, "-c", f"import os; os.write({fd}, b'passed\\n')"], pass_fds=(fd,), timeout=60
        )
    assert done.returncode == 0 and target.read_text() == "passed\n"


def test_a_closed_stdin_stays_closed_and_output_still_flows(home):
    """With stdin closed the pipes get low numbers; the command still gets them as stdout and stderr."""
    script = ["sh", "-c", 'exec "$@" <&-', "sh", *LEARNFLOW, "run", "--no-offer", "--", "sh", "-c", "echo out; echo err >&2; exit 5"]
    done = subprocess.run(script, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (5, "out\n", "err\n")


def test_spawn_moves_a_descriptor_numbered_below_three_out_of_the_way():
    """A pipe that took number 0, 1 or 2 (ours were closed) must not be overwritten by the other dup2."""
    code = (
        "import os\nfrom learnflow.tutor import wrap\n"
        "r, w = os.pipe()\nos.dup2(w, 0, inheritable=False)\nos.close(w)\n"  # the write end is now fd 0
        "pid = wrap._spawn(['sh', '-c', 'echo out; echo err >&2'], 0, 0)\nos.close(0)\n"
        "assert wrap._wait(pid) == (0, None)\nprint(os.read(r, 100).decode(), end='')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert sorted(done.stdout.splitlines()) == ["err", "out"]


def test_a_command_that_cannot_start_says_why_in_both_modes(tmp_path):
    for use_tty in (False, True):
        missing = wrap.run(["no-such-command-xyz"], use_tty=use_tty)
        assert (missing.exit_code, missing.why) == (127, "no-such-command-xyz: command not found (not on PATH)")
        assert wrap.run([str(tmp_path)], use_tty=use_tty).exit_code == 126


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shortcut is for Linux; elsewhere platformdirs answers")
@pytest.mark.parametrize(
    "env",
    [
        {},
        {"XDG_DATA_HOME": "/srv/data", "XDG_CONFIG_HOME": "/srv/conf/", "XDG_CACHE_HOME": "//net/cache"},
        {"XDG_DATA_HOME": "", "XDG_CONFIG_HOME": "   ", "XDG_CACHE_HOME": ""},
        {"XDG_DATA_HOME": "relative/data", "XDG_CONFIG_HOME": "rel", "XDG_CACHE_HOME": "./c"},
        {"HOME": "/home/ada/"},
        {"HOME": "/"},
        {"HOME": "relative-home"},
    ],
)
def test_folders_found_without_platformdirs_are_the_ones_platformdirs_gives(monkeypatch, tmp_path, env):
    """`lf` skips importing platformdirs (~5 ms) in the plain Linux cases: the answer must not move the log."""
    import platformdirs

    from learnflow import paths

    monkeypatch.delenv("LEARNFLOW_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert paths.data_dir() == platformdirs.user_data_path("learnflow", appauthor=False)
    assert paths.config_dir() == platformdirs.user_config_path("learnflow", appauthor=False)
    assert paths.cache_dir() == platformdirs.user_cache_path("learnflow", appauthor=False)


# -- `lf CMD` behaves as `CMD` would from the shell (adversarial review, notes/lfreview.md) -----------------

RUN = [*LEARNFLOW, "run", "--no-offer", "--"]


def _sh(script: str, **kw) -> subprocess.CompletedProcess:
    """A shell line with `lf` in it: `lf` is `learnflow run --no-offer --`."""
    lf = " ".join(f"'{part}'" for part in RUN)
    return subprocess.run(["bash", "-c", f'lf() {{ {lf} "$@"; }}\n{script}'], capture_output=True, text=True, **kw)


def test_a_reader_that_leaves_stops_the_command_as_it_would_bare(home):
    """`yes | head -1` ends at once (yes dies of SIGPIPE); under `lf` it ran until killed, copying into a pipe nobody read."""
    done = _sh("set -o pipefail; lf yes | head -1; echo status $?", timeout=30)
    assert done.stdout == "y\nstatus 141\n"  # 128 + SIGPIPE, as `yes | head -1` under pipefail
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr


def test_a_process_left_running_in_the_background_does_not_hold_the_run(home, tmp_path):
    """`sh -c 'server &'` returns at once; `lf` waited until the background process closed its output. What it
    writes later still arrives, as it would bare."""
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        start = time.monotonic()
        done = subprocess.run([*RUN, "sh", "-c", "(sleep 2; echo later) & echo now; exit 4"], stdout=f, timeout=30)
        took = time.monotonic() - start
    assert done.returncode == 4 and took < 1.8
    end = time.monotonic() + 10
    while "later" not in out.read_text() and time.monotonic() < end:
        time.sleep(0.1)
    assert out.read_text() == "now\nlater\n"


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_closed_stdout_or_stderr_still_runs_the_command(home, closed):
    """`cmd >&-` runs cmd with that descriptor closed; under `lf` it was a traceback and the command never ran."""
    redirect = ">&-" if closed == "stdout" else "2>&-"
    script = f"lf sh -c 'echo out; echo err >&2; touch ran; exit 5' {redirect}; echo status $? >&2"
    done = _sh(script, cwd=home.parent, timeout=30)
    assert (home.parent / "ran").exists()
    assert "Traceback" not in done.stderr and done.stderr.endswith("status 5\n")
    assert (done.stdout == "") == (closed == "stdout")


def test_ctrl_c_stops_a_loop_of_lf_commands_as_it_stops_a_loop_of_commands(home):
    """Ctrl-C reaches the command; `lf` records it and then dies of SIGINT itself (the shell sees 130 either way),
    so a shell loop stops as it does bare; and it offers no explanation of an interruption."""
    from terminal import CTRL_C, Terminal

    lf = " ".join(f"'{part}'" for part in [*LEARNFLOW, "run", "--"])
    t = Terminal("bash", "-c", f"for i in 1 2; do {lf} sleep 10; echo next $i status $?; done")
    time.sleep(2)
    t.key(CTRL_C)
    end = time.monotonic() + 30
    while not (status := os.waitpid(t.pid, os.WNOHANG))[0] and time.monotonic() < end:
        t._read(0.2)
    if not status[0]:  # still waiting (at an offer to explain the interruption?): end it, then fail
        os.killpg(t.pid, signal.SIGKILL)
        os.waitpid(t.pid, 0)
        raise AssertionError(f"still running after Ctrl-C:\n{t.seen.decode(errors='replace')}")
    assert os.waitstatus_to_exitcode(status[1]) == -2  # bash itself was interrupted, as with a bare `sleep`
    assert b"next" not in t.seen and b"Explain" not in t.seen
    assert Store().query("SELECT exit_code FROM tasks") == [{"exit_code": 130}]


def test_sigterm_sent_to_lf_reaches_the_command(home):
    """`kill <pid of lf>` is what a supervisor, a CI runner or `timeout --foreground` does: the command must get it
    (it did not: it was left running alone, and nothing was recorded)."""
    proc = subprocess.Popen([*RUN, "sh", "-c", "echo $$; exec sleep 30"], stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    assert Store().query("SELECT exit_code FROM tasks") == [{"exit_code": 143}]


def test_an_executable_script_without_a_shebang_runs_with_sh(home, tmp_path):
    """A shell runs such a file with sh (execvp does too); posix_spawnp gave up with ENOEXEC (126)."""
    script = tmp_path / "legacy"
    script.write_text('echo "ran with $1"\n')
    script.chmod(0o755)
    done = subprocess.run([*RUN, str(script), "x y"], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, "ran with x y\n")


def test_a_missing_interpreter_is_named_not_called_a_missing_file(home, tmp_path):
    script = tmp_path / "tool"
    script.write_text("#!/no/such/python3\nprint(1)\n")
    script.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    for name in (str(script), "tool"):
        done = subprocess.run([*RUN, name], capture_output=True, text=True, timeout=30, env=env)
        assert done.returncode == 127  # as bash 5 says "required file not found"
        assert f"{name}: bad interpreter /no/such/python3 (not found)" in done.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads signal dispositions from /proc")
def test_sigint_ignored_by_the_shell_stays_ignored_for_the_command(home):
    """A non-interactive shell starts `cmd &` with SIGINT ignored; `lf` set it back to default, so Ctrl-C killed
    a background job under `lf` that it would not have killed bare."""
    ignoring = ["sh", "-c", "trap '' INT; exec \"$@\"", "sh"]
    probe = ["sh", "-c", "grep '^SigIgn' /proc/$$/status"]
    bare = subprocess.run([*ignoring, *probe], capture_output=True, text=True, check=True).stdout
    wrapped = subprocess.run([*ignoring, *RUN, *probe], capture_output=True, text=True, timeout=30).stdout
    assert int(bare.split()[1], 16) & 2 and int(wrapped.split()[1], 16) & 2  # SIGINT (bit 1) still ignored


def test_the_command_gets_the_environment_python_was_given_not_its_locale_coercion(home):
    """Python sets LC_CTYPE=C.UTF-8 in its own environment under a C locale (PEP 538); the command must not inherit it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    done = subprocess.run([*RUN, "sh", "-c", 'echo "[${LC_CTYPE-unset}]"'], capture_output=True, text=True, env=env, timeout=30)
    assert done.stdout == "[unset]\n"
