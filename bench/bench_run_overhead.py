#!/usr/bin/env python3
"""What `learnflow run` adds to a fast command: `true` bare against `learnflow run -- true`, side by side.

    PYTHONPATH=. python bench/bench_run_overhead.py [--runs 30] [--command true]

Real processes, interleaved (bare, wrapped, bare, wrapped, …) after warm-ups, so load from other
processes hits both alike; medians of `--runs` each. The home is prepared first (a migrated log
with a few hundred earlier tasks, as after weeks of use), and bytecode is cached as for an
installed copy. Also shown for scale: the interpreter starting and doing nothing, and
`learnflow --help`. The target (issue 12): wrapped − bare ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="timed runs per side (default 30, at least 20)")
    ap.add_argument("--command", default="true", help="the fast command (default: true)")
    ap.add_argument("--history", type=int, default=300, help="earlier tasks in the prepared log (default 300)")
    args = ap.parse_args(argv)
    runs = max(20, args.runs)
    with tempfile.TemporaryDirectory(prefix="learnflow-run-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(LEARNFLOW_HOME=str(Path(tmp) / "home"), PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"), NO_COLOR="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        _prepare(env, args.history, tmp)
        learnflow = [sys.executable, "-m", "learnflow"]
        sides = {
            f"{args.command} (bare)": [args.command],
            f"learnflow run -- {args.command}": [*learnflow, "run", "--", args.command],
            "python -c pass (interpreter alone)": [sys.executable, "-c", "pass"],
            "learnflow --help": [*learnflow, "--help"],
        }

        def run(cmd: list[str]) -> float:
            start = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            return time.perf_counter() - start

        for cmd in sides.values():
            run(cmd), run(cmd)
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(runs):
            for name, cmd in sides.items():
                times[name].append(run(cmd))
    print(f"{runs} interleaved runs per line, load {os.getloadavg()[0]:.2f}, {args.history} earlier tasks in the log")
    for name, values in times.items():
        print(f"  {name:<36} median {statistics.median(values) * 1000:7.1f} ms   min {min(values) * 1000:7.1f} ms")
    bare, wrapped = (statistics.median(v) for v in list(times.values())[:2])
    print(f"  added by learnflow run: {(wrapped - bare) * 1000:+.1f} ms (target ≤ 50 ms)")
    return 0


def _prepare(env: dict, history: int, cwd: str) -> None:
    """A migrated log with `history` earlier tasks (some failed), written through learnflow itself."""
    code = (
        "import sys\n"
        "from learnflow.db.store import Store\n"
        "from learnflow.learner import tasks\n"
        "from learnflow.tutor.wrap import Outcome\n"
        "s = Store()\n"
        "for i in range(int(sys.argv[1])):\n"
        "    code = 1 if i % 4 == 0 else 0\n"
        "    tasks.record(s, Outcome(['pytest', '-x', f'tests/test_{i % 20}.py'], '/tmp', code, 100, 'out', 'E   AssertionError' if code else ''))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(history)], env=env, cwd=cwd, check=True)


if __name__ == "__main__":
    sys.exit(main())
