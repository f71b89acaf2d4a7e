"""Which skill a command exercises and how it failed: the command → skill table and the error classes.

The table is `data/commands.toml`, overlaid with the user's own `commands.toml`; `resolve` reads a
command line as people type it (through `sudo`, `env`, `python -m`, `npx`, `uv run`…), and
`error_class` names a failure in a few words. Used by `learner/tasks.py` (recording a wrapped command)
and by the coding-agent importers (`sources/base.py`). `lf` imports this on every command typed, so it
imports neither `typing` nor `dataclasses` (cli/quickrun.py says why).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from learnflow import paths
from learnflow.errors import ConfigError

# -- the command → skill table ---------------------------------------------------------


class Table:
    __slots__ = ("tools", "subcommands")

    def __init__(self, tools: dict[str, str], subcommands: dict[str, str]) -> None:
        self.tools = tools
        self.subcommands = subcommands  # "tool first-argument" -> skill

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {"tools": self.tools, "subcommands": self.subcommands}


def _read_table(path, *, known_skills=None) -> Table:
    """One commands.toml. A user's file is checked: a mistake is a ConfigError naming file and reason."""
    import tomllib

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Table({}, {})
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Command table {path} cannot be read: {exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Command table {path} is not valid TOML: {exc}.", hint=_HINT) from None
    unknown = set(raw) - {"tools", "subcommands"}
    if unknown:
        raise ConfigError(f"Command table {path}: unknown section {sorted(unknown)[0]!r}.", hint=_HINT)
    out: dict[str, dict[str, str]] = {}
    for section in ("tools", "subcommands"):
        entries = raw.get(section, {})
        if not isinstance(entries, dict):
            raise ConfigError(f'Command table {path}: [{section}] must be a table of name = "skill".', hint=_HINT)
        for name, skill in entries.items():
            where = f"{section}.{name}" if re.fullmatch(r"[\w.-]+", name) else f'{section}."{name}"'
            if not isinstance(skill, str):
                raise ConfigError(f"Command table {path}: {where} must be a skill id in quotes, not {skill!r}.", hint=_HINT)
            if known_skills is not None and skill not in known_skills:
                raise ConfigError(
                    f"Command table {path}: {where} = {skill!r} is not a known skill.",
                    hint=f"Known skills: {', '.join(sorted(known_skills))} (add new ones in skills.toml).",
                )
            if section == "subcommands" and len(name.split()) != 2:
                raise ConfigError(f'Command table {path}: {where} must be "tool subcommand", two words.', hint=_HINT)
        out[section] = dict(entries)
    return Table(out.get("tools", {}), out.get("subcommands", {}))


_HINT = 'Shape: [tools] mytool = "cloud"  and  [subcommands] "mytool test" = "testing" (see learnflow/data/commands.toml).'


def user_table_path():
    return paths.config_dir() / "commands.toml"


@lru_cache(maxsize=1)
def table() -> Table:
    """The bundled table, with the user's commands.toml on top (its entries win)."""
    from learnflow.filecache import cached

    source = paths.package_dir() / "data" / "commands.toml"
    bundled = Table(**cached("commands", [source], lambda: _read_table(source).as_dict()))
    path = user_table_path()
    if not path.exists():
        return bundled
    from learnflow.learner.skills import taxonomy

    user = _read_table(path, known_skills=set(taxonomy()))
    return Table({**bundled.tools, **user.tools}, {**bundled.subcommands, **user.subcommands})


# -- reading a command line as people type it --------------------------------------------

# Wrappers run the real command after their own options; the set lists the options that take a value.
_WRAPPERS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group", "--chdir", "--host", "--prompt"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "--unset", "-C", "--chdir"}),
    "time": frozenset({"-f", "--format", "-o", "--output"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "--class", "-n", "--classdata"}),
    "timeout": frozenset({"-s", "--signal", "-k", "--kill-after"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "watch": frozenset({"-n", "--interval", "-d"}),
    "nohup": frozenset(),
    "exec": frozenset(),
    "command": frozenset(),
    "builtin": frozenset(),
    "unbuffer": frozenset(),
    "caffeinate": frozenset(),
    "dotenv": frozenset({"-f", "-e", "-c", "-v"}),
    "op": frozenset({"--env-file"}),  # 1Password: `op run -- CMD`
}
_POSITIONAL = {"timeout": 1}  # wrappers with positional arguments before the command (the duration)
# Patterns in this module are kept as strings and compiled on first use (re's own cache): the
# usual `lf` run needs none of them, and compiling them all at import cost ~1 ms of every run.
_ASSIGNMENT = r"^[A-Za-z_][A-Za-z0-9_]*="

# Runners that run a tool or package given as an argument: `npx jest`, `uvx ruff`.
_PACKAGE_RUNNERS = frozenset({"npx", "pnpx", "bunx", "uvx"})
# Runners with a verb first: `uv run pytest`, `poetry run python x.py`, `pnpm dlx eslint`.
_VERB_RUNNERS: dict[str, frozenset[str]] = {
    "uv": frozenset({"run", "tool"}), "poetry": frozenset({"run"}), "pipenv": frozenset({"run"}), "pdm": frozenset({"run"}),
    "hatch": frozenset({"run"}), "rye": frozenset({"run"}), "conda": frozenset({"run"}), "mamba": frozenset({"run"}),
    "micromamba": frozenset({"run"}), "pixi": frozenset({"run", "exec"}), "pipx": frozenset({"run"}), "bundle": frozenset({"exec"}),
    "npm": frozenset({"exec"}), "pnpm": frozenset({"dlx", "exec"}), "yarn": frozenset({"dlx", "exec"}), "bun": frozenset({"x"}),
    "op": frozenset({"run"}),
}  # fmt: skip
_RUNNER_VALUE_OPTIONS = frozenset(
    {"-n", "--name", "-p", "--prefix", "--python", "--with", "--from", "--project", "--directory", "--env-file", "--extra",
     "--group", "--package", "-e", "--env", "--spec", "--package-manager", "--index-url", "-C"}
)  # fmt: skip
# npm-style script runners: `npm run test:unit`, `yarn lint`.
_SCRIPT_RUNNERS = frozenset({"npm", "yarn", "pnpm", "bun"})
_PYTHONS = frozenset({"python", "pypy", "py"})
_PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "-Q"})
_SCRIPT_EXTENSIONS = {
    ".py": "python", ".sh": "bash", ".bash": "bash", ".zsh": "zsh", ".js": "node", ".mjs": "node", ".cjs": "node",
    ".ts": "tsx", ".rb": "ruby", ".pl": "perl", ".php": "php", ".r": "Rscript", ".R": "Rscript",
}  # fmt: skip
_VERSION_SUFFIX = r"^(.+?)-?\d+(?:\.\d+)*$"


def _skip_options(args: list[str], value_options: frozenset[str]) -> list[str]:
    """The arguments after leading options (and a `--`)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1 :]
        if not arg.startswith("-") or arg == "-":
            break
        i += 2 if arg in value_options else 1
    return args[i:]


def _strip_wrappers(args: list[str]) -> list[str]:
    while args:
        if "=" in args[0] and re.match(_ASSIGNMENT, args[0]):  # VAR=x as `env` or a shell would take it
            args = args[1:]
            continue
        name = os.path.basename(args[0])
        if name not in _WRAPPERS or (name == "op" and args[1:2] != ["run"]):
            return args
        rest = args[2:] if name == "op" else args[1:]
        rest = _skip_options(rest, _WRAPPERS[name])
        while rest and name == "env" and re.match(_ASSIGNMENT, rest[0]):
            rest = rest[1:]
        args = rest[_POSITIONAL.get(name, 0) :]
    return args


def _canonical(name: str, tools: dict[str, str]) -> str:
    """`/usr/bin/python3.12` → `python`, `pip3` → `pip`, `clang-15` → `clang`; unknown names stay."""
    name = os.path.basename(name)
    if name.lower().endswith(".exe"):
        name = name[:-4]
    if name in tools:
        return name
    m = re.match(_VERSION_SUFFIX, name) if name[-1:].isdigit() else None
    if m and m.group(1) in tools:
        return m.group(1)
    return name


def _first_word(args: list[str]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def resolve(argv: list[str], tbl: Table | None = None) -> tuple[str, str | None] | None:
    """(tool, skill) for a command line as typed; skill None for a tool the table does not know."""
    tbl = tbl or table()
    return _resolve(list(argv), tbl, depth=0)


def _resolve(args: list[str], tbl: Table, depth: int) -> tuple[str, str | None] | None:
    args = _strip_wrappers(args)
    if not args or depth > 4:
        return None
    tool = _canonical(args[0], tbl.tools)
    rest = args[1:]
    if tool not in tbl.tools:
        ext = os.path.splitext(tool)[1]
        interpreter = _SCRIPT_EXTENSIONS.get(ext) or _SCRIPT_EXTENSIONS.get(ext.lower())
        if interpreter:  # ./manage.py, ./deploy.sh: the language the script is written in
            return interpreter, tbl.tools.get(interpreter)
        return tool, None
    skill = tbl.tools[tool]

    def inner(run_args: list[str], fallback_skill: str) -> tuple[str, str | None] | None:
        found = _resolve(run_args, tbl, depth + 1)
        if found is None:
            return tool, skill
        return found if found[1] is not None else (found[0], fallback_skill)

    if tool in _PYTHONS:
        # `python -m pytest`: the module is the tool (looking through options such as -u or -X dev).
        i = 0
        while i < len(rest) and rest[i].startswith("-") and rest[i] not in ("-m", "-c"):
            i += 2 if rest[i] in _PYTHON_VALUE_OPTIONS else 1
        if rest[i : i + 1] == ["-m"] and i + 1 < len(rest):
            module = rest[i + 1]
            if module in tbl.tools:
                return _with_sub(module, rest[i + 2 :], tbl)
        return "python", skill
    if tool in _PACKAGE_RUNNERS:
        return inner(_skip_options(rest, _RUNNER_VALUE_OPTIONS), skill)
    verbs = _VERB_RUNNERS.get(tool)
    if verbs and rest[:1] and rest[0] in verbs:
        run_args = _skip_options(rest[1:], _RUNNER_VALUE_OPTIONS)
        if tool == "uv" and rest[0] == "tool":
            run_args = _skip_options(run_args[1:], _RUNNER_VALUE_OPTIONS) if run_args[:1] == ["run"] else []
        if run_args:
            return inner(run_args, skill)
    if tool in _SCRIPT_RUNNERS:
        script = rest[1] if rest[:1] == ["run"] and len(rest) > 1 else _first_word(rest)
        if script:
            key = f"{tool} {script.split(':')[0]}"
            if key in tbl.subcommands:
                return tool, tbl.subcommands[key]
            if script.startswith("test"):  # npm run test:unit, yarn test-e2e
                return tool, tbl.subcommands.get(f"{tool} test", skill)
    return _with_sub(tool, rest, tbl)


def _with_sub(tool: str, rest: list[str], tbl: Table) -> tuple[str, str | None]:
    sub = _first_word(rest)
    if sub is not None and f"{tool} {sub}" in tbl.subcommands:
        return tool, tbl.subcommands[f"{tool} {sub}"]
    return tool, tbl.tools.get(tool)


def skill_for(argv: list[str], tbl: Table | None = None) -> tuple[str, str] | None:
    """(tool, skill) of a command line as typed, or None when the table does not know the tool.

    Pure: reads the (cached) table, nothing else. `sudo -E uv run python -m pytest -x` → ("pytest", "testing").
    """
    found = resolve(argv, tbl)
    if found is None or found[1] is None:
        return None
    return found[0], found[1]


# -- what kind of failure ------------------------------------------------------------------

INTERRUPTED = "interrupted"  # Ctrl-C: the person stopped the command (not a failure of the skill)
_SIGNALS = {130: INTERRUPTED, 137: "killed", 139: "segfault", 143: "terminated", 134: "aborted"}
_CURL_EXITS = {
    6: "could not resolve host", 7: "failed to connect", 22: "HTTP error", 28: "timeout", 35: "TLS handshake failed",
    47: "too many redirects", 52: "empty reply", 56: "connection reset", 60: "certificate problem",
}  # fmt: skip
_QUOTED = r"'[^']*'|\"[^\"]*\"|`[^`]*`|‘[^’]*’|“[^”]*”"
_NOISE = r"\S*[/\\]\S*|\b0x[0-9a-f]+\b|\b\d+(?:\.\d+)*\b|\[REDACTED:[^\]]*\]"
_EXCEPTION = r"^(?:[A-Za-z_][\w]*\.)*([A-Z]\w*(?:Error|Exception|Exit|Interrupt|Failure|Fault|Warning))\b(?::|$)"


def _short(message: str, words: int = 6) -> str:
    """A message without its particulars (quoted names, paths, numbers): the same kind reads the same."""
    text = re.sub(_NOISE, " ", re.sub(_QUOTED, " ", message.lower()))
    text = re.sub(r"[^\w\s-]", " ", text)
    return " ".join(text.split()[:words]) or "error"


def _search(pattern: str, text: str, flags: int = re.M) -> re.Match | None:
    return re.search(pattern, text, flags)


def error_class(tool: str | None, exit_code: int, stdout: str = "", stderr: str = "") -> str | None:
    """A short, stable name for how a command failed (None when it did not).

    Specific first (the tool's own words: git's `fatal:`, curl's HTTP status, pytest's summary),
    then the generic shapes (a Python exception, command not found, permission denied), then `exit N`.
    """
    if exit_code == 0:
        return None
    text = f"{stderr}\n{stdout}"
    low = text.lower()
    if exit_code in _SIGNALS and not text.strip():
        return _SIGNALS[exit_code]
    if tool in ("pytest", "py.test", "unittest", "tox", "nox") or "short test summary info" in low:
        if _search(r"^=+ .*\b\d+ failed\b.* in [\d.]+s", text) or _search(r"^FAILED \(.*failures=\d+", text):
            return "tests failed"
        if exit_code == 5 or "no tests ran" in low or "collected 0 items" in low:
            return "no tests collected"
        if _search(r"^=+ .*\b\d+ errors?\b.* in [\d.]+s", text) or "error collecting" in low:
            return "test collection error"
    if tool in ("jest", "vitest", "mocha", "npm", "yarn", "pnpm", "bun") and _search(r"^\s*Tests?(?: Files)?:?\s+.*\b\d+ fail", text):
        return "tests failed"
    if tool in ("git", "gh"):
        if "conflict (" in low or "automatic merge failed" in low or "merge conflict" in low:
            return "merge conflict"
        if "failed to push some refs" in low:
            return "push rejected"
        if "would be overwritten by" in low:
            return "local changes would be overwritten"
        if "not a git repository" in low:
            return "not a git repository"
        m = _search(r"^(?:fatal|error): (.+)$", text)
        if m:
            return _short(m.group(1))
    if tool in ("curl", "wget", "http", "https", "xh"):
        m = _search(r"returned error: (\d{3})", text) or _search(r"\b(?:HTTP/[\d.]+ |ERROR )(\d{3})\b", text)
        if m:
            return f"HTTP {m.group(1)}"
        m = _search(r"^curl: \(\d+\) (.+)$", text)
        if m:
            return _short(m.group(1), 4)
        if tool == "curl" and exit_code in _CURL_EXITS:  # `curl -sf` prints nothing: its exit code says what happened
            return _CURL_EXITS[exit_code]
    if tool in ("npm", "npx", "yarn", "pnpm"):
        m = _search(r"^npm (?:ERR!|error) code (\w+)", text)
        if m:
            return f"npm {m.group(1)}"
    if tool in ("kubectl", "helm", "oc"):
        m = _search(r"Error from server \((\w+)\)", text)
        if m:
            return f"server {m.group(1)}"
    if tool in ("psql", "mysql", "mariadb", "sqlite3", "duckdb", "pg_dump", "pg_restore"):
        m = _search(r"^ERROR (\d{4})", text)
        if m:
            return f"ERROR {m.group(1)}"
        m = _search(r"^(?:psql: )?(?:error: )?(?:.*)?\b(?:ERROR|FATAL|Error|Parse error):\s+(.+)$", text)
        if m:
            return _short(m.group(1))
    if tool in ("docker", "podman", "docker-compose"):
        if "cannot connect to the docker daemon" in low:
            return "daemon not reachable"
        if "pull access denied" in low or "manifest unknown" in low or "not found: manifest" in low:
            return "image not found"
        m = _search(r"^(?:Error response from daemon|Error|ERROR): (.+)$", text)
        if m and "permission denied" not in m.group(1).lower():
            return _short(m.group(1))
    if tool in ("ssh", "scp", "sftp", "rsync"):
        for phrase in ("host key verification failed", "could not resolve hostname", "connection refused", "connection timed out"):
            if phrase in low:
                return phrase
        if "permission denied (publickey" in low:
            return "permission denied (publickey)"
    if tool in ("terraform", "tofu", "terragrunt"):
        m = _search(r"^[│\s]*Error: (.+)$", text)
        if m:
            return _short(m.group(1))
    if "traceback (most recent call last)" in low or tool in ("python", "node", "javascript"):
        found = re.findall(_EXCEPTION, text, re.M)
        if found:
            return found[-1]  # the exception that ended it: the last one printed
    if exit_code == 127 or "command not found" in low or re.search(r": not found$", low, re.M):
        return "command not found"
    if exit_code == 126 or "permission denied" in low:
        return "permission denied"
    if "no such file or directory" in low:
        return "no such file or directory"
    if exit_code in _SIGNALS:
        return _SIGNALS[exit_code]
    return f"exit {exit_code}"
