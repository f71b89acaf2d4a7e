"""`learnflow reflect` and `learnflow reflections`: the day's-end loop at the terminal.

The loop itself is `learnflow.reflect`; this module only asks (TerminalAnswers)
and shows. It is imported by `learnflow.cli` once the shared options exist.
"""

import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from learnflow.cli import JsonOpt, ModelOpt

if TYPE_CHECKING:  # the core loads only when a reflect command runs: `--help` stays fast
    from learnflow.action_items import Action
    from learnflow.reflect import Attempt, Question


def remind_action(store) -> None:
    """The `ask` hook: one stderr line about the latest open action item, at most once a day."""
    from learnflow import render
    from learnflow.action_items import open_action

    action = open_action(store, once_a_day=True)
    if action:
        render.notice(f"{action.when.capitalize()} you planned to: {action.text} — done? `learnflow reflect --done {action.id}`")


class TerminalAnswers:
    """The `reflect.Answers` provider at a terminal: rich prompts. With --json the conversation
    goes to stderr and stdout stays JSON. (Duck-typed, so this module does not import the core.)"""

    def __init__(self, *, stderr: bool = False):
        from learnflow import render

        self.console = render.err_console() if stderr else render._console()
        self._step = None
        self._rated = False

    # -- helpers --------------------------------------------------------------------

    def _say(self, text: str = "", style: str | None = None) -> None:
        from rich.markup import escape

        self.console.print(f"[{style}]{escape(text)}[/]" if style and text else escape(text))

    def _markdown(self, text: str) -> None:
        from rich.markdown import Markdown

        self.console.print(Markdown(text))

    def _ask(self, prompt: str, *, suffix: str = ": ", default: str = "", **kw) -> str:
        from rich.prompt import Prompt

        ask = Prompt(prompt, console=self.console, **kw)
        ask.prompt_suffix = suffix
        return ask(default=default)

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
        elif event == "feedback":
            self._say(f"\nFeedback ({'model' if data.method == 'model' else 'offline coach'})", "bold")
            self._markdown(data.text)
        elif event == "calibration":
            self._say(f"Calibration: {data.message}", "dim")

    def action_status(self, action: "Action") -> str | None:
        self._say(f"{action.when.capitalize()} you planned to: {action.text}", "bold")
        answer = self._ask("Done?", choices=["y", "n", "drop"], default="n")
        return {"y": "done", "drop": "dropped"}.get(answer)

    def reflection(self, question: "Question") -> str | None:
        if question.step != self._step:
            self._step = question.step
            self._say(f"\n{question.step_label}", "bold cyan")
        self._say(question.text, "bold")
        if question.hint:
            self._say(question.hint, "dim")
        return self._text(">")

    def attempt(self, check, index: int, total: int) -> "Attempt | None":
        from learnflow.reflect import Attempt

        origin = {"review": "review from an earlier day", "probe": "gap probe: measuring a skill of your goals"}.get(
            check.kind, f"from #{check.interaction_id}")
        self._say(f"\nCheck {index}/{total} · {check.skill} · {origin}", "bold cyan")
        self._say(check.question, "bold")
        sure = self._ask("How sure are you? 1 guessing … 5 certain (s skips)", choices=["1", "2", "3", "4", "5", "s"], show_choices=False, default=...)
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
        question = "Count your answer as right after all?" if judgement is not None else "Did you get it right?"
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


SinceOpt = Annotated[
    Optional[str],
    typer.Option("--since", metavar="WHEN", help="Period to reflect on: 2d, 12h, 1w, today, yesterday, or a date (2024-06-03).", show_default=False),
]


def reflect(
    since: SinceOpt = None,
    answers: Annotated[
        Optional[str], typer.Option("--answers", metavar="FILE", help="Answer from a TOML file instead of prompts (- reads stdin).", show_default=False)
    ] = None,
    done: Annotated[Optional[int], typer.Option("--done", metavar="ID", help="Mark an action item done and exit.", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Go on with the last interrupted reflection: what you answered is kept, the rest is asked.")] = False,
    model: ModelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Reflect on the day: what happened, What? So what? Now what?, checks, feedback (~5 minutes).

    The period defaults to since your last reflection (else since midnight). Answers are saved as
    you give them; Ctrl-C keeps them. Your "Now what?" becomes an action item shown at the next
    ask and reflect.

    \b
    Examples:
      learnflow reflect
      learnflow reflect --since 2d
      learnflow reflect --answers answers.toml --json
      learnflow reflect --done 3
      learnflow reflect --resume

    \b
    Answers file (TOML; every section optional):
      [actions]            done = [3]  dropped = [2]   (earlier action items)
      [reflection]         trying, worked, surprised, rule, action = "text"
      [[checks]]           answer = "..."  confidence = 1-5
                           skill = "git" (optional)  self_grade = true|false (optional)
      [ratings]            git = 3   (1-5 per skill)
    """
    from learnflow import render
    from learnflow import reflect as core
    from learnflow.action_items import resolve_action
    from learnflow.cli import _store
    from learnflow.modelcall import ModelCall
    from learnflow.timespec import parse_since

    store = _store()
    if done is not None:
        row = resolve_action(store, done, "done")
        if json_:
            render.print_json(row)
        else:
            render.notice(f"Marked done: {row['text']}")
        return
    if resume and since:
        from learnflow.errors import BadInput

        raise BadInput("--resume goes on with the interrupted reflection's own period; drop --since.")
    start = parse_since(since) if since else None
    provider = _provider(answers, json_, "reflect")
    call = ModelCall.from_config(model=model)
    session = core.Session.resume(store, model=call) if resume else core.Session(store, model=call, since=start)
    kept = lambda: f"What you answered is kept in reflection #{session.id}; `learnflow reflect --resume` goes on from there."  # noqa: E731
    with _keeping_answers(kept, "reflect", "before the reflection did", partial=(lambda: core.load(store, session.id)) if json_ else None):
        out = core.run(session, provider)
    for warning in out["warnings"]:
        render.notice(f"The model could not help with {warning}; used the offline coach instead.")
    if json_:
        render.print_json(out)
    elif answers:
        from learnflow.reflect_export import to_markdown

        render.markdown(to_markdown(out))
        render.notice(f"Calibration: {out['calibration']['message']}")
    else:
        render.notice(f"Saved as reflection #{session.id}. For your journal: learnflow reflections --export md --id {session.id}")


def check(
    count: Annotated[
        int, typer.Option("-n", "--count", metavar="N", min=1, max=30, help="How many checks at most. After `goals role`, the role's skill count makes it a placement.")
    ] = 5,
    skill: Annotated[
        Optional[str], typer.Option("--skill", metavar="SKILL", help="Only this skill (goal or not): its due reviews, then its skill cards.", show_default=False)
    ] = None,
    answers: Annotated[
        Optional[str], typer.Option("--answers", metavar="FILE", help="Answer from a TOML file ([[checks]] entries) instead of prompts (- reads stdin).", show_default=False)
    ] = None,
    model: ModelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Answer a few checks now: due reviews first, then probes on the goal skills gaps knows least about.

    Each answer is judged (by the model, or offline by the card's key words and you), scheduled for
    review, and counted as evidence by `learnflow gaps`. Right after `learnflow goals role …`, with -n
    set to the role's skill count (`goals role` prints it), it is a placement: one question per skill of
    the role, so every skill gets a first measurement.

    \b
    Answers file (TOML): [[checks]] entries, in the order the checks come:
      answer = "..."  confidence = 1-5  skill = "git" (optional)  self_grade = true|false (optional)

    \b
    Examples:
      learnflow check
      learnflow goals role backend-developer && learnflow check -n 12
      learnflow check --skill sql -n 3
      learnflow check --answers answers.toml --json
    """
    from learnflow import practice as core
    from learnflow import render
    from learnflow.cli import _store
    from learnflow.modelcall import ModelCall

    store = _store()
    if skill is not None:
        from learnflow.goals import validate

        validate(skill, 0.5, 1.0)  # an unknown skill is bad input, with "did you mean"
    provider = _provider(answers, json_, "check")
    session = core.Practice(store, model=ModelCall.from_config(model=model), limit=count, skill=skill)
    with _keeping_answers(lambda: f"{len(session.results)} answered check(s) are kept.", "check",
                          partial=(lambda: core.summary(session)) if json_ else None):  # fmt: skip
        core.ask_checks(session, provider)
    out = core.summary(session)
    for warning in out["warnings"]:
        render.notice(f"The model could not help with {warning}; used the offline coach instead.")
    if json_:
        render.print_json(out)
    elif not session.asked and skill:
        render.notice(f"Nothing to check on {skill}: it has no skill cards, and no earlier check of it is in review.")
    elif not session.asked:
        from learnflow.goals import goals

        render.notice("Nothing to check now: no review is due and every goal skill has been probed."
                      if goals(store.db) else "Nothing to check now: no review is due and no goals are set to probe. "
                      "`learnflow goals role --help` picks a role's skills to measure.")  # fmt: skip
    elif not out["answered"]:
        render.notice("No check answered (a skipped review stays due).")
    else:
        render.notice(f"{out['right']}/{out['answered']} right. `learnflow gaps` shows what they say about your skills.")


def _provider(answers: str | None, json_: bool, command: str):
    """Answers from a file (validated before anything is written), else prompts at the terminal."""
    if answers:
        from learnflow.reflect_answers import load_answers

        return load_answers(_read_answers(answers), answers, command=command)
    return TerminalAnswers(stderr=json_)


@contextmanager
def _keeping_answers(kept, command: str, ended: str = "", *, partial=None):
    """Ctrl-C (exit 130) and input that runs out (exit 3) end the session, saying what was kept;
    with --json, `partial()` (what was kept, as data) still goes to stdout for the script."""
    from learnflow import render
    from learnflow.cli import _interrupts_as_keyboard
    from learnflow.errors import ExitCode

    with _interrupts_as_keyboard():
        try:
            yield
        except (KeyboardInterrupt, EOFError) as exc:
            if partial is not None:
                render.print_json(partial())
            if isinstance(exc, KeyboardInterrupt):
                render.error(f"Interrupted. {kept()}")
                raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
            render.error(
                f"The input ended{' ' + ended if ended else ''}. {kept()}",
                hint=f"Without a terminal, give the answers in a file: learnflow {command} --answers answers.toml",
            )
            raise typer.Exit(int(ExitCode.BAD_INPUT)) from None


def _read_answers(path: str) -> str:
    from learnflow.errors import BadInput

    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise BadInput(f"Cannot read the answers file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise BadInput(f"The answers file {path} is not UTF-8 text.") from None


def reflections(
    reflection_id: Annotated[Optional[int], typer.Option("--id", metavar="N", help="Only this reflection, in full.", show_default=False)] = None,
    export: Annotated[
        Optional[str], typer.Option("--export", metavar="FORMAT", help="Print as a document: md (Markdown for your journal).", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option("-n", "--limit", metavar="N", help="How many, newest first.")] = 20,
    json_: JsonOpt = False,
) -> None:
    """List past reflections; --id N shows one; --export md prints Markdown to paste into a journal.

    \b
    Examples:
      learnflow reflections
      learnflow reflections --id 4
      learnflow reflections --export md > journal.md
      learnflow reflections --export md --id 4 | pbcopy
    """
    from learnflow import reflect as core
    from learnflow import render
    from learnflow.action_items import open_actions
    from learnflow.cli import _store
    from learnflow.errors import BadInput
    from learnflow.reflect_export import journal, to_markdown

    if export is not None and export != "md":
        raise BadInput(f"--export {export!r} is not a format I can write.", hint="Use --export md (Markdown).")
    store = _store()
    if reflection_id is not None:
        record = core.load(store, reflection_id)
        if json_:
            render.print_json(record)
        elif export:
            sys.stdout.write(to_markdown(record))
        else:
            render.markdown(to_markdown(record))
        return
    rows = core.list_reflections(store, limit=limit)
    if json_:
        render.print_json(rows)
        return
    if not rows:
        render.notice("No reflections yet: `learnflow reflect` at the end of the day starts one.")
        return
    if export:
        sys.stdout.write(journal([core.load(store, r["id"]) for r in rows]))
        return
    for row in rows:
        row["when"] = row["created_at"][:16].replace("T", " ")
        row["checks"] = f"{row['checks_right']}/{row['checks']}" if row["checks"] else ""
    render.table(
        rows,
        [("id", "ID"), ("when", "When (UTC)"), ("status", "Status"), ("answers", "Answers"), ("checks", "Checks right"), ("action", "Action")],
    )
    for action in open_actions(store, limit=5):
        render.notice(f"Open action #{action.id} ({action.when}): {action.text} — `learnflow reflect --done {action.id}`")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("reflect", rich_help_panel="Work")(reflect)
    app.command("reflections", rich_help_panel="Log")(reflections)
    app.command("check", rich_help_panel="Work")(check)
