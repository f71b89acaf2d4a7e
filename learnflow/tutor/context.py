"""What the user attached to a question: piped stdin and -f files.

Context is budgeted in tokens (head and tail kept) and fenced as data in the
prompt, so instructions inside a pasted log are not taken as the user's own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from learnflow import tokens
from learnflow.errors import BadInput

# Refuse to read more than this from one source: beyond it nothing useful survives the budget.
MAX_READ_BYTES = 64 * 1024 * 1024


@dataclass
class Part:
    label: str  # "stdin" or a file path
    text: str
    binary: bool = False
    skipped_bytes: int = 0  # middle of a huge input never read into memory


@dataclass
class Context:
    parts: list[Part] = field(default_factory=list)
    text: str = ""  # fenced, budgeted, redacted text sent to the model
    tokens: int | None = None
    cut_tokens: int = 0
    redactions: Counter = field(default_factory=Counter)

    @property
    def summary(self) -> str:
        """Short description stored in the log: what was attached, how big."""
        if not self.parts:
            return ""
        bits = [f"{p.label} ({_size(p.text)}{', binary' if p.binary else ''})" for p in self.parts]
        if self.cut_tokens:
            bits.append(f"about {self.cut_tokens:,} tokens cut")
        if self.redactions:
            bits.append(f"{sum(self.redactions.values())} secrets redacted")
        return "; ".join(bits)


def _size(text: str) -> str:
    n: float = len(text.encode("utf-8", "replace"))
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def decode(raw: bytes) -> tuple[str, bool]:
    """Text from bytes: invalid UTF-8 is replaced, NUL bytes mark binary data."""
    binary = b"\x00" in raw[:8192]
    text = raw.decode("utf-8", errors="replace")
    if binary:
        text = text.replace("\x00", "")
    return text, binary


# Of a huge input keep this much of each end: far more than any token budget needs.
KEEP_BYTES = 4 * 1024 * 1024


def read_stream(fh) -> tuple[str, bool, int]:
    """Read a stream of any size in bounded memory: the head and the tail are kept.

    Returns (text, binary, bytes skipped in the middle).
    """
    from collections import deque

    head = fh.read(KEEP_BYTES)
    if isinstance(head, str):  # a text stream (tests, unusual terminals)
        head = head.encode("utf-8", "surrogateescape")
    tail: deque[bytes] = deque()
    tail_size = skipped = 0
    while True:
        block = fh.read(1024 * 1024)
        if not block:
            break
        if isinstance(block, str):
            block = block.encode("utf-8", "surrogateescape")
        tail.append(block)
        tail_size += len(block)
        while tail_size - len(tail[0]) >= KEEP_BYTES:
            dropped = tail.popleft()
            tail_size -= len(dropped)
            skipped += len(dropped)
    raw = head + (f"\n[… {skipped:,} bytes skipped …]\n".encode() if skipped else b"") + b"".join(tail)
    text, binary = decode(raw)
    return text, binary, skipped


def read_file(path: str) -> Part:
    p = Path(path).expanduser()
    try:
        if p.is_dir():
            raise BadInput(f"{path} is a directory, not a file.", hint="Pass files with -f, one per flag.")
        with p.open("rb") as fh:
            raw = fh.read(MAX_READ_BYTES + 1)
    except FileNotFoundError:
        raise BadInput(f"File not found: {path}.") from None
    except PermissionError:
        raise BadInput(f"Cannot read {path}: permission denied.") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {path}: {exc.strerror}.") from None
    text, binary = decode(raw[:MAX_READ_BYTES])
    return Part(str(path), text, binary)


def build(parts: list[Part], budget: int, *, redact: bool = True) -> Context:
    """Trim, redact and fence each part, then cut the whole to `budget` tokens.

    Work stays bounded whatever the input size: each part is first trimmed to
    the two windows that can survive the token budget, and only those are
    scanned for secrets.
    """
    from learnflow import redact as redaction

    if redact:
        # A file name is sent (the fence names it) and stored (the summary): `-f token-ghp_….txt`.
        parts = [Part(redaction.redact(p.label).text, p.text, p.binary, p.skipped_bytes) for p in parts]
    ctx = Context(parts=parts)
    if not parts:
        return ctx
    window = max(budget * 8, 4096)  # chars per side: tokens are rarely longer than 8 chars
    fenced = []
    # Characters never tokenised (trimmed here, or skipped while reading a huge stream):
    # their token count is estimated at 4 characters a token.
    unread = 0
    for part in parts:
        text = part.text
        unread += part.skipped_bytes
        if len(text) > 2 * window:
            unread += len(text) - 2 * window
            text = f"{text[:window]}\n[… {len(text) - 2 * window:,} characters not read …]\n{text[-window:]}"
        if redact:
            found = redaction.redact(text)
            text = found.text
            ctx.redactions.update(found.counts)
        fenced.append(_fence(Part(part.label, text, part.binary)))
    ctx.text, ctx.tokens, ctx.cut_tokens = tokens.cut_middle("\n\n".join(fenced), budget)
    ctx.cut_tokens += unread // 4
    return ctx


def fence(label: str, text: str) -> str:
    """`text` fenced as data under `label` (e.g. a try-first attempt): never taken as instructions."""
    return _fence(Part(label, text))


def _fence(part: Part) -> str:
    # The tag names the source; the system prompt says such blocks are data, never instructions.
    label = part.label.replace('"', "'")
    body = part.text.replace("</context>", "</ context>")
    note = " (binary data: NUL bytes removed)" if part.binary else ""
    return f'<context source="{label}"{note}>\n{body}\n</context>'
