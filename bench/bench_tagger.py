#!/usr/bin/env python3
"""How often the offline tagger puts the right skill first, on a labelled set, next to a baseline revision.

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/bench_tagger.py                  # both splits, base 4e725eb
    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/bench_tagger.py --split tuning --misses

The set is bench/tagger/labelled.jsonl: one question per line with its right skill, optional
piped context, and a split. The split was drawn once, stratified by skill, before any tuning:
tune on "tuning" only (`--split tuning --misses` lists what the tagger gets wrong there) and
report "heldout". The baseline is the tagger of another revision (`--base`, default 4e725eb,
the commit before the tagger work), read from git and run in this same process on the same
questions: its skills.py is loaded as a separate module and pointed at that revision's
skills.toml. Both run with an empty LEARNFLOW_HOME, so a user's own skills.toml changes nothing.

"right skill first" = the first tag is the labelled skill; "top-2" = it is among the first two.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "bench" / "tagger" / "labelled.jsonl"
BASE = "4e725eb"


def load(path: Path = LABELLED) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _git_show(rev: str, path: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], capture_output=True, text=True, check=True).stdout


def base_tagger(rev: str, tmp: Path):
    """`tag_offline` of revision `rev`: its skills.py and data files, loaded beside today's learnflow."""
    data = tmp / "data"
    data.mkdir()
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", rev, "learnflow/data/"], capture_output=True, text=True, check=True
    )
    for name in listing.stdout.split():
        (data / Path(name).name).write_text(_git_show(rev, name), encoding="utf-8")
    source = tmp / "base_skills.py"
    source.write_text(_git_show(rev, "learnflow/learner/skills.py"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("learnflow_base_skills", source)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    # Its `paths` points at the base revision's data and at no user file.
    module.paths = SimpleNamespace(package_dir=lambda: tmp, user_skills_path=lambda: tmp / "no-user-skills.toml")  # type: ignore[attr-defined]
    return module.tag_offline


def score(tag, rows: list[dict]) -> dict:
    """Top-1 / top-2 hits per split and per skill, the misses, and the time per call."""
    out: dict = {"splits": defaultdict(lambda: [0, 0, 0]), "skills": defaultdict(lambda: defaultdict(lambda: [0, 0, 0])), "misses": []}
    start = time.perf_counter()
    for row in rows:
        got = [t.skill for t in tag(row["question"], row.get("context", ""))]
        first, top2 = got[:1] == [row["skill"]], row["skill"] in got[:2]
        for cell in (out["splits"][row["split"]], out["skills"][row["split"]][row["skill"]]):
            cell[0] += first
            cell[1] += top2
            cell[2] += 1
        if not first:
            out["misses"].append((row, got))
    out["ms_per_call"] = 1000 * (time.perf_counter() - start) / max(1, len(rows))
    return out


def pct(hit: int, n: int) -> str:
    return f"{hit / n:6.1%}" if n else "     -"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=["tuning", "heldout", "all"], default="all", help="which part to score (default all)")
    ap.add_argument("--base", default=BASE, help=f"the revision whose tagger is the baseline (default {BASE})")
    ap.add_argument("--misses", action="store_true", help="list the questions the current tagger gets wrong")
    ap.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    args = ap.parse_args(argv)

    rows = [r for r in load() if args.split in ("all", r["split"])]
    with tempfile.TemporaryDirectory(prefix="learnflow-tagger-") as tmp:
        os.environ["LEARNFLOW_HOME"] = str(Path(tmp) / "home")
        from learnflow.learner import skills

        skills.taxonomy.cache_clear()
        base_tmp = Path(tmp) / "base"
        base_tmp.mkdir()
        sides = {"base": base_tagger(args.base, base_tmp), "new": skills.tag_offline}
        for tag in sides.values():  # warm: taxonomy parsing is a one-off per process
            tag("warm up", "")
        results = {name: score(tag, rows) for name, tag in sides.items()}

    splits = sorted(results["new"]["splits"])
    if args.json:
        doc = {
            name: {
                "ms_per_call": round(r["ms_per_call"], 4),
                "splits": {s: dict(zip(("first", "top2", "n"), r["splits"][s], strict=True)) for s in splits},
                "skills": {
                    s: {k: dict(zip(("first", "top2", "n"), v, strict=True)) for k, v in sorted(r["skills"][s].items())} for s in splits
                },
            }
            for name, r in results.items()
        }
        print(json.dumps(doc, indent=2))
        return 0

    print(f"labelled set: {LABELLED.relative_to(ROOT)}  base: {args.base}  current: working tree")
    print(f"\n{'split':<10}{'n':>5}  {'base 1st':>9}{'base top2':>10}  {'new 1st':>8}{'new top2':>9}")
    for s in splits:
        b, n = results["base"]["splits"][s], results["new"]["splits"][s]
        print(f"{s:<10}{n[2]:>5}  {pct(b[0], b[2]):>9}{pct(b[1], b[2]):>10}  {pct(n[0], n[2]):>8}{pct(n[1], n[2]):>9}")
    print(f"\nper call: base {results['base']['ms_per_call']:.3f} ms, new {results['new']['ms_per_call']:.3f} ms")
    for s in splits:
        print(f"\nper skill, {s} (right skill first: base -> new; n)")
        for skill in sorted(results["new"]["skills"][s]):
            b, n = results["base"]["skills"][s][skill], results["new"]["skills"][s][skill]
            print(f"  {skill:<22}{pct(b[0], b[2])} -> {pct(n[0], n[2])}  ({n[2]})")
    if args.misses:
        print("\nmisses (current tagger): want <- got")
        for row, got in results["new"]["misses"]:
            q = row["question"].replace("\n", " | ")[:110]
            print(f"  [{row['split']}] {row['skill']:<20} <- {','.join(got):<34} {q}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
