"""`learnflow run`, `learnflow explain`, `learnflow shell-init`: learning at the moment a command fails."""

import json
import os
import sys
from typing import Annotated, Optional

import typer

from learnflow.cli.options import JsonOpt, ModelOpt, open_store


def _explain_task(task: dict, *, model: Optional[str], json_: bool) -> None:
    from learnflow.cli.ask import stream_and_render
    from learnflow.tutor.ask import Ask, AskOptions
    from learnflow.tutor.context import Part
    from learnflow.tutor.wrap import Outcome, failure_question

    try:
        argv = json.loads(task["command"] or "")
    except (TypeError, ValueError):  # a row not written by `run` (a repaired or older log): the text as it is
        argv = [str(task["command"] or "?")]
    outcome = Outcome(
        argv=argv if isinstance(argv, list) else [str(argv)], cwd=task["cwd"], exit_code=task["exit_code"],
        duration_ms=task["duration_ms"], stdout_tail=task["stdout_tail"], stderr_tail=task["stderr_tail"],
    )  # fmt: skip
    parts = [Part("command stderr (tail)", outcome.stderr_tail)] if outcome.stderr_tail.strip() else []
    if outcome.stdout_tail.strip():
        parts.insert(0, Part("command stdout (tail)", outcome.stdout_tail))
    store = open_store()
    # Try first: at a terminal the person says what they think went wrong before the diagnosis
    # (Enter skips); their guess is critiqued and becomes an attempt. Never asked of a script.
    attempt = None
    if not json_ and sys.stdin.isatty() and sys.stderr.isatty():
        from learnflow.cli.ask import ask_attempt

        attempt = ask_attempt("What do you think went wrong? (Enter skips)").strip() or None
    run = Ask(store, AskOptions(question=failure_question(outcome), parts=parts, model=model, attempt=attempt))
    store.link_task(task["id"], run.id)
    stream_and_render(run, json_=json_)


def run(
    command: Annotated[list[str], typer.Argument(metavar="-- CMD [ARGS]...", help="The command to run, after --.")],
    explain: Annotated[bool, typer.Option("--explain", help="If it fails, explain the failure without asking.")] = False,
    no_offer: Annotated[bool, typer.Option("--no-offer", help="Never offer an explanation (just record the run).")] = False,
    model: ModelOpt = None,
) -> None:
    """Run a command unchanged; when it fails, learn why.

    Output stays live (colours kept) and learnflow exits with the command's own exit code.
    The run is logged; on failure you are offered (or with --explain given) an explanation.

    \b
    Examples:
      learnflow run -- pytest -x
      learnflow run --explain -- python -c "import nosuchmodule"
    """
    from learnflow.tutor import wrap
    from learnflow.ui import render

    outcome = wrap.run(command)
    if outcome.why:
        render.error(outcome.why)  # the command never ran: nothing of its own says so
    raise typer.Exit(finish(outcome, command, explain=explain, no_offer=no_offer, model=model))


def finish(outcome, command: list[str], *, explain: bool, no_offer: bool, model: Optional[str]) -> int:
    """Record a finished run, offer (or give) the explanation of a failure; the exit code to leave with.

    Shared with the fast path of `lf` (cli/quickrun.py), which hands a failure over to here.
    """
    from learnflow.ui import render

    try:
        _after(outcome, command, explain=explain, no_offer=no_offer, model=model)
    except (KeyboardInterrupt, typer.Abort):  # typer.Abort: Ctrl-C at a typer prompt
        # Ctrl-C while recording, at the offer or during the explanation: the command's own code
        # still stands (a script after `lf` must see what the command did, not our 130).
        render.error(f"Interrupted; `{command[0]}` exited {outcome.exit_code}.")
    return outcome.exit_code


def _after(outcome, command: list[str], *, explain: bool, no_offer: bool, model: Optional[str]) -> None:
    """Record the run, then offer (or give) the explanation of a failure."""
    from learnflow.cli.quickrun import record
    from learnflow.errors import LearnflowError
    from learnflow.ui import render

    task = record(outcome)
    if task is None:
        return
    task_id = task.id
    # Nothing to offer for a command that never ran (the line above says why) or that Ctrl-C stopped.
    if outcome.failed and not no_offer and not (outcome.why and not explain) and not getattr(outcome, "interrupted", False):
        wanted = explain
        if not wanted and sys.stdin.isatty() and sys.stderr.isatty():
            import signal

            # Ctrl-C at this prompt must stop it (the command's code still stands, see finish): make sure
            # SIGINT raises here, whatever the wrapped command's run left behind.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            wanted = typer.confirm(f"`{command[0]}` failed (exit {outcome.exit_code}). Explain it?", default=True, err=True)
        elif not wanted:
            render.notice(f"learnflow: exit {outcome.exit_code}. `learnflow explain` explains this failure (task #{task_id}).")
        if wanted:
            try:
                _explain_task(open_store().get_task(task_id), model=model, json_=False)
            except BrokenPipeError:  # `learnflow run … | head`: the reader left; the exit code still matters
                sys.stdout = open(os.devnull, "w")
            except LearnflowError as exc:  # the command's exit code matters more than our explanation
                render.error(exc.message, exc.hint)


def explain(
    task_id: Annotated[Optional[int], typer.Argument(metavar="[TASK]", help="Task id (default: the last failed one).")] = None,
    again: Annotated[bool, typer.Option("--again", help="Ask anew even if this failure was explained already.")] = False,
    model: ModelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Explain the last command that failed under `learnflow run` (without re-running it).

    A failure explained already (say by `run --explain`) is shown again from the log, not asked twice.
    With --json, prints one JSON record: the answer and how it was produced, as `ask --json` does.
    """
    store = open_store()
    task = store.get_task(task_id)
    if task.get("interaction_id") and not again:
        row = store.get(task["interaction_id"])
        if row["status"] == "ok" and row["answer"]:
            from learnflow.ui import render

            if json_:
                render.print_json(row)
            else:
                render.markdown(row["answer"])
                render.notice(f"Explained before as #{row['id']} ({row['created_at'][:16].replace('T', ' ')} UTC); --again asks anew.")
            return
    _explain_task(task, model=model, json_=json_)


def shell_init(shell: Annotated[str, typer.Argument(help="bash, zsh or fish.")] = "bash") -> None:
    """Print shell integration: `lf CMD` wraps a command, `lf?` or Alt-? explains the last failure.

    Add to your shell's rc file:  eval "$(learnflow shell-init bash)"  (zsh the same; fish: learnflow shell-init fish | source)
    """
    from learnflow.errors import BadInput
    from learnflow.tutor.wrap import SHELL_SNIPPETS

    if shell not in SHELL_SNIPPETS:
        raise BadInput(f"Unsupported shell {shell!r}.", hint=f"Choose one of: {', '.join(SHELL_SNIPPETS)}.")
    typer.echo(SHELL_SNIPPETS[shell], nl=False)


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    )(run)
    app.command("explain")(explain)
    app.command("shell-init")(shell_init)
