"""When a card comes back: an answered check's FSRS rating, and the FSRS schedule.

Scheduling uses FSRS (the `fsrs` package) with no learning steps: learnflow
reviews once a day, at reflection time, so minute-long steps would only mean
"again tonight". With no steps, a first "Again" comes back the next day and a
first "Good" a few days later. Fuzzing is off so intervals are reproducible.

How a judged answer becomes an FSRS rating (`rating_for`):

    wrong                                                 -> Again (1)
    right, but confidence 1-2 or a partial answer (<0.7)  -> Hard  (2)
    right, confidence 4-5, complete (>=0.9), within 60 s  -> Easy  (4)
    right otherwise                                       -> Good  (3)

Pure functions, no database: the simulation bench schedules with them too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
RATING_NAMES = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
EASY_SECONDS = 60


def rating_for(correct: bool, score: float, confidence: int | None, seconds: float | None = None) -> int:
    """Map a judged answer and the confidence given before it to an FSRS rating (see module doc)."""
    conf = confidence or 3
    if not correct:
        return AGAIN
    if conf <= 2 or score < 0.7:
        return HARD
    if conf >= 4 and score >= 0.9 and (seconds is None or seconds <= EASY_SECONDS):
        return EASY
    return GOOD


@lru_cache(maxsize=1)
def scheduler():
    """The one FSRS scheduler (no learning steps, no fuzzing)."""
    import fsrs  # only reflect and check pay for it

    return fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def new_state(card_id: int, now: datetime) -> str:
    """FSRS state of a card never reviewed, due at once."""
    import fsrs

    return json.dumps(fsrs.Card(card_id=card_id, due=now.astimezone(UTC)).to_dict())


def schedule(state: str | None, rating: int, when: datetime, card_id: int = 0) -> tuple[str, datetime]:
    """Review a card's FSRS state with `rating` at `when`: (new state JSON, next due)."""
    import fsrs

    card = fsrs.Card.from_dict(json.loads(state)) if state else fsrs.Card(card_id=card_id, due=when)
    card, _log = scheduler().review_card(card, fsrs.Rating(rating), review_datetime=when.astimezone(UTC))
    return json.dumps(card.to_dict()), card.due
