"""The work as evidence: a wrapped command's run stored, with what its outcome says.

`learnflow run` / `lf` calls `record` after the command has run. It maps the command to a
skill and classifies a failure in a few words (`learner/commands.py`), redacts the argv and the
output tails, and stores the task with one `task` evidence row (1 ok, 0 failed; a low weight,
docs/learner-model.md says why). Two patterns are reported back:

- a **recovery**: this run succeeded, and the last run of the very same command (same argv after
  the wrappers, same folder) failed within `RECOVERY_WINDOW`;
- a **repeated failure**: the same tool failed with the same error class for the third time in
  `STREAK_DAYS` days; told at most once per `STREAK_QUIET` per kind, with the gap and a next step.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from learnflow.db import tasks as tasks_db
from learnflow.errors import LearnflowError
from learnflow.learner.commands import INTERRUPTED, error_class, resolve
from learnflow.redact import redact, redact_argv
from learnflow.timespec import iso, parse_iso

# `lf` runs this module on every command typed, so it imports neither `typing` nor `dataclasses`
# (cli/quickrun.py): the records below are plain classes, and the Protocol exists for mypy only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from learnflow.db.store import Store

    class Outcome(Protocol):
        """How a wrapped command went: tutor.wrap.Outcome (tutor sits above learner, so not imported)."""

        argv: list[str]
        cwd: str
        exit_code: int
        duration_ms: int
        stdout_tail: str
        stderr_tail: str

        @property
        def failed(self) -> bool: ...


# A fix usually follows its failure within one sitting: rerun, read, edit, rerun. Two hours covers
# a long debugging session; past it, a success of the same command says little about the earlier
# failure (the code, the branch, the environment have moved on), so it is not called a recovery.
RECOVERY_WINDOW = timedelta(hours=2)
STREAK_COUNT = 3  # "the same kind of failure three times in 7 days" (issue 12)
STREAK_DAYS = 7
# Told once per kind per rolling day: the 4th failure the same afternoon is not news; the next
# day, if it still happens, it is worth one line again.
STREAK_QUIET = timedelta(days=1)

# -- recording a task --------------------------------------------------------------------


class _Record:
    """What `record` returns, as plain classes: equality and repr by field, like the dataclasses elsewhere."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


class Streak(_Record):
    """The same kind of failure, again: the one line `run` prints, as data."""

    __slots__ = ("count", "tool", "error_class", "skill", "mastery", "target", "next_command")

    def __init__(
        self, count: int, tool: str, error_class: str, skill: str, mastery: float | None, target: float, next_command: str
    ) -> None:
        self.count, self.tool, self.error_class, self.skill = count, tool, error_class, skill
        self.mastery = mastery  # None: not enough evidence to say
        self.target, self.next_command = target, next_command

    @property
    def line(self) -> str:
        head = f"{_ordinal(self.count)} `{self.tool}` failure of this kind in {STREAK_DAYS} days ({self.error_class})"
        if self.mastery is None:
            level = f"{self.skill} has too little evidence yet to say how you stand"
        elif self.mastery < self.target:
            level = f"{self.skill} is a gap (mastery {self.mastery:.2f}, target {self.target:.2f})"
        else:
            level = f"{self.skill} is otherwise at {self.mastery:.2f} (target {self.target:.2f}), but this keeps coming back"
        return f"{head}: {level}. Next: {self.next_command}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class TaskRecord(_Record):
    __slots__ = ("id", "tool", "skill", "error_class", "recovery_of", "recovered_class", "recovered_minutes", "streak", "table_error")

    def __init__(
        self,
        id: int,
        tool: str | None,
        skill: str | None,
        error_class: str | None,
        recovery_of: int | None = None,
        recovered_class: str | None = None,
        recovered_minutes: float | None = None,
        streak: Streak | None = None,
        table_error: LearnflowError | None = None,
    ) -> None:
        self.id, self.tool, self.skill, self.error_class = id, tool, skill, error_class
        self.recovery_of = recovery_of
        self.recovered_class = recovered_class  # how the recovered run had failed
        self.recovered_minutes = recovered_minutes
        self.streak = streak
        self.table_error = table_error  # a broken user commands.toml: the task is kept without a skill

    @property
    def recovery_line(self) -> str | None:
        if self.recovery_of is None:
            return None
        ago = self.recovered_minutes or 0.0
        when = "just now" if ago < 1 else f"{ago:.0f} min ago"
        return f"fixed: this command failed {when} ({self.recovered_class}, task #{self.recovery_of}) and now passes."


def record(store: Store, outcome: Outcome, *, now: datetime | None = None) -> TaskRecord:
    """Store a wrapped command's run (redacted) with its skill, error class and `task` evidence."""
    now = now or datetime.now(UTC)
    argv, _ = redact_argv(outcome.argv)
    stdout, stderr = redact(outcome.stdout_tail).text, redact(outcome.stderr_tail).text
    table_error = None
    try:
        found = resolve(outcome.argv)
    except LearnflowError as exc:
        found, table_error = None, exc
    tool, skill = found if found else (None, None)
    klass = error_class(tool, outcome.exit_code, stdout, stderr)
    # Stopped with Ctrl-C: the person ended it, so it is neither a failure of the skill nor one to recover from.
    stopped = bool(getattr(outcome, "interrupted", False)) or klass == INTERRUPTED
    command = json.dumps(argv)
    recovery_of = recovered_class = recovered_minutes = None
    if not outcome.failed and tool is not None:
        last = tasks_db.last_run(store, tool=tool, command=command, cwd=outcome.cwd, since=iso(now - RECOVERY_WINDOW))
        if last is not None and last["exit_code"] != 0 and last["error_class"] != INTERRUPTED:
            recovery_of, recovered_class = last["id"], last["error_class"]
            recovered_minutes = (now - parse_iso(last["created_at"])).total_seconds() / 60
    row = {
        "created_at": iso(now),
        "command": command,
        "cwd": outcome.cwd,
        "exit_code": outcome.exit_code,
        "duration_ms": outcome.duration_ms,
        "stdout_tail": stdout,
        "stderr_tail": stderr,
        "tool": tool,
        "skill": skill,
        "error_class": klass,
        "recovery_of": recovery_of,
    }
    evidence = (
        [{"ts": now.timestamp(), "skill": skill, "kind": "task", "value": 0.0 if outcome.failed else 1.0}] if skill and not stopped else []
    )
    task_id = tasks_db.insert(store, row, evidence)
    rec = TaskRecord(task_id, tool, skill, klass, recovery_of, recovered_class, recovered_minutes, table_error=table_error)
    if outcome.failed and skill and tool and klass and not stopped:
        rec.streak = _streak(store, task_id, tool, klass, skill, now)
    return rec


def _streak(store: Store, task_id: int, tool: str, klass: str, skill: str, now: datetime) -> Streak | None:
    """The third (or later) failure of a kind in STREAK_DAYS, unless already told within STREAK_QUIET."""
    window = timedelta(days=STREAK_DAYS)
    # Back to window + quiet: enough to know whether an earlier failure today was itself a third.
    rows = tasks_db.failure_times(store, tool=tool, error_class=klass, since=iso(now - window - STREAK_QUIET))
    times = [parse_iso(t) for _, t in rows]
    count = sum(1 for t in times if t > now - window)
    if count < STREAK_COUNT:
        return None
    earlier = [t for (i, _), t in zip(rows, times) if i != task_id and t > now - STREAK_QUIET]
    if any(sum(1 for u in times if e - window < u <= e) >= STREAK_COUNT for e in earlier):
        return None  # already told at one of today's failures
    from learnflow.learner.goals import goals
    from learnflow.learner.profile import Params, mastery_for, teaching_level

    params = Params.from_config()
    mastery = mastery_for(store, skill, now=now.timestamp(), params=params)
    goal = goals(store).get(skill)
    return Streak(
        count=count,
        tool=tool,
        error_class=klass,
        skill=skill,
        mastery=mastery.mean if teaching_level(mastery, params) else None,
        target=goal.target if goal else params.default_target,
        next_command=f"learnflow check --skill {skill} -n 3",
    )
