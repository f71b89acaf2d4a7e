"""Commands that behave alike (issue 15 item 3): the same names for the same things, honest
reports, exit codes the README documents."""

import json
import os
import subprocess
import sys
import time

import pytest
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


# A model that cannot work fails at once, with its whole message, before litellm is imported.
_TIMED = """
import runpy, sys, time
start = time.perf_counter()
try:
    runpy.run_module("learnflow", run_name="__main__")
finally:
    print(f"LITELLM={'litellm' in sys.modules} SECONDS={time.perf_counter() - start:.2f}", file=sys.stderr)
"""


def lf_timed(*args):
    proc = subprocess.run([sys.executable, "-c", _TIMED, *args], capture_output=True, text=True, timeout=60)
    *message, stats = proc.stderr.strip().splitlines()
    return proc.returncode, "\n".join(message), stats


def test_an_unknown_provider_fails_at_once_as_not_found(home):
    code, message, stats = lf_timed("ask", "-m", "nosuch/model", "hello there")
    assert code == 6  # README "Exit codes": 6 = unknown model or backend
    assert message.splitlines()[0] == "Error: No provider 'nosuch' in litellm, so the model 'nosuch/model' cannot be reached."
    assert message.rstrip().endswith("`learnflow models` lists what answers here.")  # the whole hint, not cut
    assert "LITELLM=False" in stats  # no 3 s import to learn that
    assert float(stats.split("SECONDS=")[1]) < 3.0
    assert Store().history() == []  # nothing was asked


def test_a_missing_anthropic_key_fails_at_once(home):
    code, message, stats = lf_timed("ask", "-m", "anthropic/claude-3-5-haiku-latest", "hello there")
    assert code == 5  # README: 5 = the backend failed: connection, key or credentials
    assert message.splitlines() == [
        "Error: No anthropic API key found for anthropic/claude-3-5-haiku-latest.",
        "Hint: export ANTHROPIC_API_KEY=… or `learnflow keys set anthropic`; `-m offline` answers without one.",
    ]
    assert "LITELLM=False" in stats


def test_the_shipped_provider_list_is_the_installed_litellms():
    from learnflow.backends.litellm_backend import _installed_version, import_litellm, known_providers

    known, made_with = known_providers()
    litellm = import_litellm()
    assert made_with == _installed_version(), "regenerate learnflow/data/litellm_providers.txt for this litellm"
    assert known == {str(getattr(p, "value", p)) for p in litellm.provider_list}


def test_long_litellm_messages_are_shortened_on_a_word_boundary():
    from learnflow.backends.litellm_backend import map_litellm_error

    exc = map_litellm_error(ValueError("litellm.X - " + "word " * 300), "anthropic/x", False)
    assert "word …" in exc.message and "wor …" not in exc.message and "word word" in exc.message


def refused(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("LEARNFLOW_MODEL", "openai/my-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")


def test_an_unreachable_server_falls_back_to_the_offline_coach(cli, monkeypatch):
    refused(monkeypatch)
    start = time.perf_counter()
    result = cli("ask", "how do I undo my last git commit?")
    assert time.perf_counter() - start < 1.0  # no retries against a refused connection
    assert result.exit_code == 0 and result.stdout.strip()
    notices = [line for line in result.stderr.splitlines() if "offline coach answered" in line]
    assert len(notices) == 1 and "connection refused" in notices[0]
    row = Store().history(limit=1)[0]
    assert row["status"] == "ok" and row["model"] == "offline"


def test_the_fallback_can_be_turned_off(cli, monkeypatch):
    refused(monkeypatch)
    cli("config", "set", "fallback", "off")
    result = cli("ask", "how do I undo my last git commit?")
    assert result.exit_code == 5 and "connection refused" in result.stderr


def test_models_lists_what_the_configured_server_serves(cli, openai_env):
    openai_env.set_models(["qwen2.5-coder:7b", "my-model"])
    result = cli("models")
    assert result.exit_code == 0
    assert "openai/qwen2.5-coder:7b" in result.stdout and "openai/my-model\tin use" in result.stdout
    assert any(r["path"].endswith("/v1/models") for r in openai_env.requests)
    data = json.loads(cli("models", "--json").stdout)
    assert data["served"]["models"] == ["my-model", "qwen2.5-coder:7b"]


def test_models_says_when_the_server_cannot_be_listed(cli, monkeypatch):
    refused(monkeypatch)
    result = cli("models")
    assert result.exit_code == 0 and "Cannot list the server's models" in result.stderr and "connection refused" in result.stderr


def test_doctor_reports_an_unreachable_server_and_fails(cli, monkeypatch):
    refused(monkeypatch)
    result = cli("doctor", "--json")
    assert result.exit_code == 5  # README: doctor exits with the first failing area's code
    backend = next(c for c in json.loads(result.stdout) if c["name"] == "backend")
    assert backend["status"] == "fail" and "connection refused" in backend["detail"]


def test_doctor_checks_the_served_model_and_the_key(cli, openai_env, monkeypatch):
    openai_env.set_models(["my-model"])
    backend = next(c for c in json.loads(cli("doctor", "--json").stdout) if c["name"] == "backend")
    assert backend["status"] == "ok" and "serves 1 model" in backend["detail"]
    monkeypatch.setenv("LEARNFLOW_MODEL", "anthropic/claude-3-5-haiku-latest")
    result = cli("doctor", "--json")
    backend = next(c for c in json.loads(result.stdout) if c["name"] == "backend")
    assert result.exit_code == 5 and backend["status"] == "fail" and "No anthropic API key" in backend["detail"]


def test_export_format_has_a_short_flag_that_is_not_ask_s_file_flag(cli):
    cli("ask", "-m", "offline", "how do I undo my last git commit?")
    new = cli("export", "-F", "csv")
    assert new.exit_code == 0 and "," in new.stdout.splitlines()[0]
    old = cli("export", "-f", "csv")  # the old spelling still works, and says what replaced it
    assert old.exit_code == 0 and old.stdout == new.stdout
    assert "`export -f` is now `-F`" in old.stderr
    assert "-F" in cli("export", "--help").stdout


REFLECTION = """
[reflection]
trying = "Clean up my branch before review"
worked = "Reading git status before every step"
rule = "git rebase rewrites commits"
action = "practise rebase on a scratch repo"
"""


def reflect_once(cli, tmp_path, *args):
    cli("ask", "-m", "offline", "how do I rebase onto main?")
    path = tmp_path / "answers.toml"
    path.write_text(REFLECTION)
    return cli("reflect", "--since", "1h", "--answers", str(path), *args)


def test_reflections_take_the_id_and_format_as_show_and_export_do(cli, tmp_path):
    assert reflect_once(cli, tmp_path).exit_code == 0
    by_argument = cli("reflections", "1", "--format", "md")
    assert by_argument.exit_code == 0 and "git rebase rewrites commits" in by_argument.stdout
    old = cli("reflections", "--export", "md", "--id", "1")
    assert old.exit_code == 0 and old.stdout == by_argument.stdout
    assert "is now `reflections N`" in old.stderr and "is now `reflections --format md`" in old.stderr
    assert cli("reflections", "1", "--format", "pdf").exit_code == 3


def test_keys_unset_removes_a_stored_key(cli):
    cli("keys", "set", "anthropic", input="sk-ant-0123456789abcdef\n")
    assert "anthropic" in cli("keys", "list").stdout
    result = cli("keys", "unset", "anthropic")
    assert result.exit_code == 0 and "Removed the anthropic key" in result.stderr
    assert "anthropic" not in cli("keys", "list").stdout
    again = cli("keys", "unset", "anthropic")
    assert again.exit_code == 6 and "no anthropic key" in again.stderr


def test_show_with_no_id_or_last_shows_the_latest(cli):
    assert cli("show").exit_code == 6  # nothing logged yet: said so
    cli("ask", "-m", "offline", "how do I undo my last git commit?")
    cli("ask", "-m", "offline", "what does git stash do?")
    latest = json.loads(cli("show", "--json").stdout)
    assert latest["id"] == 2 and "stash" in latest["question"]
    assert json.loads(cli("show", "last", "--json").stdout)["id"] == 2
    assert json.loads(cli("show", "1", "--json").stdout)["id"] == 1
    assert cli("show", "first").exit_code == 3


def test_team_says_nothing_is_known_when_every_cell_is_unknown(cli, tmp_path, monkeypatch):
    files = []
    for who in ("ann", "bob"):  # two people who each asked one question: too little evidence on anything
        monkeypatch.setenv("LEARNFLOW_HOME", str(tmp_path / who))
        cli("ask", "-m", "offline", "how do I undo my last git commit?")
        files.append(str(tmp_path / f"{who}.json"))
        assert cli("export", "-o", files[-1]).exit_code == 0
    out = cli("team", *files).stdout
    assert "Shared gaps: none" not in out
    assert "Shared gaps: not known yet: no skill has enough evidence on 2 people" in out
    data = json.loads(cli("team", *files, "--json").stdout)
    assert data["shared_gaps"] == [] and data["shared_note"].startswith("not known yet")


def test_team_none_is_said_about_the_measured_skills_only():
    from test_team import progressed

    from learnflow.interop.team import team_report

    report = team_report([progressed("eve", "sql", 0.9), progressed("fay", "sql", 0.2)])
    assert report.shared_gaps == []
    assert report.shared_note.startswith("none among the 1 skill measured on 2+ people")


def test_a_review_says_when_its_question_was_asked(cli, monkeypatch, capsys):
    import io
    from datetime import UTC, datetime, timedelta

    from learnflow.practice import review
    from learnflow.timespec import iso
    from learnflow.ui.prompter import TerminalAnswers

    cli("ask", "-m", "offline", "how do I undo my last git commit?")
    now = datetime.now(UTC)
    store = Store()
    cards = review.collect_cards(store, iso(now - timedelta(hours=1)), iso(now + timedelta(minutes=1)), now)
    [check] = review.pick_checks(store, cards, now, limit=1)
    assert check.asked_at == store.get(check.interaction_id)["created_at"]
    check.kind = "review"  # as `check` shows a card that came due again the same day
    check.asked_at = iso(now - timedelta(minutes=5))
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("s\n"))
    assert TerminalAnswers().attempt(check, 1, 1) is None  # skipped
    out = capsys.readouterr().out
    assert f"review of #{check.interaction_id}, asked 5 minutes ago" in out and "earlier day" not in out


def test_ago_in_words():
    from datetime import UTC, datetime, timedelta

    from learnflow.timespec import ago, iso

    now = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
    assert ago(iso(now - timedelta(seconds=20)), now=now) == "just now"
    assert ago(iso(now - timedelta(minutes=12)), now=now) == "12 minutes ago"
    assert ago(iso(now - timedelta(days=5)), now=now) == "5 days ago"


def test_gap_evidence_names_both_rating_scales():
    from learnflow.learner.gaps import EvidenceSummary

    text = EvidenceSummary(reviews=2, review_mean=3.0, self_ratings=1, self_rating_mean=2.0).sentence("git", "in the last 2 weeks")
    assert "recall 3.0 on 1 again … 4 easy" in text and "self-rated 2.0 (1 novice … 5 expert)" in text
    assert "/4" not in text and "/5" not in text


def test_explain_after_run_explain_shows_the_logged_explanation_instead_of_asking_twice(home):
    first = lf("run", "--explain", "--", sys.executable, "-c", "import nosuchmodule")
    assert first.returncode == 1 and "nosuchmodule" in first.stdout
    again = lf("explain")
    assert again.returncode == 0 and "nosuchmodule" in again.stdout and "Explained before as #1" in again.stderr
    assert len(Store().history()) == 1  # one explanation in the log, not two
    anew = lf("explain", "--again")
    assert anew.returncode == 0 and len(Store().history()) == 2


def pty_session(args, env, steps, timeout=30.0):
    """Run learnflow in a real terminal (see terminal_session)."""
    return terminal_session([sys.executable, "-m", "learnflow", *args], env, steps, timeout)


def terminal_session(argv, env, steps, timeout=30.0):
    """Run `argv` at a real terminal. `steps`: (what to wait for, the keys to type then); what to wait
    for is text that appears after the previous step, or a callable given all the output so far."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    since = 0  # where the output after the last typed keys begins
    deadline = time.monotonic() + timeout
    steps = list(steps)
    while time.monotonic() < deadline:
        if steps:
            wait_for, keys = steps[0]
            if wait_for(out) if callable(wait_for) else wait_for in plain(out[since:].decode("utf-8", "replace")):
                os.write(fd, keys)
                steps.pop(0)
                since = len(out)
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def plain(text: str) -> str:
    """Terminal output without its control sequences and carriage returns."""
    import re

    return re.sub(r"\x1b\[[?0-9;]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "", text)


FAILS_WITH_3 = [sys.executable, "-c", "raise SystemExit(3)"]


def test_ctrl_c_at_the_offer_keeps_the_command_s_exit_code(home):
    code, out = pty_session(["run", "--", *FAILS_WITH_3], dict(os.environ), [("Explain it?", b"\x03")])
    assert code == 3, out
    assert "Traceback" not in out


def test_ctrl_c_during_the_explanation_keeps_the_command_s_exit_code(openai_env):
    openai_env.set_default({"delay": 20, "content": "too late"})
    asked = lambda _out: bool(openai_env.chat_requests)  # noqa: E731 - the explanation is on its way
    steps = [("went wrong?", b"\r"), (asked, b"\x03")]  # skip the guess, then Ctrl-C while the answer is awaited
    code, out = pty_session(["run", "--explain", "--", *FAILS_WITH_3], dict(os.environ, LEARNFLOW_MODEL="openai/my-model"), steps)
    assert code == 3, out
    assert "Interrupted" in out and "Traceback" not in out


def test_reflect_with_no_input_leaves_no_empty_reflection(home):
    lf("ask", "-m", "offline", "how do I undo my last git commit?")
    proc = lf("reflect", stdin=subprocess.DEVNULL)
    assert proc.returncode == 3 and "Nothing was answered, so no reflection was kept" in proc.stderr
    assert Store().db.execute("SELECT count(*) FROM reflections").fetchone()[0] == 0
    assert "No interrupted reflection" in lf("reflect", "--resume", stdin=subprocess.DEVNULL).stderr


def test_resume_does_not_ask_about_the_plan_of_the_reflection_being_resumed(cli):
    cli("ask", "-m", "offline", "how do I undo my last git commit?")
    first = cli("reflect", "--since", "1h", input="tidy my branch\n\n\n\nrun git log before pushing\n")  # then the input ends
    assert first.exit_code == 3 and "--resume" in first.stderr
    resumed = cli("reflect", "--resume", input="s\n" * 5 + "\n" * 5)
    assert resumed.exit_code == 0, resumed.output
    assert "you planned to: run git log before pushing" not in resumed.stdout
    assert "you planned to" in cli("reflect", "--since", "1h", input="n\n").stdout  # a later reflection does ask about it


def test_history_json_into_head_exits_141_as_the_readme_says(home):
    s = Store()
    cid = s.new_conversation("many questions")
    s.db["interactions"].insert_all(
        {"conversation_id": cid, "question": f"question {i}", "answer": "an answer " * 100, "status": "ok",
         "created_at": "2026-01-01T00:00:00.000Z", "mode": "teach", "level": "novice", "backend": "offline", "model": "offline"}
        for i in range(200)
    )  # fmt: skip
    s.close()
    # More than a pipe holds (~240 kB): the reader is gone before everything is written.
    script = f'{" ".join(LEARNFLOW)} history --json -n 200 | head -1; echo "status=${{PIPESTATUS[0]}}"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["[", "status=141"], out.stderr
    assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr


def test_gaps_for_one_skill_does_not_repeat_no_evidence_every_week(cli):
    cli("ask", "-m", "offline", "how do I undo my last git commit?")  # a question: need, not a measurement
    out = cli("gaps", "--since", "2w", "--skill", "git").stdout
    history = out.split("Weekly history")[1].split("What next")[0]
    assert history.count("evidence") == 1
    assert "no evidence in any week yet (the 12 weeks to" in history


# Each shell, started at a real terminal with learnflow's snippet and a stub `learnflow` on PATH:
# (the command line that starts it, the rc file it reads, the rc file's prompt line).
SHELLS = {
    "bash": (["bash", "--noprofile", "--rcfile", "{rc}", "-i"], "rc.bash", "PS1='lf$ '"),
    "zsh": (["zsh", "-i"], ".zshrc", "PS1='lf$ '"),  # ZDOTDIR points at the rc file's folder
    "fish": (["fish", "--no-config", "-i", "-C", "source {rc}"], "rc.fish", "function fish_prompt; echo -n 'lf\\$ '; end"),
}


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_alt_question_mark_explains_and_keeps_the_line_being_typed(cli, shell, tmp_path):
    import shutil

    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here")
    argv, rc_name, prompt = SHELLS[shell]
    stub = tmp_path / "bin" / "learnflow"
    stub.parent.mkdir()
    stub.write_text('#!/bin/sh\necho EXPLAIN-RAN "$@"\n')
    stub.chmod(0o755)
    rc = tmp_path / rc_name
    rc.write_text(prompt + "\n" + cli("shell-init", shell).stdout)
    env = dict(os.environ, PATH=f"{stub.parent}:{os.environ['PATH']}", ZDOTDIR=str(tmp_path), HOME=str(tmp_path), TERM="xterm")
    argv = [a.format(rc=rc) for a in argv]
    steps = [("lf$ ", b"echo kept-"), ("kept-", b"\x1b?"), ("EXPLAIN-RAN explain", b"line\r"), ("\nkept-line", b"exit\r")]
    code, out = terminal_session(argv, env, steps)
    assert "EXPLAIN-RAN explain" in out, out  # Alt-? ran `learnflow explain`
    assert "\nkept-line\n" in plain(out), out  # and the half-typed `echo kept-` was still there to finish


def test_ctrl_c_while_the_explanation_is_being_prepared_keeps_the_command_s_exit_code(home):
    """The window between the command's end and the answer's first chunk: recording the run, choosing
    the model. A local server that accepts but never answers keeps `choose` probing for a while."""
    import signal
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "LEARNFLOW_NO_PROBE"}
    env["LEARNFLOW_PROBE_PORTS"] = ",".join(f"llama.cpp={port}" for _ in range(6))  # ~0.5 s each
    script = "import sys; print('CMD-DONE', file=sys.stderr, flush=True); raise SystemExit(3)"
    proc = subprocess.Popen([*LEARNFLOW, "run", "--explain", "--", sys.executable, "-c", script], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stderr is not None and "CMD-DONE" in proc.stderr.readline()
    time.sleep(0.8)  # learnflow is now recording the task or probing for a model
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    silent.close()
    assert proc.returncode == 3, err
    assert "Interrupted" in err and "Traceback" not in err
