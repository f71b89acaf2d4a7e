"""`learnflow reflect` and `learnflow reflections`: the day's-end loop at the terminal.

The loop itself is `learnflow.reflect.session` (and `learnflow.practice.checks` for
`check`); the terminal prompter is `learnflow.ui.prompter`. This module parses and shows.
"""

import sys
from typing import Annotated, Optional

import typer

from learnflow.cli.edge import interruptible
from learnflow.cli.options import JsonOpt, ModelOpt, open_store, read_stdin_text


def remind_action(store) -> None:
    """The `ask` hook: one stderr line about the latest open action item, at most once a day."""
    from learnflow.reflect.actions import open_action
    from learnflow.ui import render

    action = open_action(store, once_a_day=True)
    if action:
        render.notice(f"{action.when.capitalize()} you planned to: {action.text} — done? `learnflow reflect --done {action.id}`")


SinceOpt = Annotated[
    Optional[str],
    typer.Option(
        "--since", metavar="WHEN", help="Period to reflect on: 2d, 12h, 1w, today, yesterday, or a date (2024-06-03).", show_default=False
    ),
]


def reflect(
    since: SinceOpt = None,
    answers: Annotated[
        Optional[str],
        typer.Option("--answers", metavar="FILE", help="Answer from a TOML file instead of prompts (- reads stdin).", show_default=False),
    ] = None,
    done: Annotated[
        Optional[int], typer.Option("--done", metavar="ID", help="Mark an action item done and exit.", show_default=False)
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Go on with the last interrupted reflection: what you answered is kept, the rest is asked.")
    ] = False,
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
    from learnflow.reflect import session as core
    from learnflow.reflect.actions import resolve_action
    from learnflow.timespec import parse_since
    from learnflow.tutor.modelcall import ModelCall
    from learnflow.ui import render

    store = open_store()
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

    def kept() -> str:
        if session.discarded:
            return "Nothing was answered, so no reflection was kept."
        return f"What you answered is kept in reflection #{session.id}; `learnflow reflect --resume` goes on from there."

    with interruptible(
        kept,
        command="reflect",
        ended="before the reflection did",
        partial=(lambda: None if session.discarded else core.load(store, session.id)) if json_ else None,
    ):
        out = core.run(session, provider)
    for warning in out["warnings"]:
        render.notice(f"The model could not help with {warning}; used the offline coach instead.")
    if json_:
        render.print_json(out)
    elif answers:
        from learnflow.reflect.export import to_markdown

        render.markdown(to_markdown(out))
        render.notice(f"Calibration: {out['calibration']['message']}")
    else:
        render.notice(f"Saved as reflection #{session.id}. For your journal: learnflow reflections {session.id} --format md")


def check(
    count: Annotated[
        int,
        typer.Option(
            "-n",
            "--count",
            metavar="N",
            min=1,
            max=30,
            help="How many checks at most. After `goals role`, the role's skill count makes it a placement.",
        ),
    ] = 5,
    skill: Annotated[
        Optional[str],
        typer.Option(
            "--skill", metavar="SKILL", help="Only this skill (goal or not): its due reviews, then its skill cards.", show_default=False
        ),
    ] = None,
    answers: Annotated[
        Optional[str],
        typer.Option(
            "--answers",
            metavar="FILE",
            help="Answer from a TOML file ([[checks]] entries) instead of prompts (- reads stdin).",
            show_default=False,
        ),
    ] = None,
    model: ModelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Answer a few checks now: due reviews first, then probes on the goal skills gaps knows least about.

    Each answer is judged (by the model, or offline by the card's key words and you), scheduled for
    review, and counted as evidence by `learnflow gaps`. Right after `learnflow goals role …`, with -n
    set to the role's skill count (`goals role` prints it), it is a placement: one question per skill of
    the role, so every skill gets a first measurement.

    A skill with no guide gets questions written by the connected model (kept as generated cards:
    `learnflow cards list|edit|retire`); offline you are told how to add a guide and offered a self-rating.

    \b
    Answers file (TOML): [[checks]] entries, in the order the checks come:
      answer = "..."  confidence = 1-5  skill = "git" (optional)  self_grade = true|false (optional)
      [ratings] gdpr = 3   (a self-rating, asked only for a skill with nothing to check)

    \b
    Examples:
      learnflow check
      learnflow goals role backend-developer && learnflow check -n 12
      learnflow check --skill sql -n 3
      learnflow check --answers answers.toml --json
    """
    from learnflow.practice import checks as core
    from learnflow.tutor.modelcall import ModelCall
    from learnflow.ui import render

    store = open_store()
    if skill is not None:
        from learnflow.learner.goals import validate

        validate(skill, 0.5, 1.0)  # an unknown skill is bad input, with "did you mean"
    provider = _provider(answers, json_, "check")
    session = core.Practice(store, model=ModelCall.from_config(model=model), limit=count, skill=skill)
    with interruptible(lambda: f"{len(session.results)} answered check(s) are kept.", command="check",
                       partial=(lambda: core.summary(session)) if json_ else None):  # fmt: skip
        core.ask_checks(session, provider)
    out = core.summary(session)
    if session.fallback:
        render.notice(f"The model could not be reached to write a question on {skill} ({session.fallback.rstrip('.')}); "
                      "offline instead: how to add a guide, and a self-rating (`learnflow config set fallback off` makes this an error).")  # fmt: skip
    for warning in out["warnings"] if not session.fallback else ():  # the fallback notice says it
        render.notice(f"The model could not help with {warning}; used the offline coach instead.")
    if session.no_cards and skill:
        # The self-rating is a prompt too: input that ends there ends like a check's (exit 3, the answers-file hint).
        with interruptible(lambda: "Nothing was stored.", command="check", ended="before the self-rating",
                           partial=(lambda: out) if json_ else None):  # fmt: skip
            out["self_rating"] = _rate_instead(store, skill, provider, json_, reached=not session.fallback)
    if json_:
        render.print_json(out)
        return
    if session.generated:
        render.notice(f"The model wrote {len(session.generated)} question(s) on {skill}: `learnflow cards list` shows them; "
                      "`cards edit ID` changes one, `cards retire ID` drops it.")  # fmt: skip
    if session.no_cards:
        pass  # said by _rate_instead
    elif not session.asked:
        from learnflow.learner.goals import goals

        render.notice("Nothing to check now: no review is due and every goal skill has been probed."
                      if goals(store) else "Nothing to check now: no review is due and no goals are set to probe. "
                      "`learnflow goals role --help` picks a role's skills to measure.")  # fmt: skip
    elif not out["answered"]:
        render.notice("No check answered (a skipped review stays due).")
    else:
        render.notice(f"{out['right']}/{out['answered']} right. `learnflow gaps` shows what they say about your skills.")


def _rate_instead(store, skill: str, provider, json_: bool, *, reached: bool = True) -> int | None:
    """A skill with no guide and no model to write a question: say how to add one, and offer a self-rating.
    `reached` False: a model is set but could not be reached (the `fallback` setting)."""
    from learnflow.learner.skills import taxonomy
    from learnflow.practice.generated import rate_skill
    from learnflow.ui import render

    info = taxonomy().get(skill)
    model = (
        "without a model learnflow cannot write a question for it. Connect a model (`learnflow config set model …` or -m) "
        "and learnflow writes one"
        if reached
        else "the model could not be reached to write a question for it. Run this again when the model server answers"
    )
    render.notice(
        f"Nothing to check on {skill} yet: it has no guide (skill card), and {model}; or add a guide "
        f"for {skill} to a content pack (cards/*.toml, see docs/content.md and `learnflow content --help`). "
        "Meanwhile, a self-rating counts as (weak) evidence for `learnflow gaps`."
    )
    rating = provider.skill_rating({"skill": skill, "name": info.name if info else skill})
    if rating is None:
        return None
    rate_skill(store, skill, int(rating))
    if not json_:
        render.notice(f"Noted: {skill} {rating}/5. `learnflow gaps` counts it.")
    return int(rating)


def _provider(answers: str | None, json_: bool, command: str):
    """Answers from a file (validated before anything is written), else prompts at the terminal."""
    if answers:
        from learnflow.reflect.answers import load_answers

        return load_answers(_read_answers(answers), answers, command=command)
    from learnflow.ui.prompter import TerminalAnswers

    return TerminalAnswers(stderr=json_)


def _read_answers(path: str) -> str:
    from learnflow.errors import BadInput

    if path == "-":
        return read_stdin_text()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise BadInput(f"Cannot read the answers file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise BadInput(f"The answers file {path} is not UTF-8 text.") from None


def reflections(
    reflection_id: Annotated[
        Optional[int], typer.Argument(metavar="[N]", help="Only this reflection, in full (like `show N`).", show_default=False)
    ] = None,
    format_: Annotated[
        Optional[str],
        typer.Option("--format", "-F", metavar="FORMAT", help="Print as a document: md (Markdown for your journal).", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option("-n", "--limit", metavar="N", help="How many, newest first.")] = 20,
    old_id: Annotated[Optional[int], typer.Option("--id", hidden=True, show_default=False)] = None,
    export: Annotated[Optional[str], typer.Option("--export", hidden=True, show_default=False)] = None,
    json_: JsonOpt = False,
) -> None:
    """List past reflections; `reflections N` shows one; --format md prints Markdown to paste into a journal.

    \b
    Examples:
      learnflow reflections
      learnflow reflections 4
      learnflow reflections --format md > journal.md
      learnflow reflections 4 --format md | pbcopy
    """
    from learnflow.ui import render

    # The old spellings still work, with a word on the new ones (the same names as `show N` and `export --format`).
    if old_id is not None:
        render.notice("`reflections --id N` is now `reflections N`.")
        reflection_id = reflection_id if reflection_id is not None else old_id
    if export is not None:
        render.notice("`reflections --export md` is now `reflections --format md` (as in `export --format`).")
        format_ = format_ or export
    from learnflow.errors import BadInput
    from learnflow.reflect import session as core
    from learnflow.reflect.actions import open_actions
    from learnflow.reflect.export import journal, to_markdown

    if format_ is not None and format_ != "md":
        raise BadInput(f"--format {format_!r} is not a format I can write.", hint="Use --format md (Markdown), or --json.")
    export = format_
    store = open_store()
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
        [
            ("id", "ID"),
            ("when", "When (UTC)"),
            ("status", "Status"),
            ("answers", "Answers"),
            ("checks", "Checks right"),
            ("action", "Action"),
        ],
    )
    for action in open_actions(store, limit=5):
        render.notice(f"Open action #{action.id} ({action.when}): {action.text} — `learnflow reflect --done {action.id}`")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("reflect", rich_help_panel="Work")(reflect)
    app.command("reflections", rich_help_panel="Log")(reflections)
    app.command("check", rich_help_panel="Work")(check)
