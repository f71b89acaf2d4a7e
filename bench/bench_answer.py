#!/usr/bin/env python3
"""Wall time of `learnflow answer` offline, side by side with `learnflow --help` in the same run.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_answer.py [--runs 21] [--log 2000]

A prepared LEARNFLOW_HOME holds `--log` earlier answers (a few months of asks) and one
fresh offline answer per timed run, each ending with a bundled skill card's check question
(what the offline coach writes). Each timed run is a real process, `learnflow answer --id N
"…"`, judged by the card's keywords, recorded with its FSRS card and evidence: the whole
command as a user waits for it. Rows alternate (help, answer, help, answer, …) after two
warm-ups each, so load from other processes hits both alike; bytecode is cached in a fresh
PYTHONPYCACHEPREFIX as for an installed copy; runs start in a neutral directory.

The target (issue 12): `answer` offline ≤ 0.3 s.
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

REPO = Path(__file__).resolve().parent.parent
CHECK = "After `git reset --soft HEAD~1`, where are the changes from the undone commit?"  # the bundled git card's
TARGET = 0.3


def prepare(home: Path, log: int, fresh: int) -> list[int]:
    """Fill the home's log; return the ids of `fresh` answers whose checks are still unanswered."""
    os.environ["LEARNFLOW_HOME"] = str(home)
    sys.path.insert(0, str(REPO))
    from learnflow.db.store import SkillTag, Store

    store = Store()
    ids = []
    for n in range(log + fresh):
        cid = store.new_conversation(f"q{n}")
        i = store.begin_interaction(conversation_id=cid, question=f"How do I undo commit {n} but keep the changes?",
                                    backend="offline", mode="teach", model="offline")  # fmt: skip
        store.finish_interaction(i, answer=f"Use git reset --soft HEAD~1 ({n}).\n\n**Check:** {CHECK}", status="ok", check_question=CHECK)
        store.set_skills(i, [SkillTag("git", 1.0, "offline")])
        ids.append(i)
    store.close()
    return ids[log:]


def timed(argv: list[str], env: dict, cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--log", type=int, default=2000, help="earlier answers in the prepared log")
    args = parser.parse_args()
    warm = 2
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        fresh = prepare(home, args.log, args.runs + warm)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(LEARNFLOW_HOME=str(home), LEARNFLOW_MODEL="offline", PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc"))
        base = [sys.executable, "-m", "learnflow"]
        rows: dict[str, list[float]] = {"learnflow --help": [], "learnflow answer (offline)": []}
        for n, iid in enumerate(fresh):
            help_s = timed([*base, "--help"], env, tmp)
            answer_s = timed([*base, "answer", "--id", str(iid), "They stay staged, in the index."], env, tmp)
            if n >= warm:
                rows["learnflow --help"].append(help_s)
                rows["learnflow answer (offline)"].append(answer_s)
    print(f"{args.runs} runs each, alternating; log of {args.log} earlier answers; python {sys.version.split()[0]}")
    print(f"{'command':<28} {'median':>8} {'p90':>8} {'min':>8}")
    for name, times in rows.items():
        times.sort()
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        print(f"{name:<28} {statistics.median(times):>7.3f}s {p90:>7.3f}s {times[0]:>7.3f}s")
    answer_median = statistics.median(rows["learnflow answer (offline)"])
    print(f"answer − help: {answer_median - statistics.median(rows['learnflow --help']):+.3f} s; target ≤ {TARGET} s: "
          f"{'met' if answer_median <= TARGET else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
