"""The reliance view of `gaps`: how the learner works with the AI, not what they know.

Four shares of the asks in a window, each against the window of the same length
before it: answers asked for with `--direct` (no teaching), asks that came with an
attempt (`ask --try` / `--attempt`), questions that ask again what was answered
(`interactions.repeat_of`) and answers the learner flagged as wrong or unverified.
Each gets one line on what it suggests. The thresholds are judgement calls, stated
here rather than tuned: a habit is "most" at half the asks, "rare" under one in five;
repeats matter from one ask in seven (about one a week at a question a day).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from learnflow.db import memory as memory_db
from learnflow.timespec import iso_ts

if TYPE_CHECKING:
    from learnflow.db.store import Store

DEFAULT_SINCE_DAYS = 30
DAY = 86400.0
MOST, RARE = 0.5, 0.2
REPEATS_HIGH = 0.15
# Fewer asks than this in the window: the shares are shown, but no habit is read from them.
MIN_ASKS = 5
# Without a single flag after this many asks, say that answers deserve checking.
FLAG_NUDGE_ASKS = 10

LABELS = {"direct": "--direct asks", "attempt": "tried first", "repeat": "asked again", "flagged": "flagged answers"}


@dataclass
class Signal:
    key: str  # direct | attempt | repeat | flagged
    label: str
    count: int  # in the window
    share: float | None  # of the window's asks; None when there were none
    before_count: int
    before_share: float | None  # the same share in the window before
    delta: float | None  # share - before_share, when both are known
    suggests: str


@dataclass
class Reliance:
    now: str
    since: str
    before: str  # start of the window before (it ends at `since`)
    days: float
    asks: int
    asks_before: int
    signals: list[Signal] = field(default_factory=list)
    message: str | None = None  # said instead of (or above) the suggestions when there is little to read

    def to_dict(self) -> dict:
        d = asdict(self)
        for s in d["signals"]:
            for k in ("share", "before_share", "delta"):
                s[k] = None if s[k] is None else round(s[k], 4)
        d["days"] = round(self.days, 2)
        return d


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def suggestion(key: str, share: float | None, asks: int) -> str:
    """One line on what a share suggests (empty when there is too little to say)."""
    if share is None or asks < MIN_ASKS:
        return ""
    if key == "direct":
        if share >= MOST:
            return "Most answers skip the teaching: `ask --try` has you attempt first, and asks without --direct teach."
        if share >= RARE:
            return "Some answers skip the teaching: fine in a hurry, but those skills grow less."
        return "Most answers teach: good for learning."
    if key == "attempt":
        if share < RARE:
            return "You rarely try first: `ask --try` (or `learnflow config set try_first novice`) asks for your attempt before the answer."
        return "You often try first: each attempt is judged and counts as evidence."
    if key == "repeat":
        if share >= REPEATS_HIGH:
            return (
                "You often ask again what was answered: answer the check right away (`learnflow answer`) and review with `learnflow check`."
            )
        if share > 0:
            return "A few questions came back: `learnflow check` reviews what faded."
        return "No repeats: what you asked about has stayed."
    if key == "flagged":
        if share > 0:
            return "You catch wrong answers: keep checking AI output before you rely on it."
        if asks >= FLAG_NUDGE_ASKS:
            return "No answer flagged yet: check answers before relying on them; `learnflow flag ID REASON` marks a wrong one."
        return ""
    raise ValueError(key)


def build(store: Store, *, since: float | None = None, now: float | None = None) -> Reliance:
    """The reliance view over [since, now) (default: the last 30 days) and the window before it."""
    now = time.time() if now is None else now
    since = now - DEFAULT_SINCE_DAYS * DAY if since is None else min(since, now)
    before = since - (now - since)
    counts = memory_db.reliance_counts(store, start=iso_ts(before), split=iso_ts(since), end=iso_ts(now))
    cur = counts.get("now", (0, 0, 0, 0, 0))
    old = counts.get("before", (0, 0, 0, 0, 0))
    asks, asks_before = cur[0], old[0]
    signals = []
    for i, key in enumerate(("direct", "attempt", "repeat", "flagged"), 1):
        share, before_share = _share(cur[i], asks), _share(old[i], asks_before)
        delta = share - before_share if share is not None and before_share is not None else None
        signals.append(Signal(key, LABELS[key], cur[i], share, old[i], before_share, delta, suggestion(key, share, asks)))
    message = None
    if not asks:
        message = "No asks in this window: nothing to read about how you use the AI yet."
    elif asks < MIN_ASKS:
        message = f"Only {asks} ask{'s' if asks > 1 else ''} in this window: too few to read a habit from."
    return Reliance(iso_ts(now, timespec="seconds"), iso_ts(since, timespec="seconds"), iso_ts(before, timespec="seconds"),
                    (now - since) / DAY, asks, asks_before, signals, message)  # fmt: skip
