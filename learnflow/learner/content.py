"""Content packs: a team's own skills, roles and guides, in folders beside the bundled ones.

A pack is a folder holding any of `skills.toml`, `roles.toml` and `cards/*.toml`, of the shapes of
learnflow/data/. Packs are found, lowest precedence first, in:

1. `<config folder>/content/`,
2. every folder of the `content_paths` setting (`os.pathsep`-separated; relative to the config folder),
3. every folder of `LEARNFLOW_CONTENT` (`os.pathsep`-separated),

all over the bundled content: a later skill, role or card with an id seen before replaces it, new
ids are added. `taxonomy()`, `roles()` and `load_cards()` read them through `loaded()`, so every part
of learnflow uses pack content like bundled content.

A pack that does not parse or breaks the schema is skipped whole (a half-loaded pack would leave
roles pointing at missing skills) with a one-line warning on stderr; `validate` names every
problem at `file:line`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from learnflow import paths

ORIGINS = ("config folder", "content_paths", "LEARNFLOW_CONTENT")
# Bump when what `_read_pack` makes from the same files changes (the cache is keyed on it).
_CACHE_FORMAT = 1

LANGS = {"bash", "python", "sql", "javascript", "text"}
CARD_FIELDS: dict[str, type] = {
    "id": str,
    "skill": str,
    "title": str,
    "keywords": list,
    "concept": str,
    "lang": str,
    "commands": list,
    "pitfalls": list,
    "check_question": str,
    "check_answer": str,
    "check_keywords": list,
    "docs": list,
}
SKILL_LISTS = ("keywords", "guiding", "strong", "weak", "patterns")
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Pack:
    path: Path
    origin: str  # one of ORIGINS


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


# ----------------------------------------------------------------------------------------------
# Finding packs
# ----------------------------------------------------------------------------------------------


def _split(value: str, base: Path | None) -> list[Path]:
    out = []
    for part in value.split(os.pathsep):
        if part.strip():
            p = Path(part.strip()).expanduser()
            out.append(base / p if base is not None and not p.is_absolute() else p)
    return out


def _setting_paths() -> list[Path]:
    from learnflow import config
    from learnflow.errors import ConfigError

    try:
        value = config.load().get("content_paths")
    except ConfigError:
        return []  # the command reading its settings reports a broken config file itself
    return _split(value, paths.config_dir()) if isinstance(value, str) else []


def packs() -> list[Pack]:
    """Pack folders, lowest precedence first; a folder named twice counts at its highest place."""
    found = [Pack(paths.config_dir() / "content", ORIGINS[0])]
    found += [Pack(p, ORIGINS[1]) for p in _setting_paths()]
    found += [Pack(p, ORIGINS[2]) for p in _split(os.environ.get("LEARNFLOW_CONTENT", ""), None)]
    out: list[Pack] = []
    for pack in found:
        if pack.origin == ORIGINS[0] and not pack.path.is_dir():
            continue  # the default place is optional; a named folder that is missing is worth a warning
        out = [p for p in out if p.path.resolve() != pack.path.resolve()] + [pack]
    return out


def pack_files(pack_dir: Path) -> list[Path]:
    """The files a pack is made of, in load order."""
    cards = sorted((pack_dir / "cards").glob("*.toml")) if (pack_dir / "cards").is_dir() else []
    return [f for f in (pack_dir / "skills.toml", pack_dir / "roles.toml") if f.is_file()] + cards


def sources() -> list[Path]:
    """What the loaded content depends on: every pack's files and folders (a new card file changes
    its folder's time), for the caches built from it."""
    out: list[Path] = []
    for pack in packs():
        out += [pack.path, pack.path / "cards", *pack_files(pack.path)]
    return out


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------

_loaded: dict | None = None
_loaded_key: list | None = None
_warned: set[str] = set()


def loaded() -> dict:
    """{"packs": [{path, origin, skills, roles, cards, problems}]}: every pack, parsed and checked.

    Cached as JSON keyed on the packs' files; a pack with problems has empty content and is
    warned about once a process, however many loaders ask."""
    global _loaded, _loaded_key
    found = packs()
    if not found:
        return {"packs": []}
    from learnflow.filecache import cached, stamp

    files = [*sources(), Path(__file__)]
    key = [[str(p.path), p.origin] for p in found] + [stamp(f) for f in files]
    if _loaded is None or _loaded_key != key:

        def build() -> dict:
            return {"packs": _cross_check(found, [_read_pack(p) for p in found])}

        _loaded = cached("content", files, build, version=_CACHE_FORMAT)
        _loaded_key = key
        # `files` names the packs' folders, but the cache key must also follow which packs there are.
        if [[e["path"], e["origin"]] for e in _loaded["packs"]] != [[str(p.path), p.origin] for p in found]:
            _loaded = build()
    for entry in _loaded["packs"]:
        if entry["problems"] and entry["path"] not in _warned:
            _warned.add(entry["path"])
            first = entry["problems"][0]
            more = f" (and {len(entry['problems']) - 1} more)" if len(entry["problems"]) > 1 else ""
            # Loading happens deep inside every command: a skipped pack must be visible wherever it is
            # noticed, on stderr so that --json output stays clean.
            sys.stderr.write(
                f"learnflow: skipped content pack {entry['path']}: {first[0]}:{first[1]}: {first[2]}{more}; "
                f"run `learnflow content validate {entry['path']}`\n"
            )
    return _loaded


def pack_skills() -> list[dict]:
    """Each usable pack's [skills] tables, lowest precedence first."""
    return [e["skills"] for e in loaded()["packs"] if not e["problems"]]


def pack_roles() -> list[dict]:
    return [e["roles"] for e in loaded()["packs"] if not e["problems"]]


def pack_cards() -> list[list[dict]]:
    return [e["cards"] for e in loaded()["packs"] if not e["problems"]]


def _bundled_skill_ids() -> set[str]:
    out: set[str] = set()
    for path in (paths.package_dir() / "data" / "skills.toml", paths.user_skills_path()):
        try:
            out |= set(tomllib.loads(path.read_text(encoding="utf-8")).get("skills", {}))
        except (OSError, ValueError):
            pass
    return out


def _cross_check(found: list[Pack], entries: list[dict]) -> list[dict]:
    """Skip a pack whose roles or cards name a skill that neither the bundled content nor a usable pack
    defines (`goals role` would fail on it); repeated, since skipping one pack may orphan another's."""
    while True:
        known = _bundled_skill_ids().union(*(e["skills"] for e in entries if not e["problems"]))
        orphans = [
            i
            for i, e in enumerate(entries)
            if not e["problems"]
            and (
                any(sid not in known for role in e["roles"].values() for sid in role.get("skills", {}))
                or any(c["skill"] not in known for c in e["cards"])
            )
        ]
        if not orphans:
            return entries
        for i in orphans:
            problems = validate(found[i].path, commands=False, known_skills=known)
            entries[i] = {**entries[i], "skills": {}, "roles": {}, "cards": [], "problems": [[p.file, p.line, p.message] for p in problems]}


def _read_pack(pack: Pack) -> dict:
    entry: dict[str, Any] = {"path": str(pack.path), "origin": pack.origin, "skills": {}, "roles": {}, "cards": [], "problems": []}
    if not pack.path.is_dir():
        entry["problems"] = [[str(pack.path), 0, "not a folder"]]
        return entry
    if not pack_files(pack.path):
        entry["problems"] = [[str(pack.path), 0, "holds no skills.toml, roles.toml or cards/*.toml"]]
        return entry
    parsed, problems = _parse(pack.path)
    problems += _schema(parsed, known_skills=None)
    if problems:
        entry["problems"] = [[p.file, p.line, p.message] for p in problems]
        return entry
    entry["skills"] = parsed["skills"]
    entry["roles"] = parsed["roles"]
    entry["cards"] = [{k: v for k, v in c.items()} for _, _, c in parsed["cards"]]
    return entry


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


class _File:
    """A TOML file's text, to point problems at lines (tomllib keeps no positions)."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text(encoding="utf-8").splitlines()

    def find(self, pattern: str, start: int = 1, end: int | None = None) -> int:
        """The 1-based line of the first match of `pattern` in lines start..end, else `start`."""
        rx = re.compile(pattern)
        for i in range(start - 1, min(end or len(self.lines), len(self.lines))):
            if rx.search(self.lines[i]):
                return i + 1
        return start

    def headers(self, pattern: str) -> list[int]:
        rx = re.compile(pattern)
        return [i + 1 for i, line in enumerate(self.lines) if rx.match(line)]


def _parse(pack_dir: Path) -> tuple[dict, list[Problem]]:
    """{"skills": {...}, "roles": {...}, "cards": [(file, line, card)]} and the files that do not parse."""
    out: dict = {"skills": {}, "roles": {}, "cards": [], "lines": {}}
    problems: list[Problem] = []
    for path in pack_files(pack_dir):
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except UnicodeDecodeError:
            problems.append(Problem(str(path), 1, "not UTF-8 text"))
            continue
        except OSError as exc:
            problems.append(Problem(str(path), 1, f"cannot be read: {exc.strerror}"))
            continue
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"at line (\d+)", str(exc))
            problems.append(Problem(str(path), int(m.group(1)) if m else 1, f"not valid TOML: {exc}"))
            continue
        f = _File(path)
        if path.parent.name == "cards":
            cards = data.get("cards", [])
            if not isinstance(cards, list):
                problems.append(Problem(str(path), f.find(r"^\s*cards\s*="), "`cards` must be an array of [[cards]] tables"))
                continue
            starts = f.headers(r"^\s*\[\[cards\]\]")
            for i, card in enumerate(cards):
                out["cards"].append((f, starts[i] if i < len(starts) else 1, card))
        else:
            table = path.stem  # "skills" or "roles"
            value = data.get(table, {})
            if not isinstance(value, dict):
                problems.append(Problem(str(path), 1, f"`{table}` must be a table of [{table}.<id>] tables"))
                continue
            out[table] = value
            for sid in value:
                out["lines"][(table, sid)] = (f, f.find(rf"^\s*\[{table}\.\"?{re.escape(sid)}\"?\]"))
    return out, problems


def _reporter(problems: list[Problem], f: _File, line: int, what: str):
    """A function adding a Problem about one entry (`what`, e.g. "skill gdpr"), at the line of one of
    its keys when given, else at the entry's header line."""

    def bad(msg: str, key: str | None = None) -> None:
        at = f.find(rf"^\s*\"?{re.escape(key)}\"?\s*=", line) if key else line
        problems.append(Problem(str(f.path), at, f"{what}: {msg}"))

    return bad


def _schema(parsed: dict, known_skills: set[str] | None) -> list[Problem]:
    """Schema and identity checks of parsed pack content; `known_skills` None skips the skill references."""
    problems: list[Problem] = []
    lines = parsed["lines"]
    for sid, entry in parsed["skills"].items():
        f, line = lines[("skills", sid)]
        bad = _reporter(problems, f, line, f"skill {sid}")

        if not KEBAB.match(sid):
            bad("id must be kebab-case (lower-case words joined by -)")
        if not isinstance(entry, dict):
            bad("must be a table")
            continue
        for key in ("name", "group"):
            if key in entry and not (isinstance(entry[key], str) and entry[key].strip()):
                bad(f"{key} must be non-empty text", key)
        if not isinstance(entry.get("name"), str):
            bad("needs a name")
        for key in SKILL_LISTS:
            value = entry.get(key, [])
            if not (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)):
                bad(f"{key} must be a list of non-empty strings", key)
        for pattern in entry.get("patterns", []) if isinstance(entry.get("patterns"), list) else []:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                bad(f"pattern {pattern!r} is not a regular expression: {exc}", "patterns")
    for rid, entry in parsed["roles"].items():
        f, line = lines[("roles", rid)]
        rbad = _reporter(problems, f, line, f"role {rid}")

        if not KEBAB.match(rid):
            rbad("id must be kebab-case (lower-case words joined by -)")
        if not isinstance(entry, dict):
            rbad("must be a table")
            continue
        for key in ("name", "description"):
            if key in entry and not isinstance(entry[key], str):
                rbad(f"{key} must be text", key)
        skills = entry.get("skills")
        if not isinstance(skills, dict) or not skills:
            rbad("needs a [roles.<id>.skills] table naming at least one skill")
            continue
        for sid, spec in skills.items():
            if not isinstance(spec, dict) or not _number(spec.get("target")) or not 0 <= spec["target"] <= 1:
                rbad(f"skill {sid} needs a target between 0 and 1", sid)
            elif "importance" in spec and not (_number(spec["importance"]) and spec["importance"] > 0):
                rbad(f"skill {sid}: importance must be a number above 0", sid)
            if known_skills is not None and sid not in known_skills:
                rbad(f"unknown skill {sid!r}", sid)
    seen: dict[str, Problem] = {}
    for f, line, card in parsed["cards"]:
        problems += _card_problems(f, line, card, known_skills)
        cid = card.get("id") if isinstance(card, dict) else None
        if isinstance(cid, str):
            if cid in seen:
                problems.append(Problem(str(f.path), line, f"card {cid}: duplicate id (also at {seen[cid].file}:{seen[cid].line})"))
            else:
                seen[cid] = Problem(str(f.path), line, "")
    return problems


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _card_problems(f: _File, line: int, card, known_skills: set[str] | None) -> list[Problem]:
    """The checks every guide passes (the bundled ones in tests/test_cards.py too)."""
    out: list[Problem] = []
    label = card.get("id", "?") if isinstance(card, dict) else "?"
    end = next((h - 1 for h in f.headers(r"^\s*\[\[cards\]\]") if h > line), None)

    def bad(msg: str, key: str | None = None) -> None:
        at = f.find(rf"^\s*{key}\s*=", line, end) if key else line
        out.append(Problem(str(f.path), at, f"card {label}: {msg}"))

    if not isinstance(card, dict):
        return [Problem(str(f.path), line, "a card must be a table")]
    missing, unknown = set(CARD_FIELDS) - set(card), set(card) - set(CARD_FIELDS)
    if missing:
        bad(f"missing keys {', '.join(sorted(missing))}")
    if unknown:
        bad(f"unknown keys {', '.join(sorted(unknown))} (typo?)", sorted(unknown)[0])
    for key, typ in CARD_FIELDS.items():
        if key in card and not isinstance(card[key], typ):
            bad(f"{key} should be {'text' if typ is str else 'a list'}", key)
    if out:
        return out  # the checks below read the fields as their types
    for key in ("id", "title", "concept", "check_question", "check_answer"):
        if not card[key].strip():
            bad(f"{key} is empty", key)
    if not KEBAB.match(card["id"]):
        bad("id must be kebab-case", "id")
    if not card["id"].startswith(card["skill"] + "-"):
        bad(f"id must start with '{card['skill']}-'", "id")
    if known_skills is not None and card["skill"] not in known_skills:
        bad(f"unknown skill {card['skill']!r}", "skill")
    kws = card["keywords"]
    if not kws or not all(isinstance(k, str) and k.strip() for k in kws):
        bad("keywords must be a non-empty list of words", "keywords")
    elif any(k != k.lower() for k in kws):
        bad("keywords must be lower case", "keywords")
    elif len(set(kws)) != len(kws):
        bad("duplicate keywords", "keywords")
    if card["lang"] not in LANGS:
        bad(f"lang must be one of {', '.join(sorted(LANGS))}", "lang")
    if not card["commands"]:
        bad("a card needs at least one command", "commands")
    for c in card["commands"]:
        if not (isinstance(c, dict) and set(c) == {"cmd", "what"} and all(isinstance(v, str) and v.strip() for v in c.values())):
            bad(f'a command is {{ cmd = "…", what = "…" }}, not {c!r}', "commands")
    if not card["pitfalls"] or not all(isinstance(p, str) and p.strip() for p in card["pitfalls"]):
        bad("pitfalls must be a non-empty list of text", "pitfalls")
    # The offline judge marks a free-text answer by these words, so the model answer must contain them.
    if not card["check_keywords"]:
        bad("check_keywords must not be empty", "check_keywords")
    for k in card["check_keywords"]:
        if not (isinstance(k, str) and k.strip() and k == k.lower()):
            bad(f"bad check keyword {k!r} (lower-case text)", "check_keywords")
        elif k not in card["check_answer"].lower():
            bad(f"check keyword {k!r} is not in check_answer", "check_keywords")
    if not all(isinstance(u, str) and u.startswith(("https://", "http://")) for u in card["docs"]):
        bad("docs must be a list of http(s) links", "docs")
    return out


def command_problem(lang: str, cmd: str) -> str | None:
    """Why `cmd` does not parse in `lang`, or None. A checker that is not installed (bash, node) passes."""
    if not cmd.strip():
        return "empty command"
    if lang == "python":
        try:
            compile(cmd, "<command>", "exec")
        except SyntaxError as exc:
            return f"Python does not compile: {exc.msg} (line {exc.lineno} of the command)"
    elif lang == "sql":
        from learnflow.db.search import complete_statement

        if not complete_statement(cmd):
            return "SQL statement is not complete (unbalanced quotes or parentheses?)"
    elif lang == "bash":
        bash = shutil.which("bash")
        if bash:
            proc = subprocess.run([bash, "-n", "-c", cmd], capture_output=True, text=True, timeout=10)
            if proc.returncode:
                return f"bash does not parse it: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'syntax error'}"
    elif lang == "javascript":
        node = shutil.which("node")
        if node:
            with tempfile.TemporaryDirectory() as tmp:
                # .mjs: parsed as an ES module, where top-level await is legal (the cards use it).
                src = Path(tmp) / "snippet.mjs"
                src.write_text(cmd + "\n", encoding="utf-8")
                proc = subprocess.run([node, "--check", str(src)], capture_output=True, text=True, timeout=30)
            if proc.returncode:
                return "node does not parse it: " + next((ln for ln in proc.stderr.splitlines() if "Error" in ln), "syntax error")
    return None


def known_skill_ids() -> set[str]:
    """Skill ids of the bundled taxonomy, the user's skills.toml and the usable packs (what taxonomy() holds)."""
    out = _bundled_skill_ids()
    for pack in pack_skills():
        out |= set(pack)
    return out


def validate(pack_dir: Path | str, *, commands: bool = True, known_skills: Iterable[str] | None = None) -> list[Problem]:
    """Every problem of the pack in `pack_dir`, each at its file:line; [] when it is fine.

    Skills a pack may use: its own, the bundled ones and those of the packs loaded now (or
    `known_skills` when given). `commands` also checks that each command parses in its card's lang."""
    pack_dir = Path(pack_dir)
    if not pack_dir.is_dir():
        return [Problem(str(pack_dir), 0, "not a folder")]
    if not pack_files(pack_dir):
        return [Problem(str(pack_dir), 0, "holds no skills.toml, roles.toml or cards/*.toml")]
    parsed, problems = _parse(pack_dir)
    known = set(known_skills) if known_skills is not None else known_skill_ids()
    known |= set(parsed["skills"])
    problems += _schema(parsed, known)
    if commands:
        for f, line, card in parsed["cards"]:
            if not isinstance(card, dict) or not isinstance(card.get("commands"), list):
                continue
            for c in card["commands"]:
                if isinstance(c, dict) and isinstance(c.get("cmd"), str):
                    why = command_problem(str(card.get("lang", "text")), c["cmd"])
                    if why:
                        first = c["cmd"].strip().splitlines()[0] if c["cmd"].strip() else ""
                        at = f.find(re.escape(first[:40]), line) if first else line
                        problems.append(Problem(str(f.path), at, f"card {card.get('id', '?')}: {why}"))
    return sorted(problems, key=lambda p: (p.file, p.line))


# ----------------------------------------------------------------------------------------------
# What is loaded
# ----------------------------------------------------------------------------------------------


def summary() -> dict:
    """What is loaded and from where: the bundled counts, then each pack (lowest precedence first)
    with its counts, the ids it replaces from the layers below it, and why it was skipped."""
    bundled = paths.package_dir() / "data"
    layers: dict[str, dict[str, str]] = {"skills": {}, "roles": {}, "cards": {}}
    for kind in ("skills", "roles"):
        try:
            ids = tomllib.loads((bundled / f"{kind}.toml").read_text(encoding="utf-8")).get(kind, {})
        except (OSError, ValueError):
            ids = {}
        layers[kind] = dict.fromkeys(ids, "bundled")
    for path in sorted((bundled / "cards").glob("*.toml")):
        for card in tomllib.loads(path.read_text(encoding="utf-8")).get("cards", []):
            layers["cards"][card.get("id", "?")] = "bundled"
    out: dict[str, Any] = {
        "bundled": {"path": str(bundled), **{k: len(v) for k, v in layers.items()}},
        "user_skills": None,
        "packs": [],
    }
    user = paths.user_skills_path()
    if user.is_file():
        try:
            ids = tomllib.loads(user.read_text(encoding="utf-8")).get("skills", {})
        except (OSError, ValueError):
            ids = {}
        out["user_skills"] = {"path": str(user), "skills": len(ids), "overrides": sorted(i for i in ids if i in layers["skills"])}
        layers["skills"].update(dict.fromkeys(ids, str(user)))
    for entry in loaded()["packs"]:
        ids = {"skills": list(entry["skills"]), "roles": list(entry["roles"]), "cards": [c["id"] for c in entry["cards"]]}
        overrides = [f"{kind[:-1]} {i} ({layers[kind][i]})" for kind in ids for i in ids[kind] if i in layers[kind]]
        for kind in ids:
            layers[kind].update(dict.fromkeys(ids[kind], entry["path"]))
        out["packs"].append(
            {
                "path": entry["path"],
                "origin": entry["origin"],
                **{k: len(v) for k, v in ids.items()},
                "overrides": overrides,
                "skipped": [f"{f}:{line}: {msg}" for f, line, msg in entry["problems"]],
            }
        )
    out["total"] = {k: len(v) for k, v in layers.items()}
    return out
