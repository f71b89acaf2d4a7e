"""Coding-agent sessions as evidence: `learnflow import --from claude|codex|gemini|aider|llm [PATH]`.

One module per agent reads its format (`claude`, `codex`, `gemini`, `aider`, `llm`); `base`
stores what they find the same way for all (see its docstring). Every source is opt-in: nothing
is read until the person runs the import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from learnflow.errors import BadInput

NAMES = ("claude", "codex", "gemini", "aider", "llm")
WHAT = {
    "claude": "Claude Code sessions",
    "codex": "Codex CLI sessions",
    "gemini": "Gemini CLI sessions",
    "aider": "aider chat history",
    "llm": "llm log database",
}


def default_path(source: str) -> Path:
    if source == "llm":
        from learnflow.sources.llm import default_path as llm_path

        return llm_path()
    return _module(source).DEFAULT.expanduser()


def _module(source: str):
    import importlib

    if source not in NAMES:
        raise BadInput(f"Unknown source {source!r}.", hint=f"Choose one of: {', '.join(NAMES)}.")
    return importlib.import_module(f"learnflow.sources.{source}")


def import_from(store, source: str, path: str | Path | None = None, *, dry_run: bool = False, progress: Callable | None = None):
    """Import one agent's sessions into the log (or, dry, count what would be); returns a base.Report."""
    from learnflow.sources import base

    mod = _module(source)
    where = Path(path).expanduser() if path else default_path(source)
    if not where.exists():
        raise base.missing(source, where, WHAT[source])
    importer = base.Importer(store, source, dry_run=dry_run, path=str(where))
    if source == "llm":
        if where.is_dir():
            where = where / "logs.db"
            if not where.exists():
                raise base.missing(source, where, WHAT[source])
        return importer.run_llm(where, progress=progress)
    files = base.files_under(where, mod.PATTERNS)
    if source == "gemini":
        whole = [p for p in files if p.suffix == ".json"]
        importer.run_whole(whole, mod.whole_file, progress=progress)
        files = [p for p in files if p.suffix != ".json"]
    return importer.run_files(files, mod.Reader, progress=progress)
