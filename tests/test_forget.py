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
    assert conn.execute("SELECT count(*) FROM evidence WHERE source = 'interactions' AND source_id NOT IN (SELECT id FROM interactions)").fetchone()[0] == 0
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
