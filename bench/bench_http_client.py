#!/usr/bin/env python3
"""Does httpx cost more than 20 ms per call on `ask`'s hot path? stdlib http.client against httpx.

    .venv/bin/python bench/bench_http_client.py              # the table
    .venv/bin/python bench/bench_http_client.py --json       # the figures as JSON on stdout

`ask` is one process per question, so what counts is a fresh process making one streamed chat
completion, imports included. Each run is a `python -c` process that POSTs a streamed chat
completion to tests/fake_openai.py's server (in-process, on 127.0.0.1, answering at once) and
reads the SSE stream, the way learnflow/backends/openai_compat.py does. Four rows take turns
(row 1, 2, 3, 4, 1, ...) after two warm-ups each, so load from other processes falls on all alike:

- `stdlib` / `httpx`: the client alone, nothing else imported;
- `stdlib in ask` / `httpx in ask`: first the modules an `ask` process has loaded anyway
  (learnflow's CLI app, tutor and store: typer, click, sqlite3, ssl...), so the difference is
  what httpx would add to a real `ask`;
- `httpx in ask, no CA`: the same without loading a CA bundle for an http:// server (httpx builds a
  TLS context in every Client; the stdlib client does not touch ssl for http://): httpx at its best.

Each process also reports its own split (import, client set-up, the call), and the import time of
httpx alone is read from `python -X importtime -c "import httpx"`. Bytecode is cached in a fresh
PYTHONPYCACHEPREFIX, as for an installed copy; proxies, OPENAI_* and PYTHON* variables are removed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MS = 20.0  # the threshold: keep the stdlib client only if httpx costs more than this per call

# Most of what `learnflow ask` has imported when it sends its request (read from `-X importtime` of a real ask).
ASK_PRELUDE = "import learnflow.cli.app, learnflow.tutor.ask, learnflow.db.store\n"

# Both clients do what openai_compat does: POST with "stream": true, read `data:` lines, join the
# deltas. Each prints its split and the text, which the bench checks.
COMMON = """
import json, os, time
t0 = time.perf_counter()
URL = os.environ["BENCH_URL"]
BODY = {"model": "bench-model", "messages": [{"role": "user", "content": "How do I undo my last git commit?"}],
        "stream": True, "stream_options": {"include_usage": True}}
HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream", "Authorization": "Bearer sk-bench"}

def deltas(lines):
    for line in lines:
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        for choice in json.loads(payload).get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                yield text
"""

STDLIB = """
import http.client
from urllib.parse import urlsplit
t1 = time.perf_counter()
parts = urlsplit(URL)
conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
t2 = time.perf_counter()
conn.connect()
conn.sock.settimeout(30)
conn.request("POST", parts.path + "/chat/completions", body=json.dumps(BODY).encode(), headers=HEADERS)
resp = conn.getresponse()
assert resp.status == 200, resp.status
text = "".join(deltas(iter(resp.readline, b"")))
conn.close()
t3 = time.perf_counter()
"""

HTTPX = """
import httpx
t1 = time.perf_counter()
client = httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0), trust_env=False, VERIFY)
t2 = time.perf_counter()
with client.stream("POST", URL + "/chat/completions", json=BODY, headers=HEADERS) as resp:
    assert resp.status_code == 200, resp.status_code
    text = "".join(deltas(line.encode() for line in resp.iter_lines()))
client.close()
t3 = time.perf_counter()
"""

REPORT = """
print(json.dumps({"import": t1 - t0, "client": t2 - t1, "call": t3 - t2, "text": text}))
"""

ROWS = {
    "stdlib": COMMON + STDLIB + REPORT,
    "httpx": COMMON + HTTPX.replace(", VERIFY", "") + REPORT,
    "stdlib in ask": ASK_PRELUDE + COMMON + STDLIB + REPORT,
    "httpx in ask": ASK_PRELUDE + COMMON + HTTPX.replace(", VERIFY", "") + REPORT,
    # httpx builds a TLS context (loading certifi's CA bundle) in every Client, even for http://;
    # a port tuned for loopback servers would skip the bundle there (the stdlib client skips ssl).
    "httpx in ask, no CA": ASK_PRELUDE + COMMON + HTTPX.replace("VERIFY", 'verify=not URL.startswith("http:")') + REPORT,
}


def clean_env(pycache: str) -> dict[str, str]:
    drop = ("PYTHON", "OPENAI_", "LEARNFLOW_", "LITELLM_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop) and "proxy" not in k.lower()}
    env.update(PYTHONPYCACHEPREFIX=pycache, PYTHONPATH=str(ROOT), NO_COLOR="1")
    return env


def run(code: str, env: dict[str, str], cwd: str) -> tuple[float, dict]:
    """One fresh process: its wall time, and the split it reports."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"a bench process failed:\n{proc.stderr[-2000:]}")
    split = json.loads(proc.stdout.strip().splitlines()[-1])
    if not split["text"].startswith("Loopback answer to:"):
        raise SystemExit(f"unexpected answer from the loopback server: {split['text'][:200]!r}")
    return wall, split


def httpx_import_ms(env: dict[str, str], cwd: str, runs: int, prelude: str = "") -> float:
    """Median cumulative import time of httpx (µs from -X importtime, as ms), optionally after `prelude`."""
    values = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", prelude + "import httpx"], env=env, cwd=cwd, capture_output=True, text=True
        )
        line = next(ln for ln in reversed(proc.stderr.splitlines()) if ln.rstrip().endswith("| httpx"))
        values.append(int(line.split("|")[1]) / 1000)
    return statistics.median(values)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="timed runs per row (default 30)")
    ap.add_argument("--warmups", type=int, default=2, help="untimed runs per row first (default 2)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT / "tests"))
    from fake_openai import FakeOpenAI

    load_start = os.getloadavg()
    walls: dict[str, list[float]] = {name: [] for name in ROWS}
    splits: dict[str, list[dict]] = {name: [] for name in ROWS}
    with tempfile.TemporaryDirectory(prefix="learnflow-http-bench-") as tmp, FakeOpenAI() as server:
        env = clean_env(str(Path(tmp) / "pycache"))
        env["BENCH_URL"] = server.url
        for _ in range(args.warmups):
            for code in ROWS.values():
                run(code, env, tmp)
        for _ in range(args.runs):
            for name, code in ROWS.items():
                wall, split = run(code, env, tmp)
                walls[name].append(wall)
                splits[name].append(split)
        served = len(server.requests)
        imports = {
            "httpx alone": httpx_import_ms(env, tmp, args.runs),
            "httpx after ask's imports": httpx_import_ms(env, tmp, args.runs, ASK_PRELUDE),
        }
    expected = (args.warmups + args.runs) * len(ROWS)
    if served != expected:
        raise SystemExit(f"the server saw {served} requests, expected {expected}")

    rows = {}
    for name in ROWS:
        ms = [w * 1000 for w in walls[name]]
        parts = {k: statistics.median(s[k] for s in splits[name]) * 1000 for k in ("import", "client", "call")}
        rows[name] = {"median_ms": statistics.median(ms), "p90_ms": p90(ms), "min_ms": min(ms), **{f"{k}_ms": v for k, v in parts.items()}}
    pairs = {
        "alone": ("httpx", "stdlib"),
        "in ask": ("httpx in ask", "stdlib in ask"),
        "in ask, no CA": ("httpx in ask, no CA", "stdlib in ask"),
    }
    deltas = {where: {s: rows[a][f"{s}_ms"] - rows[b][f"{s}_ms"] for s in ("median", "p90", "min")} for where, (a, b) in pairs.items()}
    best = min(deltas["in ask"]["median"], deltas["in ask, no CA"]["median"])
    verdict = "keep the stdlib client" if best > BUDGET_MS else "httpx fits the budget"
    machine = {
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "httpx": _version("httpx"),
        "load_start": round(load_start[0], 2),
        "load_end": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if args.json:
        print(
            json.dumps({"rows": rows, "httpx_import_ms": imports, "httpx_minus_stdlib_ms": deltas, "verdict": verdict, "machine": machine})
        )
        return 0
    print(f"one streamed call per fresh process: {args.runs} runs per row after {args.warmups} warm-ups, round-robin")
    print(f"{'row':<20}{'median':>9}{'p90':>9}{'min':>9}   split (medians): import / client / call")
    for name, r in rows.items():
        print(
            f"{name:<20}{r['median_ms']:>9.1f}{r['p90_ms']:>9.1f}{r['min_ms']:>9.1f}"
            f"   {r['import_ms']:.1f} / {r['client_ms']:.1f} / {r['call_ms']:.1f}"
        )
    print("ms, wall time of the whole process (interpreter start-up included)")
    for where, d in deltas.items():
        print(f"httpx − stdlib, {where}: median {d['median']:+.1f} ms, p90 {d['p90']:+.1f} ms, min {d['min']:+.1f} ms")
    for what, value in imports.items():
        print(f"import time of {what} (-X importtime, cumulative, median of {args.runs}): {value:.1f} ms")
    print(f"budget: {BUDGET_MS:g} ms per call -> {verdict}")
    print(
        f"machine: nproc={machine['nproc']} python {machine['python']} httpx {machine['httpx']}; "
        f"load {machine['load_start']} at start, {machine['load_end']} at end; {machine['date']}"
    )
    return 0


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    sys.exit(main())
