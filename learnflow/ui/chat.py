"""Drawing and line input for `learnflow chat`. Gets data from tutor/chat.py (duck-typed).

At a terminal: a banner, a prompt with line editing (readline, history kept in memory only: a
history file would keep the secrets people paste), and several lines pasted at once read as one
turn. Without one: plain lines from stdin, no prompt, so a script can drive the chat.
"""

from __future__ import annotations

import select
import sys

from learnflow.ui import render

PROMPT = "> "
BLOCK_PROMPT = "… "


def enable_line_editing() -> None:
    """Arrow keys and in-session history for input(); nothing is written to disk."""
    try:
        import readline  # noqa: F401  (importing it is what turns line editing on)
    except ImportError:  # e.g. Windows without pyreadline
        pass


def read_lines(*, interactive: bool, in_block: bool) -> list[str]:
    """The next line, plus any that were pasted with it. EOFError at the end of the input."""
    if not interactive:
        # A scripted chat's stdin may hold any bytes: what is not UTF-8 becomes U+FFFD, never an error.
        stream = getattr(sys.stdin, "buffer", None)
        raw = stream.readline() if stream is not None else sys.stdin.readline()
        if not raw:
            raise EOFError
        return [raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw]
    lines = [input(BLOCK_PROMPT if in_block else PROMPT)]
    # A paste arrives faster than anyone types: what is already waiting belongs to the same turn.
    while _waiting(0.03):
        lines.append(input(""))
    return lines


def _waiting(timeout: float) -> bool:
    try:
        return bool(select.select([sys.stdin], [], [], timeout)[0])
    except (OSError, ValueError):  # no selectable stdin
        return False


def banner(choice, *, level: str | None, try_first: bool, context: list[str]) -> None:
    bits = [
        f"Chatting with {choice.model} ({choice.backend})",
        f"level {level or 'from your profile'}",
        f"try first {'on' if try_first else 'off'}",
    ]
    render.notice(" · ".join(bits))
    if context:
        render.notice(f"With your first question: {', '.join(context)}.")
    render.notice("Type /help for commands, !multi … !end for several lines, !CMD to run a command; Ctrl-D ends.")


def help_text(commands: dict[str, str]) -> None:
    lines = [
        *commands.values(),
        "!CMD ARGS             run a command (recorded like `learnflow run`); its output goes with your next question",
        "!multi … !end         several lines as one turn (`!multi X` … `!end X` if the text holds a line !end)",
        "Ctrl-C                cancel the answer being written (it is kept, marked interrupted), or clear the line",
        "Ctrl-D                end the chat",
    ]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def cleared() -> None:
    """Ctrl-C at the prompt: the line is dropped; a fresh prompt follows."""
    sys.stderr.write("\n")
    sys.stderr.flush()


def command_ran(outcome, record) -> None:
    if record.table_error is not None:
        render.error(record.table_error.message, record.table_error.hint)
    for line in (record.recovery_line, record.streak.line if record.streak else None):
        if line:
            render.notice(f"learnflow: {line}")
    how = f"failed (exit {outcome.exit_code})" if outcome.failed else "succeeded"
    render.notice(f"Task #{record.id} {how}; its output goes with your next question" + (", e.g. why?" if outcome.failed else "."))


def summary(s) -> None:
    if not s.questions and not s.commands:
        render.notice("Chat ended: nothing asked.")
        return
    bits = [f"{s.questions} question{'s' if s.questions != 1 else ''}"]
    states = [f"{n} {name}" for n, name in ((s.interrupted, "interrupted"), (s.failed, "failed")) if n]
    if states:
        bits[0] += f" ({', '.join(states)})"
    if s.commands:
        bits.append(f"{s.commands} command{'s' if s.commands != 1 else ''} run ({s.failed_commands} failed)")
    where = f"conversation {s.conversation_id}, #{s.first_id}–#{s.last_id}" if s.first_id is not None else ""
    render.notice(f"Chat ended: {', '.join(bits)}" + (f" — {where}; `learnflow history` lists them." if where else "."))
