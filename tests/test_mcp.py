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


def talk(scenario, *, stderr: Path | None = None, **env_vars: str):
    """Run `scenario(session)` against `learnflow mcp` in a subprocess (with `env_vars` set, its stderr
    written to `stderr`); what it returns. `session.init` is the server's answer to initialize."""
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {k: v for k, v in os.environ.items() if k.startswith(("LEARNFLOW_", "LITELLM_", "NO_COLOR", "TMPDIR"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    params = StdioServerParameters(command=sys.executable, args=["-m", "learnflow", "mcp"], env={**env, **env_vars})

    async def main():
        with open(stderr or os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                session.init = await session.initialize()
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


# -- review 16-17: one answer per check, reasons for every failure, real skill ids, honest "no cards" ---------


def fresh_content():
    from learnflow.learner import cards, skills

    skills.taxonomy.cache_clear()
    cards.load_cards.cache_clear()


@pytest.fixture
def soc2(tmp_path, monkeypatch):
    """A team pack with a skill and no guide (no skill card) for it."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "skills.toml").write_text('[skills.soc2]\nname = "SOC 2 compliance"\nstrong = ["soc 2"]\nkeywords = ["audit"]\n')
    monkeypatch.setenv("LEARNFLOW_CONTENT", str(pack))
    fresh_content()
    yield pack
    fresh_content()


def card_answer(question: str) -> str:
    from learnflow.learner.cards import load_cards

    return next(c.check_answer for c in load_cards() if c.check_question == question)


def test_a_check_takes_one_answer_and_only_a_check_that_was_handed_out(cli):
    # A card of the person's own `learnflow check`: in review, but never handed out to the agent.
    own = cli("check", "--skill", "git", "-n", "1", "--answers", "-", input='[[checks]]\nanswer = "no idea"\n')
    assert own.exit_code == 0, own.output
    [mine] = rows("SELECT id FROM review_cards")

    async def scenario(session):
        _, asked = await call(session, "learnflow_check", skill="git")
        answer = card_answer(asked["question"])
        first = await call(session, "learnflow_grade", check_id=asked["check_id"], answer=answer)
        again = await call(session, "learnflow_grade", check_id=asked["check_id"], answer="something else entirely")
        not_handed_out = await call(session, "learnflow_grade", check_id=mine["id"], answer="staged")
        return asked, first, again, not_handed_out

    asked, first, again, not_handed_out = talk(scenario)
    assert first[0] is False and first[1]["correct"] is True
    assert again[0] is True and f"Check {asked['check_id']} was already graded" in again[1] and "learnflow_check" in again[1]
    assert not_handed_out[0] is True and "was not handed out by learnflow_check" in not_handed_out[1]
    # One question asked once: one result, one check and one review evidence row, one reschedule.
    [graded] = rows("SELECT id FROM check_results WHERE source = 'mcp'")
    assert rows("SELECT kind FROM evidence WHERE source = 'check_results' AND source_id = ? ORDER BY kind", graded["id"]) == [
        {"kind": "check"}, {"kind": "review"},
    ]  # fmt: skip
    assert rows("SELECT reps FROM review_cards WHERE id = ?", asked["check_id"]) == [{"reps": 1}]
    assert rows("SELECT count(*) AS n FROM check_results WHERE review_card_id = ?", mine["id"]) == [{"n": 1}]  # only the person's own


def test_a_retired_card_is_not_graded_and_a_skill_without_cards_says_how_to_get_some(cli, soc2, tmp_path):
    deck = tmp_path / "deck.md"
    deck.write_text("# soc2\n\n## Who performs a SOC 2 audit?\n\nAn independent CPA firm.\n\nKeywords: independent, cpa\n")

    async def scenario(session):
        nothing = await call(session, "learnflow_check", skill="soc2")
        assert cli("cards", "import", str(deck)).exit_code == 0
        _, asked = await call(session, "learnflow_check", skill="soc2")
        assert cli("cards", "retire", "1").exit_code == 0
        graded = await call(session, "learnflow_grade", check_id=asked["check_id"], answer="an independent cpa firm")
        return nothing, asked, graded

    (failed, nothing), asked, (graded_failed, graded) = talk(scenario)
    assert failed and "No check on soc2: it has no guide" in nothing
    assert "`learnflow check --skill soc2` with a model" in nothing and "bundled cards are all in review" not in nothing
    assert asked["question"] == "Who performs a SOC 2 audit?"
    assert graded_failed and f"Check {asked['check_id']} is a retired card" in graded
    assert rows("SELECT count(*) AS n FROM check_results") == [{"n": 0}]
    assert rows("SELECT reps FROM review_cards WHERE id = ?", asked["check_id"]) == [{"reps": 0}]  # not rescheduled


def test_every_failure_gives_the_agent_a_reason_and_the_server_no_traceback(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    errlog = tmp_path / "stderr.txt"

    async def too_large(session):
        return await call(session, "learnflow_grade", check_id=10**23, answer="staged")

    async def bad_home(session):
        from mcp.shared.exceptions import MCPError

        with pytest.raises(MCPError) as profile:  # a resource read fails as a protocol error, with the same reason
            await session.read_resource("learnflow://profile")
        return [
            await call(session, "learnflow_level", skill="git"),
            await call(session, "learnflow_check", skill="git"),
            await call(session, "learnflow_log_lesson", skill="git", summary="rebase vs merge"),
            await call(session, "learnflow_grade", check_id=1, answer="staged"),
        ], profile

    failed, text = talk(too_large, stderr=errlog)
    assert failed and "No check with id 100000000000000000000000" in text and "learnflow_check" in text
    answers, profile = talk(bad_home, stderr=errlog, LEARNFLOW_HOME=str(afile))
    assert f"{afile} cannot be a folder" in str(profile.value)
    for failed, text in answers:
        assert failed and f"{afile} cannot be a folder" in text and "Point LEARNFLOW_HOME" in text, text
    assert "Traceback" not in errlog.read_text()


def test_a_bug_is_still_a_tool_error_with_a_reason():
    from mcp.server.mcpserver.exceptions import ToolError

    from learnflow.sources import mcp

    def broken():
        raise KeyError("skills")

    with pytest.raises(ToolError) as raised:
        mcp.guarded(broken, ToolError)()
    assert "KeyError" in str(raised.value) and "bug in learnflow" in str(raised.value)


def test_the_instructions_name_only_skill_ids_that_exist_and_a_near_miss_gets_a_suggestion():
    from learnflow.learner.skills import taxonomy

    async def scenario(session):
        return (session.init.instructions, await call(session, "learnflow_level", skill="GIT"),
                await call(session, "learnflow_level", skill="docker"))  # fmt: skip

    instructions, upper, docker = talk(scenario)
    named = instructions.split("exactly): ", 1)[1].rstrip(".").split("; ")
    ids = [item.split(" (", 1)[0] for item in named]
    assert set(ids) == set(taxonomy()) and "docker" not in ids and "containers" in ids
    assert upper[0] and "Did you mean git?" in upper[1]
    assert docker[0] and "Did you mean containers?" in docker[1]
