"""The interactive prompter: asks a person at the terminal what `reflect` and `check` need.

It implements the `reflect.session.Answers` provider with rich prompts. With --json the
conversation goes to stderr and stdout stays JSON.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from learnflow.ui import render

if TYPE_CHECKING:
    from learnflow.reflect.actions import Action
    from learnflow.reflect.session import Attempt, Question


class TerminalAnswers:
    """The `reflect.Answers` provider at a terminal: rich prompts. With --json the conversation
    goes to stderr and stdout stays JSON. (Duck-typed, so this module does not import the core.)"""

    def __init__(self, *, stderr: bool = False):

        self.console = render.err_console() if stderr else render._console()
        self._step: str | None = None
        self._rated = False

    # -- helpers --------------------------------------------------------------------

    def _say(self, text: str = "", style: str | None = None) -> None:
        from rich.markup import escape

        self.console.print(f"[{style}]{escape(text)}[/]" if style and text else escape(text))

    def _markdown(self, text: str) -> None:
        from rich.markdown import Markdown

        self.console.print(Markdown(text))

    def _ask(self, prompt: str, *, suffix: str = ": ", default: Any = "", **kw) -> str:
        from rich.prompt import Prompt

        ask = Prompt(prompt, console=self.console, **kw)
        ask.prompt_suffix = suffix
        try:
            answer = ask(default=default)
        except UnicodeDecodeError:  # piped bytes that are not UTF-8, read by a strict stdin
            from learnflow.errors import BadInput

            raise BadInput("The answer is not UTF-8 text.", hint="Type it, or give the answers in a UTF-8 file with --answers.") from None
        # Under a C locale stdin smuggles such bytes in as lone surrogates, which nothing can store.
        return answer.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if isinstance(answer, str) else answer

    def _text(self, prompt: str) -> str:
        """One line, or `e` for $EDITOR (lines starting with # are dropped)."""
        import click

        answer = self._ask(prompt, suffix=" ", show_default=False)
        if answer.strip().lower() != "e":
            return answer
        try:
            edited = click.edit("\n# Write your answer above. Lines starting with # are ignored.\n", extension=".md") or ""
        except click.ClickException as exc:  # no editor installed, or it failed
            self._say(f"The editor did not open ({exc.message}); set $EDITOR, or answer on one line.", "yellow")
            return self._text(prompt)
        return "\n".join(ln for ln in edited.splitlines() if not ln.startswith("#")).strip()

    # -- the steps ------------------------------------------------------------------

    def show(self, event: str, data) -> None:
        if event == "start":
            self._say(f"Reflection #{data.id} · {data.summary.label}", "bold")
            self._say("Enter skips a question · e opens $EDITOR for a longer answer · Ctrl-C stops and keeps what you answered.", "dim")
        elif event == "narrative":
            self._say("\nWhat happened", "bold")
            self._markdown(data)
        elif event == "judged":
            mark = ("✓ Right", "green") if data.correct else ("✗ Not yet", "red")
            self._say(f"{mark[0]} ({data.method})", mark[1])
            if data.feedback:
                self._say(data.feedback)
            if data.expected and data.method != "self" and (not data.correct or data.score < 0.9):
                self._say(f"Expected: {data.expected}", "dim")
            self._say(f"Next review in {_days(data.interval_days)} ({data.rating_name}).", "dim")
            if not data.correct:
                self._say(f'Judged wrong but you think you were right? learnflow appeal {data.id} "why"', "dim")
        elif event == "feedback":
            self._say(f"\nFeedback ({'model' if data.method == 'model' else 'offline coach'})", "bold")
            self._markdown(data.text)
        elif event == "calibration":
            self._say(f"Calibration: {data.message}", "dim")

    def action_status(self, action: Action) -> str | None:
        self._say(f"{action.when.capitalize()} you planned to: {action.text}", "bold")
        answer = self._ask("Done?", choices=["y", "n", "drop"], default="n")
        return {"y": "done", "drop": "dropped"}.get(answer)

    def reflection(self, question: Question) -> str | None:
        if question.step != self._step:
            self._step = question.step
            self._say(f"\n{question.step_label}", "bold cyan")
        self._say(question.text, "bold")
        if question.hint:
            self._say(question.hint, "dim")
        return self._text(">")

    def attempt(self, check, index: int, total: int) -> Attempt | None:
        from learnflow.reflect.session import Attempt

        origin = {
            "review": "review",
            "probe": "gap probe: measuring a skill of your goals",
            "generated": "a new question the model wrote (`learnflow cards list`)",
        }.get(check.kind, f"from #{check.interaction_id}")
        if check.kind == "review" and check.asked_at:  # said as it is: a card can come due minutes after its question
            from learnflow.timespec import ago

            origin = f"review of #{check.interaction_id}, asked {ago(check.asked_at)}"
        self._say(f"\nCheck {index}/{total} · {check.skill} · {origin}", "bold cyan")
        self._say(check.question, "bold")
        sure = self._ask(
            "How sure are you? 1 guessing … 5 certain (s skips)", choices=["1", "2", "3", "4", "5", "s"], show_choices=False, default=...
        )
        if sure == "s":
            return None
        start = time.monotonic()
        answer = self._text("Your answer:")
        return Attempt(answer, int(sure), time.monotonic() - start)

    def self_grade(self, check, judgement) -> bool | None:
        from rich.prompt import Confirm

        if judgement is not None:
            self._say(judgement.feedback)
        if check.expected:
            self._say(f"Expected: {check.expected}", "dim")
        elif check.source_answer:
            self._say("From the original answer:", "dim")
            self._markdown(check.source_answer[:600])
        if judgement is not None and judgement.certain:
            question = "Count your answer as right after all?"
        else:  # nothing could judge it, or the key words could not tell: the person decides
            question = "Compare with the expected answer: did you get it right?"
        return Confirm.ask(question, console=self.console, default=False)

    def skill_rating(self, skill: dict) -> int | None:
        if not self._rated:
            self._rated = True
            self._say("\nRate yourself today (1 novice … 5 expert; Enter skips)", "bold cyan")
        answer = self._ask(skill["name"], choices=["1", "2", "3", "4", "5", ""], show_choices=False, show_default=False)
        return int(answer) if answer else None

    def extra_skills(self) -> list[str]:
        return []


def _days(days: float) -> str:
    whole = round(days)
    return "1 day" if whole <= 1 else f"{whole} days"
