"""Everything that draws on the terminal. The core never imports this.

Rich is imported lazily: `--help` and piped output should not pay for it.
Colour and Markdown rendering only on a terminal without NO_COLOR; piped
output is plain text, streamed as it arrives.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from learnflow.controls import strip_controls

# `lf` prints its notices through here on every command typed (cli/quickrun.py): json,
# dataclasses (which imports inspect) and typing are imported only where they are used.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def fancy(stream=None) -> bool:
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def err_console():
    return _console(stderr=True)


def print_json(data: Any) -> None:
    import json
    from dataclasses import asdict, is_dataclass

    if is_dataclass(data) and not isinstance(data, type):
        data = asdict(data)
    # Written piece by piece, not as one string: a reader that stops early (`| head`) is noticed
    # at the next write (exit 141, README "Exit codes"), as for the plain-text tables.
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False, default=str).iterencode(data):
        sys.stdout.write(piece)
    sys.stdout.write("\n")
    sys.stdout.flush()


def error(message: str, hint: str | None = None) -> None:
    message, hint = strip_controls(message), strip_controls(hint) if hint else hint
    if fancy(sys.stderr):
        con = err_console()
        con.print(f"[bold red]Error:[/] {_esc(message)}")
        if hint:
            con.print(f"[yellow]Hint:[/] {_esc(hint)}")
    else:
        sys.stderr.write(f"Error: {message}\n")
        if hint:
            sys.stderr.write(f"Hint: {hint}\n")
    sys.stderr.flush()


def notice(message: str) -> None:
    """A side remark (context cut, tagging): stderr, so stdout stays the answer."""
    message = strip_controls(message)
    if fancy(sys.stderr):
        err_console().print(f"[dim]{_esc(message)}[/]")
    else:
        sys.stderr.write(message + "\n")


@contextmanager
def progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for a long job; yields the callback `(done, total)` to feed it.

    Drawn only when stderr is a terminal that allows it (see `fancy`); otherwise the
    callback does nothing, so pipes and logs stay clean. The bar is removed when the
    job ends, leaving the place to the summary that follows.
    """
    if not fancy(sys.stderr):
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console(), transient=True) as bar:
        task = bar.add_task(description, total=None)  # no total yet: a pulsing bar until the first report
        yield lambda done, total: bar.update(task, completed=done, total=total or None)  # 0: not known (a stream)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def stream_answer(chunks: Iterator[str], *, waiting: str = "Thinking…") -> str:
    """Show the answer as it streams. Returns the full text."""
    try:
        if not fancy(sys.stdout):
            return _stream_plain(chunks, spinner=fancy(sys.stderr), waiting=waiting)
        return _stream_markdown(chunks, waiting)
    finally:
        # A Ctrl-C that lands outside the generator (while drawing) still ends it now, so its log
        # row is finished before the caller goes on (`chat` does); after a full answer a no-op.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _first(chunks: Iterator[str], spinner: bool, waiting: str) -> str | None:
    """Wait for the first chunk, with a spinner on stderr when it is a terminal."""
    if not spinner:
        return next(chunks, None)
    with err_console().status(waiting, spinner="dots"):
        return next(chunks, None)


def _stream_plain(chunks: Iterator[str], *, spinner: bool, waiting: str) -> str:
    text = ""
    first = _first(chunks, spinner, waiting)
    if first is None:
        return text
    for chunk in _chain(first, chunks):
        text += chunk
        sys.stdout.write(strip_controls(chunk))
        sys.stdout.flush()
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
    return text


def _stream_markdown(chunks: Iterator[str], waiting: str) -> str:
    """Markdown as it streams, without ever redrawing above the screen.

    A live region can only be redrawn while it fits on the screen: once it is taller, the lines
    that scrolled away stay in the scrollback and the redraw repeats them (a long answer showed
    its first lines twice). So a block is printed once, for good, as soon as it is finished
    (`_settled`), and only the block being written is live, cut to its last screenful.
    """
    from rich.live import Live

    console = _console()
    first = _first(chunks, True, waiting)
    if first is None:
        return ""
    view = _LiveTail(console)
    # Redrawn from this thread only, as chunks arrive: a refresh thread racing the prints of finished
    # blocks could redraw from a stale height and leave lines behind.
    # Not `with Live(…)`: a Ctrl-C landing inside its __enter__ skips __exit__ and leaves the display
    # live (every later print redraws it), which `chat`, going on after a Ctrl-C, would show.
    live = Live(view, console=console, auto_refresh=False, transient=True, vertical_overflow="crop")
    try:
        live.start()
        drawn = 0.0
        for chunk in _chain(first, chunks):
            if view.add(chunk):  # printing a finished block redraws the live part too
                drawn = time.monotonic()
            elif time.monotonic() - drawn >= 0.1:
                live.refresh()
                drawn = time.monotonic()
    finally:
        live.stop()
        view.finish()  # also after Ctrl-C or a cut stream: the partial answer stays on the screen
    return view.text


_NOT_A_NEW_BLOCK = r"\s|[-*+](\s|$)|\d+[.)]?(\s|$)"  # (compiled on first use) an indented line or a list item: part of the block above


def _settled(text: str) -> int:
    """How much of `text` is finished Markdown: up to the last blank line (outside a fence) that a
    new top-level block follows. Its rendering cannot change whatever comes next."""
    done = pos = 0
    fence: str | None = None
    blank = False
    for line in text.splitlines(keepends=True):
        complete = line.endswith("\n")
        stripped = line.strip()
        if fence is None and blank and stripped and (complete or len(stripped) >= 4) and not re.match(_NOT_A_NEW_BLOCK, line):
            done = pos
        if stripped.startswith(("```", "~~~")) and complete:
            marker = stripped[:3]
            fence = None if fence == marker else (marker if fence is None else fence)
        blank = not stripped and complete
        pos += len(line)
    return done


class _LiveTail:
    """The answer so far: finished blocks printed once above, the block being written drawn live."""

    def __init__(self, console) -> None:
        self.console = console
        self.text = ""
        self.state = ("", 0)  # the text, and how many of its rendered lines are printed for good
        self.settled = 0

    def _lines(self, text: str, console=None, options=None) -> list:
        from rich.markdown import Markdown

        console = console or self.console
        return console.render_lines(Markdown(strip_controls(text)), options or console.options, pad=False)

    def add(self, chunk: str) -> bool:
        """Take a chunk; print the blocks it finished. True when something was printed (and so redrawn)."""
        self.text += chunk
        text, printed = self.text, self.state[1]
        settled = _settled(text)
        if settled > self.settled:
            self.settled = settled
            lines = self._lines(text[:settled])
            if len(lines) > printed:
                self.state = (text, len(lines))  # first, so the live part drawn with the print starts after these lines
                self.console.print(_Lines(lines[printed:]))  # inside the Live: printed above the live part
                return True
        self.state = (text, printed)
        return False

    def finish(self) -> None:
        """After the live part is gone: print what was not printed yet, once."""
        text, printed = self.state
        rest = self._lines(text)[printed:]
        if rest:
            self.console.print(_Lines(rest))

    def __rich_console__(self, console, options):
        text, printed = self.state
        lines = self._lines(text, console, options)[printed:]
        room = max(1, console.size.height - 1)  # never taller than the screen: the redraw must reach its top
        yield _Lines(lines[-room:])


class _Lines:
    """Rendered lines, as a renderable."""

    def __init__(self, lines: list) -> None:
        self.lines = lines

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        for line in self.lines:
            yield from line
            yield Segment.line()


def _chain(first: str, rest: Iterator[str]) -> Iterable[str]:
    yield first
    yield from rest


def footer(result) -> None:
    skills = ", ".join(s["skill"] for s in result.skills)
    bits = [f"#{result.id}" if result.id is not None else "not logged", skills, result.level, result.model]
    if result.tokens_in is not None:
        bits.append(f"{result.tokens_in}→{result.tokens_out} tokens")
    if result.cost:
        bits.append(f"${result.cost:.4f}")
    bits.append(f"{result.latency_ms / 1000:.2f} s")
    notice(" · ".join(bits))


def gap_line(text: str) -> None:
    """learnflow's one line after an answer (the gap and the next step): on stdout, after a blank line."""
    if fancy(sys.stdout):
        _console().print(f"\n[bold]{_esc(text)}[/]")
    else:
        sys.stdout.write(f"\n{text}\n")
        sys.stdout.flush()


def markdown(text: str) -> None:
    text = strip_controls(text)
    if fancy(sys.stdout):
        from rich.markdown import Markdown

        _console().print(Markdown(text))
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def table(rows: list[dict], columns: list[tuple[str, str]], *, title: str | None = None) -> None:
    """A table on a terminal; tab-separated lines when piped (easy to cut/awk)."""
    if not fancy(sys.stdout):
        if title:
            sys.stdout.write(f"# {title}\n")
        for row in rows:
            sys.stdout.write("\t".join(_cell(row.get(key)) for key, _ in columns) + "\n")
        return
    from rich.table import Table

    t = Table(title=title, show_lines=False, expand=False)
    for _, header in columns:
        t.add_column(header, overflow="fold")
    for row in rows:
        t.add_row(*(_esc(_cell(row.get(key))) for key, _ in columns))
    _console().print(t)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(v["skill"] if isinstance(v, dict) and "skill" in v else str(v) for v in value)
    return " ".join(strip_controls(str(value)).split())
