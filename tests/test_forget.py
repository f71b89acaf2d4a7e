"""`learnflow forget`: forgets everywhere a record left a copy, loses no concurrent ask, never reuses an id,
and reaches an LRS that was sent the forgotten statements (xAPI voiding)."""

import json
import os
import sqlite3
import subprocess
import sys
import time

from learnflow import paths
from learnflow.admin.forget import forget
from learnflow.db.store import Store
from learnflow.tutor.ask import Ask, AskOptions

WORKERS, ASKS = 16, 50

# One worker: ASKS offline asks in a row; one JSON line per ask that reported success, errors on stderr.
ASKER = """
import json, sys
from learnflow.tutor.ask import Ask, AskOptions
from learnflow.db.store import Store
store = Store()
errors = 0
for i in range(int(sys.argv[1])):
    question = f"worker {sys.argv[2]} question {i} about git rebase"
    try:
        run = Ask(store, AskOptions(question=question, model="offline"))
        for _ in run.stream():
            pass
        r = run.result()
        if r.status == "ok":
            print(json.dumps({"id": r.id, "question": question}), flush=True)
    except Exception as exc:
        errors += 1
        print("ERROR", type(exc).__name__, exc, file=sys.stderr, flush=True)
print(json.dumps({"errors": errors}), flush=True)
"""

# The forgetter: forgets the given seeded ids one by one, or `--since` a moment again and again,
# while the askers run; prints the ids each forget reported.
FORGETTER = """
import json, sys, time
from learnflow.admin.forget import forget
from learnflow.db.store import Store
store = Store()
mode, arg = sys.argv[1], sys.argv[2]

def ids(done):
    return done.ids if hasattr(done, "ids") else done.get("ids", [])  # (before the fix forget returned a dict)

if mode == "ids":
    for i in map(int, arg.split(",")):
        print(json.dumps(ids(forget(store, ids=[i]))), flush=True)
        time.sleep(0.05)
else:
    for _ in range(int(sys.argv[3])):
        print(json.dumps(ids(forget(store, since=arg))), flush=True)
        time.sleep(0.3)
"""


def run_race(forgetter_args: list[str]) -> tuple[dict[int, str], set[int], list[str]]:
    """Askers and one forgetter at once; (successful asks id -> question, ids forget reported, stderr of all)."""
    env = {**os.environ}
    askers = [
        subprocess.Popen([sys.executable, "-c", ASKER, str(ASKS), str(w)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for w in range(WORKERS)
    ]
    time.sleep(0.5)  # let the askers get going: the forgets must land among their writes
    forgetter = subprocess.Popen(
        [sys.executable, "-c", FORGETTER, *forgetter_args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )  # fmt: skip
    asked: dict[int, str] = {}
    errors: list[str] = []
    for p in askers:
        out, err = p.communicate(timeout=600)
        lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
        for row in lines[:-1]:
            assert row["id"] not in asked, f"two asks reported the same id {row['id']}"
            asked[row["id"]] = row["question"]
        assert lines and "errors" in lines[-1], err.decode()[-2000:]
        errors.append(err.decode())
    out, err = forgetter.communicate(timeout=600)
    assert forgetter.returncode == 0, err.decode()[-2000:]
    forgotten = {i for line in out.decode().splitlines() for i in json.loads(line)}
    return asked, forgotten, errors


def seed(n: int) -> list[int]:
    store = Store()
    ids = []
    for i in range(n):
        run = Ask(store, AskOptions(question=f"old question {i} about sql joins", model="offline"))
        for _ in run.stream():
            pass
        ids.append(run.id)
    store.close()
    return ids


def assert_no_orphans(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert (
        conn.execute(
            "SELECT count(*) FROM evidence WHERE source = 'interactions' AND source_id NOT IN (SELECT id FROM interactions)"
        ).fetchone()[0]
        == 0
    )
    assert conn.execute("SELECT count(*) FROM conversations WHERE id NOT IN (SELECT conversation_id FROM interactions)").fetchone()[0] == 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_forgetting_old_asks_while_sixteen_processes_ask_loses_no_ask():
    old = seed(40)
    asked, forgotten, errors = run_race(["ids", ",".join(map(str, old))])
    failed = sum(e.count("ERROR") for e in errors)
    assert failed == 0, f"{failed} of {WORKERS * ASKS} asks failed: " + next(e for e in errors if "ERROR" in e)[-1000:]
    assert len(asked) == WORKERS * ASKS
    assert forgotten == set(old)
    conn = sqlite3.connect(paths.db_path())
    logged = dict(conn.execute("SELECT id, question FROM interactions WHERE status = 'ok'").fetchall())
    assert logged == asked  # every ask that reported success is there, under its own id, and nothing else
    assert_no_orphans(conn)


def test_forget_since_racing_with_asks_fails_no_ask_and_keeps_every_ask_it_did_not_report():
    since = "2000-01-01T00:00:00+00:00"
    asked, forgotten, errors = run_race(["since", since, "6"])
    failed = sum(e.count("ERROR") for e in errors)
    assert failed == 0, f"{failed} of {WORKERS * ASKS} asks failed: " + next(e for e in errors if "ERROR" in e)[-1000:]
    assert len(asked) == WORKERS * ASKS
    conn = sqlite3.connect(paths.db_path())
    logged = dict(conn.execute("SELECT id, question FROM interactions").fetchall())
    # An ask is either in the log under its own id with its own question, or a forget said it deleted it.
    for i, question in asked.items():
        assert logged.get(i) == question or (i in forgotten and i not in logged), i
    assert forgotten and set(logged) & forgotten == set()
    assert_no_orphans(conn)


# -- forget reaches every copy ------------------------------------------------------------------

MARKER = "zebracornmarker"
LF = [sys.executable, "-m", "learnflow"]


def all_text(path) -> str:
    """Every value of every table of the log, as one string (FTS shadow tables included)."""
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))
    finally:
        conn.close()


def file_bytes() -> bytes:
    db = paths.db_path()
    return b"".join(p.read_bytes() for p in [db, *db.parent.glob("learnflow.db-*")] if p.exists())


def make_copies_of(store: Store, iid: int, *, when: str) -> None:
    """What reflect, review and run make from an ask, written through the same db functions they use."""
    from learnflow.db import reflections, reviews
    from learnflow.db import tasks as db_tasks

    task = db_tasks.insert(
        store,
        {"created_at": when, "command": json.dumps(["python", "-c", f"import {MARKER}"]), "cwd": "/w", "exit_code": 1,
         "stderr_tail": f"ModuleNotFoundError: No module named '{MARKER}'", "tool": "python", "skill": "python",
         "interaction_id": iid},
        [{"ts": 1.0, "skill": "python", "kind": "task", "value": 0.0}],
    )  # fmt: skip
    card = reviews.insert_card(
        store, {"created_at": when, "skill": "git", "question": f"What does {MARKER} do?", "answer": f"{MARKER} key", "interaction_id": iid,
                "due": when, "reps": 0}, lambda cid: "{}",
    )  # fmt: skip
    rid = reflections.start(
        store,
        {"created_at": when, "period_start": "2000-01-01T00:00:00.000Z", "period_end": "2100-01-01T00:00:00.000Z", "status": "in_progress",
         "summary": json.dumps({"start": "2000-01-01T00:00:00.000Z", "end": "2100-01-01T00:00:00.000Z", "label": "today", "questions": 2,
                                "answered": 2, "recent": [{"id": iid, "question": f"undo {MARKER}?", "status": "ok"}],
                                "commands": 1, "failed_commands": [{"id": task, "command": f"python -c 'import {MARKER}'",
                                                                    "exit_code": 1, "explained_in": iid}]}),
         "narrative": f"Today you asked about {MARKER} and it went well.", "feedback": f"Good work on {MARKER}.", "feedback_method": "model"},
        when,
    )  # fmt: skip
    reflections.add_answer(
        store, {"reflection_id": rid, "created_at": when, "step": "surprise", "key": "surprised",
                "question": f"`python -c 'import {MARKER}'` failed. What surprised you?", "answer": "the path"},
    )  # fmt: skip
    check = reviews.record_result(
        store, {"created_at": when, "reflection_id": rid, "review_card_id": card, "skill": "git", "question": f"What does {MARKER} do?",
                "answer": f"it is {MARKER}", "correct": 0, "score": 0.0, "judge_method": "card"},
        {"reps": 1}, [{"skill": "git", "kind": "check", "value": 0.0}], 1.0,
    )  # fmt: skip
    reviews.record_appeal(
        store, {"check_result_id": check, "created_at": when, "reason": f"{MARKER} is right", "old_correct": 0, "new_correct": 1},
        {"correct": 1, "score": 1.0}, [{"skill": "git", "kind": "check", "value": 1.0}],
    )  # fmt: skip


def test_forget_id_leaves_no_copy_of_the_question_in_any_table_or_in_the_file(cli):
    assert cli("ask", "-m", "offline", f"How do I undo my last git commit, {MARKER}?").exit_code == 0
    assert cli("ask", "-m", "offline", "-c", "and keep the changes staged?").exit_code == 0  # a turn after it: the title must change
    assert cli("ask", "-m", "offline", f"How do I undo my last git commit, {MARKER}?").exit_code == 0  # #3 repeats #1
    assert cli("answer", "--id", "1", f"the changes stay staged {MARKER}").exit_code == 0  # an inline check
    assert cli("flag", "1", f"wrong about {MARKER}").exit_code == 0
    store = Store()
    make_copies_of(store, 1, when="2026-01-01T00:00:00.000Z")
    store.close()
    assert MARKER in all_text(paths.db_path())

    result = cli("forget", "1", "3")
    assert result.exit_code == 0, result.output
    assert "Forgot 2 interactions and what was made from them" in result.stderr
    assert "task" in result.stderr and "check" in result.stderr and "flag" in result.stderr and "review card" in result.stderr
    assert "1 reflection no longer mention" in result.stderr
    text = all_text(paths.db_path())
    assert MARKER not in text, [line for line in text.splitlines() if MARKER in line][:5]
    assert MARKER.encode() not in file_bytes()  # compacted: not even in free pages
    s = Store()
    kept = s.get(2)
    assert kept["question"] == "and keep the changes staged?" and kept["repeat_of"] is None
    conv = s.query("SELECT title FROM conversations WHERE id = ?", [kept["conversation_id"]])[0]
    assert conv["title"] == "and keep the changes staged?"  # re-titled from its first remaining question
    [r] = s.query("SELECT summary, narrative, feedback FROM reflections")
    summary = json.loads(r["summary"])
    assert summary["recent"] == [] and summary["failed_commands"] == [] and summary["questions"] == 0 and r["feedback"] is None
    assert s.query("SELECT count(*) AS n FROM reflection_answers")[0]["n"] == 1  # the learner's own answer stays
    assert s.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert (
        s.query("SELECT count(*) AS n FROM evidence WHERE source_id NOT IN (SELECT id FROM interactions) AND source = 'interactions'")[0][
            "n"
        ]
        == 0
    )


def test_forget_since_forgets_the_commands_run_since_then_too(cli):
    done = subprocess.run([*LF, "run", "--no-offer", "--", sys.executable, "-c", f"import {MARKER}"], capture_output=True, text=True)
    assert done.returncode == 1
    assert MARKER in all_text(paths.db_path())
    result = cli("forget", "--since", "1h", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["interactions"] == 0 and out["tables"]["tasks"] == 1 and out["tables"]["evidence"] == 1
    assert MARKER not in all_text(paths.db_path()) and MARKER.encode() not in file_bytes()


def test_forget_all_says_what_it_wiped_kind_by_kind(cli):
    assert cli("goals", "set", "git", "0.8").exit_code == 0
    store = Store()
    make_copies_of(store, None, when="2026-01-01T00:00:00.000Z")
    store.close()
    result = cli("forget", "--all", "--yes")
    assert result.exit_code == 0, result.output
    said = result.stderr
    assert "Forgot everything: 0 interactions" in said
    for kind in ("1 task", "1 check", "1 review card", "1 appeal", "1 reflection", "1 reflection answer", "1 goal", "evidence rows"):
        assert kind in said, (kind, said)
    assert "Forgot 0 interaction(s)" not in said
    again = cli("forget", "--all", "--yes")
    assert "the log was empty" in again.stderr


def test_bad_input_is_a_clear_error_and_deletes_nothing(cli):
    assert cli("ask", "-m", "offline", "Explain SQL joins").exit_code == 0
    garbage = cli("forget", "--since", "last blue moon")
    assert garbage.exit_code == 3 and "--since 'last blue moon' is not a time I can read" in garbage.stderr
    unknown = cli("forget", "1", "41")
    assert unknown.exit_code == 6 and "No interaction with id 41; nothing was forgotten" in unknown.stderr
    assert len(Store().history()) == 1  # not even #1, which exists: a typo deletes nothing


# -- ids are never reused -------------------------------------------------------------------------


def test_ids_are_never_reused_after_forget_so_statement_ids_never_collide(cli):
    from learnflow.interop import xapi

    for q in ("Explain SQL joins", "How do I rebase?", "What is a docker volume?"):
        assert cli("ask", "-m", "offline", q).exit_code == 0
    store = Store()
    before = {s["id"] for s in xapi.build_statements(store, xapi.resolve_actor(store), snapshots=False)}
    store.close()
    assert cli("forget", "3").exit_code == 0
    assert json.loads(cli("ask", "-m", "offline", "--json", "What is a docker image?").stdout)["id"] == 4
    assert cli("forget", "--since", "1h").exit_code == 0
    assert json.loads(cli("ask", "-m", "offline", "--json", "What is a git tag?").stdout)["id"] == 5
    store = Store()
    after = {s["id"] for s in xapi.build_statements(store, xapi.resolve_actor(store), snapshots=False)}
    assert after and not after & before
    cids = [r[0] for r in store.conn.execute("SELECT id FROM conversations")]
    assert cids == [5]  # conversations too: `ask --cid 3` can never continue someone else's thread


def test_an_ask_forgotten_while_it_is_answered_finishes_and_writes_nothing_back(store, openai_env):
    # The model tags the question while it answers: those tags and their evidence are written after the answer.
    openai_env.rule("Classify", {"content": '{"skills": ["git"]}'})
    run = Ask(store, AskOptions(question=f"How do I undo a commit, {MARKER}?"))
    # Another process's forget, between the question being logged and the answer.
    assert forget(Store(), since="2000-01-01T00:00:00+00:00").interactions == 1
    answer = "".join(run.stream())  # before the fix: IntegrityError (the tags' foreign key) or orphan evidence
    assert answer and run.result().status == "ok"
    assert MARKER not in all_text(paths.db_path())
    assert store.conn.execute("SELECT count(*) FROM evidence").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM interaction_skills").fetchone()[0] == 0


def test_continuing_a_conversation_forgotten_meanwhile_is_not_found_not_a_failed_constraint(store):
    import pytest

    from learnflow.errors import NotFound

    cid, first = store.begin_conversation("Explain SQL joins", question="Explain SQL joins")
    forget(Store(), ids=[first])  # after `ask -c` found the conversation, before it wrote its turn
    with pytest.raises(NotFound, match="forgotten meanwhile"):
        store.begin_interaction(conversation_id=cid, question="and left joins?")
    assert store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0] == 0
