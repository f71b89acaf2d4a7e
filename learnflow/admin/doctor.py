"""`learnflow doctor`: what learnflow found on this machine, and what to fix.

Each check returns data (name, status, detail, fix); the CLI renders them.
Nothing here changes state except `repair_database`, which only runs on request.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from learnflow import __version__, paths
from learnflow.errors import DatabaseError


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail | info
    detail: str
    fix: str = ""
    data: dict | None = None  # details for --json (agent sources and hooks), left out when None


# Exit code of `doctor` when a check of this name fails (README, "Exit codes").
EXIT_CODES = {"config": 4, "database": 7, "backend": 5, "local model": 4}


def run_checks() -> list[Check]:
    """Every check, each isolated: one broken piece (say, the config) must not hide the others."""
    from learnflow.errors import LearnflowError

    checks = [Check("learnflow", "info", f"{__version__} on Python {sys.version.split()[0]} ({sys.executable})")]
    areas: list[tuple[str, Callable[[], Check | list[Check]]]] = [("folders", _home), ("config", _config), ("database", _database), ("backend", _backend),
                        ("local servers", _local_servers), ("tokenizer", _tokenizer), ("litellm", _litellm),
                        ("local model", _local_model), ("agent sources", _agent_sources), ("agent hooks", _agent_hooks),
                        ("mcp server", _mcp)]  # fmt: skip
    for name, check in areas:
        try:
            found = check()
        except LearnflowError as exc:
            found = Check(name, "fail", exc.message, exc.hint or "")
        checks += found if isinstance(found, list) else [found]
    return checks


def exit_code(checks: list[Check]) -> int:
    """0 when nothing failed, else the code of the first failing area."""
    failed = [c for c in checks if c.status == "fail"]
    return EXIT_CODES.get(failed[0].name, 1) if failed else 0


def as_dicts(checks: list[Check]) -> list[dict]:
    return [{k: v for k, v in asdict(c).items() if k != "data" or v is not None} for c in checks]


def _home() -> Check:
    d = paths.data_dir()
    where = f"data {d}, config {paths.config_dir()}" + (" (LEARNFLOW_HOME)" if paths.home_override() else "")
    if d.exists() and stat.S_IMODE(d.stat().st_mode) & 0o077:
        return Check("folders", "warn", f"{where}; the data folder is readable by others", f"chmod 700 {d}")
    return Check("folders", "ok", where)


def _config() -> Check:
    from learnflow import config
    from learnflow.errors import ConfigError

    try:
        data = config.load()
        config.Config()  # checks every value's type and range, as every command does
    except ConfigError as exc:
        return Check("config", "fail", exc.message, exc.hint or "")
    unknown = [k for k in data if k not in config.SETTINGS and k not in config.TABLES]
    detail = f"{paths.config_path()} ({len(data)} settings)" if data else f"no config file yet ({paths.config_path()})"
    if unknown:
        return Check("config", "warn", f"{detail}; unknown keys: {', '.join(unknown)}", "learnflow config list shows the known ones")
    return Check("config", "ok", detail)


def _database() -> Check:
    from learnflow.db import admin, migrations

    path = paths.db_path()
    if not path.exists():
        return Check("database", "info", f"{path} will be created on the first ask")
    try:
        version, result, count = admin.file_health(path)
    except DatabaseError as exc:
        return Check(
            "database", "fail", f"{path} cannot be read: {exc}",
            "learnflow doctor --repair copies it aside and rebuilds a new log from what can be read",
        )  # fmt: skip
    if result != "ok":
        return Check("database", "fail", f"{path}: integrity check says {result}", "learnflow doctor --repair")
    if version > migrations.SCHEMA_VERSION:
        return Check("database", "fail", f"{path} is from a newer learnflow (schema {version})", "pip install -U learnflow")
    return Check("database", "ok", f"{path}: {count} interactions, schema {version}/{migrations.SCHEMA_VERSION}, integrity ok")


def _agent_sources() -> Check:
    """Which coding agents learnflow took evidence from, and how much (each is opt-in: nothing is read until
    `import --from`, a hook or the MCP server writes)."""
    from learnflow.db import agents

    found = agents.connected(paths.db_path())
    if not found:
        return Check("agent sources", "info", "none connected (opt-in: learnflow import --from claude|codex|gemini|aider|llm, "
                     "learnflow hooks install, learnflow mcp)", data={"sources": []})  # fmt: skip
    return Check("agent sources", "ok", "; ".join(_source_text(s) for s in found), data={"sources": found})


def _source_text(s: dict) -> str:
    def n(count: int, noun: str) -> str:
        return f"{count} {noun}{'s' * (count != 1)}"

    when = (s["last_import"] and f"last import {_minute(s['last_import'])}") or (s["last"] and f"last {_minute(s['last'])}") or ""
    head = ", ".join(filter(None, [n(s["files"], "file") if s["files"] else "", when]))
    counts = [n(s[k], noun) for k, noun in (("prompts", "lesson" if s["source"] == "mcp" else "prompt"), ("tasks", "task"),
                                            ("checks", "check")) if s[k]]  # fmt: skip
    return f"{s['source']} ({'; '.join(filter(None, [head, ', '.join(counts)]))})"


def _minute(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


def _agent_hooks() -> Check:
    """Whether learnflow's hooks are in Claude Code's and Gemini CLI's settings (sources/install.py knows the files)."""
    from learnflow.errors import LearnflowError
    from learnflow.sources import install

    states: dict[str, str] = {}
    for agent in ("claude", "gemini"):
        try:
            states[agent] = install.state(agent)
        except LearnflowError:
            states[agent] = "unreadable settings"
    detail = ", ".join(f"{agent}: {state}" for agent, state in states.items())
    stale = [a for a, st in states.items() if st == "out of date"]
    fix = " ; ".join(f"learnflow hooks install {a}" for a in stale)
    status = "warn" if stale or "unreadable settings" in states.values() else ("ok" if "installed" in states.values() else "info")
    return Check("agent hooks", status, detail, fix, data={"hooks": states})


def _mcp() -> Check:
    if importlib.util.find_spec("mcp") is None:
        return Check("mcp server", "info", "the MCP SDK is not installed (learnflow mcp needs it)", "pip install 'learnflow[mcp]'")
    return Check("mcp server", "ok", "available: learnflow mcp (docs/agents.md has each agent's one-line setup)")


def _backend() -> list[Check]:
    from learnflow import keys
    from learnflow.config import Config
    from learnflow.errors import LearnflowError
    from learnflow.tutor.choose import choose

    out = []
    try:
        choice = choose(Config())
        out.append(_reach(choice, f"{choice.model} via {choice.backend}: {choice.reason}"))
    except LearnflowError as exc:
        out.append(Check("backend", "fail", exc.message, exc.hint or ""))
    names = [f"{p} (env)" for p in keys.env_providers()] + [f"{p} (keys file)" for p in keys.stored_providers()]
    out.append(Check("keys", "info", ", ".join(names) if names else "no provider keys found (that is fine offline)"))
    return out


def _reach(choice, detail: str) -> Check:
    """The chosen backend, tried the cheap way: its key and provider, and an OpenAI-compatible
    server's `GET /v1/models` (2 s at most). Configured is not the same as working."""
    from learnflow.errors import BackendError, LearnflowError
    from learnflow.tutor.choose import resolve_backend

    try:
        resolve_backend(choice).check(choice.model, choice.api_base)
    except LearnflowError as exc:
        return Check("backend", "fail", f"{detail}; {exc.message}", exc.hint or "")
    if choice.backend != "openai":
        return Check("backend", "ok", detail)
    from learnflow.backends.openai_compat import served_models

    t = time.perf_counter()
    try:
        served = served_models(choice.model, choice.api_base)
    except BackendError as exc:
        if exc.kind in ("connection", "timeout", "auth"):
            return Check("backend", "fail", f"{detail}; {exc.message}", exc.hint or "")
        return Check("backend", "warn", f"{detail}; the server answers but does not list its models: {exc.message}")
    ms = (time.perf_counter() - t) * 1000
    listed = f"{served.base} answers ({ms:.0f} ms), serves {len(served.models)} model{'s' if len(served.models) != 1 else ''}"
    model_id = choice.model.partition("/")[2]
    if served.models and model_id not in served.models:
        return Check("backend", "warn", f"{detail}; {listed}, but not {model_id!r}", "learnflow models lists what it serves")
    return Check("backend", "ok", f"{detail}; {listed}")


def _local_servers() -> list[Check]:
    from learnflow.tutor.choose import local_servers, port_open, server_model

    out = []
    for name, port, prefix in local_servers():
        t = time.perf_counter()
        if not port_open(port):
            out.append(Check(f"local {name}", "info", f"nothing on 127.0.0.1:{port}"))
            continue
        model = server_model(f"http://127.0.0.1:{port}/v1")
        ms = (time.perf_counter() - t) * 1000
        if model:
            out.append(Check(f"local {name}", "ok", f"127.0.0.1:{port} serves {prefix}/{model} ({ms:.0f} ms)"))
        else:
            out.append(Check(f"local {name}", "warn", f"127.0.0.1:{port} is open but does not answer /v1/models"))
    return out


def _tokenizer() -> Check:
    import warnings

    from learnflow import tokens

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tokens.TokenizerFallback)  # doctor reports the reason itself
        reason = tokens.fallback_reason()
    if reason is None:
        return Check("tokenizer", "ok", f"tiktoken {tokens.ENCODING}, shipped with learnflow (no download)")
    return Check(
        "tokenizer", "warn", f"token counts are estimated: {reason}", "Reinstall learnflow: pip install --force-reinstall learnflow"
    )


def _litellm() -> Check:
    spec = importlib.util.find_spec("litellm")
    return Check("litellm", "ok" if spec else "warn", "installed (imported only when a litellm model answers)" if spec else "not installed")


def _local_model() -> Check:
    from learnflow.config import Config

    model_file = Config().get("model_file")
    has_engine = importlib.util.find_spec("xllamacpp") is not None
    if model_file and not os.path.isfile(os.path.expanduser(str(model_file))):
        return Check(
            "local model", "fail", f"model_file {model_file} does not exist", "learnflow config set model_file /path/to/model.gguf"
        )
    if model_file:
        return Check("local model", "ok" if has_engine else "fail", f"{model_file}" + ("" if has_engine else "; xllamacpp missing"),
                     "" if has_engine else "pip install 'learnflow[local]'")  # fmt: skip
    return Check("local model", "info", "none configured" + (" (xllamacpp installed)" if has_engine else ""))


def repair_database() -> dict:
    """Copy a damaged log aside and rebuild a fresh one from every row still readable.

    Returns what was done. The damaged file is kept (never overwritten or deleted). The new
    log is built beside it and takes its name only when complete: a failure part-way leaves
    the log as it was.
    """
    from learnflow.db import admin
    from learnflow.db.store import Store

    path = paths.db_path()
    if not path.exists():
        raise DatabaseError(f"There is no log at {path} to repair.", hint="It is created on the first ask.")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.damaged-{stamp}")
    sides = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    try:
        shutil.copy2(path, backup)
        for side in sides:
            if side.exists():
                shutil.copy2(side, backup.with_name(backup.name + side.name[len(path.name) :]))
    except OSError as exc:
        for copy in (backup, *(backup.with_name(backup.name + s) for s in ("-wal", "-shm"))):
            copy.unlink(missing_ok=True)  # no half copy left to be mistaken for a backup
        raise DatabaseError(
            f"Cannot keep a copy of the damaged log beside it: {exc.strerror or exc}; nothing was changed.",
            hint="Free some disk space (the copy is as large as the log) and run it again.",
        ) from None
    rows_by_table = admin.readable_rows(backup)  # nothing readable: a fresh log; the damaged copy stays for experts
    fresh = path.with_name(f"{path.name}.repairing-{os.getpid()}")
    for leftover in (fresh, *(fresh.with_name(fresh.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    store = Store(fresh)
    try:
        salvaged = admin.restore_rows(store, rows_by_table)
        unlinked = admin.unlink_orphans(store)
    finally:
        store.close()  # the last connection: its WAL is folded into the file
    for side in sides:
        side.unlink(missing_ok=True)
    os.replace(fresh, path)
    readable = {t: len(rows) for t, rows in rows_by_table.items() if rows}
    return {"backup": str(backup), "salvaged": salvaged, "readable": readable, "unlinked": unlinked}
