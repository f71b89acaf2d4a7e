"""Wall time of `learnflow hook UserPromptSubmit < payload.json` (a real process, as an agent runs it)
beside `python -c pass` in the same run, so the machine's load moves both alike. Target: ≤ 100 ms.

    PYTHONPATH=. python bench/bench_hook.py [-n 30]

A fresh LEARNFLOW_HOME in a temporary folder; the first hook (it creates the log) is not timed.
Bytecode is cached (in a temporary PYTHONPYCACHEPREFIX) as in an installed package: with
PYTHONDONTWRITEBYTECODE=1 and no cache, every run would compile learnflow's sources again (~40 ms).
`--no-bytecode` measures that case too.
Each timed hook stores a new prompt (a different text each time), as a real session does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], payload: bytes, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, input=payload, capture_output=True, env=env)
    took = time.perf_counter() - start
    if done.returncode != 0 or done.stdout:
        raise SystemExit(f"unexpected: rc={done.returncode} stdout={done.stdout[:200]!r}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--no-bytecode", action="store_true", help="compile the sources on every run (PYTHONDONTWRITEBYTECODE, no cache)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LEARNFLOW_HOME": home, "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.no_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env["PYTHONPYCACHEPREFIX"] = str(Path(home) / "pycache")
        hook = [sys.executable, "-m", "learnflow", "hook", "UserPromptSubmit"]
        tool = [sys.executable, "-m", "learnflow", "hook", "PostToolUseFailure"]

        def prompt(i: int) -> bytes:
            return json.dumps({"session_id": "bench", "cwd": home, "hook_event_name": "UserPromptSubmit",
                               "prompt": f"how do I rebase branch {i} onto main without losing my stash? token ghp_{'a' * 36}"}).encode()  # fmt: skip

        def failure(i: int) -> bytes:
            return json.dumps({"session_id": "bench", "hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "tool_use_id": f"t{i}",
                               "tool_input": {"command": "python -m pytest -x"}, "error": "Exit code 1\nE   assert 1 == 2"}).encode()  # fmt: skip

        timed(hook, prompt(-1), env)  # creates and migrates the log: once per machine
        timed(tool, failure(-1), env)  # and caches the bytecode of what the tool path imports
        base, hooks, tools = [], [], []
        for i in range(args.n):  # interleaved: load changes hit all three alike
            base.append(timed([sys.executable, "-c", "pass"], b"", env))
            hooks.append(timed(hook, prompt(i), env))
            tools.append(timed(tool, failure(i), env))
        load = os.getloadavg()[0]
    print(
        f"n={args.n} per command, load average {load:.1f}, {os.cpu_count()} CPUs, bytecode {'compiled each run' if args.no_bytecode else 'cached'}"
    )
    for name, xs in (("python -c pass", base), ("hook UserPromptSubmit", hooks), ("hook PostToolUseFailure (Bash)", tools)):
        q = statistics.quantiles(xs, n=10)
        print(f"{name:32s} median {statistics.median(xs) * 1000:6.1f} ms   p10 {q[0] * 1000:6.1f}   p90 {q[-1] * 1000:6.1f}")
    print(
        f"hook minus python start-up (median): {(statistics.median(hooks) - statistics.median(base)) * 1000:.1f} ms; target: hook ≤ 100 ms"
    )


if __name__ == "__main__":
    main()
