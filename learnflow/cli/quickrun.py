"""`learnflow run -- CMD` without typer, click or rich: the hot path of `lf`.

`lf` wraps commands a person types all day, so what learnflow adds to each is paid again and
again; importing the command-line framework alone took longer than the 50 ms it may add
(`bench/bench_run_overhead.py`). The entry point (`learnflow/__main__.py`) sends `run` here
first: the few options of `run` are read by hand, the command runs, and the task is recorded
with the same core as `cli/run.py` (tutor/wrap, learner/tasks). Whatever this does not
recognise (`--help`, an unknown option, no command) goes to the full CLI, which says what is
wrong; a failure that may be explained is handed to `cli/run.finish` by the entry point (this module
does not import cli/run: run imports `record` from here), because the offer and the explanation
need the prompt and a model anyway.
"""

from __future__ import annotations

# No dataclasses on this path: `dataclasses` imports `inspect` (with ast, dis, tokenize), ~7 ms of
# every `lf`. The classes here and the records the path passes through (tutor/wrap.Outcome,
# learner/tasks, db/store.SkillTag, redact.Redaction) are plain classes for that reason;
# tests/test_quickrun.py keeps the path free of it.


class Parsed:
    __slots__ = ("command", "explain", "no_offer", "model")

    def __init__(self, command: list[str], explain: bool = False, no_offer: bool = False, model: str | None = None) -> None:
        self.command, self.explain, self.no_offer, self.model = command, explain, no_offer, model

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parsed) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return f"Parsed(command={self.command!r}, explain={self.explain}, no_offer={self.no_offer}, model={self.model!r})"


def parse(args: list[str]) -> Parsed | None:
    """`run`'s options and command, as typer reads them; None for anything only the full CLI handles."""
    opts = Parsed(command=[])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            opts.command = args[i + 1 :]
            break
        if arg == "--explain":
            opts.explain = True
        elif arg == "--no-offer":
            opts.no_offer = True
        elif arg in ("-m", "--model") and i + 1 < len(args):
            opts.model = args[i + 1]
            i += 1
        elif arg.startswith("--model="):
            opts.model = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            return None  # --help, or an option the full CLI explains
        else:
            opts.command = args[i:]  # options stop at the command's name, as in typer's `run`
            break
        i += 1
    return opts if opts.command else None


def record(outcome):
    """Log a finished run and say what it showed (a recovery, a repeated failure); the task, or None.

    Whatever goes wrong here is one line on stderr: the wrapped command's exit code matters more
    than our log, and must never change because of it.
    """
    from learnflow.errors import LearnflowError
    from learnflow.learner import tasks

    try:
        from learnflow.db.store import Store

        task = tasks.record(Store(), outcome)
    except Exception as exc:  # the log is unavailable, or a bug in logging
        from learnflow.db.store import as_database_error

        known = exc if isinstance(exc, LearnflowError) else as_database_error(exc)
        if known is None:
            known = LearnflowError(f"{type(exc).__name__}: {exc}")
        from learnflow.ui import render

        render.notice(f"learnflow: this run was not logged: {known.message}")
        return None
    lines = [line for line in (task.recovery_line, task.streak.line if task.streak else None) if line]
    if task.table_error is not None or lines:
        from learnflow.ui import render  # imported only to say something: most runs say nothing

        if task.table_error is not None:  # a broken commands.toml: said once, the task kept without a skill
            render.error(task.table_error.message, task.table_error.hint)
        for line in lines:
            render.notice(f"learnflow: {line}")
    return task


class Handoff:
    """A failed run that may be explained: the full CLI (cli/run.finish) records it and offers."""

    __slots__ = ("outcome", "parsed")

    def __init__(self, outcome: object, parsed: Parsed) -> None:
        self.outcome, self.parsed = outcome, parsed


def main(args: list[str]) -> int | Handoff | None:
    """Run and record; the exit code to leave with, a Handoff for a failure to explain, or None to
    let the full CLI handle `run` from the start (nothing has run then)."""
    parsed = parse(args)
    if parsed is None:
        return None
    from learnflow.errors import LearnflowError
    from learnflow.tutor import wrap

    try:
        outcome = wrap.run(parsed.command)
    except LearnflowError as exc:
        _error(exc.message, exc.hint)
        return int(exc.exit_code)
    if outcome.why:
        _error(outcome.why)  # the command never ran: nothing of its own says so
    if outcome.failed and not parsed.no_offer and not outcome.interrupted:  # Ctrl-C: stopped, not failed
        return Handoff(outcome, parsed)  # the entry point passes it to cli/run.finish
    try:
        record(outcome)
    except KeyboardInterrupt:
        _error(f"Interrupted; `{parsed.command[0]}` exited {outcome.exit_code}.")
    if outcome.interrupted:
        _die_of_sigint()
    return outcome.exit_code


def _die_of_sigint() -> None:
    """End as the command did, killed by SIGINT (the shell's $? is 130 either way). A shell running a
    script or loop stops it only when its foreground command died of the signal; an exit(130) reads
    as "the command handled Ctrl-C", and `for f in *; do lf cmd "$f"; done` went on to the next file."""
    import os
    import signal
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def _error(message: str, hint: str | None = None) -> None:
    from learnflow.ui import render  # imported only to say something: most runs say nothing

    render.error(message, hint)
