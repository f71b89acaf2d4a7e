"""Review cards, and which of them a session asks: the day's questions, due reviews, gap probes.

Cards come from the check question that ends every teaching answer
(`collect_cards`). An offline answer's check question belongs to a bundled
skill card, which brings its own answer and keywords; a model answer's check
question gets an answer key from the model when one is connected (`add_answer_key`).

`pick_checks` fills a session's slots in this order: up to MAX_NEW cards from
the period's answers (one per skill first), then cards due by the end of today
(FSRS, scheduling.py), then gap probes. A probe is a bundled skill card's check
question on the goal skill `gaps` knows least about (the order is the pure rule
in learner/probes.py, shared with the simulation bench); a probe offered but
not answered is dropped again (`drop_unanswered_probes`).

The rest of practice/: judging.py (is an answer right), scheduling.py (FSRS),
checks.py (the loop that asks, judges and records), calibration.py.
The rows themselves are read and written by learnflow.db.reviews.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from learnflow.db import reviews
from learnflow.db.store import Store
from learnflow.practice.scheduling import new_state
from learnflow.timespec import iso, local_midnight

if TYPE_CHECKING:
    from learnflow.learner.profile import Params

MAX_NEW = 3  # checks drawn from the period's answers
MAX_CHECKS = 5  # with due reviews: keeps a reflection under five minutes
SOURCE_EXCERPT = 1500  # characters of the original answer given to the judge


@dataclass
class Check:
    """One question to answer from memory, backed by a review_cards row."""

    card_id: int
    skill: str
    question: str
    expected: str | None
    keywords: list[str]
    kind: str  # new (from this period's answers) | review (due from earlier days) | probe (a gap probe) | generated (just written)
    interaction_id: int | None = None
    bundled_card: str | None = None
    source_answer: str = ""  # the answer the question came from, for the model judge
    asked_at: str | None = None  # when the question it came from was asked (None for a bundled card)


# -- cards from the log ------------------------------------------------------------


def collect_cards(store: Store, start: str, end: str, now: datetime) -> list[int]:
    """Create review cards for the period's check questions; return the ids never reviewed yet,
    in the order the questions were asked.

    One card per bundled skill card (asking the offline coach the same thing
    twice does not make two cards) and per distinct model check question.
    """
    from learnflow.learner.cards import load_cards

    bundled = {c.check_question: c for c in load_cards() if c.check_question}
    for row in reviews.period_check_questions(store, start, end):
        card_for_answer(store, row, now, bundled)
    return reviews.unreviewed_in_period(store, start, end)


def card_for_answer(store: Store, row: dict, now: datetime, bundled: dict | None = None) -> int | None:
    """The review card of one answer's check question (`row`: {id, backend, check_question, skill}),
    made if missing; None for the offline coach's generic closing question (nothing to remember).
    `bundled` maps check questions to bundled skill cards (loaded when not given)."""
    if bundled is None:
        from learnflow.learner.cards import load_cards

        bundled = {c.check_question: c for c in load_cards() if c.check_question}
    card = bundled.get(row["check_question"]) if row["backend"] == "offline" else None
    if row["backend"] == "offline" and card is None:
        return None
    if card is not None:
        existing = reviews.card_id_for(store, bundled_card=card.id)
        fields = {
            "skill": card.skill,
            "answer": card.check_answer,
            "check_keywords": json.dumps(card.check_keywords),
            "card_id": card.id,
        }
    else:
        existing = reviews.card_id_for(store, question=row["check_question"])
        fields = {"skill": row["skill"] or "general"}
    if existing is not None:
        return existing
    return insert_card(store, now, question=row["check_question"], interaction_id=row["id"], **fields)


def card_check(store: Store, card_id: int, kind: str) -> Check:
    """The Check of one review card (with the answer it came from, for the model judge)."""
    [row] = reviews.cards(store, [card_id])
    return _check(row, kind)


def insert_card(store: Store, now: datetime, **fields) -> int:
    """A new review card, due at once (`fields` may set another `due`), with its first FSRS state."""
    return reviews.insert_card(store, {"created_at": iso(now), "reps": 0, "due": iso(now), **fields}, lambda cid: new_state(cid, now))


def add_answer_key(store: Store, check: Check, model) -> None:
    """Ask the model for the expected answer and keywords of a model-made card (kept for offline judging)."""
    if check.expected or not model.available:
        return
    data = model.json("reflect-key", question=check.question, source=check.source_answer or "(not kept)")
    answer = str((data or {}).get("answer") or "").strip()
    if not answer:
        return
    keywords = [str(k).strip() for k in (data.get("keywords") or []) if str(k).strip()][:4]
    check.expected, check.keywords = answer, keywords
    reviews.set_answer_key(store, check.card_id, answer, json.dumps(keywords))


# -- which checks a session asks ------------------------------------------------------


def pick_checks(
    store: Store, period_cards: list[int], now: datetime, *, limit: int = MAX_CHECKS, skill: str | None = None, rounds: int = 1
) -> list[Check]:
    """Up to MAX_NEW cards from the period (one per skill first), then due reviews, then
    gap probes on the goal skills `gaps` knows least about, `limit` in all;
    with `skill`, only that skill's due reviews and probes; `rounds` > 1 lets probes
    take a second card of a skill once every skill has one (a long `learnflow check`).

    "Due" means due before the end of today, local time: a card scheduled for
    tomorrow 18:00 is reviewed at tomorrow's reflection, whatever its hour.
    """
    rows = {r["id"]: r for r in reviews.cards(store, period_cards)}
    ordered = [rows[i] for i in period_cards if i in rows]
    seen_skills: set[str] = set()
    first: list[dict] = []
    rest: list[dict] = []
    for row in ordered:
        (rest if row["skill"] in seen_skills else first).append(row)
        seen_skills.add(row["skill"])
    new = (first + rest)[: min(MAX_NEW, limit)]
    horizon = iso(local_midnight(now) + timedelta(days=1))
    due = reviews.due_cards(store, horizon, exclude=[r["id"] for r in new], skill=skill, limit=limit - len(new))
    chosen = {r["skill"] for r in new + due}
    probe_ids = pick_probes(store, limit - len(new) - len(due), exclude=chosen, now=now, skill=skill, rounds=rounds)
    probed = {r["id"]: r for r in reviews.cards(store, probe_ids)}
    early: list[dict] = []
    if skill and len(new) + len(due) + len(probe_ids) < limit:
        # Asked for this skill and its cards are all scheduled: review the soonest early (FSRS allows it).
        early = reviews.soonest_cards(store, skill, exclude=[r["id"] for r in new + due] + probe_ids,
                                      limit=limit - len(new) - len(due) - len(probe_ids))  # fmt: skip
    return ([_check(r, "new") for r in new] + [_check(r, "review") for r in due] + [_check(probed[i], "probe") for i in probe_ids]
            + [_check(r, "review") for r in early])  # fmt: skip


def _check(row: dict, kind: str) -> Check:
    return Check(
        card_id=row["id"],
        skill=row["skill"] or "general",
        question=row["question"],
        expected=row["answer"] or None,
        keywords=json.loads(row["check_keywords"] or "[]"),
        kind=kind,
        interaction_id=row["interaction_id"],
        bundled_card=row["card_id"],
        source_answer=(row.get("source_answer") or "")[:SOURCE_EXCERPT],
        asked_at=row.get("asked_at"),
    )


# -- gap probes ------------------------------------------------------------------------


def pick_probes(store: Store, slots: int, *, exclude: set[str], now: datetime, params: Params | None = None,
                skill: str | None = None, rounds: int = 1) -> list[int]:  # fmt: skip
    """Review-card ids for up to `slots` probes on goal skills not in `exclude`: one per skill
    in `learner.probes.order`, then (with `rounds` > 1) a second card each, and so on; with
    `skill`, on that one skill, goal or not (`learnflow check --skill`).

    Probes only touch skills with a goal (`goals set` / `goals role`): those are the
    skills the person asked `gaps` to rank. Each probe is a bundled card of that skill
    that has no review card yet; when every card of a skill is already in review, the
    skill is left to its FSRS schedule (only `check --skill` reviews one early: pick_checks).
    """
    if slots <= 0:
        return []
    from learnflow.learner.cards import load_cards
    from learnflow.learner.goals import goals as read_goals
    from learnflow.learner.probes import order
    from learnflow.learner.profile import Params, posteriors_at, read_periods

    params = params or Params.from_config()
    goals = {s: (g.target, g.importance) for s, g in read_goals(store).items()}
    if skill is not None:
        goals, exclude = {skill: goals.get(skill, (params.default_target, 1.0))}, set()
    if not goals:
        return []
    t = now.timestamp()
    periods = read_periods(store, params, since=t - params.horizon(), daily_from=t)
    posts = {s: posteriors_at(periods.get(s, []), [t], params)[0] for s in goals}
    used = reviews.used_bundled_cards(store)
    unused: dict[str, list] = {}
    for card in load_cards():
        if card.check_question and card.id not in used:
            unused.setdefault(card.skill, []).append(card)
    # One card per skill in order (skills already checked in this session wait a round), then
    # round again while slots remain (a long `check -n`, or `--skill`).
    queues = [(s, iter(unused.get(s, []))) for s in order(goals, posts, params)]
    chosen: list = []
    for turn in range(slots if skill else rounds):
        for s, cards in queues:
            if len(chosen) < slots and not (turn == 0 and s in exclude):
                chosen += [c for c in [next(cards, None)] if c]
    return [insert_card(store, now, skill=c.skill, question=c.check_question, answer=c.check_answer,
                        check_keywords=json.dumps(c.check_keywords), card_id=c.id)
            for c in chosen]  # fmt: skip


def drop_unanswered_probes(store: Store, card_ids: list[int]) -> None:
    """Probe cards offered but not answered (skipped, Ctrl-C): never asked, so never kept.
    Kept, they would come back as "reviews" of something never asked, and the skill's next
    probe would be spent on the same unmeasured skill twice."""
    reviews.drop_unreviewed(store, card_ids)
