"""Test kit for the xAPI tests (imported as `testkit`): a simulated log, ralph's validator, the real LRS process.

Kept out of conftest.py because only the xAPI, sync and team tests use them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LRS_DIR = Path(__file__).resolve().parent
TESTS = LRS_DIR.parent
RALPH_PYTHON = Path(os.environ.get("LEARNFLOW_RALPH_PYTHON") or TESTS / ".venv-ralph" / "bin" / "python")
RALPH_INSTALL = 'python3 -m venv tests/.venv-ralph && tests/.venv-ralph/bin/pip install "ralph-malph==5.1.0"'
LRS_INSTALL = "npm ci --prefix tests/lrs"
LRS_ENTRY = LRS_DIR / "node_modules" / "xapi-statements" / "dist" / "index.js"

SKILLS = ["git", "sql", "python", "testing", "shell", "debugging", "containers", "http-apis"]
DAY = 86400.0


def simulate_log(store, *, asks=100, checks=50, ratings=10, reflections=5, start=None, seed=1, mastery=None) -> None:
    """Write a plausible log straight into SQLite (fast enough for 10,000 statements).

    `mastery` maps skill -> chance of a right check / the centre of self-ratings, so a
    simulated person is strong or weak where the test says.
    """
    rng = random.Random(seed)
    mastery = mastery or {}
    skills = list(mastery) or SKILLS
    start = start if start is not None else time.time() - 20 * DAY
    span = max(time.time() - start - 60, 60)
    db = store.db

    def at(i: int, n: int) -> float:
        return start + span * (i + rng.random()) / max(n, 1)

    def iso(ts: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"

    with db.atomic():
        cid = db["conversations"].insert({"created_at": iso(start), "title": "sim"}).last_pk
        ev = []
        for i in range(asks):
            ts = at(i, asks)
            tags = rng.sample(skills, k=min(len(skills), rng.choice([1, 1, 2])))
            iid = db["interactions"].insert({
                "conversation_id": cid, "created_at": iso(ts), "finished_at": iso(ts + 2),
                "question": f"how do I do thing {i} with {tags[0]}?", "answer": f"like this {i}",
                "status": "ok", "mode": "teach", "level": "novice", "latency_ms": 1234,
            }).last_pk  # fmt: skip
            for k, s in enumerate(tags):
                rel = 1.0 if k == 0 else 0.5
                db["interaction_skills"].insert({"interaction_id": iid, "skill": s, "relevance": rel, "method": "offline"})
                kind = "question_why" if i % 4 == 0 else "question_how"
                ev.append({"ts": ts, "skill": s, "kind": kind, "value": rel, "source": "interactions", "source_id": iid})
        for r in range(reflections):
            ts = at(r, reflections)
            db["reflections"].insert({
                "created_at": iso(ts), "finished_at": iso(ts + 300), "period_start": iso(ts - DAY), "period_end": iso(ts),
                "narrative": "a day of work", "feedback": "keep going", "status": "done",
            })  # fmt: skip
        for i in range(checks):
            ts = at(i, checks)
            s = skills[i % len(skills)]
            right = rng.random() < mastery.get(s, 0.6)
            rating = rng.choice([3, 4]) if right else 1
            rid = db["check_results"].insert({
                "created_at": iso(ts), "reflection_id": (i % reflections) + 1 if reflections else None,
                "skill": s, "question": f"what does {s} do here?", "answer": "my answer", "confidence": rng.randint(1, 5),
                "correct": int(right), "score": 1.0 if right else 0.0, "rating": rating, "judge_method": "card",
            }).last_pk  # fmt: skip
            ev.append({"ts": ts + 1, "skill": s, "kind": "check", "value": float(right), "source": "check_results", "source_id": rid})
            ev.append(
                {
                    "ts": ts + 1,
                    "skill": s,
                    "kind": "review",
                    "value": (rating - 1) / 3,
                    "source": "check_results",
                    "source_id": rid,
                }
            )
        for i in range(ratings):
            ts = at(i, ratings)
            s = skills[i % len(skills)]
            rating = min(5, max(1, round(1 + 4 * mastery.get(s, 0.5) + rng.uniform(-0.6, 0.6))))
            rid = (
                db["skill_ratings"]
                .insert(
                    {
                        "created_at": iso(ts),
                        "reflection_id": (i % reflections) + 1 if reflections else None,
                        "skill": s,
                        "rating": rating,
                    }
                )
                .last_pk
            )
            ev.append(
                {
                    "ts": ts,
                    "skill": s,
                    "kind": "self_rating",
                    "value": (rating - 1) / 4,
                    "source": "skill_ratings",
                    "source_id": rid,
                }
            )
        db["evidence"].insert_all(ev)


def evidence_rows(store) -> list[tuple]:
    """The learner model's input, order-free: what a round trip must keep."""
    return sorted(store.db.execute("SELECT ts, skill, kind, value FROM evidence").fetchall(), key=repr)


# -- ralph: an independent implementation of the xAPI statement model -----------------------
#
# Not `ralph validate -f xapi`: that command only knows the statements of the profiles ralph
# ships (LMS, video, virtual classroom); any other statement is logged as "No matching pydantic
# model found" and skipped, exit code 0, so it would pass anything. Its base model,
# BaseXapiStatement, is the xAPI 1.0.3 statement itself (IRIs, UUIDs, language maps, no
# empty values, score ranges, agents...): every statement is validated against that.

RALPH_CHECK = r"""
import json, sys
from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement
bad = []
n = 0
for line in sys.stdin:
    if not line.strip():
        continue
    n += 1
    st = json.loads(line)
    try:
        BaseXapiStatement(**st)
    except ValidationError as exc:
        bad.append({"id": st.get("id"), "errors": exc.errors(include_url=False, include_context=False, include_input=False)})
print(json.dumps({"checked": n, "invalid": bad[:5], "invalid_count": len(bad)}, default=str))
"""


def ralph_available() -> str | None:
    """None when ralph can be used; else why not (the skip reason)."""
    if not RALPH_PYTHON.exists():
        return f"ralph (xAPI validator) not installed: {RALPH_INSTALL}"
    return None


def ralph_validate_in_background(statements: list[dict]):
    """Start validating now; call the returned function for the report (overlaps a slow step)."""
    import threading

    box: dict = {}

    def run():
        try:
            box["report"] = ralph_validate(statements)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def wait() -> dict:
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["report"]

    return wait


def ralph_validate(statements: list[dict]) -> dict:
    """Validate with ralph's BaseXapiStatement (the model `ralph validate -f xapi` builds on)."""
    payload = "".join(json.dumps(s) + "\n" for s in statements)
    proc = subprocess.run([str(RALPH_PYTHON), "-c", RALPH_CHECK], input=payload, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the real LRS: LearningLocker's xapi-statements, in memory, on loopback --------------------


def lrs_available() -> str | None:
    if not shutil.which("node"):
        return "node is not installed (the test LRS runs on Node.js)"
    if not LRS_ENTRY.exists():
        return f"the test LRS is not installed: {LRS_INSTALL}"
    return None


@dataclass
class LrsProcess:
    url: str  # the xAPI endpoint, e.g. http://127.0.0.1:PORT/xAPI/
    user: str
    password: str
    proc: subprocess.Popen
    workdir: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_lrs(workdir: Path, *, user="learnflow", password="s3cret-test", voids: bool = False) -> LrsProcess:
    """Start the LRS from its own folder (it reads any .env in its cwd) bound to 127.0.0.1.

    `voids`: keep the LRS's voiding at work (what `forget` sends); off by default, for speed.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "MODELS_REPO": "memory", "STORAGE_REPO": "local", "FS_LOCAL_STORAGE_DIR": str(workdir / "storage"),
        "EVENTS_REPO": "test", "AUTH_REPO": "test", "EXPRESS_MORGAN_DIRECTORY": str(workdir / "logs"),
        "WINSTON_CONSOLE_LEVEL": "warn", "LRS_BASIC_AUTH": f"{user}:{password}", "LRS_PORT": "0",
        # Work for features learnflow never uses, ~60% of each POST on this machine: the cache of
        # activity definitions (GET /activities) and voiding / StatementRef bookkeeping (learnflow
        # sends neither). Validation, storage, conflict checks (same id, other content) and paging stay on.
        "SERVICE_UPDATE_ACTIVITIES": "false", "SERVICE_UPDATE_REFS": "false",
        "SERVICE_CHECK_VOIDS": "false", "SERVICE_UPDATE_VOIDS": "false",
        "NODE_NO_WARNINGS": "1",
    }  # fmt: skip
    if voids:
        env.update(SERVICE_UPDATE_REFS="true", SERVICE_CHECK_VOIDS="true", SERVICE_UPDATE_VOIDS="true")
    log = open(workdir / "lrs.log", "w+")
    proc = subprocess.Popen(
        ["node", "-r", "./guard.js", str(LRS_ENTRY.relative_to(LRS_DIR))],
        cwd=LRS_DIR, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "LRS listening on " in line:
            base = line.split("LRS listening on ", 1)[1].strip()
            return LrsProcess(f"{base}/xAPI/", user, password, proc, workdir)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    log.seek(0)
    raise RuntimeError(f"the test LRS did not start: {line!r}\n{log.read()[-2000:]}")
