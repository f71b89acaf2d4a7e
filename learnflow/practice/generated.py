"""Generated cards: check questions for a skill that has no guide, and the learner's say over them.

A skill from a content pack or the user's skills.toml may have no skill card, so `check --skill S`
had nothing to ask and `gaps`' "Measure" step was a dead end. With a model connected, `generate`
asks it (prompt `check-card`) for up to GENERATE_AT_MOST questions, each with a reference answer and
keywords, in one JSON reply. The reply is validated whole before anything is stored: a reply that is
not JSON, or a card without a question, an answer or keywords, is a BackendError and stores nothing.
Each card is kept in `generated_cards` with its own review card, so it is asked, judged and scheduled
(FSRS) like every other check. Markdown imports (practice/deck.py) are stored the same way, with
origin "import".

The learner sees them (`cards list`), edits them (`cards edit`: the review card is asked and judged
by the edited text from then on) and retires them (`cards retire`: never asked again; the checks
already answered on it stay evidence). Offline, `rate_skill` is the other way to say something about
such a skill: a self-rating, the same evidence as the reflection's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from learnflow.db import reflections, reviews
from learnflow.db.store import Store
from learnflow.errors import BackendError, BadInput, NotFound
from learnflow.practice.scheduling import new_state
from learnflow.redact import redact
from learnflow.timespec import iso

GENERATE_AT_MOST = 3  # one model call writes this many at most: `gaps`' Measure step asks for 3
MAX_QUESTION = 500
MAX_ANSWER = 2000
MAX_KEYWORD = 80
MAX_KEYWORDS = 6


@dataclass
class GeneratedCard:
    id: int
    skill: str
    question: str
    answer: str
    keywords: list[str]
    origin: str  # model | import
    model: str | None
    created_at: str
    edited_at: str | None
    retired_at: str | None
    due: str | None
    reps: int
    answered: int  # checks answered on it
    review_card_id: int | None

    @property
    def status(self) -> str:
        return "retired" if self.retired_at else "active"


def _card(row: dict) -> GeneratedCard:
    return GeneratedCard(
        id=row["id"], skill=row["skill"], question=row["question"], answer=row["answer"], keywords=json.loads(row["keywords"] or "[]"),
        origin=row["origin"], model=row["model"], created_at=row["created_at"], edited_at=row["edited_at"],
        retired_at=row["retired_at"], due=row["due"], reps=row["reps"] or 0, answered=row["answered"] or 0,
        review_card_id=row["review_card_id"],
    )  # fmt: skip


# -- the fields of a card, however it arrives ----------------------------------------------


def clean_fields(question: object, answer: object, keywords: object) -> tuple[str, str, list[str]]:
    """A card's question, answer and keywords, checked and tidied (ValueError saying what is wrong):
    texts non-empty and not too long, keywords a list of short lower-case phrases without repeats."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question is missing")
    if not isinstance(answer, str) or not answer.strip():
        raise ValueError("the reference answer is missing")
    question, answer = " ".join(question.split()), answer.strip()
    if len(question) > MAX_QUESTION:
        raise ValueError(f"the question is longer than {MAX_QUESTION} characters")
    if len(answer) > MAX_ANSWER:
        raise ValueError(f"the reference answer is longer than {MAX_ANSWER} characters")
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ValueError("keywords must be a list of words or short phrases")
    kept: list[str] = []
    for k in (" ".join(k.lower().split()) for k in keywords):
        if len(k) > MAX_KEYWORD:
            raise ValueError(f"the keyword {k[:30]!r}… is longer than {MAX_KEYWORD} characters")
        if k and k not in kept:
            kept.append(k)
    if len(kept) > MAX_KEYWORDS:
        raise ValueError(f"{len(kept)} keywords; at most {MAX_KEYWORDS}")
    # Secrets never reach the log, whoever wrote the card.
    return redact(question).text, redact(answer).text, [redact(k).text for k in kept]


def keyword_warnings(answer: str, keywords: list[str]) -> list[str]:
    """What is odd about a card's keywords, kept anyway (as the Markdown import keeps them): none at all,
    or one the reference answer does not contain (packs refuse that: learner/content.py)."""
    if not keywords:
        return ["it has no keywords: the offline judge cannot mark an answer on it, so you grade your own"]
    text = answer.lower()
    return [
        f"keyword {k!r} is not in the reference answer: the offline judge looks for it, so an answer like the reference misses it"
        for k in keywords
        if k not in text
    ]


def parse_reply(data: dict, count: int, avoid: list[str]) -> list[tuple[str, str, list[str]]]:
    """The cards in a model's JSON reply to `check-card` (ModelCall.json), all valid, or ValueError naming the first problem."""
    cards = data.get("cards")
    if not isinstance(cards, list) or not cards:
        raise ValueError('it has no "cards" list')
    seen = {" ".join(q.lower().split()) for q in avoid}
    out = []
    for n, entry in enumerate(cards[:count], 1):
        if not isinstance(entry, dict):
            raise ValueError(f"card {n} is not an object")
        try:
            question, answer, keywords = clean_fields(entry.get("question"), entry.get("answer"), entry.get("keywords"))
        except ValueError as exc:
            raise ValueError(f"card {n}: {exc}") from None
        if not keywords:
            raise ValueError(f"card {n}: it has no keywords to judge an answer by")
        if question.lower() in seen:
            raise ValueError(f"card {n} repeats a question already in the deck")
        seen.add(question.lower())
        out.append((question, answer, keywords))
    return out


# -- storing --------------------------------------------------------------------------------


def store_cards(store: Store, skill_cards: list[tuple[str, str, str, list[str]]], *, origin: str, model: str | None,
                now: datetime) -> list[int]:  # fmt: skip
    """Store (skill, question, answer, keywords) cards with their review cards, due now, in one transaction."""
    created = iso(now)
    rows = [
        {"created_at": created, "skill": skill, "question": q, "answer": a, "keywords": json.dumps(k), "origin": origin, "model": model}
        for skill, q, a, k in skill_cards
    ]

    def review_row(card: dict) -> dict:
        return {"created_at": created, "reps": 0, "due": created, "skill": card["skill"], "question": card["question"],
                "answer": card["answer"], "check_keywords": card["keywords"]}  # fmt: skip

    return reviews.insert_generated(store, rows, review_row, lambda cid: new_state(cid, now))


def generate(store: Store, skill: str, model, *, count: int = GENERATE_AT_MOST, now: datetime | None = None) -> list[GeneratedCard]:
    """Ask the model for up to `count` check questions on `skill`, store them, return them (due now).

    BackendError when the model cannot be reached or its reply is not usable; nothing is stored then."""
    from learnflow.learner.skills import taxonomy

    now = now or datetime.now(UTC)
    count = max(1, min(count, GENERATE_AT_MOST))
    info = taxonomy().get(skill)
    avoid = reviews.skill_questions(store, skill)
    covers = ", ".join([*(info.strong if info else []), *(info.keywords if info else [])][:12]) or "(no description)"
    reply = model.json(
        "check-card", count=count, skill=skill, skill_name=info.name if info else skill, covers=covers,
        avoid="\n".join(f"- {q}" for q in avoid[-20:]) or "(none yet)",
    )  # fmt: skip
    hint = f"Run it again, or add a guide for {skill} to a content pack (docs/content.md)."
    if reply is None:
        why = model.warnings[-1] if model.warnings else "no reply"
        failed = model.last_error
        if failed is not None and failed.kind == "bad_response":  # it answered, but not with one JSON object
            raise BackendError(
                "The model's reply was not a usable check card: it is not a JSON object. Nothing was stored.",
                hint=hint,
                kind="bad_response",
            )
        raise BackendError(
            f"The model could not write a check question on {skill} ({why}); nothing was stored.",
            hint=hint,
            kind=failed.kind if failed else "error",  # "connection": the caller may fall back (config `fallback`)
            status=failed.status if failed else None,
        )
    try:
        cards = parse_reply(reply, count, avoid)
    except ValueError as exc:
        raise BackendError(
            f"The model's reply was not a usable check card: {exc}. Nothing was stored.", hint=hint, kind="bad_response"
        ) from None
    ids = store_cards(store, [(skill, q, a, k) for q, a, k in cards], origin="model", model=model.choice.model, now=now)
    return [get(store, i) for i in ids]


# -- the learner's say ----------------------------------------------------------------------------


def get(store: Store, card_id: int) -> GeneratedCard:
    row = reviews.generated_card(store, card_id)
    if row is None:
        raise NotFound(f"No generated card #{card_id}.", hint="`learnflow cards list --all` lists them.")
    return _card(row)


def list_cards(store: Store, *, skill: str | None = None, retired: bool = False) -> list[GeneratedCard]:
    """The generated cards, oldest first; retired ones too with `retired`."""
    return [_card(r) for r in reviews.generated_cards(store, skill=skill, retired=retired)]


def edit(store: Store, card_id: int, *, question: str | None = None, answer: str | None = None,
         keywords: list[str] | None = None) -> GeneratedCard:  # fmt: skip
    """Change a card's text; what is not given stays. Its schedule stays too (an edit is a correction,
    not a new card)."""
    card = get(store, card_id)
    if card.retired_at:
        raise BadInput(f"Card #{card_id} is retired.", hint="A retired card is never asked again; import or generate a new one.")
    try:
        q, a, k = clean_fields(
            card.question if question is None else question,
            card.answer if answer is None else answer,
            card.keywords if keywords is None else keywords,
        )
    except ValueError as exc:
        raise BadInput(f"Card #{card_id} not changed: {exc}.") from None
    if (q, a, k) == (card.question, card.answer, card.keywords):
        return card
    reviews.update_generated(store, card_id, question=q, answer=a, keywords=json.dumps(k), edited_at=iso(datetime.now(UTC)))
    return get(store, card_id)


def retire(store: Store, card_id: int) -> GeneratedCard:
    """Retire a card: never asked again. Retiring a retired card changes nothing."""
    card = get(store, card_id)
    if not card.retired_at:
        reviews.retire_generated(store, card_id, iso(datetime.now(UTC)))
    return get(store, card_id)


def rate_skill(store: Store, skill: str, rating: int) -> int:
    """A self-rating (1-5) outside a reflection: the same row and evidence as the reflection's."""
    if not 1 <= rating <= 5:
        raise BadInput(f"A self-rating is 1 to 5, not {rating}.")
    return reflections.add_skill_rating(
        store,
        {"created_at": iso(datetime.now(UTC)), "reflection_id": None, "skill": skill, "rating": rating},
        {"ts": time.time(), "skill": skill, "kind": "self_rating", "value": round((rating - 1) / 4, 3)},
    )
