#!/usr/bin/env python3
"""A/B: one learnflow command, an earlier git revision against the working tree, side by side.

    /work/venv/bin/python bench/bench_ab.py --rev HEAD~1 -- --help
    /work/venv/bin/python bench/bench_ab.py --rev 2fc19a7~1 --home /tmp/big-log -- gaps

The revision is checked out into a temporary git worktree and run with the same
interpreter (and so the same installed dependencies) as the working tree; runs
alternate (A, B, A, B, ...) after two warm-ups each, so load from other processes
hits both sides alike. Bytecode is cached (a fresh PYTHONPYCACHEPREFIX, as for an
installed copy). Both sides share LEARNFLOW_HOME (`--home`, default a fresh
temporary one), so pick a command that does not change it much.

Two traps this avoids: `python -m learnflow` puts the current directory first on
sys.path, so the runs start in a neutral directory; and timing two separate bench
invocations compares two machine states, not two versions (this machine's speed
drifted ~1.5x within one session).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", required=True, help="the git revision to compare with (A)")
    ap.add_argument("--runs", type=int, default=15, help="timed runs per side (default 15)")
    ap.add_argument("--home", help="LEARNFLOW_HOME for both sides (default: a fresh temporary one)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="learnflow's arguments, after --")
    args = ap.parse_args(argv)
    command = [a for a in args.command if a != "--"] or ["--help"]
    with tempfile.TemporaryDirectory(prefix="learnflow-ab-") as tmp:
        tree = Path(tmp) / "a"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.rev], check=True)
        try:
            home = args.home or str(Path(tmp) / "home")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env.update(LEARNFLOW_HOME=home, PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"), NO_COLOR="1", COLUMNS="80")
            sides = {f"A {args.rev}": str(tree), "B working tree": str(ROOT)}
            # CPU time (user + system) of each run's process: far less moved by other processes'
            # load than wall time, so a few ms of added work still show on a busy machine.
            cpu: dict[str, list[float]] = {path: [] for path in sides.values()}

            def run(path: str) -> float:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "learnflow", *command], env={**env, "PYTHONPATH": path}, cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # fmt: skip
                wall = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[path].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                return wall

            for path in sides.values():
                run(path), run(path)
                cpu[path].clear()
            times: dict[str, list[float]] = {name: [] for name in sides}
            for _ in range(args.runs):
                for name, path in sides.items():
                    times[name].append(run(path))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    print(f"learnflow {' '.join(command)}: {args.runs} alternating runs per side, load {os.getloadavg()[0]:.2f}")
    for (name, values), path in zip(times.items(), sides.values()):
        print(f"  {name:<28} median {statistics.median(values):.3f} s   min {min(values):.3f} s   "
              f"CPU median {statistics.median(cpu[path]):.3f} s")  # fmt: skip
    a, b = (statistics.median(v) for v in times.values())
    ca, cb = (statistics.median(cpu[p]) for p in sides.values())
    print(f"  B − A: {b - a:+.3f} s ({(b - a) / a:+.0%}) wall, {cb - ca:+.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
