"""The skill taxonomy and skill tagging.

Offline tagging is keyword scoring over the bundled taxonomy: deterministic,
instant, and good enough to pick a teaching level. With a model connected the
model picks from the same fixed label set (see `tagging_messages`), and we fall
back to the offline tags whenever its reply is not valid JSON over known labels.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache

from learnflow import paths
from learnflow.db.store import SkillTag
from learnflow.errors import ConfigError

FALLBACK_SKILL = "general"


@dataclass
class Skill:
    id: str
    name: str
    group: str
    keywords: list[str] = field(default_factory=list)
    guiding: list[str] = field(default_factory=list)


def _read(path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("skills", {})
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Skill file {path} is not valid TOML: {exc}.") from None


@lru_cache(maxsize=1)
def taxonomy() -> dict[str, Skill]:
    """Bundled skills, overlaid with the user's own skills.toml."""
    raw = _read(paths.package_dir() / "data" / "skills.toml")
    raw.update(_read(paths.user_skills_path()))
    out = {}
    for sid, entry in raw.items():
        out[sid] = Skill(
            id=sid,
            name=entry.get("name", sid),
            group=entry.get("group", "technical"),
            keywords=[_normalise(k).strip() for k in entry.get("keywords", [])],
            guiding=list(entry.get("guiding", [])),
        )
    return out


_TOKEN = re.compile(r"[\w.+#/-]+")


def _normalise(text: str) -> str:
    """Words separated by single spaces, padded: `" kw "` in it is a whole-word match.

    Substring tests on this form are much faster than one regex per keyword
    (hundreds of keywords, on every ask).
    """
    return " " + " ".join(w.strip(".") for w in _TOKEN.findall(text.lower())) + " "


def _score(norm: str, skill: Skill) -> float:
    return float(sum(1 for k in skill.keywords if f" {k} " in norm))


def tag_offline(question: str, context: str = "", *, limit: int = 3) -> list[SkillTag]:
    """1-3 skills by keyword hits; the question counts double the context."""
    q = _normalise(question)
    # Only the head and tail of big context matter for tagging, and this keeps it fast.
    c = _normalise(context[:4000] + "\n" + context[-4000:]) if context else ""
    scores = {}
    for sid, skill in taxonomy().items():
        s = 2 * _score(q, skill) + (_score(c, skill) if c else 0.0)
        if s > 0:
            scores[sid] = s
    if not scores:
        return [SkillTag(FALLBACK_SKILL, 1.0, "offline")]
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    top = ranked[0][1]
    # Keep skills with at least a third of the best score: drops incidental hits.
    kept = [(sid, s) for sid, s in ranked if s >= top / 3][:limit]
    return [SkillTag(sid, round(s / top, 3), "offline") for sid, s in kept]


def tagging_messages(question: str, context_summary: str) -> list[dict]:
    """Ask a model to choose 1-3 labels from the fixed set, as JSON."""
    from learnflow.prompts import render

    labels = "\n".join(f"- {s.id}: {s.name}" for s in taxonomy().values())
    system = render("tagging", labels=labels)
    user = question if not context_summary else f"{question}\n\n(Context attached: {context_summary})"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


_JSON_BLOCK = re.compile(r"\{.*\}|\[.*\]", re.S)


def parse_model_tags(text: str) -> list[SkillTag] | None:
    """Read the model's JSON; None when it is not usable (the caller falls back)."""
    match = _JSON_BLOCK.search(text or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    items = data.get("skills") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    known = taxonomy()
    tags: list[SkillTag] = []
    for item in items:
        sid: object
        if isinstance(item, str):
            sid, rel = item, 1.0
        elif isinstance(item, dict):
            sid, rel = item.get("skill") or item.get("id"), item.get("relevance", 1.0)
        else:
            continue
        if isinstance(sid, str) and sid in known and sid not in {t.skill for t in tags}:
            try:
                rel = min(1.0, max(0.0, float(rel)))
            except (TypeError, ValueError):
                rel = 1.0
            tags.append(SkillTag(sid, rel, "model"))
    return tags[:3] or None
