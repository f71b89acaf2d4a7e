"""`learnflow mcp`, driven the way an agent drives it: the SDK's own stdio client starts the server as a
real subprocess and talks MCP to it (tools, the profile resource, bad arguments, redaction)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from logdb import rows
from test_agent_import import PASTED, leaked

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"learnflow_level", "learnflow_log_lesson", "learnflow_check", "learnflow_grade"}


def talk(scenario):
    """Run `scenario(session)` against `learnflow mcp` in a subprocess; what it returns."""
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {k: v for k, v in os.environ.items() if k.startswith(("LEARNFLOW_", "LITELLM_", "NO_COLOR", "TMPDIR"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    params = StdioServerParameters(command=sys.executable, args=["-m", "learnflow", "mcp"], env=env)

    async def main():
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return await scenario(session)

    return anyio.run(main)


async def call(session, tool, **arguments):
    """(is_error, the tool's JSON result or its error text)."""
    result = await session.call_tool(tool, arguments)
    text = "".join(c.text for c in result.content)
    return result.is_error, (text if result.is_error else json.loads(text))


def test_an_agent_sees_the_four_tools_and_the_profile_resource():
    async def scenario(session):
        tools = {t.name: t for t in (await session.list_tools()).tools}
        resources = [str(r.uri) for r in (await session.list_resources()).resources]
        profile = await session.read_resource("learnflow://profile")
        return tools, resources, profile.contents[0].text

    tools, resources, profile = talk(scenario)
    assert set(tools) == TOOLS
    assert tools["learnflow_grade"].input_schema["properties"]["check_id"]["type"] == "integer"
    assert resources == ["learnflow://profile"]
    data = json.loads(profile)
    assert {"skills", "top", "not_measured", "reliance"} <= set(data)  # what `gaps --json` prints


def test_a_lesson_is_logged_redacted_as_question_evidence_from_mcp():
    async def scenario(session):
        lesson = await call(session, "learnflow_log_lesson", skill="git", summary=f"why a rebase rewrites history; their env: {PASTED[0]}")
        level = await call(session, "learnflow_level", skill="git")
        return lesson, level

    (failed, lesson), (_, level) = talk(scenario)
    assert not failed and lesson["redacted"] >= 1 and lesson["kind"] == "question_why"
    [row] = rows("SELECT id, source, backend, status, question FROM interactions")
    assert (row["source"], row["backend"], row["status"]) == ("mcp", "mcp", "ok")
    assert row["question"].startswith("why a rebase rewrites history")
    assert rows("SELECT skill, kind, value FROM evidence WHERE source = 'interactions' AND source_id = ?", row["id"]) == [
        {"skill": "git", "kind": "question_why", "value": 1.0}
    ]
    assert leaked() == []
    # Being taught says the person needed it, not that they know it: still no number, one question counted.
    assert (level["status"], level["level"], level["questions"]) == ("not measured", None, 1)


def test_a_check_is_asked_graded_scheduled_and_moves_the_level():
    from learnflow.learner.cards import load_cards

    async def scenario(session):
        asked = await call(session, "learnflow_check", skill="git")
        answer = next(c.check_answer for c in load_cards() if c.check_question == asked[1]["question"])
        graded = await call(session, "learnflow_grade", check_id=asked[1]["check_id"], answer=answer)
        level = await call(session, "learnflow_level", skill="git")
        return asked, graded, level

    (failed, asked), (graded_failed, graded), (_, level) = talk(scenario)
    assert not failed and asked["skill"] == "git" and asked["kind"] == "probe" and "expected" not in asked
    assert not graded_failed
    assert (graded["correct"], graded["score"], graded["method"]) == (True, 1.0, "card")
    assert graded["interval_days"] > 0 and graded["next_due"] > asked_time(graded)
    [result] = rows("SELECT source, review_card_id, correct FROM check_results")
    assert (result["source"], result["review_card_id"], result["correct"]) == ("mcp", asked["check_id"], 1)
    kinds = {r["kind"] for r in rows("SELECT kind FROM evidence WHERE source = 'check_results'")}
    assert kinds == {"check", "review"}
    assert level["status"] != "not measured" and level["evidence_count"] == 2 and len(level["interval"]) == 2
    assert level["level"] in ("novice", "intermediate", "expert")


def asked_time(graded) -> str:
    [card] = rows("SELECT last_review FROM review_cards WHERE id = ?", graded["check_id"])
    return card["last_review"]


def test_bad_arguments_are_tool_errors_and_the_server_keeps_serving():
    async def scenario(session):
        return [
            await call(session, "learnflow_level", skill="gti"),
            await call(session, "learnflow_grade", check_id="not a number", answer="x"),
            await call(session, "learnflow_grade", check_id=424242, answer="staged"),
            await call(session, "learnflow_log_lesson", skill="git", summary="   "),
            await call(session, "learnflow_log_lesson", skill="git", summary="x" * 5000),
            await call(session, "learnflow_check", skill=""),
            await call(session, "learnflow_level", skill="sql"),  # still answering
        ]

    answers = talk(scenario)
    errors = [text for failed, text in answers[:-1] if failed]
    assert len(errors) == 6
    assert "Unknown skill 'gti'" in errors[0] and "Did you mean git" in errors[0]
    assert "check_id" in errors[1]
    assert "No check with id 424242" in errors[2]
    assert "empty" in errors[3] and "5,000 characters" in errors[4] and "skill is empty" in errors[5]
    assert answers[-1][0] is False and answers[-1][1]["skill"] == "sql"
    assert rows("SELECT count(*) AS n FROM interactions") == [{"n": 0}]  # nothing half-stored


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_the_cli_does_not_import_the_sdk_until_mcp_runs():
    done = run_python("import sys, learnflow.cli.app; print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_sdk_mcp_says_how_to_install_it():
    # sys.modules[name] = None makes `import name` fail as if the package were not installed.
    done = run_python("import sys\nsys.modules['mcp'] = None\nsys.argv = ['learnflow', 'mcp']\nfrom learnflow.cli.app import main\nmain()")
    assert done.returncode == 4  # a config/installation problem (README, exit codes)
    assert "pip install 'learnflow[mcp]'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
