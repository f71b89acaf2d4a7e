"""How fast `learnflow docs index` and `docs search` are on 10,000 documents (issue 16 item 3).

Targets: the first index of 10,000 files ≤ 60 s, a re-index with nothing changed ≤ 2 s, memory
bounded (the peak RSS must not grow with the corpus: compare --files 2000 and --files 10000).

The corpus is generated in a temporary folder: Markdown, text and reStructuredText files of
2–6 KB, headings and paragraphs drawn from a fixed vocabulary (seeded, so every run indexes the
same text), a few with a secret to redact. Each phase runs in a fresh child process (what a user
pays: imports included) whose peak RSS is read with `resource.getrusage(RUSAGE_CHILDREN)`:

1. first index (empty index file),
2. re-index, nothing changed,
3. re-index after touching 1% of the files and deleting 1%,
4. search: the median latency of 20 queries in one process (the index already open: what
   `ask --docs` pays after its walk), and one `docs search` end to end.

Run:  PYTHONPATH=. python bench/bench_docs.py [--files 10000] [--json] [--keep DIR]
Figures are in bench/README.md ("Documents index").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_FIRST, TARGET_NOCHANGE = 60.0, 2.0

WORDS = (
    "git rebase merge commit branch squash cherry pick stash reset revert tag release deploy pipeline build test "
    "docker image container volume network compose kubernetes pod service ingress helm chart namespace secret "
    "python module package import virtualenv pytest fixture coverage lint format type annotation dataclass "
    "sql query index join transaction migration schema table column constraint foreign key vacuum analyze "
    "terraform module state plan apply provider variable output backend lock workspace drift "
    "review checklist oncall incident postmortem runbook alert dashboard metric latency budget error rate "
    "the a of to and in for on with is that by this as be are it from or an at which when how why"
).split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."


def document(rng: random.Random, i: int, suffix: str) -> str:
    parts = []
    for s in range(rng.randint(3, 6)):
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {i}.{s}"
        parts.append(f"# {title}" if suffix == ".md" else f"{title}\n{'=' * len(title)}" if suffix == ".rst" else title.upper())
        for _ in range(rng.randint(1, 3)):
            parts.append(" ".join(sentence(rng) for _ in range(rng.randint(2, 5))))
    if i % 500 == 0:
        parts.append('deploy_token = "ghp_' + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(36)) + '"')
    return "\n\n".join(parts) + "\n"


def generate(folder: Path, n: int) -> int:
    """Write `n` documents in folders of 100 (streamed: one file in memory at a time); total bytes."""
    rng = random.Random(16)
    total = 0
    for i in range(n):
        sub = folder / f"team{i // 1000:02d}" / f"area{i // 100 % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        suffix = (".md", ".md", ".txt", ".rst")[i % 4]
        text = document(rng, i, suffix)
        (sub / f"doc{i:05d}{suffix}").write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


CHILD = """
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from learnflow.tutor import documents
mode, folder = sys.argv[1], Path(sys.argv[2])
out = {}
if mode == "index":
    r = documents.index([folder])
    out = {"seconds": time.perf_counter() - t0, "indexed": r.indexed, "unchanged": r.unchanged, "removed": r.removed,
           "passages": r.passages, "redacted": r.redacted, "skipped": r.skipped}
else:
    db = documents.open_index()
    queries = ["how do I squash a commit before merge", "kubernetes ingress secret", "pytest fixture coverage",
               "terraform state lock drift", "incident postmortem runbook", "sql foreign key migration",
               "docker compose volume network", "release pipeline deploy", "python dataclass annotation", "helm chart namespace"]
    times = []
    for q in queries * 2:
        s = time.perf_counter()
        hits = documents.search(q, [folder], db=db)
        times.append(time.perf_counter() - s)
    out = {"median_ms": 1000 * sorted(times)[len(times) // 2], "max_ms": 1000 * max(times), "hits": len(hits)}
out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def child(mode: str, folder: Path, env: dict) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, str(folder)], env=env, capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout)
    result["wall_s"] = time.perf_counter() - start
    return result


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", type=Path, help="Generate into (and keep) this folder instead of a temporary one.")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lf-bench-docs-"))
    corpus = args.keep or tmp / "corpus"
    env = {**os.environ, "LEARNFLOW_HOME": str(tmp / "home"), "PYTHONPATH": str(ROOT)}
    try:
        print(f"Generating {args.files:,} documents in {corpus} …", file=sys.stderr)
        size = generate(corpus, args.files) if not (corpus / "team00").exists() else sum(p.stat().st_size for p in corpus.rglob("*.*"))
        load_before = load()
        first = child("index", corpus, env)
        again = child("index", corpus, env)
        files = sorted(corpus.rglob("doc*.*"))
        step = 100
        for p in files[::step]:
            p.write_text(p.read_text(encoding="utf-8") + "\nA changed paragraph about git rebase.\n", encoding="utf-8")
        for p in files[step // 2 :: step]:
            p.unlink()
        changed = child("index", corpus, env)
        search = child("search", corpus, env)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "learnflow", "docs", "search", "kubernetes ingress secret", "--json"], env=env,
                       capture_output=True, check=True)  # fmt: skip
        cli_search = time.perf_counter() - start
        figures = {
            "files": args.files,
            "corpus_mb": round(size / 1e6, 1),
            "index_file_mb": round((tmp / "home" / "cache" / "documents.db").stat().st_size / 1e6, 1),
            "first_index_s": round(first["seconds"], 2),
            "first_index_rss_mb": round(first["maxrss_mb"], 1),
            "passages": first["passages"],
            "redacted": first["redacted"],
            "nochange_index_s": round(again["seconds"], 3),
            "nochange_index_wall_s": round(again["wall_s"], 3),
            "nochange_rss_mb": round(again["maxrss_mb"], 1),
            "changed_1pct_index_s": round(changed["seconds"], 3),
            "changed_reread": changed["indexed"],
            "changed_removed": changed["removed"],
            "search_median_ms": round(search["median_ms"], 2),
            "search_max_ms": round(search["max_ms"], 2),
            "docs_search_cli_s": round(cli_search, 3),
            "load_before": load_before,
            "load_after": load(),
        }
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:24} {value}")
        ok = figures["first_index_s"] <= TARGET_FIRST and figures["nochange_index_s"] <= TARGET_NOCHANGE
        print(f"targets: first ≤ {TARGET_FIRST:g} s, no change ≤ {TARGET_NOCHANGE:g} s: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
