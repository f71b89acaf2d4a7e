#!/usr/bin/env python3
"""A learnflow home with realistic history, for A/B runs of `ask` with the learner's memory and of `gaps`.

    python bench/memory_home.py /tmp/ask-home                       # 3,000 evidence rows, 300 asks
    python bench/memory_home.py /tmp/gaps-home --evidence 0 --asks 10000
    python bench/bench_ab.py --rev 4e725eb --home /tmp/ask-home -- ask -m offline "How do I undo my last git commit?"

Evidence over 90 days on six skills (git weak: 35% right, so the gap line shows), 40 check
results half of them wrong, an open action item, a goal on git, and asks (a fifth --direct,
a seventh with an attempt, an eleventh repeats, one in fifty flagged) for the reliance view.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("home")
    ap.add_argument("--evidence", type=int, default=3000)
    ap.add_argument("--asks", type=int, default=300)
    args = ap.parse_args(argv)
    os.environ["LEARNFLOW_HOME"] = args.home
    from learnflow.db.store import Store
    from learnflow.learner.goals import set_goal
    from learnflow.timespec import iso_ts

    store = Store()
    rng = random.Random(3)
    now = time.time()
    skills = ["git", "sql", "shell", "python", "containers", "testing"]
    rows = []
    for i in range(args.evidence):
        skill = rng.choice(skills)
        right = rng.random() < (0.35 if skill == "git" else 0.75)
        kind = rng.choice(["check", "review", "question_how", "self_rating"])
        rows.append(
            {"skill": skill, "kind": kind, "value": float(right), "source": "bench", "source_id": i, "ts": now - rng.random() * 90 * 86400}
        )
    store.add_evidence(rows)
    conn = store.conn  # a bench may write directly; learnflow's own code goes through db/
    for i in range(40):
        skill = skills[i % len(skills)]
        conn.execute(
            "INSERT INTO check_results (created_at, skill, question, answer, correct, score) VALUES (?, ?, ?, ?, ?, ?)",
            [iso_ts(now - i * 3600), skill, f"Check {i} on {skill}: what does this step change, and why?", f"answer {i}", i % 2, 0.0],
        )
    conn.execute(
        "INSERT INTO action_items (created_at, text, status) VALUES (?, ?, 'open')",
        [iso_ts(now - 86400), "Practise interactive rebase on a scratch repo"],
    )
    cid = store.new_conversation("bench")
    asks = [(cid, iso_ts(now - i * 1800), f"how do I do thing {i} with git", "ok", "direct" if i % 5 == 0 else "teach",
             "my try" if i % 7 == 0 else None, i - 1 if i % 11 == 0 and i > 1 else None) for i in range(args.asks)]  # fmt: skip
    conn.executemany(
        "INSERT INTO interactions (conversation_id, created_at, question, status, mode, attempt, repeat_of) VALUES (?, ?, ?, ?, ?, ?, ?)",
        asks,
    )
    first = conn.execute("SELECT min(id) FROM interactions").fetchone()[0] or 1
    conn.executemany("INSERT INTO flags (interaction_id, created_at, verdict, reason) VALUES (?, ?, 'wrong', 'bench')",
                     [(first + i, iso_ts(now)) for i in range(0, args.asks, 50)])  # fmt: skip
    conn.commit()
    set_goal(store, "git", 0.8)
    print(f"{args.home}: {args.evidence} evidence rows, 40 check results, 1 open action item, {args.asks} asks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
