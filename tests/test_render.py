"""Streamed answers on a real terminal: every line once in the scrollback, whatever the length."""

import fcntl
import os
import struct
import sys
import termios

from vt import Terminal

LEARNFLOW = [sys.executable, "-m", "learnflow"]
ROWS, COLS = 40, 80


def run_in_pty(args: list[str], env: dict) -> tuple[int, str]:
    """Run learnflow with a real terminal of ROWS × COLS as its stdin, stdout and stderr."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child: never return into the test runner
        try:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execvpe(LEARNFLOW[0], [*LEARNFLOW, *args], env)
        finally:
            os._exit(127)
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), data.decode("utf-8", "replace")


def terminal_env() -> dict:
    env = dict(os.environ, TERM="xterm-256color", LINES=str(ROWS), COLUMNS=str(COLS))
    env.pop("NO_COLOR", None)
    return env


def long_answer() -> list[str]:
    """An answer three screens tall: a title, paragraphs, a list, and a code block taller than the screen."""
    parts = ["# Rebasing safely", ""]
    for i in range(1, 41):
        parts += [f"Paragraph {i:02d} explains one more step of the rebase.", ""]
    parts += [f"- list item {i:02d}" for i in range(1, 11)] + [""]
    parts += ["```bash"] + [f"echo code line {i:02d}" for i in range(1, 51)] + ["```", "", "**Check:** what does rebase rewrite?"]
    return parts


def test_an_answer_taller_than_the_terminal_appears_once_in_the_scrollback(cli, openai_env):
    cli("config", "set", "tagging", "offline")  # one request: the answer
    text = "\n".join(long_answer())
    # Small chunks with a pause: the live view redraws many times while the answer grows.
    chunks = [text[i : i + 24] for i in range(0, len(text), 24)]
    openai_env.script({"chunks": chunks, "chunk_delay": 0.004})
    code, out = run_in_pty(["ask", "--direct", "--no-log", "how do I rebase?"], terminal_env())
    assert code == 0, out[-2000:]
    term = Terminal(ROWS, COLS)
    term.feed(out)
    lines = [line.strip() for line in term.transcript()]
    expected = (
        ["Rebasing safely"]
        + [f"Paragraph {i:02d} explains one more step of the rebase." for i in range(1, 41)]
        + [f"• list item {i:02d}" for i in range(1, 11)]
        + [f"echo code line {i:02d}" for i in range(1, 51)]
    )
    for want in expected:
        assert lines.count(want) == 1, f"{want!r} appears {lines.count(want)} times"
    shown = [line for line in lines if line in expected]
    assert shown == expected  # in order, nothing missing
    assert sum("what does rebase rewrite?" in line for line in lines) == 1


def test_a_short_answer_still_renders_as_markdown(cli, openai_env):
    cli("config", "set", "tagging", "offline")
    openai_env.script({"chunks": ["# Title\n\nSome ", "**bold** text.\n\n- one\n", "- two\n"], "chunk_delay": 0.05})
    code, out = run_in_pty(["ask", "--direct", "--no-log", "q"], terminal_env())
    assert code == 0
    term = Terminal(ROWS, COLS)
    term.feed(out)
    lines = [line.strip() for line in term.transcript()]
    assert "Title" in lines and "Some bold text." in lines and "• one" in lines and "• two" in lines
    assert "**bold**" not in out  # rendered, not raw
