"""The period a reflection looks back on, and what the log shows for it.

`default_start` chooses the period (since the last finished reflection, else
today); `summarize` reads what happened in it (questions, skills, failures,
commands run) into a `Summary`; `facts` writes that as the Markdown list that
is both the offline "what happened" and the input the model's narrative and
feedback are written from. The session (session.py) and the feedback
(feedback.py) both read it from here.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from learnflow.db import reflections
from learnflow.db.store import Store
from learnflow.timespec import iso, local_midnight, parse_iso

MAX_LOOKBACK = timedelta(days=7)  # the default period never reaches further back than this


@dataclass
class Summary:
    """What the log shows for the period, computed in SQL."""

    start: str
    end: str
    label: str  # "today", "since your last reflection (Mon 17:02)", …
    questions: int = 0
    answered: int = 0
    skills: list[dict] = field(default_factory=list)  # {skill, name, count, primary}
    recent: list[dict] = field(default_factory=list)  # {id, question, status}
    errors: list[dict] = field(default_factory=list)  # asks that ended in error / interrupted
    commands: int = 0
    failed_commands: list[dict] = field(default_factory=list)  # {id, command, exit_code, explained_in}

    @property
    def had_failures(self) -> bool:
        return bool(self.failed_commands or self.errors)


def default_start(store: Store, now: datetime) -> tuple[datetime, str]:
    """Since the last finished reflection (within a week), else since local midnight."""
    end = reflections.last_done_period_end(store)
    if end:
        last = parse_iso(end)
        if timedelta(0) <= now - last <= MAX_LOOKBACK:
            return last, f"since your last reflection ({last.astimezone():%a %H:%M})"
    return local_midnight(now), "today"


def since_label(since: datetime, now: datetime) -> str:
    """How a period given with --since is named: "today", or "since Mon 02 Mar 08:00"."""
    if since == local_midnight(now):
        return "today"
    return f"since {since.astimezone():%a %d %b %H:%M}"


def summarize(store: Store, start: datetime, end: datetime, label: str) -> Summary:
    """What the log shows from `start` to `end`."""
    from learnflow.learner.skills import taxonomy

    s, e = iso(start), iso(end)
    out = Summary(start=s, end=e, label=label)
    out.questions, out.answered = reflections.question_counts(store, s, e)
    names = taxonomy()
    for row in reflections.period_skills(store, s, e):
        name = names[row["skill"]].name if row["skill"] in names else row["skill"]
        out.skills.append({"skill": row["skill"], "name": name, "count": row["count"], "primary": row["primary_count"]})
    out.recent = reflections.recent_questions(store, s, e)
    out.errors = reflections.failed_questions(store, s, e)
    tasks = reflections.period_tasks(store, s, e)
    out.commands = len(tasks)
    out.failed_commands = [
        {"id": t["id"], "command": _command(t["command"]), "exit_code": t["exit_code"], "explained_in": t["interaction_id"]}
        for t in tasks
        if t["exit_code"]
    ]
    return out


def _command(raw: str | None) -> str:
    try:
        text = shlex.join(json.loads(raw or "[]"))
    except (ValueError, TypeError):
        text = raw or ""
    return text if len(text) <= 60 else text[:59] + "…"


def facts(summary: Summary) -> str:
    """The period as a Markdown list: the offline "what happened", and the model's input."""
    if not summary.questions and not summary.commands:
        return "- Nothing was logged in this period. Reflect on the work itself: what did you do without asking?"
    lines = []
    if summary.questions:
        skills = ", ".join(f"{s['name']} ({s['count']})" for s in summary.skills[:5])
        lines.append(f"- {summary.questions} question(s) asked, {summary.answered} answered" + (f"; skills: {skills}." if skills else "."))
        for row in summary.recent[:3]:
            lines.append(f"  - #{row['id']}: {_short(row['question'])}")
    if summary.commands:
        lines.append(f"- {summary.commands} command(s) run under `learnflow run`, {len(summary.failed_commands)} failed.")
        for t in summary.failed_commands[:3]:
            how = f"explained in #{t['explained_in']}" if t["explained_in"] else "not explained"
            lines.append(f"  - `{t['command']}` exited {t['exit_code']} ({how})")
    for row in summary.errors[:3]:
        lines.append(f"- #{row['id']} ended {row['status']}: {_short(row['question'])}")
    return "\n".join(lines)


def _short(text: str, n: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"
