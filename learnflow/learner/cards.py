"""Skill cards: the bundled content about each skill (a concept, commands, pitfalls, a check).

The offline coach answers from them, probes ask their check questions, and `gaps`
suggests one as a next step. Bundled TOML in `learnflow/data/cards/*.toml`, then the content
packs' cards (learner/content.py): a pack card with a bundled card's id replaces it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


def card_sources() -> list[Path]:
    """Every file and folder the cards are read from (bundled and the packs'): the sources of caches
    built from cards. A folder is listed because adding or removing a file changes its time."""
    from learnflow.learner import content

    return [cards_dir(), *sorted(cards_dir().glob("*.toml")), *content.sources()]


def cache_name(name: str) -> str:
    """A cache name for this installed copy of the cards: two copies sharing a home (an upgrade, a
    second virtualenv, an A/B bench) would otherwise rewrite each other's cache on every run."""
    import zlib  # not hashlib: importing it loads OpenSSL, ~5 ms of every `ask`

    return f"{name}-{zlib.crc32(str(cards_dir()).encode()):08x}"


@lru_cache(maxsize=1)
def load_cards() -> tuple[Card, ...]:
    """All cards, bundled then the packs' (a pack card with a bundled card's id replaces it).
    Parsed TOML is cached as JSON through learnflow.filecache (tomllib takes ~60 ms for them all)."""
    from dataclasses import asdict

    from learnflow.filecache import cached
    from learnflow.learner import content

    def build() -> list[dict]:
        out = [
            _card(raw)
            for path in sorted(cards_dir().glob("*.toml"))
            for raw in tomllib.loads(path.read_text(encoding="utf-8")).get("cards", [])
        ]
        at = {c.id: i for i, c in enumerate(out)}
        for pack in content.pack_cards():
            for raw in pack:
                card = _card(raw)
                if card.id in at:
                    out[at[card.id]] = card
                else:
                    at[card.id] = len(out)
                    out.append(card)
        return [asdict(c) for c in out]

    return tuple(Card(**c) for c in cached(cache_name("cards"), card_sources(), build))


def cards_for(skill: str) -> list:
    """The skill's cards. From the cards' JSON cache when another command has built it (~5 ms for all
    of them, where parsing one skill's TOML takes ~6 ms and `gaps` asks for three); without a cache,
    cards/<skill>.toml alone when it has them (building the cache parses all ~26 files: ~0.1 s of a
    report that should take less than 0.3 s), else every card file. With content packs loaded any
    card may be replaced or added, so it reads them all (from their cache)."""
    from learnflow.learner import content

    path = cards_dir() / f"{skill}.toml"
    warm = (paths.cache_dir() / f"{cache_name('cards')}.json").is_file()
    if not warm and path.is_file() and not content.packs():
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("cards", [])
        cards = [_card(c) for c in raw]
        cards = [c for c in cards if c.skill == skill]
        if cards:
            return cards
    return [c for c in load_cards() if c.skill == skill]
