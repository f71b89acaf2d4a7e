"""`learnflow hook EVENT` fed an agent's JSON on stdin (a real process), and `learnflow hooks install|uninstall`."""

import json
import os
import subprocess
import sys
from pathlib import Path

from logdb import rows
from test_agent_import import OUTPUT_SECRET, PASTED, claude_session, imported, jsonl, leaked

from learnflow import paths

ROOT = Path(__file__).resolve().parents[1]
SID = "0a6afc57-2f31"


def hook(event, payload, *extra):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "learnflow", "hook", event, *extra], input=raw, capture_output=True, env=env, timeout=60)


def prompt_payload(text):
    return {"session_id": SID, "transcript_path": "/x.jsonl", "cwd": "/home/ada/app", "hook_event_name": "UserPromptSubmit", "prompt": text}


def failed_bash(call="toolu_A0"):
    return {
        "session_id": SID,
        "cwd": "/home/ada/app",
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": "cd app && python -m pytest -x", "description": "Run tests"},
        "tool_use_id": call,
        "error": f"Exit code 1\nE   assert 1 == 2\n{OUTPUT_SECRET}\n===== 1 failed, 3 passed in 0.52s =====",
    }


def test_a_prompt_and_a_failing_bash_call_are_stored_redacted_and_the_agent_sees_nothing():
    text = f"why does my pytest fixture run twice? here is my env: {PASTED[0]}"
    for done in (hook("UserPromptSubmit", prompt_payload(text)), hook("PostToolUseFailure", failed_bash())):
        assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    [q] = rows("SELECT question, source, status FROM interactions")
    assert q["source"] == "claude" and q["question"].startswith("why does my pytest fixture run twice?") and "[REDACTED:" in q["question"]
    assert rows("SELECT kind FROM evidence WHERE source = 'interactions'")[0]["kind"] == "question_why"
    assert rows("SELECT skill FROM interaction_skills")  # tagged like an ask
    [t] = rows("SELECT tool, exit_code, source, command FROM tasks")
    assert (t["tool"], t["exit_code"], t["source"]) == ("pytest", 1, "claude") and "pytest" in t["command"]
    assert [r["value"] for r in rows("SELECT value FROM evidence WHERE kind = 'task'")] == [0.0]
    assert leaked() == []


def test_a_passing_bash_call_after_a_failure_is_a_recovery_and_other_tools_are_ignored():
    hook("PostToolUseFailure", failed_bash())
    ok = {**failed_bash("toolu_B0"), "hook_event_name": "PostToolUse", "tool_input": {"command": "python -m pytest"}}
    del ok["error"]
    ok["tool_response"] = {"stdout": "4 passed in 0.3s", "stderr": "", "interrupted": False, "isImage": False}
    hook("PostToolUse", ok)
    hook("PostToolUse", {**ok, "tool_name": "Read", "tool_use_id": "toolu_R0", "tool_input": {"file_path": "/home/ada/app/.env"}})
    assert [(r["exit_code"], r["recovery_of"] is not None) for r in rows("SELECT exit_code, recovery_of FROM tasks ORDER BY id")] == [
        (1, False),
        (0, True),
    ]


def test_malformed_json_is_logged_and_the_agent_is_never_blocked():
    done = hook("UserPromptSubmit", b'{"session_id": "s", "prompt": "unterminated')
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    log = (paths.data_dir() / "hook.log").read_text()
    assert "UserPromptSubmit" in log and "not JSON" in log
    assert hook("UserPromptSubmit", b"[1, 2]").returncode == 0
    assert "not a JSON object" in (paths.data_dir() / "hook.log").read_text()
    assert not paths.db_path().exists() or rows("SELECT count(*) AS n FROM interactions")[0]["n"] == 0


def test_hook_then_import_of_the_same_session_adds_nothing_twice(cli, tmp_path):
    records = claude_session()
    hook("UserPromptSubmit", prompt_payload(records[1]["message"]["content"]))
    hook("PostToolUseFailure", failed_bash())
    path = jsonl(tmp_path / "p" / "s.jsonl", records)
    report = imported(cli, "claude", tmp_path / "p")
    assert (report["prompts"], report["tasks"], report["recoveries"]) == (0, 1, 1)  # the fix: not seen by a hook here
    assert len(rows("SELECT id FROM interactions")) == 1
    assert [(r["exit_code"], r["recovery_of"] is not None) for r in rows("SELECT exit_code, recovery_of FROM tasks ORDER BY id")] == [
        (1, False),
        (0, True),
    ]
    assert rows("SELECT item FROM agent_items WHERE kind = 'prompt'")[0]["item"] == "u1-0"  # claimed: now keyed as the importer keys it
    # The same prompt typed again later in the session is a second prompt, by hook or by import.
    hook("UserPromptSubmit", prompt_payload(records[1]["message"]["content"]))
    jsonl(path, claude_session(n=1)[1:2])
    assert imported(cli, "claude", tmp_path / "p")["prompts"] == 0
    assert len(rows("SELECT id FROM interactions")) == 2
    assert leaked() == []


def test_session_start_on_a_new_machine_says_nothing_and_creates_no_log():
    done = hook("SessionStart", {"session_id": SID, "hook_event_name": "SessionStart", "source": "startup"})
    assert (done.returncode, done.stdout) == (0, b"")
    assert not paths.db_path().exists()


def test_the_hook_path_imports_no_cli_library():
    hook("UserPromptSubmit", prompt_payload("how do I squash commits?"))  # the first creates the log (migrations use sqlite-utils), once
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "learnflow", "hook", "UserPromptSubmit"],
        input=json.dumps(prompt_payload("how do I undo a git commit?")).encode(),
        capture_output=True,
        env=env,
        timeout=60,
    )
    modules = {line.split("|")[-1].strip() for line in done.stderr.decode().splitlines() if line.startswith("import time:")}
    assert "learnflow.sources.hook" in modules
    assert not {m for m in modules if m.split(".")[0] in ("typer", "click", "rich", "litellm", "sqlite_utils", "tiktoken")}


def settings(home, agent):
    return home / f".{agent}" / "settings.json"


def test_install_shows_keeps_a_backup_and_uninstall_gives_the_file_back(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    original = '{"model": "opus",\n "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}}\n'
    for agent in ("claude", "gemini"):
        path = settings(tmp_path, agent)
        path.parent.mkdir()
        path.write_text(original)
        dry = cli("hooks", "install", agent, "--dry-run")
        assert dry.exit_code == 0 and "+++" in dry.stderr and "hook" in dry.stderr and path.read_text() == original
        assert cli("hooks", "install", agent).exit_code == 0
        data = json.loads(path.read_text())
        assert data["model"] == "opus" and data["hooks"]["Stop"] == json.loads(original)["hooks"]["Stop"]
        events = {
            "claude": {"UserPromptSubmit", "PostToolUse", "PostToolUseFailure", "SessionStart"},
            "gemini": {"BeforeAgent", "AfterTool", "SessionStart"},
        }
        assert set(data["hooks"]) - {"Stop"} == events[agent]
        waited = {event for event in events[agent] if not data["hooks"][event][0]["hooks"][0].get("async")}
        # The agent never waits on a hook whose output it does not read; SessionStart's is the due checks.
        assert waited == ({"SessionStart"} if agent == "claude" else events[agent])
        command = data["hooks"]["SessionStart"][0]["hooks"][0]["command"]
        assert command.split()[-2:] == (["SessionStart"] if agent == "claude" else ["--agent", "gemini"])[-2:] or "SessionStart" in command
        assert path.with_name("settings.json.learnflow-backup").read_text() == original
        again = cli("hooks", "install", agent)
        assert "nothing to install" in again.stderr and len(json.loads(path.read_text())["hooks"]["SessionStart"]) == 1
        assert cli("hooks", "uninstall", agent).exit_code == 0
        assert path.read_text() == original


def test_codex_has_no_hooks_to_install(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = cli("hooks", "install", "codex")
    assert result.exit_code == 3 and "import --from codex" in result.stderr
    assert not list(tmp_path.iterdir())


def test_session_start_returns_the_due_checks_as_additional_context():
    import sqlite3

    hook("UserPromptSubmit", prompt_payload("how do I squash commits?"))  # the log exists
    with sqlite3.connect(paths.db_path()) as db:  # a check made days ago and due since
        db.execute(
            "INSERT INTO review_cards (created_at, skill, question, answer, due, reps) VALUES "
            "('2026-01-01T00:00:00Z', 'git', 'What does rebase rewrite?', 'commits', '2026-01-02T00:00:00Z', 0)"
        )
    done = hook("SessionStart", {"session_id": SID, "hook_event_name": "SessionStart", "source": "startup"})
    out = json.loads(done.stdout)["hookSpecificOutput"]
    assert (
        out["hookEventName"] == "SessionStart"
        and "1 retrieval check(s) are due" in out["additionalContext"]
        and "git" in out["additionalContext"]
    )


def test_a_malformed_payload_leaves_no_byte_of_it_in_the_log():
    done = hook("UserPromptSubmit", b'{"session_id":"s","prompt":"my password=hunter2xyz and AKIAIOSFODNN7EXAMPLE')
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    log = (paths.data_dir() / "hook.log").read_text()
    assert "not JSON (JSONDecodeError at char" in log and "75 bytes" in log
    assert "hunter2xyz" not in log and "AKIAIOSFODNN7EXAMPLE" not in log and "session_id" not in log


def test_any_error_message_the_hook_logs_is_redacted(monkeypatch):
    from learnflow.sources import hook as hook_module

    def failing(event, agent, raw):
        raise RuntimeError("UNIQUE constraint failed: password=hunter2xyz AKIAIOSFODNN7EXAMPLE")

    monkeypatch.setattr(hook_module, "handle", failing)
    monkeypatch.setattr(sys, "stdin", None)
    assert hook_module.main(["UserPromptSubmit"]) == 0
    log = (paths.data_dir() / "hook.log").read_text()
    assert "RuntimeError: UNIQUE constraint failed" in log and "[REDACTED:" in log
    assert "hunter2xyz" not in log and "AKIAIOSFODNN7EXAMPLE" not in log


def claude_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    path = settings(tmp_path, "claude")
    path.parent.mkdir(exist_ok=True)
    return path


def test_settings_of_an_unexpected_shape_or_not_utf8_are_refused_and_left_alone(cli, tmp_path, monkeypatch):
    path = claude_home(tmp_path, monkeypatch)
    for content, said in (
        (b'{"hooks": {"UserPromptSubmit": {"x":1}}}', "unexpected shape"),
        (b'{"hooks": {"SessionStart": "learnflow"}}', "unexpected shape"),
        (b'{"hooks": null}', "unexpected shape"),
        (b"\xff\xfe{}", "not UTF-8"),
    ):
        path.write_bytes(content)
        result = cli("hooks", "install", "claude", "--yes")
        assert result.exit_code == 3 and said in result.stderr and "nothing was changed" in result.stderr, (content, result.stderr)
        assert "Traceback" not in result.stderr and path.read_bytes() == content
        assert not path.with_name("settings.json.learnflow-backup").exists()


def test_a_symlinked_settings_file_is_written_through_and_stays_a_link(cli, tmp_path, monkeypatch):
    path = claude_home(tmp_path, monkeypatch)
    target = tmp_path / "dotfiles" / "claude.json"
    target.parent.mkdir()
    target.write_text('{"model": "opus"}\n')
    target.chmod(0o640)
    path.symlink_to(target)
    assert cli("hooks", "install", "claude", "--yes").exit_code == 0
    assert path.is_symlink() and path.resolve() == target
    assert "SessionStart" in json.loads(target.read_text())["hooks"] and target.stat().st_mode & 0o777 == 0o640
    backup = path.with_name("settings.json.learnflow-backup")
    assert backup.read_text() == '{"model": "opus"}\n' and not backup.is_symlink()
    assert not list(target.parent.glob("*learnflow*"))  # no temporary file left beside the target
    assert cli("hooks", "uninstall", "claude", "--yes").exit_code == 0
    assert path.is_symlink() and path.resolve() == target and target.read_text() == '{"model": "opus"}\n'


def test_a_link_to_nothing_is_refused(cli, tmp_path, monkeypatch):
    path = claude_home(tmp_path, monkeypatch)
    path.symlink_to(tmp_path / "gone.json")
    result = cli("hooks", "install", "claude", "--yes")
    assert result.exit_code == 3 and "does not exist" in result.stderr
    assert path.is_symlink() and not (tmp_path / "gone.json").exists()


def test_the_diff_shown_hides_the_keys_in_the_settings(cli, tmp_path, monkeypatch):
    path = claude_home(tmp_path, monkeypatch)
    key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    # On one line with the hooks, so the key is on a line of the diff whatever the layout.
    path.write_text(json.dumps({"env": {"ANTHROPIC_API_KEY": key, "DB_PASSWORD": "hunter2xyz!Q"}, "hooks": {}}) + "\n")
    for verb in ("install", "uninstall"):
        result = cli("hooks", verb, "claude", "--yes")
        assert result.exit_code == 0 and "+++" in result.stderr
        assert key not in result.stderr and "hunter2xyz" not in result.stderr and "[REDACTED:" in result.stderr
    assert key in path.read_text()  # redacted on the screen, not in the file


REALISTIC = """{
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "model": "opus",
    "env": {
        "BASH_DEFAULT_TIMEOUT_MS": "300000",
        "DISABLE_TELEMETRY": "1"
    },
    "permissions": {
        "allow": [
            "Bash(npm run lint)",
            "Bash(git status)",
            "Read(~/.zshrc)"
        ],
        "deny": ["Read(./.env)", "Read(./secrets/**)"],
        "defaultMode": "acceptEdits"
    },
    "hooks": {
        "PostToolUse": [ {"matcher": "Edit|Write", "hooks": [ {"type": "command", "command": "npx prettier --write \\"$CLAUDE_FILE_PATHS\\""} ]} ],
        "Notification": [
            {
                "hooks": [
                    {
                        "type": "command",
                        "command": "notify-send 'Claude Code' 'Awaiting your input'"
                    }
                ]
            }
        ]
    },
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh", "padding": 0},
    "includeCoAuthoredBy": false
}
"""


def changed_user_lines(before, after):
    """Lines of the user's file that are not in the new file as they were (re-indented or rewritten)."""
    import difflib

    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith("- ")]


def test_install_keeps_the_users_own_lines_indent_and_key_order(cli, tmp_path, monkeypatch):
    path = claude_home(tmp_path, monkeypatch)
    path.write_text(REALISTIC)
    assert cli("hooks", "install", "claude", "--yes").exit_code == 0
    after = path.read_text()
    # Only the one-line PostToolUse list, which gets learnflow's entry beside the user's, is changed.
    [changed] = changed_user_lines(REALISTIC, after)
    assert '"PostToolUse": [ {"matcher": "Edit|Write"' in changed
    assert '\n        "SessionStart": [\n            {\n                "hooks": [\n' in after  # the file's 4-space indent
    assert list(json.loads(after)) == list(json.loads(REALISTIC))
    assert list(json.loads(after)["hooks"])[:2] == ["PostToolUse", "Notification"]
    # Edited in between: uninstall cannot give the bytes back, yet changes none of the user's lines.
    edited = after.replace('"model": "opus"', '"model": "sonnet"')
    path.write_text(edited)
    assert cli("hooks", "uninstall", "claude", "--yes").exit_code == 0
    assert path.read_text() == REALISTIC.replace('"model": "opus"', '"model": "sonnet"')


def test_uninstall_where_the_agent_was_never_set_up_writes_nothing(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    for agent in ("claude", "gemini"):
        result = cli("hooks", "uninstall", agent, "--yes")
        assert result.exit_code == 0 and "nothing to remove" in result.stderr and "Removed" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_install_where_there_is_no_settings_file_yet_creates_it(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    assert "claude: not installed" in cli("doctor").stdout
    assert cli("hooks", "install", "claude", "--yes").exit_code == 0
    assert "SessionStart" in json.loads(settings(tmp_path, "claude").read_text())["hooks"]
    assert "claude: installed" in cli("doctor").stdout


def test_the_json_rewrite_always_gives_exactly_the_new_settings_and_keeps_untouched_members_byte_for_byte():
    import random

    from learnflow.sources import jsonedit

    rnd = random.Random(7)

    def value(depth=0):
        r = rnd.random()
        if depth < 3 and r < 0.3:
            return {f"k{rnd.randint(0, 5)}": value(depth + 1) for _ in range(rnd.randint(0, 4))}
        if depth < 3 and r < 0.55:
            return [value(depth + 1) for _ in range(rnd.randint(0, 4))]
        return rnd.choice([1, "s", None, True, 2.5, 'é"x'])

    for _ in range(500):
        old = {"user": value(), "hooks": {"Stop": value()}}
        text = json.dumps(old, indent=rnd.choice([2, 4, "\t"]))
        new = json.loads(text)
        new["hooks"].setdefault("SessionStart", []).append({"hooks": [{"type": "command", "command": "learnflow hook SessionStart"}]})
        if rnd.random() < 0.5:
            del new["hooks"]["Stop"]
        out = jsonedit.rewrite(text, new)
        assert json.loads(out) == new and list(json.loads(out)) == ["user", "hooks"]
        assert out.startswith(text[: text.index('"hooks"')])  # the user's own member, as it was
    one_line = '{"model": "opus"}'
    assert jsonedit.rewrite(one_line, {"model": "opus", "hooks": {}}) == '{\n  "model": "opus",\n  "hooks": {}\n}\n'
