"""`learnflow forget`: delete records for good, everywhere they left a copy, then VACUUM.

What goes (db/admin.py has the table by table list): the interactions, their full-text index,
skill tags and evidence; flags on them; the tasks linked to them or run in the --since window
(argv and output tails); review cards made from them and the checks answered on those cards or
on the answers (inline, attempts), with appeals; conversations left without turns (others are
re-titled); repeat links. Reflections whose summary listed a forgotten ask or command keep their
answers and checks, but the summary loses those entries and the narrative (which quoted them, or
a model's story told from them) is rewritten from what is left; model feedback written from the
same facts is dropped.

Statements an LRS acknowledged for what is forgotten get a voiding statement each, queued in
the same transaction and sent by the next `learnflow sync` (interop/lrs.py, docs/xapi.md): forget
itself works offline, stays fast, and needs no LRS credentials; sync already has the LRS, its
time bound and its acknowledgement checks.

`--source` (claude, codex, gemini, aider, llm, mcp, hook) chooses what came from a coding agent or the
MCP server: its interactions, tasks and check results (and so everything made from them, as above), and
its import cursors and taken items, so importing again starts afresh. The review cards the MCP server
brought into review go with its grades (unless an answer of the person's own stands on them), as cards
made from a forgotten ask do; any card that stays but loses graded answers gets its schedule rebuilt from
the answers left (`_reschedule`), so no forgotten answer still decides when it comes back.

VACUUM matters: without it deleted text can survive in free pages of the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from learnflow.db import admin
from learnflow.db import reflections as db_reflections
from learnflow.db import reviews as db_reviews
from learnflow.db import xapi as db_xapi
from learnflow.db.store import Store
from learnflow.errors import BadInput, LearnflowError
from learnflow.timespec import now_iso


@dataclass
class Forgotten:
    interactions: int
    ids: list[int] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # rows deleted per table (everything: every table)
    reflections_rewritten: int = 0
    voidings_queued: int = 0  # statements an LRS holds that the next `learnflow sync` voids
    everything: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def forget(
    store: Store, *, ids: list[int] | None = None, since: str | None = None, source: str | None = None, everything: bool = False
) -> Forgotten:
    """Delete the chosen interactions (or everything, or what came from `source`: db/admin.SOURCES)
    and what was made from them; what was deleted."""
    if source is not None and source not in admin.SOURCES:
        raise BadInput(f"Unknown source {source!r}.", hint=f"One of: {', '.join(admin.SOURCES)}.")
    stamp = now_iso()
    queued = [0]

    def void(statement_ids: list[str]) -> None:
        queued[0] += _queue_voidings(store, statement_ids, stamp)

    if everything:
        erased = admin.erase_all(store, before=lambda e: void(_own_acknowledged(store)))
        admin.compact(store)
        tables = {t: n for t, n in erased.counts.items() if n}
        return Forgotten(erased.counts.get("interactions", 0), tables=tables, voidings_queued=queued[0], everything=True)
    rewritten = [0]

    def before(erased: admin.Erased) -> None:
        from learnflow.interop import xapi

        if db_xapi.anything_acknowledged(store):
            void(xapi.statement_ids_of(store, erased.ids))
        rewritten[0] = _rewrite_reflections(store, erased)

    erased = admin.erase(store, ids=ids or [], since=since, source=source, before=before, after=lambda e: _reschedule(store, e))
    if not any(erased.ids.values()):
        # Nothing chosen; a source's import cursors may still have gone (they held no record).
        tables = {t: n for t, n in erased.counts.items() if n}
        if tables:
            admin.compact(store)
        return Forgotten(0, tables=tables)
    admin.compact(store)
    return Forgotten(
        len(erased.interactions), [r["id"] for r in erased.interactions], {t: n for t, n in erased.counts.items() if n},
        rewritten[0], queued[0],
    )  # fmt: skip


def _reschedule(store: Store, erased: admin.Erased) -> None:
    """Rebuild the FSRS schedule of each kept card that lost graded results, from the results left on it
    (replayed from a new card at its creation): the card is due, and remembered, as if the forgotten answers
    had never been given. A card with none left is new again (due since it was made, never reviewed)."""
    from learnflow.practice.scheduling import new_state, schedule
    from learnflow.timespec import iso, parse_iso

    for card_id, history in db_reviews.graded_history(store, erased.rescheduled).items():
        due = parse_iso(history["created_at"])
        state, last = new_state(card_id, due), None
        for at, rating in history["ratings"]:
            state, due = schedule(state, rating, parse_iso(at), card_id)
            last = at
        db_reviews.set_schedule(store, card_id, fsrs=state, due=iso(due), last_review=last, reps=len(history["ratings"]))


def _own_acknowledged(store: Store) -> list[str]:
    """Every statement of this install an LRS acknowledged (imported ones are other people's to void)."""
    if not db_xapi.anything_acknowledged(store):
        return []
    from learnflow.interop import xapi

    return sorted(xapi.own_ids(store))


def _queue_voidings(store: Store, statement_ids: list[str], stamp: str) -> int:
    if not statement_ids:
        return 0
    from learnflow.interop import xapi

    try:
        actor = xapi.resolve_actor(store)
    except LearnflowError:  # a broken xapi_actor_* setting must not stop a forget: the install's pseudonym
        actor = {"objectType": "Agent", "account": {"homePage": xapi.PSEUDONYM_HOME, "name": xapi.pseudonym(store)}}
    voiding = {sid: xapi.voiding_id(store, sid) for sid in statement_ids}
    return db_xapi.queue_voiding(store, voiding, json.dumps(actor, separators=(",", ":")), stamp)


def _rewrite_reflections(store: Store, erased: admin.Erased) -> int:
    """Take forgotten asks and commands out of the reflections whose summary listed them; how many changed."""
    from learnflow.reflect.period import Summary, facts

    asks = {r["id"]: r for r in erased.interactions}
    tasks = {t["id"]: t for t in erased.tasks}
    changed = 0
    for row in db_reflections.summaries(store):
        try:
            data = json.loads(row["summary"])
            summary = Summary(**data)
        except (ValueError, TypeError):
            continue  # not a summary this version wrote: left as it is
        listed = [r["id"] for r in summary.recent + summary.errors] + [t["id"] for t in summary.failed_commands]
        explained = [t.get("explained_in") for t in summary.failed_commands]
        counted = [r for r in asks.values() if summary.start <= (r["created_at"] or "") <= summary.end]
        ran = [t for t in tasks.values() if summary.start <= (t["created_at"] or "") <= summary.end]
        if not (set(listed) & (set(asks) | set(tasks)) or set(explained) & set(asks) or counted or ran):
            continue
        fixes = [(t["command"], "a command") for t in summary.failed_commands if t["id"] in tasks and t["command"]]
        summary.recent = [r for r in summary.recent if r["id"] not in asks]
        summary.errors = [r for r in summary.errors if r["id"] not in asks]
        summary.failed_commands = [
            {**t, "explained_in": None if t.get("explained_in") in asks else t.get("explained_in")}
            for t in summary.failed_commands
            if t["id"] not in tasks
        ]
        summary.questions = max(0, summary.questions - len(counted))
        summary.answered = max(0, summary.answered - sum(r["status"] == "ok" for r in counted))
        summary.commands = max(0, summary.commands - len(ran))
        fields: dict = {"summary": json.dumps(asdict(summary)), "narrative": facts(summary) if row["narrative"] else None}
        if row["feedback_method"] == "model":  # written by a model from the same facts: it may quote them
            fields.update(feedback=None, feedback_method=None)
        db_reflections.rewrite(store, row["id"], fields, fixes)
        changed += 1
    return changed
