"""How fast is `learnflow gaps` on a big log? Wall time and peak memory of the real CLI process.

Fills a fresh learnflow database with N evidence rows (through the evidence
table, so the m006 triggers keep `evidence_daily` as they do in real use),
then times, round-robin, each in its own process:

- `python -c pass`            the interpreter's floor;
- `learnflow --help`          the CLI's own start-up;
- `learnflow gaps`            the report (plain text to a pipe);
- `learnflow gaps --json`     the report as JSON;
- naive load-all-rows         the same model computed from every evidence row
                              loaded into Python (what the daily table avoids).

Peak RSS and CPU time (user + system) are each command's own, from GNU time
(/usr/bin/time -f "%M %U %S"; see `run` for why not this process's wait4).

    python bench/bench_gaps_speed.py                  # 100k and 1M events, 5 runs each
    python bench/bench_gaps_speed.py --sizes 100000 --runs 3
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

TARGETS = {100_000: (0.5, None), 1_000_000: (3.0, 200.0)}  # seconds, MB for `learnflow gaps`
KINDS = [("question_how", 0.30), ("question_why", 0.10), ("check", 0.25), ("review", 0.25), ("self_rating", 0.10)]
SPAN_DAYS = 730


def fill(home: Path, n: int, seed: int = 7) -> float:
    """N evidence rows over two years on the bundled skills; returns seconds spent writing."""
    from learnflow.db.store import Store
    from learnflow.learner.goals import apply_role
    from learnflow.learner.skills import taxonomy

    os.environ["LEARNFLOW_HOME"] = str(home)
    store = Store()
    apply_role(store, "backend-developer")
    skills = sorted(taxonomy())
    skill_w = [random.Random(s).gammavariate(1.0, 1.0) for s in skills]
    rng = random.Random(seed)
    now = time.time()
    kinds, kind_w = zip(*KINDS)
    t0 = time.perf_counter()
    conn = store.conn
    batch = 50_000
    for start in range(0, n, batch):
        rows = []
        for _ in range(min(batch, n - start)):
            kind = rng.choices(kinds, kind_w)[0]
            value = rng.uniform(0.3, 1.0) if kind.startswith("question") else float(rng.random() < 0.6)
            if kind in ("review", "self_rating"):
                value = round(rng.random(), 3)
            rows.append((now - rng.random() * SPAN_DAYS * 86400, rng.choices(skills, skill_w)[0], kind, value))
        with conn:
            conn.executemany("INSERT INTO evidence (ts, skill, kind, value) VALUES (?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return elapsed


def naive_main(db_path: str) -> int:
    """The model from every row, loaded into Python: the approach the daily table replaces."""
    from learnflow.learner.profile import PRIOR_ALPHA, PRIOR_BETA, QUESTION_KINDS, Params

    params = Params()
    now = time.time()
    times = [now - k * 7 * 86400 for k in range(11, -1, -1)]
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT ts, skill, kind, value FROM evidence ORDER BY ts").fetchall()
    state: dict[str, list] = {}
    out: dict[str, list] = {}
    for ts, skill, kind, value in rows:
        st = state.setdefault(skill, [0.0, 0.0, None, 0])  # succ, fail, clock, next time index
        out.setdefault(skill, [])
        while st[3] < len(times) and times[st[3]] < ts:
            f = math.exp(-params.rate * (times[st[3]] - st[2])) if st[2] else 0.0
            out[skill].append((PRIOR_ALPHA + st[0] * f) / (PRIOR_ALPHA + PRIOR_BETA + (st[0] + st[1]) * f))
            st[3] += 1
        if st[2] is not None:
            f = math.exp(-params.rate * (ts - st[2]))
            st[0], st[1] = st[0] * f, st[1] * f
        st[2] = ts
        w = params.weights.get(kind, 0.0)
        v = 1.0 if value is None else min(1.0, max(0.0, value))
        if kind in QUESTION_KINDS:
            st[1] += w * v
        else:
            st[0] += w * v
            st[1] += w * (1 - v)
    print(f"{len(rows)} rows, {len(out)} skills")
    return 0


GNU_TIME = "/usr/bin/time"


def run(argv: list[str], env: dict, errfile: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MB, exit code: of this one child process.

    Linux carries a process's peak RSS across exec, and a child of this bench
    starts as a copy of it (~40 MB), so wait4's ru_maxrss would show this bench's
    size on every row. GNU time (small, C) starts the command instead and reports
    the command's own peak; without it, ru_maxrss is used and the table says so.
    """
    rssfile = errfile.with_suffix(".rss")
    wrapped = [GNU_TIME, "-f", "%M %U %S", "-o", str(rssfile), *argv] if os.path.exists(GNU_TIME) else argv
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, str(errfile), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    t0 = time.perf_counter()
    pid = os.posix_spawn(wrapped[0], wrapped, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code:
        sys.stderr.write(errfile.read_text(errors="replace")[-2000:])
    if wrapped is argv:
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code
    rss, user, system = rssfile.read_text().split()[-3:]
    return wall, float(user) + float(system), int(rss) / 1024, code


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--naive", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.naive:
        return naive_main(args.naive)

    learnflow = Path(sys.executable).parent / "learnflow"
    failed = False
    rss = "GNU time %M" if os.path.exists(GNU_TIME) else "wait4 ru_maxrss, includes this bench's own ~40 MB"
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
          f"load {os.getloadavg()[0]:.2f}; {args.runs} runs per row after one warm-up, round-robin; "
          f"median wall, max peak RSS ({rss})")  # fmt: skip
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="learnflow-speed-") as tmp:
            home = Path(tmp)
            write_s = fill(home, n)
            db = home / "learnflow.db"
            daily = sqlite3.connect(db).execute("SELECT count(*) FROM evidence_daily").fetchone()[0]
            # Bytecode cached as in an installed copy (as bench_startup.py does): a dev shell's
            # PYTHONDONTWRITEBYTECODE would make every run recompile learnflow's modules.
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env.update(LEARNFLOW_HOME=str(home), NO_COLOR="1", COLUMNS="80", PYTHONPYCACHEPREFIX=str(home / "pycache"))
            rows = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "learnflow --help": [str(learnflow), "--help"],
                "learnflow gaps": [str(learnflow), "gaps"],
                "learnflow gaps --json": [str(learnflow), "gaps", "--json"],
                "naive: load every row": [sys.executable, __file__, "--naive", str(db)],
            }
            samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in rows}
            for i in range(args.runs + 1):
                for name, cmd in rows.items():
                    wall, cpu, rss, code = run(cmd, env, home / "stderr.txt")
                    if code:
                        print(f"{name} failed (exit {code})")
                        failed = True
                    if i:  # the first round warms the page cache
                        samples[name].append((wall, cpu, rss))
            size_mb = db.stat().st_size / 1e6
            print(f"\n{n:,} evidence rows ({size_mb:.0f} MB database, {daily:,} daily buckets; "
                  f"written in {write_s:.1f} s with the triggers, {n / write_s:,.0f} rows/s)")  # fmt: skip
            target_s, target_mb = TARGETS.get(n, (None, None))
            print(f"  {'':<24}{'median s':>10}{'min s':>8}{'CPU s':>8}{'peak MB':>9}  target")
            for name, vals in samples.items():
                walls = [w for w, _, _ in vals]
                cpu = statistics.median(c for _, c, _ in vals)
                peak = max(r for _, _, r in vals)
                verdict = ""
                if name == "learnflow gaps" and target_s is not None:
                    ok = statistics.median(walls) <= target_s and (target_mb is None or peak <= target_mb)
                    verdict = f"≤{target_s:g} s" + (f", ≤{target_mb:g} MB" if target_mb else "") + (" OK" if ok else " MISSED")
                    failed |= not ok
                print(f"  {name:<24}{statistics.median(walls):>10.3f}{min(walls):>8.3f}{cpu:>8.2f}{peak:>9.1f}  {verdict}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (wall times grow with other work on the machine; CPU s less so)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
