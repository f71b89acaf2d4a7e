#!/usr/bin/env python3
"""Does the offline coach present the right guide, or say it has none? Labelled questions, two splits.

    PYTHONPATH=. python bench/bench_coach.py                 # both splits, with today's coach as baseline
    PYTHONPATH=. python bench/bench_coach.py --split tuning  # while tuning: never look at held-out
    PYTHONPATH=. python bench/bench_coach.py --json

Each question in bench/coach/{tuning,heldout}.jsonl is labelled with the guide (card id; several
joined by "|" when each is a right answer) or "none" when no bundled guide fits. An answer is

  right       the guide presented as *the* answer is one of the labels;
  abstained   no guide presented (the coach says it has none);
  wrong       a guide presented that is not one of the labels (for a "none" question: any guide).

The headline is "right or no wrong guide" = (right + abstained on a "none" question + abstained on a
fitting one) / all: the share of answers that do not mislead. Because abstaining always would score
100%, it is reported beside the recall on fitting questions (right / fitting) and the wrong rate.

Systems, in one run on the same questions:
  base   today's coach at --base (default 046c2a8): its own cards, top BM25 card above its cut-off,
         run from a temporary git worktree in a subprocess;
  rank   the same rule (top BM25 card above MIN_CARD_SCORE) on the new cards: what the cards alone give;
  fit    the new fit gate (backends/coach.best_fit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "coach"
SPLITS = ("tuning", "heldout", "heldout2")

# Run inside the base revision's tree: its tagger, its ranking, its cut-off, its cards.
BASE_SCRIPT = """
import json, sys
from learnflow.backends import coach
from learnflow.backends.offline import MIN_CARD_SCORE
from learnflow.learner.skills import tag_offline
for item in json.load(sys.stdin):
    skills = [t.skill for t in tag_offline(item["question"], item["context"])]
    ranked = [c for c, s in coach.rank_cards(item["question"], skills) if s >= MIN_CARD_SCORE]
    print(ranked[0].id if ranked else "")
"""


def load(split: str) -> list[dict]:
    with open(DATA / f"{split}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def base_choices(items: list[dict], rev: str) -> list[str | None]:
    with tempfile.TemporaryDirectory(prefix="learnflow-coach-") as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(tree), "LEARNFLOW_HOME": str(Path(tmp) / "home")}
            out = subprocess.run([sys.executable, "-c", BASE_SCRIPT], input=json.dumps(items), env=env, cwd=tmp,
                                 capture_output=True, text=True, check=True).stdout  # fmt: skip
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    return [line or None for line in out.splitlines()]


def rank_choices(items: list[dict]) -> list[str | None]:
    from learnflow.backends import coach
    from learnflow.backends.offline import MIN_CARD_SCORE
    from learnflow.learner.skills import tag_offline

    out = []
    for item in items:
        skills = [t.skill for t in tag_offline(item["question"], item["context"])]
        ranked = [c for c, s in coach.rank_cards(item["question"], skills) if s >= MIN_CARD_SCORE]
        out.append(ranked[0].id if ranked else None)
    return out


def fit_choices(items: list[dict]) -> list[str | None]:
    from learnflow.backends import coach

    out = []
    for item in items:
        fit = coach.choose(item["question"], item["context"])
        out.append(fit.card.id if fit.card else None)
    return out


def named_on_fitting(items: list[dict]) -> float:
    """Of the fitting questions, the share where the right guide is at least named: as the answer,
    or under "See also" as the nearest guide when none was given as the answer."""
    from learnflow.backends import coach
    from learnflow.backends.offline import NEAREST_FIT

    hits = fitting = 0
    for item in items:
        labels = set(item["label"].split("|"))
        if labels == {"none"}:
            continue
        fitting += 1
        fit = coach.choose(item["question"], item["context"])
        shown = {fit.card.id} if fit.card else {c.id for c in (fit.best, fit.rival) if c is not None and fit.score >= NEAREST_FIT}
        hits += bool(shown & labels)
    return round(hits / fitting, 3) if fitting else 0.0


def score(items: list[dict], chosen: list[str | None]) -> dict:
    right = abstain_fit = abstain_none = wrong_fit = wrong_none = 0
    misses = []
    for item, pick in zip(items, chosen, strict=True):
        labels = set(item["label"].split("|"))
        none = labels == {"none"}
        if pick is None:
            if none:
                abstain_none += 1
            else:
                abstain_fit += 1
                misses.append((item["id"], item["label"], "-"))
        elif pick in labels:
            right += 1
        else:
            if none:
                wrong_none += 1
            else:
                wrong_fit += 1
            misses.append((item["id"], item["label"], pick))
    n = len(items)
    fitting = sum(1 for i in items if i["label"] != "none")
    return {
        "n": n,
        "fitting": fitting,
        "right_or_no_wrong": round((right + abstain_fit + abstain_none) / n, 3),
        "right_guide_on_fitting": round(right / fitting, 3) if fitting else None,
        "honest_on_none": round(abstain_none / (n - fitting), 3) if n > fitting else None,
        "wrong_guide": round((wrong_fit + wrong_none) / n, 3),
        "misses": misses,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=[*SPLITS, "all"], default="all")
    ap.add_argument("--base", default="046c2a8", help="the revision whose coach is the baseline")
    ap.add_argument("--no-base", action="store_true", help="skip the base revision (no git worktree)")
    ap.add_argument("--misses", action="store_true", help="list the questions each system got wrong")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("LEARNFLOW_HOME", tempfile.mkdtemp(prefix="learnflow-coach-home-"))
    splits = SPLITS if args.split == "all" else (args.split,)
    report: dict = {}
    for split in splits:
        items = load(split)
        systems = {"rank": rank_choices(items), "fit": fit_choices(items)}
        if not args.no_base:
            systems = {"base": base_choices(items, args.base), **systems}
        report[split] = {name: score(items, chosen) for name, chosen in systems.items()}
        report[split]["fit"]["named_on_fitting"] = named_on_fitting(items)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for split, systems in report.items():
        print(f"\n{split}: {next(iter(systems.values()))['n']} questions, {next(iter(systems.values()))['fitting']} with a fitting guide")
        print(f"  {'system':<6} {'right or no wrong':>18} {'right on fitting':>17} {'honest on none':>15} {'wrong guide':>12}")
        for name, r in systems.items():
            print(
                f"  {name:<6} {r['right_or_no_wrong']:>18.1%} {r['right_guide_on_fitting']:>17.1%} {r['honest_on_none']:>15.1%} {r['wrong_guide']:>12.1%}"
            )
        print(
            f"  fit names the right guide (as the answer, or as the nearest under See also) on {systems['fit']['named_on_fitting']:.1%} of fitting questions"
        )
        if args.misses:
            for name, r in systems.items():
                print(f"  {name} misses: " + "; ".join(f"#{i} {lab}→{pick}" for i, lab, pick in r["misses"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
