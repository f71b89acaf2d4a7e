"""Asking again what was already answered: a sign of forgetting, kept as `repeat` evidence.

At ask time, an earlier answered ask on the same skill within `WINDOW_DAYS` whose question is
*similar* makes this ask a repeat. Similar means, over the questions' key terms (words of three
letters or more, not stop words or the generic words of troubleshooting, crudely stemmed):

    shared ≥ MIN_SHARED   and   Dice = 2·w(A∩B) / (w(A) + w(B)) ≥ MIN_DICE

where a term weighs 1, or TOPIC_WEIGHT when it is a word of the taxonomy's keywords (git, docker,
api): "How do I cache dependencies in GitHub Actions?" and "How do I run a GitHub Actions job only on
tags?" share only the topic.
The two asks must share a skill tag (any of the new question's tags); the repeat is on that skill.

FTS5 (BM25 over the question column, in db/search.py) finds the candidates; the decision is on
term overlap because BM25 scores move with the size of the log (IDF), so no fixed threshold
on them means the same thing on day 1 and after a year. The thresholds were set on the tuning
two thirds of bench/repeat_pairs.py and checked once on its held-out third (figures there).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from learnflow.db.search import repeat_candidates
from learnflow.timespec import iso

if TYPE_CHECKING:
    from learnflow.db.store import Store

WINDOW_DAYS = 30
MIN_SHARED = 2
MIN_DICE = 0.45
TOPIC_WEIGHT = 0.5  # a shared topic word (git, docker) says less than a shared action word (squash, paginate)
CANDIDATES = 5

_WORD = re.compile(r"[a-z0-9][a-z0-9_+#.-]*[a-z0-9+#]|[a-z0-9]{2,}")
# Words that say how someone asks, not what about; and the generic words of any failure.
STOP = frozenset(
    """a an the and or but if then else of to in on at by for with from into onto over under about as is are was were be been
    being am do does did doing done have has had having can could should would will shall may might must i me my mine you your
    we our us it its this that these those there here what which who whom whose when where why how whats hows not no yes so
    very just also too only again still even all any some each every more most other another such than same own out up down
    get gets got getting make makes made use uses used using want wants need needs way ways thing things something anything
    please thanks help explain tell show know understand mean means meaning difference between best good right correct
    work works working worked fix fixes fixed fixing solve problem problems issue issues error errors fail fails failed failing
    wrong happen happens happened keep keeps one two new old like instead without via vs versus really actually properly
    command run runs running ran code exit try trying tried learnflow why before after
    write writing create creating example simple""".split()
)


def _stem(word: str) -> str:
    """A crude suffix strip: enough to meet `commits`/`commit` and `merging`/`merged`/`merge`."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + keep
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def key_terms(question: str) -> set[str]:
    """The question's content words, stemmed (numbers of three digits or more count: 404, 137)."""
    terms = set()
    for word in _WORD.findall(question.lower()):
        word = word.strip(".-")
        if len(word) >= 3 and word not in STOP:
            terms.add(word if word.isdigit() else _stem(word))
    return terms


@lru_cache(maxsize=1)
def topic_words() -> frozenset[str]:
    """Stemmed words of the taxonomy's tool names and keywords (git, docker, pytest, api…): they say which
    area, not which question."""
    from learnflow.learner.skills import taxonomy

    return frozenset(t for skill in taxonomy().values() for k in (*skill.strong, *skill.keywords) for t in key_terms(k))


def _weight(term: str, topics: frozenset[str]) -> float:
    return TOPIC_WEIGHT if term in topics else 1.0


def similar(a: str | set[str], b: str | set[str]) -> bool:
    """Two questions ask the same thing: ≥ MIN_SHARED shared key terms and a weighted Dice ≥ MIN_DICE."""
    ta = a if isinstance(a, set) else key_terms(a)
    tb = b if isinstance(b, set) else key_terms(b)
    shared = ta & tb
    if len(shared) < MIN_SHARED:
        return False
    topics = topic_words()
    weight = sum(_weight(t, topics) for t in shared)
    return 2 * weight / (sum(_weight(t, topics) for t in ta) + sum(_weight(t, topics) for t in tb)) >= MIN_DICE


def find_repeat(store: Store, question: str, skills: list[str], *, exclude: int, now: datetime | None = None) -> tuple[int, str] | None:
    """(id, skill) of an earlier answered ask within WINDOW_DAYS, sharing a skill tag, with a similar question."""
    terms = key_terms(question)
    if len(terms) < MIN_SHARED or not skills:
        return None
    now = now or datetime.now(UTC)
    # FTS5 quoting, one OR per term; its porter stemmer meets our crude stems on both sides.
    match = " OR ".join(f'"{t}"' for t in sorted(terms))
    since = iso(now - timedelta(days=WINDOW_DAYS))
    for cid, earlier, tags in repeat_candidates(store, match, skills=skills, since=since, exclude=exclude, limit=CANDIDATES):
        if similar(terms, earlier):
            shared = set(tags.split(","))
            return cid, next(s for s in skills if s in shared)
    return None


def asked_before(store: Store, row: dict) -> dict | None:
    """The earlier ask a logged ask repeated (id, created_at, question), for `show`; None when it
    was no repeat. An earlier ask forgotten since (`learnflow forget`) is said as gone."""
    if not row.get("repeat_of"):
        return None
    from learnflow.errors import NotFound

    try:
        earlier = store.get(row["repeat_of"])
    except NotFound:
        return {"id": row["repeat_of"], "created_at": None, "question": None}
    return {"id": earlier["id"], "created_at": earlier["created_at"], "question": earlier["question"]}
