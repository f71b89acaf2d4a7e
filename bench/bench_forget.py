#!/usr/bin/env python3
"""How long `forget` takes on a big log: an earlier revision (A) against the working tree (B).

    /work/main/.venv/bin/python bench/bench_forget.py --rev 046c2a8 --asks 100000

Each side gets a log of `--asks` asks (plus checks, ratings and reflections, as tests/lrs/testkit.py's
simulate_log writes them: about one evidence row per ask and check) built once with its own
code (so with its own schema); every timed run forgets from a fresh copy of it. Runs alternate
A, B, A, B so the machine's load hits both alike. Wall time of the whole `learnflow forget`
process, start-up and VACUUM included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = """
import sys
sys.path.insert(0, sys.argv[2])
from testkit import simulate_log
from learnflow.db.store import Store
s = Store()
n = int(sys.argv[1])
simulate_log(s, asks=n, checks=n // 5, ratings=n // 100, reflections=n // 1000)
s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(s.conn.execute("SELECT (SELECT count(*) FROM interactions), (SELECT count(*) FROM evidence)").fetchone())
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", required=True)
    ap.add_argument("--asks", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    cases = {"--all": ["forget", "--all", "--yes"], "one id": ["forget", "7"], "--since (last 10%)": ["forget", "--since", "2d"]}
    with tempfile.TemporaryDirectory(prefix="learnflow-forget-") as tmp:
        tree = Path(tmp) / "a"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.rev], check=True)
        try:
            sides = {f"A {args.rev}": str(tree), "B working tree": str(ROOT)}
            env = {**os.environ, "NO_COLOR": "1", "LEARNFLOW_NO_PROBE": "1"}
            logs = {}
            for name, path in sides.items():
                home = Path(tmp) / f"log-{name[0]}"
                out = subprocess.run([sys.executable, "-c", BUILD, str(args.asks), str(ROOT / "tests" / "lrs")],
                                     env={**env, "PYTHONPATH": path, "LEARNFLOW_HOME": str(home)}, cwd=tmp, capture_output=True, text=True, check=True)  # fmt: skip
                logs[name] = home
                print(f"{name}: log of (interactions, evidence rows) = {out.stdout.strip()}, "
                      f"{(home / 'learnflow.db').stat().st_size / 1e6:.0f} MB", flush=True)  # fmt: skip
            for case, command in cases.items():
                times: dict[str, list[float]] = {name: [] for name in sides}
                for _ in range(args.runs):
                    for name, path in sides.items():
                        home = Path(tmp) / "run"
                        shutil.rmtree(home, ignore_errors=True)
                        shutil.copytree(logs[name], home)
                        start = time.perf_counter()
                        done = subprocess.run([sys.executable, "-m", "learnflow", *command], env={**env, "PYTHONPATH": path, "LEARNFLOW_HOME": str(home)},
                                              cwd=tmp, capture_output=True, text=True, check=False)  # fmt: skip
                        times[name].append(time.perf_counter() - start)
                        if done.returncode:
                            print(f"  {name} {case}: exit {done.returncode}: {done.stderr.strip()[-300:]}", flush=True)
                for name, t in times.items():
                    print(
                        f"forget {case:20} {name:22} median {statistics.median(t):6.2f} s  (runs: {', '.join(f'{x:.2f}' for x in t)})",
                        flush=True,
                    )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
