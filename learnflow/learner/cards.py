"""Skill cards: the bundled content about each skill (a concept, commands, pitfalls, a check).

The offline coach answers from them, probes ask their check questions, and `gaps`
suggests one as a next step. Bundled TOML in `learnflow/data/cards/*.toml`, then the content
packs' cards (learner/content.py): a pack card with a bundled card's id replaces it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache

from learnflow import paths


def _card(raw: dict) -> Card:
    fields = {k: v for k, v in raw.items() if k in Card.__dataclass_fields__}
    fields["concept"] = fields.get("concept", "").strip()
    return Card(**fields)


@dataclass
class Card:
    id: str
    skill: str
    title: str
    concept: str
    lang: str = "text"
    keywords: list[str] = field(default_factory=list)
    commands: list[dict] = field(default_factory=list)
    pitfalls: list[str] = field(default_factory=list)
    check_question: str = ""
    check_answer: str = ""
    check_keywords: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)


def cards_dir():
    return paths.package_dir() / "data" / "cards"


def cards_key() -> str:
    """Changes whenever a card file (bundled or a pack's) is added, removed or edited: the key of caches built from cards."""
    from learnflow.filecache import stamp
    from learnflow.learner import content

    files = list(cards_dir().glob("*.toml"))
    key = f"{len(files)}:{max((f.stat().st_mtime_ns for f in files), default=0)}"
    extra = content.sources()
    if extra:
        import zlib

        key += ":" + f"{zlib.crc32(repr([stamp(f) for f in extra]).encode()):08x}"
    return key


def cache_path(name: str):
    """A cache file for this installed copy of the cards: two copies sharing a home (an upgrade, a
    second virtualenv, an A/B bench) would otherwise rewrite each other's cache on every run."""
    import zlib  # not hashlib: importing it loads OpenSSL, ~5 ms of every `ask`

    return paths.cache_dir() / f"{name}-{zlib.crc32(str(cards_dir()).encode()):08x}.json"


@lru_cache(maxsize=1)
def load_cards() -> tuple[Card, ...]:
    """All cards, bundled then the packs'. Parsed TOML is cached as JSON (tomllib takes ~60 ms for them all)."""
    import json

    from learnflow.learner import content

    key = cards_key()
    cache = cache_path("cards")
    files = sorted(cards_dir().glob("*.toml"))
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("key") == key:
            return tuple(Card(**c) for c in data["cards"])
    except (OSError, ValueError, TypeError):
        pass
    out = []
    for path in files:
        for raw in tomllib.loads(path.read_text(encoding="utf-8")).get("cards", []):
            out.append(_card(raw))
    at = {c.id: i for i, c in enumerate(out)}
    for pack in content.pack_cards():
        for raw in pack:
            card = _card(raw)
            if card.id in at:
                out[at[card.id]] = card
            else:
                at[card.id] = len(out)
                out.append(card)
    try:
        from dataclasses import asdict

        paths.ensure_private_dir(cache.parent)
        cache.write_text(json.dumps({"key": key, "cards": [asdict(c) for c in out]}), encoding="utf-8")
    except OSError:
        pass  # a read-only cache folder only costs speed
    return tuple(out)


def cards_for(skill: str) -> list:
    """The skill's cards. Reads cards/<skill>.toml alone when it has them (parsing all ~26 files
    costs ~0.1 s of a report that should take less than 0.5 s), else every card file. With content
    packs loaded any card may be replaced or added, so it reads them all (from their cache)."""
    from learnflow.learner import content

    path = cards_dir() / f"{skill}.toml"
    if path.is_file() and not content.packs():
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("cards", [])
        cards = [_card(c) for c in raw]
        cards = [c for c in cards if c.skill == skill]
        if cards:
            return cards
    return [c for c in load_cards() if c.skill == skill]
