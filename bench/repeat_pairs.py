#!/usr/bin/env python3
"""How well `learnflow.learner.repeats` tells a repeated question from a new one.

A labelled set of question pairs (earlier, later, same question?), written by hand before the
thresholds were chosen. Every third pair (index % 3 == 2) is held out: the thresholds
(MIN_SHARED, MIN_DICE) were tuned on the other two thirds only, and the held-out figures were
computed once, at the end. "Same question" means: the later question asks for what the earlier
answer already gave (forgetting), not merely the same topic.

Each pair runs through the real path: a fresh SQLite log, the earlier question logged as an
answered ask with its offline skill tags, then `find_repeat` for the later one on its main
offline tag (so a pair whose two questions get different skills is never a repeat, as in use).

    PYTHONPATH=. python bench/repeat_pairs.py            # tuning and held-out precision/recall
    PYTHONPATH=. python bench/repeat_pairs.py --misses   # list the pairs it gets wrong (tuning part only)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

SAME, NEW = True, False

PAIRS: list[tuple[str, str, bool]] = [
    ("How do I undo my last git commit?", "undo the last commit in git but keep my changes", SAME),
    ("How do I undo my last git commit?", "How do I delete a remote git branch?", NEW),
    ("how to resolve a merge conflict in git", "git merge conflict, how do I resolve it?", SAME),
    ("what is the difference between git merge and git rebase", "when should I rebase instead of merge in git", SAME),
    ("How do I squash commits before a pull request?", "how to squash my last 3 commits into one", SAME),
    ("git push rejected non-fast-forward", "why was my git push rejected (non-fast-forward)?", SAME),
    ("How do I stash only some files in git?", "How do I rename a git branch?", NEW),
    ("how do I see what changed in the last commit", "git show the diff of the last commit", SAME),
    ("How do I recover a deleted branch with reflog?", "How do I cherry-pick a commit from another branch?", NEW),
    ("How do I write a pytest fixture that creates a temp file?", "pytest fixture for a temporary file", SAME),
    ("How do I mock a function in pytest?", "How do I parametrize a test in pytest?", NEW),
    ("why does my pytest test not get collected", "pytest is not collecting my tests, why?", SAME),
    ("how to run a single test with pytest", "run only one test function in pytest", SAME),
    ("How do I measure test coverage with pytest?", "How do I skip a test on Windows in pytest?", NEW),
    ("What does a flaky test mean and how do I find one?", "how can I find flaky tests", SAME),
    ("How do I read a CSV file with pandas?", "load a csv into a pandas dataframe", SAME),
    ("pandas groupby and sum two columns", "pandas merge two dataframes on a column", NEW),
    ("How do I fix ModuleNotFoundError: No module named requests?", "ModuleNotFoundError no module named requests", SAME),
    ("What is a Python decorator?", "How does a Python generator work?", NEW),
    ("how to create a virtualenv in python", "create a python virtual environment with venv", SAME),
    ("What is the difference between a list and a tuple in Python?", "python list vs tuple difference", SAME),
    ("How do I read a file line by line in Python?", "How do I write JSON to a file in Python?", NEW),
    ("What does async await do in Python asyncio?", "python asyncio: what does await actually do", SAME),
    ("Why do I get KeyError when reading a dict?", "KeyError when accessing a python dict key", SAME),
    ("How do I write a LEFT JOIN in SQL?", "SQL left join example", SAME),
    ("How do I write a LEFT JOIN in SQL?", "How do I add an index to a postgres table?", NEW),
    ("What is the difference between WHERE and HAVING in SQL?", "sql where vs having", SAME),
    ("How do I find duplicate rows in SQL?", "sql query to find duplicate rows by email", SAME),
    ("what is a database transaction", "How do I back up a postgres database?", NEW),
    ("Why is my postgres query slow? How to use EXPLAIN", "how do I read EXPLAIN ANALYZE output in postgres", SAME),
    ("How do I list running docker containers?", "docker: show running containers", SAME),
    ("How do I reduce the size of a docker image?", "my docker image is huge, how to make it smaller", SAME),
    ("What is the difference between CMD and ENTRYPOINT in a Dockerfile?", "How do I mount a volume in docker compose?", NEW),
    ("kubectl pod stuck in CrashLoopBackOff", "why is my kubernetes pod in CrashLoopBackOff", SAME),
    ("How do I see the logs of a kubernetes pod?", "How do I scale a kubernetes deployment?", NEW),
    ("How do I pass environment variables to a docker container?", "docker run with environment variables", SAME),
    ("What does HTTP 401 mean vs 403?", "difference between 401 and 403 status codes", SAME),
    ("How do I send a POST request with JSON using curl?", "curl post json body example", SAME),
    ("How do I send a POST request with JSON using curl?", "How do I follow redirects with curl?", NEW),
    ("What is CORS and why does my browser block the request?", "CORS error in the browser, what is it?", SAME),
    ("How do I paginate a REST API?", "How do I version a REST API?", NEW),
    ("How do I find files larger than 100MB on linux?", "find big files over 100MB", SAME),
    ("How do I replace text in many files with sed?", "sed replace a string in all files of a folder", SAME),
    ("How do I count lines in a file with wc?", "How do I sort a file by the second column?", NEW),
    ("What does chmod 755 mean?", "chmod 755 meaning", SAME),
    ("How do I see which process uses port 8080?", "which process is listening on port 8080", SAME),
    ("how do I make a systemd service restart automatically", "How do I view the logs of a systemd service?", NEW),
    ("What does exit code 137 mean?", "process exited with code 137, what does it mean", SAME),
    ("How do I write a regex for an email address?", "regex to validate email", SAME),
    ("What is a regex lookahead?", "How do I match a literal dot in a regex?", NEW),
    ("How do I set up ssh keys for github?", "configure an ssh key for github", SAME),
    ("What is DNS and how does a lookup work?", "How do I open a port in the firewall?", NEW),
    ("Why does my TLS certificate fail verification?", "ssl certificate verify failed, why?", SAME),
    ("How do I configure an S3 bucket policy for public read?", "make an s3 bucket publicly readable", SAME),
    ("What is terraform state and why does it matter?", "How do I write a terraform module?", NEW),
    ("How do I assume an IAM role with the aws cli?", "aws cli assume role", SAME),
    ("How do I cache dependencies in GitHub Actions?", "github actions cache pip dependencies", SAME),
    ("How do I cache dependencies in GitHub Actions?", "How do I run a GitHub Actions job only on tags?", NEW),
    ("How do I profile a slow Python function?", "profile python code to find what is slow", SAME),
    ("What is an N+1 query problem?", "How do I add caching with redis?", NEW),
    ("How do I store secrets safely in a repository?", "best way to keep secrets out of git", SAME),
    ("What is SQL injection and how do I prevent it?", "How do I hash passwords properly?", NEW),
    ("What is a promise in JavaScript?", "how do javascript promises work", SAME),
    ("Why is this variable undefined in my JavaScript callback?", "How do I bundle my app with vite?", NEW),
    ("How do I fix npm ERESOLVE unable to resolve dependency tree?", "npm ERESOLVE dependency tree error", SAME),
    ("What is dependency injection?", "explain dependency injection with an example", SAME),
    ("How should I name variables in a code review?", "How do I write a good pull request description?", NEW),
    ("How do I write a good README?", "what should a README contain", SAME),
    ("How do I write a good system prompt for an LLM?", "tips for writing a system prompt", SAME),
    ("How can I tell if the model hallucinated this API?", "How do I give an LLM few-shot examples?", NEW),
    ("How do I undo git add before commit?", "unstage a file after git add", SAME),
    ("How do I delete a local git branch?", "How do I delete a remote git branch?", NEW),
    ("How do I make a python dataclass immutable?", "frozen dataclass in python", SAME),
    ("docker container exits immediately after start", "why does my docker container stop right away", SAME),
    ("How do I kill a process by name on linux?", "How do I see memory usage of a process on linux?", NEW),
]


def held_out(index: int) -> bool:
    return index % 3 == 2


def evaluate(pairs: list[tuple[int, tuple[str, str, bool]]]) -> tuple[dict, list]:
    from learnflow.db.store import Store
    from learnflow.learner import skills
    from learnflow.learner.repeats import find_repeat

    tp = fp = fn = tn = 0
    wrong = []
    for index, (earlier, later, same) in pairs:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(os.path.join(tmp, "log.db"))
            cid = store.new_conversation(earlier)
            first = store.begin_interaction(conversation_id=cid, question=earlier, status="ok", answer="(an answer)")
            store.set_skills(first, skills.tag_offline(earlier))
            cid2 = store.new_conversation(later)
            second = store.begin_interaction(conversation_id=cid2, question=later)
            hit = find_repeat(store, later, [t.skill for t in skills.tag_offline(later)], exclude=second)
            found = hit is not None and hit[0] == first
            store.close()
        tp += found and same
        fp += found and not same
        fn += (not found) and same
        tn += (not found) and not same
        if found != same:
            wrong.append((index, earlier, later, same))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return {"pairs": len(pairs), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall}, wrong


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--misses", action="store_true", help="list the tuning pairs it gets wrong")
    ap.add_argument("--tuning-only", action="store_true", help="only the tuning part (what the thresholds were chosen on)")
    args = ap.parse_args(argv)
    os.environ.setdefault("LEARNFLOW_HOME", tempfile.mkdtemp(prefix="learnflow-repeats-"))
    tune = [(i, p) for i, p in enumerate(PAIRS) if not held_out(i)]
    test = [(i, p) for i, p in enumerate(PAIRS) if held_out(i)]
    for name, part in (("tuning", tune), ("held-out", test))[: 1 if args.tuning_only else 2]:
        figures, wrong = evaluate(part)
        same = sum(1 for _, p in part if p[2])
        print(
            f"{name:<9} {figures['pairs']} pairs ({same} same): precision {figures['precision']:.2f}  recall {figures['recall']:.2f}"
            f"  (tp {figures['tp']}, fp {figures['fp']}, fn {figures['fn']}, tn {figures['tn']})"
        )
        if args.misses and name == "tuning":
            for index, earlier, later, label in wrong:
                print(f"   #{index} {'missed' if label else 'false '}: {earlier!r} / {later!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
