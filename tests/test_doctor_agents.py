"""`learnflow doctor`: which coding-agent sources learnflow took evidence from (with counts and the last
import), and whether learnflow's hooks are in each agent's settings."""

from __future__ import annotations

import json

import pytest
from test_agent_import import claude_session, imported, jsonl

from learnflow.sources import mcp


@pytest.fixture
def agent_home(tmp_path, monkeypatch):
    """A fake home: the agents' settings files are read from here."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return tmp_path / "user"


def doctor(cli) -> dict[str, dict]:
    done = cli("doctor", "--json")
    return {c["name"]: c for c in json.loads(done.stdout)}


def test_a_new_machine_has_no_source_and_no_hook(cli, agent_home):
    checks = doctor(cli)
    assert checks["agent sources"]["status"] == "info" and checks["agent sources"]["data"] == {"sources": []}
    assert "none connected" in checks["agent sources"]["detail"]
    assert checks["agent hooks"]["data"] == {"hooks": {"claude": "not installed", "gemini": "not installed"}}
    assert "data" not in checks["database"]  # only the agent checks carry details


def test_imports_hooks_and_mcp_lessons_are_listed_with_counts_and_times(cli, agent_home, tmp_path):
    jsonl(tmp_path / "p" / "s.jsonl", claude_session())
    report = imported(cli, "claude", tmp_path / "p")
    mcp.Lessons().log("git", "why a rebase rewrites history")
    assert cli("hooks", "install", "claude", "--yes").exit_code == 0

    checks = doctor(cli)

    sources = {s["source"]: s for s in checks["agent sources"]["data"]["sources"]}
    claude = sources["claude"]
    assert (claude["files"], claude["prompts"], claude["tasks"]) == (1, report["prompts"], report["tasks"])
    assert claude["last_import"] and claude["last"]
    assert (sources["mcp"]["prompts"], sources["mcp"]["files"], sources["mcp"]["last_import"]) == (1, 0, None)
    detail = checks["agent sources"]["detail"]
    assert detail.startswith("claude (1 file, last import ") and f"{report['prompts']} prompt" in detail
    assert "mcp (last " in detail and "1 lesson" in detail
    assert checks["agent hooks"]["status"] == "ok"
    assert checks["agent hooks"]["data"]["hooks"] == {"claude": "installed", "gemini": "not installed"}


def test_hooks_missing_some_of_learnflows_entries_are_out_of_date(cli, agent_home):
    assert cli("hooks", "install", "gemini", "--yes").exit_code == 0
    path = agent_home / ".gemini" / "settings.json"
    settings = json.loads(path.read_text())
    del settings["hooks"]["AfterTool"]  # e.g. installed by an older learnflow, or edited by hand
    path.write_text(json.dumps(settings))

    hooks = doctor(cli)["agent hooks"]

    assert hooks["status"] == "warn" and hooks["data"]["hooks"]["gemini"] == "out of date"
    assert hooks["fix"] == "learnflow hooks install gemini"
