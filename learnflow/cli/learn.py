"""`learnflow answer`, `flag` and `appeal`: the learner's own moves on an answer, right after it;
and `offer_check`, the hook at the end of `ask` that offers the check question on a terminal.

The core is `learnflow.practice.inline`; drawing is `learnflow.ui.learn`.
"""

import sys
from typing import Annotated, Optional

import typer

from learnflow.cli.edge import interruptible
from learnflow.cli.options import JsonOpt, ModelOpt, open_store, read_stdin_text

# Enough to see that a piped answer is far too long, without reading a runaway pipe to its end.
_STDIN_LIMIT = 1_000_000


def _read_text(words: Optional[list[str]]) -> str:
    """The words given, or stdin when they are `-` or missing and stdin is piped."""
    text = " ".join(words or [])
    if text.strip() == "-" or (not text.strip() and sys.stdin is not None and not sys.stdin.isatty()):
        return read_stdin_text(_STDIN_LIMIT)
    return text


def _id_and_reason(args: Optional[list[str]], command: str, what: str) -> tuple[Optional[int], str]:
    """`[ID] REASON…`: a leading number (or #number) followed by more words is the id."""
    from learnflow.errors import BadInput

    args = list(args or [])
    head = args[0].lstrip("#") if args else ""
    if head.isdigit() and len(args) == 1:
        raise BadInput(f"Say why in a few words after the {what}.", hint=f'learnflow {command} {head} "why"')
    if head.isdigit():
        return int(head), " ".join(args[1:])
    return None, " ".join(args)


def answer(
    text: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="TEXT", help="Your answer (quotes optional); - or a pipe reads it from stdin.", show_default=False),
    ] = None,
    interaction_id: Annotated[
        Optional[int],
        typer.Option("--id", metavar="N", help="Answer the check of answer N (default: the latest one with a check).", show_default=False),
    ] = None,
    model: ModelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Answer the check question that ended an answer, now, while it is fresh.

    It is judged like a reflect check (by the model, or offline by the skill card's key words; on a
    terminal you may overrule a keyword "wrong"), counted by `learnflow gaps`, and comes back for
    review on an FSRS schedule. A verdict you disagree with can be appealed: `learnflow appeal`.

    \b
    Examples:
      learnflow ask "how do I undo my last commit but keep the changes?"
      learnflow answer "they stay staged, in the index"
      learnflow answer --id 12 "git reflog"
      echo "the reflog keeps it for 90 days" | learnflow answer --json

    --json prints {id, interaction_id, skill, correct, score, method, feedback, next_due}; id is the
    check result (for `learnflow appeal`); correct is null when nothing could judge the answer (kept,
    and asked again by `learnflow check`).
    """
    from learnflow.practice import inline
    from learnflow.tutor.modelcall import ModelCall
    from learnflow.ui import learn as ui
    from learnflow.ui import render

    words = _read_text(text)
    interactive = sys.stdin is not None and sys.stdin.isatty()
    grader = ui.self_grader(stderr=json_ or not sys.stdout.isatty()) if interactive else None
    store = open_store()
    call = ModelCall.from_config(model=model)
    with interruptible(lambda: "Your answer was not stored; `learnflow answer` again when you are ready."):
        result = inline.answer(store, words, interaction_id=interaction_id, model=call, self_grade=grader)
    for warning in call.warnings:
        render.notice(f"The model could not help with {warning}; judged offline instead.")
    if result.redacted and not json_:
        render.notice(f"Redacted {result.redacted} secret(s) in your answer before judging and storing it.")
    if json_:
        render.print_json(result.to_json())
    else:
        ui.verdict(result)


def flag(
    args: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="[ID] REASON", help="The answer's id (default: the latest) and what is wrong with it.", show_default=False),
    ] = None,
    unverified: Annotated[bool, typer.Option("--unverified", help="Mark it not verified (unsure), rather than wrong.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Flag an answer as wrong (or --unverified): catching a model's mistake counts for evaluating AI output.

    A flagged answer is marked in `history`, shown with its reason by `show`, and never offered
    again by the offline coach's "from your log". A reason that starts with "-" goes after `--`.

    \b
    Examples:
      learnflow flag "git pull has no --force-with-lease option"
      learnflow flag 12 "the docs say the default is 30 s, not 60 s"
      learnflow flag --unverified 12 "could not confirm the flag exists in v2"
      learnflow flag 12 -- "--force-with-lease is not a git pull option"
    """
    from learnflow.practice import inline
    from learnflow.ui import learn as ui
    from learnflow.ui import render

    interaction_id, reason = _id_and_reason(args, "flag", "answer's id")
    result = inline.flag(open_store(), reason, interaction_id=interaction_id, verdict="unverified" if unverified else "wrong")
    if json_:
        render.print_json(result)
    else:
        ui.flagged(result)


def appeal(
    args: Annotated[
        Optional[list[str]],
        typer.Argument(
            metavar="[RESULT_ID] REASON",
            help="The check result's id (default: the latest) and why your answer was right.",
            show_default=False,
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Appeal a check judged wrong (by the model or by key words) when your answer was right.

    The result then counts as right (score 0.8, like overruling the key words in `check`) and its
    evidence is replaced; the old verdict and your reason are kept. Each verdict is appealed once.
    The result ids are printed by `answer` and `check` when they judge an answer wrong, and by their --json.

    \b
    Examples:
      learnflow appeal "I said the index, which is the staging area"
      learnflow appeal 7 "reflog and the ORIG_HEAD ref both work"
    """
    from learnflow.practice import inline
    from learnflow.ui import learn as ui
    from learnflow.ui import render

    result_id, reason = _id_and_reason(args, "appeal", "check result's id")
    result = inline.appeal(open_store(), reason, result_id=result_id)
    if json_:
        render.print_json(result)
    else:
        ui.appealed(result)


def offer_check(run, result) -> None:
    """The end of `ask` on a terminal: offer the answer's check question on one line (Enter skips).
    Off with `learnflow config set inline_check off`; `ask` never calls it with --json or --no-log."""
    if not (sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()):
        return
    from learnflow.practice import inline

    if result.status != "ok" or result.id is None or run.config.get("inline_check") != "on":
        return
    if not inline.offered(result.backend, result.check_question):
        return
    from learnflow.errors import BadInput
    from learnflow.tutor.modelcall import ModelCall
    from learnflow.ui import learn as ui
    from learnflow.ui import render

    later = f"`learnflow answer --id {result.id}` answers its check later."
    with interruptible(lambda: f"The answer is kept as #{result.id}; {later}"):
        text = ui.inline_prompt(result.check_question)
        if not text.strip():
            return
        try:
            out = inline.answer(
                run.store, text, interaction_id=result.id, model=ModelCall(run.choice, run.config), self_grade=ui.self_grader()
            )
        except BadInput as exc:  # e.g. far too long: the ask itself went well, so say why and move on
            render.error(exc.message, exc.hint)
            return
    ui.verdict(out)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("answer", rich_help_panel="Work")(answer)
    app.command("flag", rich_help_panel="Work")(flag)
    app.command("appeal", rich_help_panel="Work")(appeal)
