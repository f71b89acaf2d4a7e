"""The skill taxonomy and skill tagging.

Offline tagging is weighted term and pattern scoring over the bundled taxonomy
(strong names, keywords, weak shared words, regular expressions; see the header
of data/skills.toml): deterministic, well under a millisecond per question. With a model connected the
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
AI_GROUP = "ai-collaboration"


@dataclass
class Skill:
    id: str
    name: str
    group: str
    keywords: list[str] = field(default_factory=list)
    guiding: list[str] = field(default_factory=list)
    strong: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)


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
            keywords=list(entry.get("keywords", [])),
            guiding=list(entry.get("guiding", [])),
            strong=list(entry.get("strong", [])),
            weak=list(entry.get("weak", [])),
            patterns=list(entry.get("patterns", [])),
        )
    return out


# Points per hit. A tool, error or file name all but decides the skill; a shared
# word only tips a close call. The question says what the learner is after, so it
# counts twice as much as piped context (which is often a long log with incidental words).
STRONG, KEYWORD, WEAK, PATTERN = 3.0, 1.0, 0.3, 3.0
QUESTION, CONTEXT = 2.0, 1.0
AI_SUBJECT = 0.5

_TOKEN = re.compile(r"[\w.+#/-]+")


def _words(text: str) -> list[str]:
    """Lower-cased words, trailing dots and a final plural "s" dropped (terms get the same treatment)."""
    out = []
    for w in _TOKEN.findall(text.lower()):
        w = w.rstrip(".")
        if w.startswith(".."):
            w = w.lstrip(".")
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        if w:
            out.append(w)
    return out


@dataclass
class _Index:
    terms: dict[str, list[tuple[str, float]]]  # "word word" -> [(skill, points)]
    longest: int  # words in the longest term
    patterns: list[tuple[re.Pattern, str]]
    order: dict[str, tuple[bool, int]]  # the last tie-breaks
    ai: frozenset[str]  # the AI-collaboration skills


@lru_cache(maxsize=1)
def _index() -> _Index:
    """Every skill's terms in one dict, so tagging costs a few lookups per word, not one scan per keyword."""
    terms: dict[str, dict[str, float]] = {}
    patterns = []
    for sid, skill in taxonomy().items():
        for points, listed in ((WEAK, skill.weak), (KEYWORD, skill.keywords), (STRONG, skill.strong)):
            for term in listed:
                key = " ".join(_words(term))
                if key:  # a term listed twice for a skill keeps its highest weight
                    terms.setdefault(key, {})[sid] = max(points, terms.get(key, {}).get(sid, 0.0))
        for pattern in skill.patterns:
            try:
                patterns.append((re.compile(pattern), sid))
            except re.error as exc:
                raise ConfigError(f"Skill {sid!r} has an invalid pattern {pattern!r}: {exc}.") from None
    # A phrase claims its words, so it must weigh at least what its skill gives any of them
    # ("inside the container" is still a strong containers hit).
    for key, per in terms.items():
        words = key.split(" ")
        spans = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)} - {key}
        for sid in per:
            per[sid] = max([per[sid]] + [terms[sub][sid] for sub in spans if sid in terms.get(sub, {})])
    longest = max((key.count(" ") + 1 for key in terms), default=1)
    table = {key: list(per.items()) for key, per in terms.items()}
    # Ties go to the question's own points, then to AI-collaboration skills (a question that
    # names an AI tool and a technology is about working with the AI), then to taxonomy order.
    skills = taxonomy()
    order = {sid: (skills[sid].group != AI_GROUP, i) for i, sid in enumerate(skills)}
    return _Index(table, longest, patterns, order, frozenset(sid for sid, sk in skills.items() if sk.group == AI_GROUP))


def _hits(text: str, index: _Index) -> tuple[dict[str, float], set[str]]:
    """Points per skill in `text`, and the skills hit by more than weak words.

    The longest listed phrase at each position wins, so "memory leak" is one
    performance hit rather than also a security "leak"; each term counts once.
    """
    words = _words(text)
    found: set[str] = set()
    i, n = 0, len(words)
    while i < n:
        for size in range(min(index.longest, n - i), 0, -1):
            key = " ".join(words[i : i + size])
            if key in index.terms:
                found.add(key)
                i += size
                break
        else:
            i += 1
    points: dict[str, float] = {}
    decided: set[str] = set()
    for key in found:
        for sid, p in index.terms[key]:
            points[sid] = points.get(sid, 0.0) + p
            if p > WEAK:
                decided.add(sid)
    lowered = text.lower()
    for pattern, sid in index.patterns:
        if pattern.search(lowered):
            points[sid] = points.get(sid, 0.0) + PATTERN
            decided.add(sid)
    return points, decided


def tag_offline(question: str, context: str = "", *, limit: int = 3) -> list[SkillTag]:
    """1-3 skills by weighted term and pattern hits; the question counts double the context.

    Only weak (shared) words and nothing else: general. Ties go to the skill with
    more points from the question, then to an AI-collaboration skill, then to the
    taxonomy's order.
    """
    index = _index()
    q_points, decided = _hits(question, index)
    if any(q_points.get(sid, 0.0) >= STRONG for sid in index.ai):
        # A question that names an AI tool is about working with it; the technology it
        # names is the subject matter ("an agent to migrate these tests"), so it counts half.
        q_points = {sid: p if sid in index.ai else p * AI_SUBJECT for sid, p in q_points.items()}
    scores = {sid: QUESTION * p for sid, p in q_points.items()}
    if context:
        # Only the head and tail of big context matter for tagging, and this keeps it fast.
        c_points, c_decided = _hits(context[:4000] + "\n" + context[-4000:] if len(context) > 8000 else context, index)
        decided |= c_decided
        for sid, p in c_points.items():
            scores[sid] = scores.get(sid, 0.0) + CONTEXT * p
    if not decided:
        return [SkillTag(FALLBACK_SKILL, 1.0, "offline")]
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], -q_points.get(kv[0], 0.0), index.order[kv[0]]))
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
