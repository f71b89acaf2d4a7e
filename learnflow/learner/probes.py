"""Gap probes: checks chosen to measure the skills of your goals that `gaps` knows least about.

A reflection's checks come from the day's questions first, then from due
reviews (review.py). That teaches, but it measures lopsidedly: the skills asked
about get checked again and again, and the rest of a role's skills stay at "not
enough evidence" for weeks (in the validity bench 43% of a role's skills were
ranked after a simulated week; 52% with probes). A probe fills a free slot with a bundled skill card's
check question on the goal skill whose gap is least certain:

1. skills without enough evidence to rank, least evidence first
   (then the more important one);
2. then skills where it is most uncertain whether they fall short of target:
   largest importance × P(below) × (1 − P(below)).

Probes only touch skills with a goal (`goals set` / `goals role`): those are
the skills the person asked `gaps` to rank. `order` is a pure function so the
simulation bench uses the very same rule.
"""

from __future__ import annotations

import json
from datetime import datetime

from learnflow.db.store import Store
from learnflow.learner.profile import Params, Posterior, posteriors_at, read_periods


def order(goals: dict[str, tuple[float, float]], posts: dict[str, Posterior], params: Params) -> list[str]:
    """Goal skills, the one a check would tell most about first. `goals`: skill -> (target, importance)."""

    def key(skill: str):
        target, importance = goals[skill]
        post = posts.get(skill) or Posterior()
        if not post.enough(params):
            return (0, post.evidence, -importance, skill)
        p = post.p_below(target)
        return (1, -importance * p * (1 - p), 0.0, skill)

    return sorted(goals, key=key)


def pick(store: Store, slots: int, *, exclude: set[str], now: datetime, params: Params | None = None,
         skill: str | None = None, rounds: int = 1) -> list[int]:  # fmt: skip
    """Review-card ids for up to `slots` probes on goal skills not in `exclude`: one per skill
    in `order`, then (with `rounds` > 1) a second card each, and so on; with `skill`, on that
    one skill, goal or not (`learnflow check --skill`).

    Each probe is a bundled card of that skill that has no review card yet; when
    every card of a skill is already in review, the skill is left to its FSRS
    schedule (only `check --skill` reviews one early: review.pick_checks).
    """
    if slots <= 0:
        return []
    from learnflow.learner.cards import load_cards
    from learnflow.learner.goals import goals as read_goals
    from learnflow.practice.review import _insert_card

    params = params or Params.from_config()
    goals = {s: (g.target, g.importance) for s, g in read_goals(store.db).items()}
    if skill is not None:
        goals, exclude = {skill: goals.get(skill, (params.default_target, 1.0))}, set()
    if not goals:
        return []
    t = now.timestamp()
    periods = read_periods(store.db, params, since=t - params.horizon(), daily_from=t)
    posts = {s: posteriors_at(periods.get(s, []), [t], params)[0] for s in goals}
    used = {cid for (cid,) in store.db.execute("SELECT card_id FROM review_cards WHERE card_id IS NOT NULL")}
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
    return [_insert_card(store, now, skill=c.skill, question=c.check_question, answer=c.check_answer,
                         check_keywords=json.dumps(c.check_keywords), card_id=c.id)
            for c in chosen]  # fmt: skip


def drop_unanswered(store: Store, card_ids: list[int]) -> None:
    """Probe cards offered but not answered (skipped, Ctrl-C): never asked, so never kept.
    Kept, they would come back as "reviews" of something never asked, and the skill's next
    probe would be spent on the same unmeasured skill twice."""
    if card_ids:
        marks = ",".join("?" * len(card_ids))
        store._write(lambda: store.conn.execute(f"DELETE FROM review_cards WHERE id IN ({marks}) AND coalesce(reps, 0) = 0", card_ids))
