"""Drawing for the learner's own moves on an answer: `answer` (and ask's inline check), `flag`, `appeal`.

Gets the dataclasses of practice/inline.py (duck-typed: this module does not import the core).
"""

from __future__ import annotations

import sys

from learnflow.ui import render
from learnflow.ui.prompter import TerminalAnswers, _days


class _Plain:
    """Plain lines for a pipe or NO_COLOR: the same words, without paying ~30 ms to import rich."""

    def __init__(self, stream):
        self.stream = stream


def _console(stderr: bool):
    stream = sys.stderr if stderr else sys.stdout
    if not render.fancy(stream):
        return _Plain(stream)
    return render.err_console() if stderr else render._console()


def _say(console, text: str, style: str | None = None) -> None:
    if isinstance(console, _Plain):
        console.stream.write(text + "\n")
        return
    from rich.markup import escape

    console.print(f"[{style}]{escape(text)}[/]" if style and text else escape(text))


def inline_prompt(question: str) -> str:
    """One line on the terminal after an answer: the check question; Enter skips (returns "")."""
    from rich.markup import escape

    console = render.err_console()
    return console.input(f"[bold cyan]Check:[/] {escape(question)} [dim]— your answer, Enter skips:[/] ")


def self_grader(*, stderr: bool = True):
    """The terminal's self-grading, as `learnflow check` asks it (keywords said wrong, or nothing could judge)."""
    return TerminalAnswers(stderr=stderr).self_grade


def verdict(result, *, stderr: bool = False) -> None:
    """An inline answer's verdict: right or not yet, the feedback, the expected answer when wrong,
    when it comes back, and how to appeal a wrong verdict."""
    console = _console(stderr)
    if result.correct is None:
        _say(console, f"Not judged (check result #{result.id})", "yellow")
        _say(console, result.feedback)
        return
    mark = ("✓ Right", "green") if result.correct else ("✗ Not yet", "red")
    _say(console, f"{mark[0]} ({result.method}) · {result.skill}", mark[1])
    if result.feedback:
        _say(console, result.feedback)
    if result.expected and result.method != "self" and (not result.correct or (result.score or 0) < 0.9):
        _say(console, f"Expected: {result.expected}", "dim")
    _say(console, f"Next review in {_days(result.interval_days)} ({result.rating_name}).", "dim")
    if not result.correct:
        _say(console, f'Judged wrong but you think you were right? learnflow appeal {result.id} "why"', "dim")


def flagged(result) -> None:
    note = " Counted as evaluating AI output." if result.evidence else ""
    render.notice(f"Flagged answer #{result.interaction_id} as {result.verdict} (flag #{result.id}).{note} "
                  f"The coach will not reuse it; `learnflow show {result.interaction_id}` shows the flag.")  # fmt: skip


def appealed(result) -> None:
    render.notice(
        f"Appeal #{result.id} accepted: check result #{result.check_result_id} ({result.skill}) now counts as right "
        f"(score {result.new_score:g}, was {result.old_method}: wrong). The old verdict is kept."
    )
