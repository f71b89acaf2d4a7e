#!/usr/bin/env python3
"""Redaction quality and speed: recall on the secret corpus, false positives on clean text.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_redact.py                # tuning split only
    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_redact.py --split all    # + the held-out split
    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_redact.py --misses       # list what leaked / was flagged
    ... --detect-secrets      # also detect-secrets 1.5 alone (default plugins), for comparison

Corpora (bench/secrets/, see make_secrets.py and make_clean.py there):
  tuning.jsonl / heldout.jsonl  one fake secret per entry, in a realistic line; split once before tuning
  clean.txt.gz                  ordinary code, configs and logs with no secret, one line per line

A secret counts as caught when neither it nor (for secrets of 16+ characters) any 12-character
piece of it is left in the redacted text: a redaction that keeps half the key is a leak. A clean
line is a false positive when redaction changes it at all. Both redactors run in the same process
on the same input: the baseline is learnflow/redact.py as it was at --baseline (default: the
commit before this work), loaded from git.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "secrets"
BASELINE = "4e725eb"

Redactor = Callable[[str], str]


def load_secrets(split: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / f"{split}.jsonl").read_text().splitlines() if line.strip()]


def load_clean() -> list[str]:
    with gzip.open(CORPUS / "clean.txt.gz", "rt", encoding="utf-8") as fh:
        return fh.read().splitlines()


def leaked(secret: str, text: str) -> bool:
    if secret in text:
        return True
    return len(secret) >= 16 and any(secret[i : i + 12] in text for i in range(len(secret) - 11))


def recall(redact: Redactor, entries: list[dict]) -> tuple[float, list[dict]]:
    misses = [e for e in entries if leaked(e["secret"], redact(e["text"]))]
    return 1 - len(misses) / len(entries), misses


def false_positives(redact: Redactor, lines: list[str]) -> tuple[float, list[str], float]:
    """(share of lines changed, the changed lines, seconds per line)."""
    start = time.perf_counter()
    flagged = [line for line in lines if redact(line) != line]
    per_line = (time.perf_counter() - start) / len(lines)
    return len(flagged) / len(lines), flagged, per_line


def current() -> Redactor:
    from learnflow.redact import redact

    return lambda text: redact(text).text


def baseline(rev: str = BASELINE, *, deep: bool = True) -> Redactor:
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:learnflow/redact.py"], capture_output=True, text=True, check=True
    ).stdout
    spec = importlib.util.spec_from_loader(f"redact_{rev}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:learnflow/redact.py", "exec"), module.__dict__)
    # deep: as `ask` ran it on attached files (patterns plus detect-secrets' keyword scan);
    # otherwise as it ran on the question, stdin and error messages (patterns only).
    return lambda text: module.redact(text, deep=deep).text


def detect_secrets_only() -> Redactor:
    """detect-secrets 1.5 with its default plugins and filters, value by value (as a pre-commit hook would)."""
    from detect_secrets.core.scan import _process_line_based_plugins  # type: ignore[attr-defined]
    from detect_secrets.settings import default_settings

    def redact(text: str) -> str:
        with default_settings():
            lines = list(enumerate(text.splitlines(), 1))
            for secret in _process_line_based_plugins(lines, filename="corpus.txt"):
                if secret.secret_value:
                    text = text.replace(secret.secret_value, "[REDACTED]")
        return text

    return redact


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=["tuning", "heldout", "all"], default="tuning")
    ap.add_argument("--baseline", default=BASELINE, help=f"git revision of the baseline redact.py (default {BASELINE})")
    ap.add_argument("--misses", action="store_true", help="list leaked secrets and flagged clean lines of the current redactor")
    ap.add_argument("--detect-secrets", action="store_true", help="add detect-secrets alone as a third row")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    splits = ["tuning", "heldout"] if args.split == "all" else [args.split]
    secrets = {s: load_secrets(s) for s in splits}
    clean = load_clean()
    rows: dict[str, Redactor] = {
        f"baseline {args.baseline}": baseline(args.baseline, deep=False),
        f"baseline {args.baseline} deep": baseline(args.baseline),
        "current": current(),
    }
    if args.detect_secrets:
        rows["detect-secrets 1.5 alone"] = detect_secrets_only()
    report = {}
    for name, fn in rows.items():
        row: dict = {}
        for split, entries in secrets.items():
            rate, misses = recall(fn, entries)
            row[split] = {"recall": rate, "caught": len(entries) - len(misses), "secrets": len(entries),
                          "shapes": len({e["shape"] for e in entries}), "missed": [e["id"] for e in misses]}  # fmt: skip
        fp, flagged, per_line = false_positives(fn, clean)
        row["clean"] = {"lines": len(clean), "flagged": len(flagged), "rate": fp, "us_per_line": per_line * 1e6, "flagged_lines": flagged}
        report[name] = row
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(
        f"clean corpus: {len(clean):,} lines; "
        + "; ".join(f"{s}: {len(e)} secrets of {len({x['shape'] for x in e})} shapes" for s, e in secrets.items())
    )
    for name, row in report.items():
        bits = [f"{s} recall {row[s]['recall']:.1%} ({row[s]['caught']}/{row[s]['secrets']})" for s in splits]
        c = row["clean"]
        bits.append(f"false positives {c['rate']:.3%} ({c['flagged']}/{c['lines']:,} lines)")
        bits.append(f"{c['us_per_line']:.1f} µs/line")
        print(f"  {name:<26} " + " · ".join(bits))
    if args.misses:
        row = report["current"]
        for split in splits:
            for mid in row[split]["missed"]:
                entry = next(e for e in secrets[split] if e["id"] == mid)
                print(f"MISS {split} {mid}: {entry['text'][:160]!r}")
        for line in row["clean"]["flagged_lines"]:
            print(f"FP   {line[:160]!r} -> {current()(line)[:160]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
