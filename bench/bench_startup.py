#!/usr/bin/env python3
"""Startup and `ask` latency of learnflow, side by side with the `llm` CLI.

    bash bench/setup.sh                      # once: llm into bench/.venv (never the project's deps)
    /work/venv/bin/python bench/bench_startup.py [--runs N] [--json]

Every row is a real subprocess (`subprocess.run`, stdout and stderr to pipes, stdin
from /dev/null) timed with `time.perf_counter`: wall time as a user waits for it.
Rows are run round-robin (row 1, row 2, ..., row 1, ...) so that load from other
processes on the machine spreads over all rows instead of hitting one. The table also
gives each row's median user+sys CPU time (resource.getrusage of the child), which
moves less than wall time when other processes compete for the 2 cores.

Rows
  python -c pass          the floor: the interpreter that runs learnflow, doing nothing
  learnflow --help        start-up + typer/click help
  learnflow ask offline   `ask -m offline "..."`: the offline coach, question logged to SQLite
  learnflow ask loopback  `ask "..."` through the OpenAI-compatible fast path against an
                          instant in-process server (tests/fake_openai.py), logged to SQLite
  llm --help              the `llm` CLI (bench/.venv), for comparison
  llm prompt loopback     `llm -m bench-model "..."` against the same server (llm logs too)

Each learnflow/llm row gets its own temporary LEARNFLOW_HOME / LLM_USER_PATH, created
once per row: the database persists across the runs of a row, like a real user's.

Before timing, every row runs once under tests/netguard (refuses any non-loopback
connection) and its output is checked; the timed runs then go without the guard.

Bytecode: the runs use a fresh PYTHONPYCACHEPREFIX (a temp dir), with
PYTHONDONTWRITEBYTECODE removed, so every program imports from cached bytecode after
the warm-ups, as an installed copy does for a user. (This dev machine exports
PYTHONDONTWRITEBYTECODE=1, and the editable learnflow has no __pycache__, so without
this learnflow would recompile its own modules on every run.) `--no-bytecode-cache`
measures that dev-machine situation instead.

`--importtime` adds, for the learnflow rows, the top import costs from
`python -X importtime` (median of a few runs).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TESTS = REPO / "tests"
NETGUARD = TESTS / "netguard"

QUESTION = "How do I undo my last git commit but keep the changes?"
LLM_MODEL_ID = "bench-model"
API_KEY = "sk-bench"

# Targets from the issue (seconds, median). llm's figures are the reference
# numbers for llm on this machine, shown for context.
TARGET_HELP = 0.15
TARGET_ASK = 0.30
REF_LLM_HELP = 0.50
REF_LLM_ASK = 0.60

# Environment that would change what is measured: provider keys and model choices,
# the tools' own settings, and every PYTHON* variable (PYTHONPATH could load the
# tests' sitecustomize, PYTHONDONTWRITEBYTECODE disables bytecode caching, ...).
SCRUB_PREFIXES = ("PYTHON", "LEARNFLOW_", "LLM_", "LITELLM_", "OPENAI_")
SCRUB_NAMES = {
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY",
    "TOGETHERAI_API_KEY",
    "OLLAMA_HOST",
    "LM_STUDIO_API_BASE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
}


@dataclass
class Row:
    key: str
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    target: float | None = None
    ref: float | None = None  # reference figure (not a target)
    expect: str = ""  # substring the stdout must contain (sanity check)
    server_model: str | None = None  # model id the loopback server must have been asked for
    skip: str | None = None
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user+sys CPU seconds of the child
    failures: int = 0
    note: str = ""


# --------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def interpreter_of(script: Path) -> str:
    """The interpreter in a console script's shebang (falls back to this one)."""
    try:
        first = script.read_bytes().split(b"\n", 1)[0].decode()
    except OSError:
        return sys.executable
    if first.startswith("#!"):
        parts = first[2:].strip().split()
        if parts and Path(parts[0]).name != "sh" and Path(parts[0]).exists():
            return parts[0]
    return sys.executable


def find_learnflow(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    beside = Path(sys.executable).parent / "learnflow"
    if beside.exists():
        return beside
    found = shutil.which("learnflow")
    return Path(found) if found else None


def base_env(pycache: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB_PREFIXES) and k not in SCRUB_NAMES}
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "100"
    if pycache:
        env["PYTHONPYCACHEPREFIX"] = pycache
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_once(row: Row, extra_env: dict[str, str] | None = None, timeout: float = 60.0):
    env = dict(row.env)
    if extra_env:
        env.update(extra_env)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(row.argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc.cpu_s = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return wall, proc


def machine_info(python: str) -> dict:
    try:
        pyver = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pyver = "?"
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": affinity,
        "cpu_count": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "python": pyver,
        "python_path": python,
        "platform": platform.platform(),
        "loadavg_start": list(os.getloadavg()),
    }


def git_state() -> str:
    """Commit of the code under test, and whether learnflow/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "learnflow", "prompts", "pyproject.toml"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    if not head:
        return "?"
    n = len(dirty.splitlines())
    return head + (f" + {n} uncommitted file(s) in learnflow/" if n else "")


def version_of(argv: list[str], env: dict[str, str]) -> str:
    try:
        out = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


# --------------------------------------------------------------------------- rows


def learnflow_rows(lf: Path | None, key: str, label: str, lf_env, url: str | None) -> list[Row]:
    """The three learnflow rows (--help, ask offline, ask loopback) for one learnflow executable."""
    missing_lf = None if lf and lf.exists() else f"learnflow not found at {lf} (pass --learnflow PATH)"
    lf_cmd = str(lf) if lf else "learnflow"
    return [
        Row(
            f"{key}_help",
            f"{label}learnflow --help",
            [lf_cmd, "--help"],
            lf_env("help"),
            target=TARGET_HELP,
            expect="Usage",
            skip=missing_lf,
        ),
        Row(
            f"{key}_offline",
            f"{label}learnflow ask -m offline",
            [lf_cmd, "ask", "-m", "offline", QUESTION],
            lf_env("offline"),
            expect="git reset",
            skip=missing_lf,
        ),
        Row(
            f"{key}_ask",
            f"{label}learnflow ask (loopback)",
            [lf_cmd, "ask", QUESTION],
            lf_env("ask", OPENAI_BASE_URL=url or "", OPENAI_API_KEY=API_KEY, LEARNFLOW_MODEL=f"openai/{LLM_MODEL_ID}"),
            target=TARGET_ASK,
            expect="Loopback answer to:",
            server_model=LLM_MODEL_ID,
            skip=missing_lf,
        ),
    ]


def build_rows(args, workdir: Path, env0: dict[str, str], url: str | None) -> list[Row]:
    rows: list[Row] = []
    lf = find_learnflow(args.learnflow)
    py = interpreter_of(lf) if lf else sys.executable
    rows.append(Row("floor", "python -c pass", [py, "-c", "pass"], dict(env0)))

    def lf_env(tag: str, **extra: str) -> dict[str, str]:
        home = workdir / f"learnflow-home-{tag}"
        home.mkdir()
        env = dict(env0, LEARNFLOW_HOME=str(home))
        env.update(extra)
        return env

    rows += learnflow_rows(lf, "lf", "", lf_env, url)
    if args.compare:
        # A second install (another venv: another dependency version), timed in the same round-robin.
        rows += learnflow_rows(Path(args.compare), "lfB", "B: ", lambda tag, **extra: lf_env("B-" + tag, **extra), url)

    llm = Path(args.llm) if args.llm else HERE / ".venv" / "bin" / "llm"
    skip_llm = None if llm.exists() else (f"llm not installed at {llm}: run `bash bench/setup.sh` to compare with it")
    user = workdir / "llm-user"
    user.mkdir()
    if url:
        (user / "extra-openai-models.yaml").write_text(
            f'- model_id: {LLM_MODEL_ID}\n  model_name: {LLM_MODEL_ID}\n  api_base: "{url}"\n  api_key_name: bench\n'
        )
        (user / "keys.json").write_text(json.dumps({"bench": API_KEY}))
    help_user = workdir / "llm-user-help"
    help_user.mkdir()
    if url:
        shutil.copy(user / "extra-openai-models.yaml", help_user)
        shutil.copy(user / "keys.json", help_user)
    rows.append(
        Row(
            "llm_help",
            "llm --help",
            [str(llm), "--help"],
            dict(env0, LLM_USER_PATH=str(help_user), OPENAI_API_KEY=API_KEY),
            ref=REF_LLM_HELP,
            expect="Usage",
            skip=skip_llm,
        )
    )
    rows.append(
        Row(
            "llm_ask",
            "llm prompt (loopback)",
            [str(llm), "-m", LLM_MODEL_ID, QUESTION],
            dict(env0, LLM_USER_PATH=str(user), OPENAI_API_KEY=API_KEY),
            ref=REF_LLM_ASK,
            expect="Loopback answer to:",
            server_model=LLM_MODEL_ID,
            skip=skip_llm,
        )
    )
    return rows


# --------------------------------------------------------------------------- phases


def sanity_pass(rows: list[Row], srv, workdir: Path, use_guard: bool) -> list[str]:
    """Run each row once (under the netguard): right output, server hit, nothing blocked."""
    problems = []
    guard_env = {}
    guard_log = workdir / "netguard.log"
    if use_guard:
        guard_env = {"PYTHONPATH": str(NETGUARD), "LEARNFLOW_NETGUARD": "1", "LEARNFLOW_NETGUARD_LOG": str(guard_log)}
    for row in rows:
        if row.skip:
            continue
        before = len(srv.chat_requests) if srv else 0
        try:
            _, proc = run_once(row, guard_env)
        except subprocess.TimeoutExpired:
            problems.append(f"{row.name}: timed out")
            row.skip = "timed out in the check run"
            continue
        out = proc.stdout.decode(errors="replace")
        err = proc.stderr.decode(errors="replace")
        bad = None
        if proc.returncode != 0:
            bad = f"exit {proc.returncode}: {err.strip()[-400:]}"
        elif row.expect and row.expect not in out:
            bad = f"stdout lacks {row.expect!r}: {out.strip()[:200]!r} {err.strip()[-200:]!r}"
        elif row.server_model:
            new = srv.chat_requests[before:]
            models = [((r.get("json") or {}).get("model")) for r in new]
            auth = [r["headers"].get("authorization") for r in new]
            if row.server_model not in models:
                bad = f"the loopback server was not asked for {row.server_model} (got {models})"
            elif f"Bearer {API_KEY}" not in auth:
                bad = f"unexpected authorization header(s): {auth}"
            else:
                row.note = f"{len(new)} request(s) per run"
        if bad:
            problems.append(f"{row.name}: {bad}")
            row.skip = "failed its check run: " + bad[:120]
    if use_guard and guard_log.exists() and guard_log.read_text().strip():
        problems.append("netguard blocked non-loopback connections:\n" + guard_log.read_text())
    return problems


def timed_runs(rows: list[Row], runs: int, warmups: int) -> None:
    live = [r for r in rows if not r.skip]
    for i in range(warmups + runs):
        for row in live:
            try:
                dt, proc = run_once(row)
            except subprocess.TimeoutExpired:
                row.failures += 1
                continue
            if proc.returncode != 0:
                row.failures += 1
                continue
            if i >= warmups:
                row.samples.append(dt)
                row.cpu.append(proc.cpu_s)
        if i == warmups - 1:
            log(f"  warm-up done ({warmups} per row)")
        elif i >= warmups and (i - warmups + 1) % 5 == 0:
            log(f"  {i - warmups + 1}/{runs} runs")


IMPORT_RE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _import_tree(stderr: str) -> list[dict]:
    """Parse `-X importtime` output (children are printed before their parent) into a tree."""
    pending: dict[int, list[dict]] = {}
    for line in stderr.splitlines():
        m = IMPORT_RE.match(line)
        if not m:
            continue
        lvl = (len(m[3]) - 1) // 2
        node = {"mod": m[4], "self": int(m[1]), "cum": int(m[2]), "children": pending.pop(lvl + 1, [])}
        pending.setdefault(lvl, []).append(node)
    return pending.get(0, [])


def _is_own(mod: str) -> bool:
    return mod == "learnflow" or mod.startswith("learnflow.")


def _walk(nodes: list[dict], importer: str, own_self: dict, outside: dict) -> None:
    """learnflow's own modules: self time; the first module outside learnflow on each
    path: its cumulative time, charged to the learnflow module (or "<top level>") importing it."""
    for n in nodes:
        if _is_own(n["mod"]):
            own_self[n["mod"]] = own_self.get(n["mod"], 0) + n["self"]
            _walk(n["children"], n["mod"], own_self, outside)
        else:
            key = (n["mod"], importer)
            outside[key] = outside.get(key, 0) + n["cum"]


def import_costs(row: Row, reps: int = 5, top: int = 12) -> dict:
    """Where the import time of a row goes: median over `reps` runs of `python -X importtime`."""
    # A console script is a Python file: run it with its own interpreter and -X importtime.
    argv = [interpreter_of(Path(row.argv[0])), "-X", "importtime"] + row.argv
    own: dict[str, list[int]] = {}
    out: dict[tuple, list[int]] = {}
    pkg: dict[str, list[int]] = {}
    totals = []
    for _ in range(reps):
        proc = subprocess.run(argv, env=row.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        roots = _import_tree(proc.stderr)
        totals.append(sum(n["cum"] for n in roots))
        own_self: dict[str, int] = {}
        outside: dict[tuple, int] = {}
        _walk(roots, "<top level>", own_self, outside)
        for k, v in own_self.items():
            own.setdefault(k, []).append(v)
        for k, v in outside.items():
            out.setdefault(k, []).append(v)
        by_pkg: dict[str, int] = {}
        stack = list(roots)
        while stack:
            n = stack.pop()
            p = n["mod"].split(".")[0]
            by_pkg[p] = by_pkg.get(p, 0) + n["self"]
            stack.extend(n["children"])
        for k, v in by_pkg.items():
            pkg.setdefault(k, []).append(v)

    def med(d: dict) -> list:
        # a key missing from some runs counts as 0 there
        rows_ = [(k, statistics.median(v + [0] * (reps - len(v))) / 1e6) for k, v in d.items()]
        return sorted(rows_, key=lambda kv: -kv[1])[:top]

    return {
        "row": row.name,
        "total_import_s": statistics.median(totals) / 1e6 if totals else None,
        "pulled_in_s": [{"module": k[0], "imported_by": k[1], "cumulative_s": v} for k, v in med(out)],
        "learnflow_self_s": [{"module": k, "self_s": v} for k, v in med(own)],
        "packages_self_s": [{"package": k, "self_s": v} for k, v in med(pkg)],
    }


# --------------------------------------------------------------------------- output


def summarize(rows: list[Row]) -> list[dict]:
    floor = next((r for r in rows if r.key == "floor" and r.samples), None)
    floor_med = statistics.median(floor.samples) if floor else None
    out = []
    for r in rows:
        d = {
            "key": r.key,
            "name": r.name,
            "argv": r.argv,
            "target": r.target,
            "ref": r.ref,
            "runs": len(r.samples),
            "failures": r.failures,
            "skip": r.skip,
            "note": r.note,
        }
        if r.samples:
            med = statistics.median(r.samples)
            d.update(
                median=med,
                min=min(r.samples),
                max=max(r.samples),
                over_floor=(med - floor_med) if floor_med is not None and r is not floor else None,
                samples=[round(x, 5) for x in r.samples],
                cpu_median=statistics.median(r.cpu) if r.cpu else None,
            )
            d["ok"] = (med <= r.target) if r.target is not None else None
        out.append(d)
    return out


def print_table(summary: list[dict], info: dict, args) -> None:
    hdr = f"{'row':<26} {'median':>7} {'min':>7} {'max':>7} {'−floor':>7} {'cpu':>6} {'target':>8}  verdict"
    print(hdr)
    print("-" * len(hdr))
    for d in summary:
        if d.get("skip") or "median" not in d:
            print(f"{d['name']:<26} {'skipped: ' + (d.get('skip') or 'no successful run')}")
            continue
        if d["target"] is not None:
            target = f"≤{d['target']:.2f}"
            verdict = "OK" if d["ok"] else "MISSED"
        elif d["ref"] is not None:
            target = f"({d['ref']:.2f})"
            verdict = "reference"
        else:
            target, verdict = "—", ""
        if d["failures"]:
            verdict += f" ({d['failures']} failed runs)"
        print(
            f"{d['name']:<26} {d['median']:7.3f} {d['min']:7.3f} {d['max']:7.3f} "
            f"{fmt(d.get('over_floor')):>7} {fmt(d.get('cpu_median')):>6} {target:>8}  {verdict}"
        )
    by = {d["key"]: d for d in summary}
    ratios = []
    for a, b, label in (("lf_help", "llm_help", "--help"), ("lf_ask", "llm_ask", "ask round trip")):
        if "median" in by.get(a, {}) and "median" in by.get(b, {}):
            ratios.append(f"{label}: learnflow {by[a]['median'] / by[b]['median']:.2f}× llm's time")
    print()
    print(
        "seconds, wall time per run (cpu = median user+sys CPU time of the process, "
        "less sensitive to load);\n" + f"{args.runs} runs after {args.warmups} warm-ups, "
        "round-robin; (x.xx) = the issue's reference figure for llm"
    )
    if ratios:
        print("; ".join(ratios))
    checked = [d for d in summary if not d.get("skip")]
    notes = [f"{d['name']}: {d['note']}" for d in checked if d.get("note")]
    print(
        f"check run: {len(checked)} rows ran once first "
        f"{'under tests/netguard (loopback only), nothing blocked' if info.get('netguard') else 'without netguard'}"
        + (f"; {'; '.join(notes)}" if notes else "")
    )
    la = info["loadavg_start"]
    print(
        f"machine: nproc={info['nproc']} cpu={info['cpu']!r} python {info['python']} "
        f"({info['python_path']}); loadavg at start {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}, "
        f"at end {info['loadavg_end'][0]:.2f}"
    )
    print(
        f"versions: {info.get('learnflow_version')} (git {info.get('git')}); {info.get('llm_version')}; "
        f"bytecode cache: {'on (fresh PYTHONPYCACHEPREFIX)' if info['bytecode_cache'] else 'off'}; "
        f"{info['date']}"
    )
    if info.get("compare"):
        print(f"compared: {info['compare']}")


def print_imports(report: dict) -> None:
    print()
    print(
        f"import costs for `{report['row']}` (python -X importtime, median of 5 runs; "
        f"importtime inflates them): total {report['total_import_s']:.3f} s"
    )
    print("  outside modules pulled in (cumulative), and the learnflow module importing them:")
    for d in report["pulled_in_s"]:
        if d["cumulative_s"] >= 0.001:
            print(f"    {d['cumulative_s']:7.3f}  {d['module']:<28} <- {d['imported_by']}")
    print("  learnflow's own modules (self):")
    for d in report["learnflow_self_s"][:6]:
        if d["self_s"] >= 0.001:
            print(f"    {d['self_s']:7.3f}  {d['module']}")
    print("  by top-level package (self time summed):")
    print("    " + ", ".join(f"{d['package']} {d['self_s']:.3f}" for d in report["packages_self_s"][:10]))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="timed runs per row (default 15)")
    ap.add_argument("--warmups", type=int, default=2, help="untimed runs per row first (default 2)")
    ap.add_argument("--json", action="store_true", help="write the figures to stdout as JSON")
    ap.add_argument("--learnflow", help="the learnflow executable (default: beside this python, or PATH)")
    ap.add_argument("--llm", help="the llm executable (default: bench/.venv/bin/llm)")
    ap.add_argument(
        "--compare",
        metavar="PATH",
        help="a second learnflow executable (e.g. in a venv with another typer): its rows, marked B, run in the same round-robin",
    )
    ap.add_argument("--no-netguard", action="store_true", help="check run without tests/netguard (it is on by default)")
    ap.add_argument("--no-bytecode-cache", action="store_true", help="PYTHONDONTWRITEBYTECODE=1 instead of a fresh PYTHONPYCACHEPREFIX")
    ap.add_argument("--importtime", action="store_true", help="also report the top import costs of the learnflow rows")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmups < 0:
        ap.error("--runs must be ≥ 1 and --warmups ≥ 0")

    sys.path.insert(0, str(TESTS))
    from fake_openai import FakeOpenAI  # noqa: E402  (tests/fake_openai.py, stdlib only)

    date = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    with tempfile.TemporaryDirectory(prefix="learnflow-bench-") as tmp, FakeOpenAI() as srv:
        workdir = Path(tmp)
        srv.set_models([LLM_MODEL_ID])
        pycache = None
        if not args.no_bytecode_cache:
            pycache = str(workdir / "pycache")
            os.mkdir(pycache)
        env0 = base_env(pycache)
        rows = build_rows(args, workdir, env0, srv.url)
        info = machine_info(rows[0].argv[0])
        info["date"] = date
        info["bytecode_cache"] = pycache is not None
        info["git"] = git_state()
        info["server"] = srv.url
        lf_row = next(r for r in rows if r.key == "lf_help")
        llm_row = next(r for r in rows if r.key == "llm_help")
        info["learnflow_version"] = version_of([lf_row.argv[0], "--version"], lf_row.env) if not lf_row.skip else "learnflow: missing"
        if args.compare:
            b_row = next(r for r in rows if r.key == "lfB_help")
            info["compare"] = f"B = {args.compare}" + ("" if b_row.skip else f" ({version_of([b_row.argv[0], '--version'], b_row.env)})")
        info["llm_version"] = version_of([llm_row.argv[0], "--version"], llm_row.env) if not llm_row.skip else "llm: not installed"

        log(f"learnflow bench: {args.runs} runs + {args.warmups} warm-ups per row, server {srv.url}")
        problems = sanity_pass(rows, srv, workdir, use_guard=not args.no_netguard)
        for p in problems:
            log("CHECK FAILED: " + p)
        guard_failed = any(p.startswith("netguard") for p in problems)
        info["netguard"] = not args.no_netguard and not guard_failed
        srv.reset()
        srv.set_models([LLM_MODEL_ID])
        timed_runs(rows, args.runs, args.warmups)
        info["loadavg_end"] = list(os.getloadavg())
        info["server_chat_requests"] = len(srv.chat_requests)
        summary = summarize(rows)

        imports = []
        if args.importtime:
            log("  import-time profiles ...")
            for r in rows:
                if r.key.startswith(("lf_", "lfB_")) and not r.skip:
                    imports.append(import_costs(r))

    if args.json:
        json.dump(
            {
                "machine": info,
                "runs": args.runs,
                "warmups": args.warmups,
                "question": QUESTION,
                "rows": summary,
                "problems": problems,
                "imports": imports,
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        print_table(summary, info, args)
        for p in problems:
            print("CHECK FAILED: " + p)
        for rep in imports:
            print_imports(rep)
    missed = any(d.get("ok") is False for d in summary)
    if guard_failed:
        return 2
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
