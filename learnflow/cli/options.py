"""Options and small helpers shared by several commands: each is defined here, once.

No `from __future__ import annotations` in the cli package: typer would eval every
command's string annotations on each start (see tests/test_cli.py).
"""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of formatted text.")]
ModelOpt = Annotated[
    Optional[str],
    typer.Option(
        "-m",
        "--model",
        metavar="MODEL",
        help="Model as litellm spells it: openai/gpt-4o-mini, anthropic/…, ollama/llama3.2, or offline.",
        show_default=False,
    ),
]

HtmlOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--html", help="Also write a self-contained HTML report with charts to FILE (works offline).", metavar="FILE", show_default=False
    ),
]


def open_store():
    """The learner's log (created and migrated on first use)."""
    from learnflow.db.store import Store

    return Store()


def read_stdin_text(limit: int = -1) -> str:
    """Piped text, whatever its bytes: what is not UTF-8 becomes U+FFFD (a strict stdin would raise,
    and a C-locale one would smuggle in lone surrogates that nothing can store)."""
    stream = sys.stdin
    if stream is None:
        return ""
    raw = stream.buffer.read(limit) if hasattr(stream, "buffer") else stream.read(limit)
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "replace")


def read_stdin():
    """Piped input as a context Part, if any (never waits on a terminal)."""
    from learnflow.tutor.context import Part, read_stream

    if sys.stdin is None or sys.stdin.isatty():
        return None
    text, binary, skipped = read_stream(sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin)
    if not text.strip():
        return None
    return Part("stdin", text, binary, skipped_bytes=skipped)
