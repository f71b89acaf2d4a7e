#!/usr/bin/env python3
"""How fast `learnflow import --from claude|codex` reads session files, and the memory it peaks at.

    PYTHONPATH=. python bench/bench_agents_import.py [--mb 200] [--source claude] [--keep DIR]

Generates realistic session files (seeded): per turn a prompt of a sentence or two, the agent's
thinking and text, file reads whose results carry whole files (tens of KB, most of the bytes, as
in real sessions), shell commands with their output (one in eight fails; most failures are fixed
on the next try), occasional secrets in prompts and output. Then runs the import in a child
process (a fresh log, bytecode cached) and reports wall time, throughput, the child's peak
resident memory (ru_maxrss = VmHWM) and what was kept; then a second run, which must read nothing.
The issue's target: 1 GB in ≤ 60 s with ≤ 300 MB; measure at a size that fits and extrapolate
(the import streams line by line, so time is linear in bytes and memory does not grow with them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROMPTS = [
    "why does my pytest fixture run twice when I use it in a conftest?",
    "how do I rebase this branch onto main without losing my local changes?",
    "the docker build fails at pip install, can you fix the Dockerfile?",
    "add a migration that adds an index on orders.customer_id",
    "what is the difference between a LEFT JOIN and an INNER JOIN here?",
    "make the kubectl rollout wait until the pods are ready",
    "refactor this function so it streams the file instead of reading it whole",
    "write a test for the retry logic with a fake clock",
    "my terraform plan wants to replace the bucket, why?",
    "fix the flaky test in test_sync.py",
]
COMMANDS = [
    ("python -m pytest -x -q", "===== 3 failed, 41 passed in 2.31s =====", "44 passed in 2.10s"),
    (
        "git rebase origin/main",
        "error: could not apply 3f2a1b... fix\nCONFLICT (content): Merge conflict in app.py",
        "Successfully rebased",
    ),
    ("npm test", "Tests: 2 failed, 30 passed, 32 total", "Tests: 32 passed, 32 total"),
    ("docker build -t app .", "ERROR: failed to solve: process did not complete successfully", "naming to docker.io/library/app done"),
    ("ruff check .", "Found 3 errors.", "All checks passed!"),
    ("ls -la src", "", "total 48"),
    ("cat README.md", "", "# app"),
]
SECRET_LINES = ["export OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD", "password = 'Tr0ub4dor&3-horse'"]
WORDS = (
    "the a of to in is for on with that this as it be are by from at or an not have def class return import self value data file".split()
)


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n // 4))


def _code(rng: random.Random, kb: int) -> str:
    lines = []
    size = 0
    while size < kb * 1024:
        line = f"{' ' * rng.choice((0, 4, 8))}{rng.choice(('def', 'return', 'if', 'for', 'x ='))} {_text(rng, rng.randint(20, 90))}"
        lines.append(f"{len(lines) + 1:>6}→{line}")
        size += len(line) + 8
    return "\n".join(lines)


def claude_session(rng: random.Random, sid: str, target: int) -> str:
    out, size, n, t = [], 0, 0, 1_760_000_000
    base = {
        "sessionId": sid,
        "cwd": "/home/ada/app",
        "version": "2.1.12",
        "gitBranch": "main",
        "userType": "external",
        "isSidechain": False,
    }

    def emit(rec):
        nonlocal size
        line = json.dumps(rec)
        out.append(line)
        size += len(line) + 1

    def ts():
        nonlocal t
        t += rng.randint(2, 40)
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))

    while size < target:
        n += 1
        prompt = rng.choice(PROMPTS) + (f" {rng.choice(SECRET_LINES)}" if rng.random() < 0.05 else "")
        emit({**base, "type": "user", "uuid": f"{sid}-u{n}", "timestamp": ts(), "message": {"role": "user", "content": prompt}})
        for step in range(rng.randint(3, 10)):
            tid = f"toolu_{sid[:8]}_{n}_{step}"
            content = [{"type": "thinking", "thinking": _text(rng, rng.randint(200, 1500)), "signature": "x" * 300},
                       {"type": "text", "text": _text(rng, rng.randint(100, 600))}]  # fmt: skip
            if rng.random() < 0.6:
                content.append({"type": "tool_use", "id": tid, "name": "Read", "input": {"file_path": f"/home/ada/app/src/m{step}.py"}})
                emit({**base, "type": "assistant", "uuid": f"{sid}-a{n}-{step}", "timestamp": ts(),
                      "message": {"id": f"msg_{n}_{step}", "role": "assistant", "content": content, "usage": {"input_tokens": 900, "output_tokens": 80}}})  # fmt: skip
                body = _code(rng, rng.randint(4, 40))
                emit({**base, "type": "user", "uuid": f"{sid}-r{n}-{step}", "timestamp": ts(),
                      "message": {"role": "user", "content": [{"tool_use_id": tid, "type": "tool_result", "content": body}]},
                      "toolUseResult": {"type": "text", "file": {"filePath": f"/home/ada/app/src/m{step}.py", "content": body}}})  # fmt: skip
                continue
            command, fail_out, ok_out = rng.choice(COMMANDS)
            failed = bool(fail_out) and rng.random() < 0.125
            content.append({"type": "tool_use", "id": tid, "name": "Bash", "input": {"command": command, "description": "run"}})
            emit(
                {
                    **base,
                    "type": "assistant",
                    "uuid": f"{sid}-a{n}-{step}",
                    "timestamp": ts(),
                    "message": {"id": f"msg_{n}_{step}", "role": "assistant", "content": content},
                }
            )
            noise = _text(rng, rng.randint(500, 8000))
            text = f"Exit code 1\n{noise}\n{fail_out}" if failed else f"{noise}\n{ok_out}"
            if rng.random() < 0.03:
                text += "\n" + rng.choice(SECRET_LINES)
            emit({**base, "type": "user", "uuid": f"{sid}-r{n}-{step}", "timestamp": ts(),
                  "message": {"role": "user", "content": [{"tool_use_id": tid, "type": "tool_result", "content": text, "is_error": failed}]},
                  "toolUseResult": {"stdout": text, "stderr": "", "interrupted": False}})  # fmt: skip
    return "\n".join(out) + "\n"


def codex_session(rng: random.Random, sid: str, target: int) -> str:
    out, size, n = [], 0, 0

    def emit(kind, payload):
        nonlocal size
        line = json.dumps({"timestamp": "2025-10-29T00:59:38.317Z", "type": kind, "payload": payload})
        out.append(line)
        size += len(line) + 1

    emit("session_meta", {"id": sid, "cwd": "/home/ada/api", "cli_version": "0.46.0"})
    while size < target:
        n += 1
        emit("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": rng.choice(PROMPTS)}]})
        for step in range(rng.randint(3, 10)):
            emit(
                "response_item",
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": _text(rng, 400)}], "encrypted_content": "g" * 2000},
            )
            command, fail_out, ok_out = rng.choice(COMMANDS)
            failed = bool(fail_out) and rng.random() < 0.125
            call = f"call_{n}_{step}"
            emit(
                "response_item",
                {"type": "function_call", "name": "shell", "arguments": json.dumps({"command": ["bash", "-lc", command]}), "call_id": call},
            )
            body = _code(rng, rng.randint(2, 30)) + "\n" + (fail_out if failed else ok_out)
            emit("response_item", {"type": "function_call_output", "call_id": call,
                                   "output": json.dumps({"output": body, "metadata": {"exit_code": 1 if failed else 0, "duration_seconds": 0.4}})})  # fmt: skip
        emit("response_item", {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": _text(rng, 800)}]})
    return "\n".join(out) + "\n"


def generate(root: Path, source: str, mb: int, seed: int = 17) -> int:
    rng = random.Random(seed)
    total, i = 0, 0
    while total < mb * 1_000_000:
        i += 1
        session_size = rng.randint(500_000, 6_000_000)  # real sessions: a few hundred KB to several MB
        sid = f"{i:08d}-{rng.getrandbits(32):08x}"
        if source == "claude":
            path = root / f"-home-ada-app{i % 7}" / f"{sid}.jsonl"
            text = claude_session(rng, sid, session_size)
        else:
            path = root / "2025" / "10" / f"{i % 28 + 1:02d}" / f"rollout-2025-10-29T00-59-38-{sid}.jsonl"
            text = codex_session(rng, sid, session_size)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        total += len(text.encode())
    return total


def run(env: dict, source: str, path: Path) -> tuple[float, float, int, dict]:
    """(wall seconds, CPU seconds, peak RSS in bytes, report) of one import in a child process.

    CPU time (user + system) is shown beside wall time: on a shared machine it moves less with the load."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "learnflow", "import", "--from", source, str(path), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    stdout = proc.stdout.read() if proc.stdout else b""
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, json.loads(stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=200, help="total size of the generated session files (default 200 MB)")
    ap.add_argument("--source", choices=("claude", "codex"), default="claude")
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this folder instead of a temporary one")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="learnflow-agents-bench-") as tmp:
        data = args.keep or Path(tmp) / "sessions"
        if data.exists() and any(data.rglob("*.jsonl")):
            total = sum(p.stat().st_size for p in data.rglob("*.jsonl"))
        else:
            t0 = time.perf_counter()
            total = generate(data, args.source, args.mb)
            print(f"generated {total / 1e6:,.0f} MB of {args.source} sessions in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(LEARNFLOW_HOME=str(Path(tmp) / "home"), PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"), NO_COLOR="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        subprocess.run([sys.executable, "-m", "learnflow", "--help"], env=env, capture_output=True, check=True)  # bytecode cached
        seconds, cpu, peak, report = run(env, args.source, data)
        again, _, peak2, report2 = run(env, args.source, data)
        rate = total / 1e6 / seconds
        print(
            f"files {report['files']:,}  {total / 1e6:,.0f} MB  first import {seconds:.1f} s wall ({cpu:.1f} s CPU)  = {rate:,.0f} MB/s"
            f" ({total / 1e6 / cpu:,.0f} MB per CPU second)  peak RSS {peak / 1e6:,.0f} MB"
        )
        print(f"kept: {report['prompts']:,} prompts, {report['tasks']:,} tasks ({report['recoveries']:,} recoveries), "
              f"{report['secrets_removed']:,} secrets removed, {report['damaged']:,} damaged; skipped {report['skipped']}")  # fmt: skip
        print(f"second import (nothing new): {again:.2f} s, peak RSS {peak2 / 1e6:,.0f} MB, prompts {report2['prompts']}")
        print(
            f"1 GB at this rate: {1000 / rate:.0f} s wall, {1000 / (total / 1e6 / cpu):.0f} s CPU (target ≤ 60 s);"
            " memory does not grow with size (streamed), target ≤ 300 MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
