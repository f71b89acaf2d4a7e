"""`learnflow forget --source AGENT`: everything a coding agent's import or hook, or the MCP server, left in
the log goes (rows, evidence, import bookkeeping, statements an LRS holds), and nothing else."""

from __future__ import annotations

import json

from logdb import rows
from test_agent_import import claude_session, jsonl
from test_hooks import hook, prompt_payload

from learnflow.db import xapi as db_lrs
from learnflow.db.store import Store
from learnflow.interop import xapi
from learnflow.learner.cards import load_cards
from learnflow.sources import mcp
from learnflow.timespec import now_iso


def count(sql, *params) -> int:
    return rows(f"SELECT count(*) AS n FROM {sql}", *params)[0]["n"]


def own_ask(cli) -> int:
    assert cli("ask", "how do I undo my last git commit?").exit_code == 0
    return rows("SELECT max(id) AS id FROM interactions WHERE source IS NULL")[0]["id"]


def mcp_lesson_and_check() -> tuple[int, int]:
    lesson = mcp.Lessons().log("git", "why a rebase rewrites history")
    asked = mcp.check("git")
    answer = next(c.check_answer for c in load_cards() if c.check_question == asked["question"])
    graded = mcp.grade(asked["check_id"], answer)
    return lesson["id"], graded["result_id"]


def scheduled(sql) -> list[dict]:
    """Cards' schedules: the columns, and the FSRS memory (times are kept to the millisecond, as the log's)."""
    out = []
    for card in rows(sql):
        state = json.loads(card.pop("fsrs"))
        out.append({**card, **{k: state[k] for k in ("state", "stability", "difficulty")}})
    return out


def acknowledge(table_ids: dict[str, list[int]]) -> list[str]:
    """Pretend an LRS acknowledged these rows' statements (as `learnflow sync` records it)."""
    store = Store()
    try:
        sids = xapi.statement_ids_of(store, table_ids)
        db_lrs.record_acknowledged(store, "https://lrs.example/xapi|key", sids, now_iso())
        return sids
    finally:
        store.close()


def test_forget_source_claude_removes_its_prompts_tasks_evidence_and_cursors_and_nothing_else(cli, tmp_path):
    session = jsonl(tmp_path / "projects" / "-home-ada-app" / "0a6afc57.jsonl", claude_session())
    assert cli("import", "--from", "claude", str(session.parent)).exit_code == 0
    mine = own_ask(cli)
    lesson, result = mcp_lesson_and_check()
    claude_asks = [r["id"] for r in rows("SELECT id FROM interactions WHERE source = 'claude'")]
    claude_tasks = [r["id"] for r in rows("SELECT id FROM tasks WHERE source = 'claude'")]
    assert claude_asks and claude_tasks and count("agent_files") and count("agent_items")
    sids = acknowledge({"interactions": claude_asks[:1], "tasks": claude_tasks[:1]})

    done = cli("forget", "--source", "claude", "--json")

    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert sorted(report["ids"]) == sorted(claude_asks) and report["voidings_queued"] == 2
    assert report["tables"]["tasks"] == len(claude_tasks) and report["tables"]["agent_files"] >= 1
    assert count("interactions WHERE source = 'claude'") == 0 and count("tasks WHERE source = 'claude'") == 0
    assert count("evidence WHERE source = 'tasks'") == 0
    assert count(f"evidence WHERE source = 'interactions' AND source_id IN ({','.join(map(str, claude_asks))})") == 0
    assert count("agent_files") == 0 and count("agent_items WHERE source = 'claude'") == 0
    assert count("conversations WHERE title LIKE 'claude session%'") == 0
    assert sorted(r["statement_id"] for r in rows("SELECT statement_id FROM lrs_voiding")) == sorted(sids)
    # Learnflow's own ask and what the MCP server stored are untouched.
    assert {r["id"] for r in rows("SELECT id FROM interactions")} == {mine, lesson}
    assert count("check_results WHERE id = ?", result) == 1 and count("agent_items WHERE source = 'mcp'") == 1  # its check handed out
    # The cursors went too: importing again reads the session from the start, into a new conversation.
    again = cli("import", "--from", "claude", str(session.parent), "--json")
    assert again.exit_code == 0, again.output
    assert count("interactions WHERE source = 'claude'") == len(claude_asks)


def test_forget_source_mcp_removes_its_lessons_and_graded_checks_with_their_evidence(cli):
    mine = own_ask(cli)
    lesson, result = mcp_lesson_and_check()
    assert count("evidence WHERE source = 'check_results' AND source_id = ?", result) == 2
    sids = acknowledge({"check_results": [result]})

    done = cli("forget", "--source", "mcp", "--json")

    report = json.loads(done.stdout)
    assert report["ids"] == [lesson] and report["tables"]["check_results"] == 1 and report["voidings_queued"] == 1
    assert [r["id"] for r in rows("SELECT id FROM interactions")] == [mine]
    assert count("check_results") == 0 and count("evidence WHERE source = 'check_results'") == 0
    assert count("evidence WHERE source = 'interactions' AND source_id = ?", lesson) == 0
    assert [r["statement_id"] for r in rows("SELECT statement_id FROM lrs_voiding")] == sids


def test_forget_source_hook_removes_the_prompts_a_hook_logged_that_no_import_claimed(cli, tmp_path):
    records = claude_session()
    session = jsonl(tmp_path / "projects" / "-home-ada-app" / "0a6afc57.jsonl", records)
    assert hook("UserPromptSubmit", prompt_payload(records[1]["message"]["content"])).returncode == 0  # claimed by the import below
    assert hook("UserPromptSubmit", {**prompt_payload("how do I bisect a regression?"), "session_id": "other"}).returncode == 0
    assert cli("import", "--from", "claude", str(session.parent)).exit_code == 0
    claimed = count("interactions WHERE source = 'claude'")

    done = cli("forget", "--source", "hook", "--json")

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["interactions"] == 1
    assert count("interactions WHERE question LIKE '%bisect%'") == 0
    assert count("interactions WHERE source = 'claude'") == claimed - 1
    assert count("agent_items WHERE tool = 'hook'") == 0


def test_an_unknown_source_is_bad_input_and_forgets_nothing(cli):
    own_ask(cli)
    done = cli("forget", "--source", "cursor")
    assert done.exit_code == 3 and "Unknown source 'cursor'" in done.output
    assert count("interactions") == 1


def test_forget_source_mcp_takes_back_the_cards_it_made_and_rebuilds_the_schedules_its_grades_moved(cli, tmp_path, monkeypatch):
    import shutil
    from pathlib import Path

    from learnflow.learner import cards, skills

    # A pack whose skill has two guides: once the person's own check used both, the MCP check reviews one early.
    pack = tmp_path / "pack"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "content-pack", pack)
    monkeypatch.setenv("LEARNFLOW_CONTENT", str(pack))
    skills.taxonomy.cache_clear()
    cards.load_cards.cache_clear()
    own = cli("check", "--skill", "gdpr", "-n", "2", "--answers", "-", input='[[checks]]\nanswer = "no idea"\n' * 2)
    assert own.exit_code == 0, own.output
    schedule = "SELECT id, fsrs, due, last_review, reps FROM review_cards ORDER BY id"
    before = scheduled(schedule)
    assert len(before) == 2 and {c["reps"] for c in before} == {1}

    reviewed = mcp.check("gdpr")  # the person's card, reviewed early
    assert reviewed["kind"] == "review"
    mcp.grade(reviewed["check_id"], next(c.check_answer for c in load_cards() if c.check_question == reviewed["question"]))
    _, result = mcp_lesson_and_check()  # a git probe the MCP call brought into review, graded
    untouched = mcp.check("sql")  # handed out, never answered
    [moved] = [c for c in scheduled(schedule) if c["id"] == reviewed["check_id"]]
    assert moved["reps"] == 2 and moved["due"] != next(c["due"] for c in before if c["id"] == moved["id"])

    done = cli("forget", "--source", "mcp", "--json")

    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["tables"]["review_cards"] == 2  # the git probe and the sql one
    # The person's cards are scheduled as if the agent's grade had never been given; the cards MCP brought
    # into review are gone (their bundled questions can be probed again), as cards made from a forgotten ask go.
    assert scheduled(schedule) == before
    assert count("check_results") == 2 and count("check_results WHERE source = 'mcp'") == 0
    assert untouched["check_id"] not in {c["id"] for c in before}
