"""The review deck taken along: `learnflow cards export` (Anki or Markdown) and `cards import` (Markdown).

The deck is every review card with a reference answer that is not retired: bundled guides' questions
already met, the answers' check questions once keyed, generated and imported cards. A card without a
reference answer yet (a model answer's question not reviewed since) is left out and counted.

The Markdown format (docs/content.md, "Cards as Markdown") reads back exactly what it wrote:

    <!-- learnflow cards: ... -->        optional comments before the first skill
    # gdpr                               a skill id: the cards below are on it
    ## What must you erase besides ...?  a card: its question, on one line
                                         the reference answer: every line up to the next heading
    Keywords: every copy, anonymise      optional, the card's last line: comma-separated

An answer line that starts with "#" or "Keywords:" is written with a backslash before it, and read
without. Importing validates the whole file first (every problem at file:line, nothing stored when
there is one), then stores the new cards in one transaction as generated cards with origin "import",
due now. A card whose skill and question are already in the log (in review, generated or retired)
or in a guide is skipped, so importing the same file twice adds nothing.

Anki: genanki (imported only here) writes an .apkg with one deck per skill (`learnflow::<skill>`),
a note type with the fields Question, Answer, Keywords and Skill, and note ids derived from the skill
and question, so exporting again and importing into Anki updates the notes instead of doubling them.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from learnflow.db import reviews
from learnflow.db.store import Store
from learnflow.errors import BadInput
from learnflow.files import write_user_file
from learnflow.learner.content import Problem  # a problem at file:line, as `content validate` reports them

FORMATS = ("anki", "markdown")
HEADER = "<!-- learnflow cards: `learnflow cards import FILE` reads this file back; the format is in docs/content.md -->"
_KEYWORDS = re.compile(r"^Keywords:[ \t]*(.*)$")
_NEEDS_ESCAPE = re.compile(r"^\\*(#|Keywords:)")  # written with one more backslash in front
_ESCAPED = re.compile(r"^\\\\*(#|Keywords:)")  # read with one backslash less
# Fixed ids: a re-export imported into Anki updates the same note type and decks.
ANKI_MODEL_ID = 1_607_392_319
ANKI_DECK_BASE = 2_059_400_110


@dataclass
class DeckCard:
    skill: str
    question: str
    answer: str
    keywords: list[str]
    line: int = 0  # where it starts in an imported file


@dataclass
class Exported:
    format: str
    path: str | None  # None: written to stdout
    cards: int
    skills: list[str]
    without_answer: int  # review cards left out: no reference answer yet
    text: str = ""  # the Markdown, when it goes to stdout


@dataclass
class Imported:
    path: str
    added: list[int] = field(default_factory=list)  # generated card ids
    skipped: int = 0  # already in the log or in a guide
    warnings: list[str] = field(default_factory=list)  # file:line: what is odd about a new card's keywords (kept anyway)


class DeckError(BadInput):
    """A Markdown deck that does not validate: every problem, with its file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(map(str, problems[:20])) + (f"\n… and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"Nothing was imported: {len(problems)} problem(s).\n{lines}", hint="docs/content.md describes the format.")


# -- export -----------------------------------------------------------------------------------


def deck_cards(store: Store, skill: str | None = None) -> tuple[list[DeckCard], int]:
    """The deck (one card per skill and question) and how many review cards were left out without an answer."""
    rows = reviews.deck(store, skill)
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        question = " ".join(r["question"].split())
        key = (r["skill"] or "general", question)
        if key not in seen:
            seen.add(key)
            out.append(DeckCard(key[0], question, r["answer"].strip(), json.loads(r["check_keywords"] or "[]")))
    return out, reviews.count_without_answer(store, skill)


def to_markdown(cards: list[DeckCard]) -> str:
    lines = [HEADER]
    current = None
    for c in sorted(cards, key=lambda c: c.skill):  # stable: the deck's order within a skill
        if c.skill != current:
            current = c.skill
            lines += ["", f"# {c.skill}"]
        lines += ["", f"## {c.question}", ""]
        lines += [f"\\{line}" if _NEEDS_ESCAPE.match(line) else line for line in c.answer.splitlines()]
        if c.keywords:
            lines += ["", f"Keywords: {', '.join(c.keywords)}"]
    return "\n".join(lines) + "\n"


def export(store: Store, fmt: str, *, output: str | None = None, skill: str | None = None) -> Exported:
    """Write the deck as Markdown (to `output`, else returned in `text` for stdout) or as an Anki package."""
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt!r} is not a format I can write.", hint="Use --format anki or --format markdown.")
    cards, left_out = deck_cards(store, skill)
    skills = sorted({c.skill for c in cards})
    if fmt == "markdown":
        text = to_markdown(cards)
        if output is None:
            return Exported(fmt, None, len(cards), skills, left_out, text)
        write_user_file(output, text, example="deck.md")
        return Exported(fmt, output, len(cards), skills, left_out)
    path = output or "learnflow-cards.apkg"
    write_user_file(path, _anki_package(cards), example="learnflow-cards.apkg")
    return Exported(fmt, path, len(cards), skills, left_out)


def _field(text: str) -> str:
    """Anki fields are HTML: the text as it is, line breaks kept."""
    return html.escape(text).replace("\n", "<br>")


def _anki_package(cards: list[DeckCard]) -> bytes:
    """The .apkg (a zip), built in memory: written like every export (0600, whole or not at all)."""
    import io
    import tempfile
    import zlib

    import genanki

    model = genanki.Model(
        ANKI_MODEL_ID,
        "learnflow check",
        fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Keywords"}, {"name": "Skill"}],
        templates=[{
            "name": "Check",
            "qfmt": '<div class="skill">{{Skill}}</div>{{Question}}',
            "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}{{#Keywords}}<div class="keywords">Key words: {{Keywords}}</div>{{/Keywords}}',
        }],
        css=".card { font-family: sans-serif; font-size: 18px; } .skill, .keywords { color: #777; font-size: 14px; }",
    )  # fmt: skip
    decks: dict[str, genanki.Deck] = {}
    for c in cards:
        if c.skill not in decks:
            decks[c.skill] = genanki.Deck(ANKI_DECK_BASE + zlib.crc32(c.skill.encode()) % 1_000_000, f"learnflow::{c.skill}")
        tag = re.sub(r"[^\w-]", "_", c.skill)  # Anki tags hold no spaces
        note = genanki.Note(
            model=model, fields=[_field(c.question), _field(c.answer), _field(", ".join(c.keywords)), _field(c.skill)],
            tags=["learnflow", tag], guid=genanki.guid_for("learnflow", c.skill, c.question),
        )  # fmt: skip
        decks[c.skill].add_note(note)
    package = io.BytesIO()
    # genanki builds the collection in a tempfile.mkstemp() file it never deletes: the learner's cards would be
    # left in /tmp after every export. Point tempfile at a folder of our own for the call, removed afterwards.
    with tempfile.TemporaryDirectory(prefix="learnflow-anki-") as scratch:
        default, tempfile.tempdir = tempfile.tempdir, scratch
        try:
            genanki.Package(list(decks.values()) or [genanki.Deck(ANKI_DECK_BASE, "learnflow")]).write_to_file(package)
        finally:
            tempfile.tempdir = default
    return package.getvalue()


# -- import -----------------------------------------------------------------------------------


def parse_markdown(text: str, source: str) -> list[DeckCard]:
    """The cards of a Markdown deck, or DeckError with every problem found (file:line)."""
    from learnflow.learner.skills import taxonomy
    from learnflow.practice.generated import clean_fields

    known = taxonomy()
    problems: list[Problem] = []
    cards: list[DeckCard] = []
    skill: str | None = None
    card: dict | None = None
    in_comment = False

    def close() -> None:
        nonlocal card
        if card is None:
            return
        body, keywords = card["body"], []
        if card["keywords"] is not None:
            keywords = [k.strip() for k in card["keywords"].split(",") if k.strip()]
        answer = "\n".join(line[1:] if _ESCAPED.match(line) else line for line in body).strip()
        try:
            q, a, k = clean_fields(card["question"], answer, keywords)
        except ValueError as exc:
            problems.append(Problem(source, card["line"], f"card {card['question'][:40]!r}: {exc}"))
        else:
            if card["skill"] is not None:
                cards.append(DeckCard(card["skill"], q, a, k, card["line"]))
        card = None

    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if in_comment:
            in_comment = "-->" not in line
            continue
        if skill is None and card is None and not line.startswith("#"):
            # Before the first skill: blank lines and HTML comments only.
            if line.lstrip().startswith("<!--"):
                in_comment = "-->" not in line
            elif line.strip():
                problems.append(Problem(source, n, "text before the first skill: the file starts with a `# <skill id>` line"))
            continue
        if line.startswith("# ") or line == "#":
            close()
            skill = line[1:].strip()
            if skill not in known:
                problems.append(Problem(source, n, f"unknown skill {skill!r}: a skill id of `learnflow content list` or of a pack"))
            continue
        if line.startswith("## ") or line == "##":
            close()
            card = {"skill": skill, "question": line[2:].strip(), "line": n, "body": [], "keywords": None}
            continue
        if card is None:
            if line.strip():
                problems.append(Problem(source, n, "text outside a card: a card starts with a `## <question>` line"))
            continue
        if card["keywords"] is not None:
            if line.strip():
                problems.append(Problem(source, n, "text after the Keywords line, which ends a card (an answer line starting "
                                                   "with Keywords: is written \\Keywords:)"))  # fmt: skip
            continue
        if m := _KEYWORDS.match(line):
            card["keywords"] = m.group(1)
            continue
        card["body"].append(line)
    close()
    seen: dict[tuple[str, str], int] = {}
    for c in cards:
        key = (c.skill, c.question.lower())
        if key in seen:
            problems.append(Problem(source, c.line, f"the same question as line {seen[key]}"))
        seen.setdefault(key, c.line)
    if problems:
        raise DeckError(sorted(problems, key=lambda p: p.line))
    return cards


def import_markdown(store: Store, path: str, *, text: str | None = None, now: datetime | None = None) -> Imported:
    """Validate the whole file, then add its new cards in one transaction (see the module doc)."""
    from learnflow.learner.cards import load_cards
    from learnflow.practice.generated import keyword_warnings, store_cards

    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"Cannot read {path}: {exc.strerror}.") from None
        except UnicodeDecodeError:
            raise BadInput(f"{path} is not UTF-8 text.") from None
    cards = parse_markdown(text, path)
    known = reviews.known_questions(store)
    have = {(s, " ".join(q.split()).lower()) for s, q in known}
    have |= {(c.skill, " ".join(c.check_question.split()).lower()) for c in load_cards() if c.check_question}
    new = [c for c in cards if (c.skill, c.question.lower()) not in have]
    report = Imported(path, skipped=len(cards) - len(new))
    report.warnings = [f"{path}:{c.line}: {w}" for c in new for w in keyword_warnings(c.answer, c.keywords)]
    if new:
        report.added = store_cards(store, [(c.skill, c.question, c.answer, c.keywords) for c in new], origin="import", model=None,
                                   now=now or datetime.now(UTC))  # fmt: skip
    return report
