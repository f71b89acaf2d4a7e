"""`learnflow chat`: an interactive session; each question is an `ask` in one conversation.

The session is learnflow.tutor.chat; the drawing and line input are learnflow.ui.chat; each
answer goes through `cli.ask.stream_and_render` and the inline check through `cli.learn.offer_check`,
so a turn behaves exactly like `ask -c`.
"""

import os
import sys
from typing import Annotated, Optional

import typer

from learnflow.cli.options import ModelOpt, open_store, read_stdin


def chat(
    file: Annotated[
        Optional[list[str]],
        typer.Option("-f", "--file", metavar="FILE", help="Attach a file to your first question (repeatable).", show_default=False),
    ] = None,
    model: ModelOpt = None,
    backend: Annotated[Optional[str], typer.Option("--backend", metavar="NAME", help="Force a backend: offline, openai, litellm.")] = None,
    level: Annotated[
        Optional[str],
        typer.Option(
            "--level", metavar="LEVEL", help="Teach at this level: novice, intermediate, expert (/level changes it).", show_default=False
        ),
    ] = None,
    continue_: Annotated[bool, typer.Option("-c", "--continue", help="Continue your last conversation.")] = False,
    cid: Annotated[Optional[int], typer.Option("--cid", metavar="ID", help="Continue the conversation with this id.")] = None,
    try_: Annotated[
        bool, typer.Option("--try", help="Try first on every question: your attempt before the answer (/try toggles).")
    ] = False,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Send and store secrets as they are (off by default).")] = False,
) -> None:
    """Chat: ask, follow up, run commands and discuss them, in one logged conversation.

    \b
    At the prompt:
      a question            answered at your level, ends with a check you may answer (Enter skips)
      !multi … !end         several lines as one question (as in `llm chat`)
      !pytest -x            run a command; its output goes with your next question
      /level expert, /try, /file PATH, /help, /exit (or Ctrl-D)
    Ctrl-C cancels the answer being written (kept, marked interrupted); the chat goes on.

    \b
    Examples:
      learnflow chat
      pytest 2>&1 | learnflow chat          # the output goes with your first question
      learnflow chat -c --level expert
      printf 'what is a rebase?\\nand a merge?\\n' | learnflow chat > answers.txt

    Piped input with a terminal on screen is context for the first question; with no terminal
    (output redirected, CI) each line of stdin is a turn, with no prompts.
    """
    from learnflow.errors import BadInput
    from learnflow.tutor.chat import ChatOptions, ChatSession
    from learnflow.tutor.context import read_file
    from learnflow.ui import chat as ui

    if cid is not None and continue_:
        raise BadInput("Give --cid or -c, not both.")
    parts = []
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive and _terminal_at_hand():
        stdin = read_stdin()  # `pytest | learnflow chat`: the output is context, the turns come from the terminal
        if stdin:
            parts.append(stdin)
        _read_from_terminal()
        interactive = True
    if try_ and not interactive:
        raise BadInput("--try needs a terminal to ask for your attempt.", hint="Run the chat at a terminal, or leave out --try.")
    parts.extend(read_file(path) for path in file or [])
    store = open_store()
    session = ChatSession(store, ChatOptions(parts=parts, model=model, backend=backend, level=level, continue_last=continue_,
                                             cid=cid, redact=not no_redact, try_first=try_))  # fmt: skip
    if cid is not None and not store.conversation_exists(cid):
        from learnflow.errors import NotFound

        raise NotFound(f"No conversation with id {cid}.", hint="`learnflow history` shows conversation ids.")
    if interactive:
        from learnflow.cli.reflect import remind_action
        from learnflow.tutor.choose import choose

        ui.enable_line_editing()
        remind_action(store)
        choice = choose(session.config, model=model, backend=backend)
        ui.banner(choice, level=session.level, try_first=session.try_first, context=[p.label for p in parts])
    code = _loop(session, interactive)
    ui.summary(session.summary())
    raise typer.Exit(code)


def _terminal_at_hand() -> bool:
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        return False
    try:
        os.close(os.open("/dev/tty", os.O_RDONLY))
    except OSError:
        return False
    return True


def _read_from_terminal() -> None:
    """After a pipe ran out, read turns from the terminal on fd 0 (so readline and `!cmd` get it)."""
    fd = os.open("/dev/tty", os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    sys.stdin = open(0, encoding=getattr(sys.stdin, "encoding", None) or "utf-8", errors="replace", closefd=False)


def _loop(session, interactive: bool) -> int:
    """Turns until Ctrl-D or /exit. Returns the exit code: 0, or for a script the first failure's."""
    from learnflow.tutor.chat import Assembler
    from learnflow.ui import chat as ui

    assembler = Assembler()
    code = 0
    while True:
        try:
            lines = ui.read_lines(interactive=interactive, in_block=assembler.in_block)
        except KeyboardInterrupt:  # at the prompt: clear the line (and an open !multi block)
            assembler.cancel()
            ui.cleared()
            continue
        except EOFError:
            if interactive:
                ui.cleared()
            last = assembler.finish()
            entries = [last] if last else []
            lines, ended = [], True
        else:
            entries, ended = assembler.feed_lines(lines), False
        for entry in entries:
            if entry.kind == "exit":
                return code
            try:
                failed = _turn(session, entry, interactive)
            except EOFError:
                return code
            code = code or (failed if not interactive else 0)
        if ended:
            return code


def _turn(session, entry, interactive: bool) -> int:
    """One entry; returns 0 or the exit code of what went wrong (said on stderr, the chat goes on)."""
    from learnflow.cli.edge import Interrupted, interrupts_as_keyboard
    from learnflow.errors import BadInput, ExitCode, LearnflowError
    from learnflow.redact import scrub
    from learnflow.tutor.chat import COMMANDS
    from learnflow.ui import chat as ui
    from learnflow.ui import render

    try:
        if entry.kind == "empty":
            return 0
        if entry.kind == "error":
            raise entry.error
        if entry.kind == "help":
            ui.help_text(COMMANDS)
        elif entry.kind == "level":
            chosen = session.set_level(entry.text)
            render.notice(f"Level {chosen} from now on." if chosen else "Level from your profile, skill by skill, from now on.")
        elif entry.kind == "try" and not interactive and entry.text.strip().lower() != "off":
            raise BadInput("/try needs a terminal to ask for your attempt.", hint="Run the chat at a terminal.")
        elif entry.kind == "try" and entry.text.strip().lower() in ("", "on", "off"):
            render.notice(f"Try first {'on' if session.set_try(entry.text) else 'off'}.")
        elif entry.kind == "try":
            _ask(session, entry.text, interactive, try_now=True)
        elif entry.kind == "file":
            part = session.attach(entry.text)
            render.notice(f"Attached {part.label}; it goes with your next question.")
        elif entry.kind == "run":
            outcome, record = session.run_command(entry.argv)
            ui.command_ran(outcome, record)
        else:
            _ask(session, entry.text, interactive)
    except Interrupted as exc:
        if interrupts_as_keyboard.signalled is not None:  # a kill or a closed terminal ends the chat
            raise
        if exc.exit_code == ExitCode.BAD_INPUT:  # Ctrl-D at the check or try-first prompt: the person is done
            render.notice(exc.message)
            raise EOFError from None
        render.notice(f"{exc.message} The chat goes on.")
    except LearnflowError as exc:
        render.error(scrub(exc.message) or "", scrub(exc.hint))
        return int(exc.exit_code)
    except KeyboardInterrupt:  # e.g. at the try-first prompt: nothing was asked
        render.notice("Cancelled.")
    return 0


def _ask(session, text: str, interactive: bool, *, try_now: bool = False) -> None:
    from learnflow.cli.ask import ask_attempt, stream_and_render
    from learnflow.cli.learn import offer_check

    run = session.ask(text, try_now=try_now, ask_attempt=ask_attempt if interactive else None)
    try:
        result = stream_and_render(run)
    finally:
        session.answered(run)
    offer_check(run, result)  # on a terminal: the answer's check, right away (Enter skips)


def register(app: typer.Typer) -> None:
    app.command("chat", rich_help_panel="Work")(chat)
