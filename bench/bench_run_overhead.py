#!/usr/bin/env python3
"""What `learnflow run` adds to a fast command: `true` bare against `learnflow run -- true`, side by side.

    PYTHONPATH=. python bench/bench_run_overhead.py [--runs 30] [--command true] [--rev ce63794] [--xdg]

Real processes, interleaved (bare, wrapped, bare, wrapped, …) after warm-ups, so load from other
processes hits both alike; medians of `--runs` each. The home is prepared first (a migrated log
with a few hundred earlier tasks, as after weeks of use), and bytecode is cached as for an
installed copy. Also shown for scale: the interpreter starting and doing nothing, and
`learnflow --help`. The target (issue 12): wrapped − bare ≤ 50 ms.

`--rev REV` adds the same wrapped command run by an earlier git revision (checked out into a
temporary worktree, same interpreter and log), interleaved with the rest: a before/after of the
overhead from one run, as bench_ab.py does for whole commands. `--xdg` finds the log as on a
user's machine (XDG_DATA_HOME & co., no LEARNFLOW_HOME, which skips looking up the folders). The
line "as the installed script" runs the entry point as the `learnflow` console script does,
without `python -m`'s runpy.
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
    ap.add_argument("--rev", help="also time `learnflow run` as of this git revision (before/after in one run)")
    ap.add_argument("--xdg", action="store_true", help="locate the log through XDG folders, as on a user's machine")
    args = ap.parse_args(argv)
    runs = max(20, args.runs)
    with tempfile.TemporaryDirectory(prefix="learnflow-run-bench-") as tmp:
        try:
            return _bench(args, runs, tmp)
        finally:
            if args.rev:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(Path(tmp) / "rev")], check=False)


def _bench(args, runs: int, tmp: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(LEARNFLOW_HOME=str(Path(tmp) / "home"), PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"), NO_COLOR="1")
    if args.xdg:
        del env["LEARNFLOW_HOME"]
        env.update({f"XDG_{kind}_HOME": str(Path(tmp) / kind.lower()) for kind in ("DATA", "CONFIG", "CACHE")})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    _prepare(env, args.history, tmp)
    learnflow = [sys.executable, "-m", "learnflow"]
    sides = {
        f"{args.command} (bare)": [args.command],
        f"learnflow run -- {args.command}": [*learnflow, "run", "--", args.command],
        "python -c pass (interpreter alone)": [sys.executable, "-c", "pass"],
        "learnflow --help": [*learnflow, "--help"],
        # What the `learnflow` console script runs (no runpy): the command as a user types it.
        f"learnflow run -- {args.command} (as the installed script)": [
            sys.executable,
            "-c",
            "import sys; from learnflow.__main__ import main; sys.exit(main())",
            "run",
            "--",
            args.command,
        ],
    }
    envs = {name: env for name in sides}
    if args.rev:
        tree = Path(tmp) / "rev"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.rev], check=True)
        name = f"learnflow run -- {args.command} @{args.rev}"
        sides[name] = [*learnflow, "run", "--", args.command]
        envs[name] = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}

    def run(name: str) -> float:
        start = time.perf_counter()
        subprocess.run(sides[name], env=envs[name], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start

    for name in sides:
        run(name), run(name)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name in sides:
            times[name].append(run(name))
    print(f"{runs} interleaved runs per line, load {os.getloadavg()[0]:.2f}, {args.history} earlier tasks in the log")
    for name, values in times.items():
        print(f"  {name:<50} median {statistics.median(values) * 1000:7.1f} ms   min {min(values) * 1000:7.1f} ms")
    medians = [statistics.median(v) for v in times.values()]
    print(f"  added by learnflow run: {(medians[1] - medians[0]) * 1000:+.1f} ms (target ≤ 50 ms)")
    print(f"  added by learnflow run as the installed script: {(medians[4] - medians[0]) * 1000:+.1f} ms")
    if args.rev:
        print(f"  added by learnflow run @{args.rev}: {(medians[5] - medians[0]) * 1000:+.1f} ms")
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
