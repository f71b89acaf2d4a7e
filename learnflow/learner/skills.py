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
import threading
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


# Points per hit. A tool, error or file name all but decides the skill; a shared
# word only tips a close call. The question says what the learner is after, so it
# counts twice as much as piped context (which is often a long log with incidental words).
STRONG, KEYWORD, WEAK, PATTERN = 3.0, 1.0, 0.3, 3.0
QUESTION, CONTEXT = 2.0, 1.0
AI_SUBJECT = 0.5
# Bump when what _build makes from the same TOML changes (the cache is keyed on it).
_CACHE_FORMAT = 1


@dataclass
class _Index:
    terms: dict[str, list[list]]  # "word word" -> [[skill, points], ...]
    starts: dict[str, int]  # first word of a term -> words in the longest term starting with it
    patterns: list[list[str]]  # [pattern, gate, skill]: searched only when the text contains the gate
    order: dict[str, list]  # skill -> [not AI-collaboration, taxonomy position]: the last tie-breaks
    ai: frozenset[str]  # the AI-collaboration skills
    compiled: dict[str, tuple[re.Pattern, re.Pattern | None]] = field(default_factory=dict)


_built: tuple[dict[str, Skill], _Index] | None = None
_built_key: list | None = None
_lock = threading.Lock()


@lru_cache(maxsize=1)
def taxonomy() -> dict[str, Skill]:
    """Bundled skills, overlaid with the user's own skills.toml, then the content packs (learner/content.py).

    The parsed files and the tagging index built from them are cached as JSON, keyed on
    the files' sizes and times: the term lists make the TOML ~40 KB, and parsing it and
    building the index cost 10-30 ms of every `ask` where reading the cache costs ~1 ms.
    """
    global _built, _built_key
    from learnflow.filecache import stamp
    from learnflow.learner import content

    files = [paths.package_dir() / "data" / "skills.toml", paths.user_skills_path(), Path(__file__), *content.sources()]

    key = [stamp(f) for f in files]
    # The model-tagging thread of an ask may call this at the same time as the main thread: one
    # builds, the other gets the very same objects, so `_index` always matches `taxonomy()`.
    with _lock:
        if _built is not None and _built_key == key:
            return _built[0]
        _built = _load(files)
        _built_key = key
        return _built[0]


def _load(files: list[Path]) -> tuple[dict[str, Skill], _Index]:
    from learnflow.filecache import cached

    def build() -> dict:
        from learnflow.learner import content

        raw = _read(files[0])
        raw.update(_read(files[1]))
        for pack in content.pack_skills():
            raw.update(pack)
        return {"skills": raw, "index": _build(_skills(raw))}

    from learnflow.learner import content

    content.loaded()  # a skipped pack is warned about even when the skills come from the cache
    value = cached("skills", files, build, version=_CACHE_FORMAT)
    out, data = _skills(value["skills"]), value["index"]
    return out, _Index(data["terms"], data["starts"], data["patterns"], data["order"], frozenset(data["ai"]))


def _skills(raw: dict) -> dict[str, Skill]:
    return {
        sid: Skill(
            id=sid,
            name=entry.get("name", sid),
            group=entry.get("group", "technical"),
            keywords=list(entry.get("keywords", [])),
            guiding=list(entry.get("guiding", [])),
            strong=list(entry.get("strong", [])),
            weak=list(entry.get("weak", [])),
            patterns=list(entry.get("patterns", [])),
        )
        for sid, entry in raw.items()
    }


def _index() -> _Index:
    """The tagging index of the current taxonomy (made with it, see `taxonomy`)."""
    skills = taxonomy()
    if _built is None or _built[0] is not skills:  # pragma: no cover - taxonomy() always sets it
        raise RuntimeError("skill index out of step with the taxonomy")
    return _built[1]


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


def _gate(pattern: str) -> str:
    """The longest plain text that every match of `pattern` contains ("" when there is none).

    A pattern is compiled and run only on text that contains its gate, so most of them cost
    nothing for most questions (compiling them all costs more than tagging does). Reads runs of
    literal characters outside groups and classes; one that a quantifier makes optional ends a run.
    """
    runs: list[str] = []
    run: list[str] = []
    depth, i, n = 0, 0, len(pattern)
    while i < n:
        c, lit, j = pattern[i], None, i + 1
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            lit = {"n": "\n", "t": "\t"}.get(e) or (None if e.isalnum() else e)  # \d, \b, \w... are not text
            j = i + 2
        elif c == "[":
            j = i + 1 + (pattern[i + 1 : i + 2] == "^")
            j += pattern[j : j + 1] == "]"
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            j += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return ""  # an alternation at the top: no text is common to all matches
        elif c not in ".^$|*+?{":
            lit = c
        optional = repeated = False
        if j < n and pattern[j] in "*?+{" and c != "(":
            q = pattern[j]
            if q == "{":
                k = pattern.find("}", j)
                low = pattern[j + 1 : k].split(",")[0] if k > j else ""
                optional, j = not low.isdigit() or int(low) == 0, (k + 1 if k > j else j + 1)
            else:
                optional, j = q in "*?", j + 1
            repeated = True
            if j < n and pattern[j] == "?":  # lazy quantifier
                j += 1
        if depth == 0 and lit is not None and not optional and c != ")":
            run.append(lit)
        if repeated or lit is None or depth > 0 or optional:
            runs.append("".join(run))
            run = []
        i = j
    runs.append("".join(run))
    return max(runs, key=len)


def _build(skills: dict[str, Skill]) -> dict:
    """Every skill's terms in one dict, so tagging costs a few lookups per word, not one scan per keyword."""
    terms: dict[str, dict[str, float]] = {}
    patterns = []
    for sid, skill in skills.items():
        for points, listed in ((WEAK, skill.weak), (KEYWORD, skill.keywords), (STRONG, skill.strong)):
            for term in listed:
                key = " ".join(_words(term))
                if key:  # a term listed twice for a skill keeps its highest weight
                    per = terms.setdefault(key, {})
                    per[sid] = max(points, per.get(sid, 0.0))
        for pattern in skill.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"Skill {sid!r} has an invalid pattern {pattern!r}: {exc}.") from None
            patterns.append([pattern, _gate(pattern), sid])
    # A phrase claims its words, so it must weigh at least what its skill gives any of them
    # ("inside the container" is still a strong containers hit).
    starts: dict[str, int] = {}
    for key, per in terms.items():
        words = key.split(" ")
        starts[words[0]] = max(starts.get(words[0], 0), len(words))
        if len(words) > 1:
            spans = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)} - {key}
            for sub in spans & terms.keys():
                for sid, p in terms[sub].items():
                    if sid in per:
                        per[sid] = max(per[sid], p)
    return {
        "terms": {key: [[sid, p] for sid, p in per.items()] for key, per in terms.items()},
        "starts": starts,
        "patterns": patterns,
        # Ties go to the question's own points, then to AI-collaboration skills (a question that
        # names an AI tool and a technology is about working with the AI), then to taxonomy order.
        "order": {sid: [skill.group != AI_GROUP, i] for i, (sid, skill) in enumerate(skills.items())},
        "ai": [sid for sid, skill in skills.items() if skill.group == AI_GROUP],
    }


def _search(index: _Index, pattern: str, text: str) -> bool:
    if pattern not in index.compiled:
        # A leading \b stops re from scanning for the literal that follows (~10x slower on long
        # context); without it the pattern matches a superset, a sound quick "no" first.
        quick = re.compile(pattern[2:]) if pattern.startswith("\\b") else None
        index.compiled[pattern] = (re.compile(pattern), quick)
    full, quick = index.compiled[pattern]
    return (quick is None or len(text) < 500 or quick.search(text) is not None) and full.search(text) is not None


def _hits(text: str, index: _Index, pattern_text: str | None = None) -> tuple[dict[str, float], set[str]]:
    """Points per skill in `text`, and the skills hit by more than weak words.

    The longest listed phrase at each position wins, so "memory leak" is one
    performance hit rather than also a security "leak"; each term counts once.
    Patterns search `pattern_text` (default: all of `text`).
    """
    words = _words(text)
    found: set[str] = set()
    i, n = 0, len(words)
    while i < n:
        size = min(index.starts.get(words[i], 0), n - i)
        while size:
            key = " ".join(words[i : i + size])
            if key in index.terms:
                found.add(key)
                break
            size -= 1
        i += max(size, 1)
    points: dict[str, float] = {}
    decided: set[str] = set()
    for key in found:
        for sid, p in index.terms[key]:
            points[sid] = points.get(sid, 0.0) + p
            if p > WEAK:
                decided.add(sid)
    lowered = (text if pattern_text is None else pattern_text).lower()
    for pattern, gate, sid in index.patterns:
        if (not gate or gate in lowered) and _search(index, pattern, lowered):
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
        # Only the head and tail of big context matter for tagging, and this keeps it fast;
        # patterns (error lines, commands) look at the first and last 2000 characters.
        text = context[:4000] + "\n" + context[-4000:] if len(context) > 8000 else context
        c_points, c_decided = _hits(text, index, text[:2000] + "\n" + text[-2000:] if len(text) > 4000 else text)
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
