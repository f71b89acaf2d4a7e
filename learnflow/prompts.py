"""Prompt files: bundled Markdown under `prompts/`, overridable per user.

A file of the same name in `<config folder>/prompts/` wins. Templates use
`$name` placeholders (string.Template), so Markdown braces need no escaping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from learnflow import paths
from learnflow.errors import ConfigError


@dataclass
class PromptFile:
    name: str
    path: Path
    source: str  # "user" or "bundled"


def bundled_names() -> list[str]:
    return sorted(p.stem for p in paths.bundled_prompts_dir().glob("*.md"))


def find(name: str) -> PromptFile:
    user = paths.user_prompts_dir() / f"{name}.md"
    if user.is_file():
        return PromptFile(name, user, "user")
    bundled = paths.bundled_prompts_dir() / f"{name}.md"
    if bundled.is_file():
        return PromptFile(name, bundled, "bundled")
    if name not in bundled_names():
        from learnflow.errors import NotFound

        raise NotFound(f"No prompt named {name!r}.", hint="`learnflow prompts` lists them.")
    raise ConfigError(
        f"Prompt {name!r} not found in {paths.user_prompts_dir()} or {paths.bundled_prompts_dir()}.",
        hint="Reinstall learnflow, or copy the bundled prompt into your prompts folder.",
    )


def list_prompts() -> list[PromptFile]:
    return [find(n) for n in bundled_names()]


def text(name: str) -> str:
    pf = find(name)
    try:
        return pf.path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read prompt file {pf.path}: {exc}.") from None


def render(name: str, **values: object) -> str:
    """Fill `$placeholders`; unknown ones stay as they are (a user's own file may add text)."""
    return Template(text(name)).safe_substitute({k: str(v) for k, v in values.items()})
