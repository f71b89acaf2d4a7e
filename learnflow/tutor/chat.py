"""`learnflow chat`: one conversation, many turns, each of them an `ask`.

The session owns what carries from turn to turn: the conversation id, the level the person chose
with `/level`, try first (`/try`), and the context waiting for the next question (the `-f` files
and piped stdin given at start, a `/file`, the output tail of the last `!cmd`). Each question is
a `tutor.ask.Ask` with the conversation's id, so `history`, `show` and `gaps` see every turn.

Reading the person's lines and drawing are the CLI's and ui's; this module turns text into
entries (`Assembler`, `parse`) and entries into prepared asks or recorded commands.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from learnflow.config import LEVELS, Config
from learnflow.db.store import Store
from learnflow.errors import BadInput
from learnflow.tutor import context as ctxmod
from learnflow.tutor.ask import MAX_QUESTION_CHARS, Ask, AskOptions

# `llm chat`'s convention for several lines: `!multi` starts a block, `!end` sends it;
# `!multi abc` … `!end abc` when the pasted text itself holds a line `!end`.
MULTI_START = "!multi"
MULTI_END = "!end"

_HUGE_HINT = "Save it to a file and attach it with /file PATH (or start the chat with -f FILE); it goes with your next question."

# `/word …` is a chat command; `/etc/hosts …` (a path) is a question.
_SLASH = re.compile(r"^/([A-Za-z?]+)(?:\s+(.*))?$", re.S)

COMMANDS = {
    "help": "/help                 this list",
    "level": "/level [LEVEL]        teach at novice, intermediate or expert from now on (no LEVEL: from your profile)",
    "try": "/try [on|off|QUESTION] try first: give your attempt before the answer (for one QUESTION, or from now on)",
    "file": "/file PATH            attach a file to your next question",
    "exit": "/exit                 end the chat (or Ctrl-D; `exit` and `quit` work too)",
}


@dataclass
class Entry:
    """One complete input: a question, a `!cmd`, a `/command`, nothing, or a mistake to explain."""

    kind: str  # ask | run | level | try | file | help | exit | empty | error
    text: str = ""
    argv: list[str] = field(default_factory=list)
    error: BadInput | None = None


def _too_long(n: int) -> BadInput:
    return BadInput(f"That turn is {n:,} characters long (at most {MAX_QUESTION_CHARS:,}).", hint=_HUGE_HINT)


def parse(text: str) -> Entry:
    """What one complete input asks for."""
    stripped = text.strip()
    if not stripped:
        return Entry("empty")
    if len(stripped) > MAX_QUESTION_CHARS:
        return Entry("error", error=_too_long(len(stripped)))
    if stripped.lower() in ("exit", "quit"):
        return Entry("exit")
    if stripped.startswith("!"):
        return _command(stripped[1:].strip())
    found = _SLASH.match(stripped)
    if found:
        name, rest = found.group(1).lower(), (found.group(2) or "").strip()
        if name in ("exit", "quit", "q"):
            return Entry("exit")
        if name in ("help", "?", "h"):
            return Entry("help")
        if name in ("level", "try", "file"):
            return Entry(name, text=rest)
        return Entry("error", error=BadInput(f"Unknown chat command /{name}.", hint="/help lists them; start a question with a word."))
    return Entry("ask", text=stripped)


def _command(line: str) -> Entry:
    if not line:
        return Entry(
            "error", error=BadInput("No command after !.", hint="!pytest -x runs pytest -x; its output goes with your next question.")
        )
    try:
        argv = shlex.split(line)
    except ValueError as exc:  # e.g. an unclosed quote
        return Entry("error", error=BadInput(f"Cannot split that command: {exc}.", hint="Close the quotes, as in a shell."))
    return Entry("run", text=line, argv=argv)


class Assembler:
    """Lines in, entries out: a line is an entry, unless it opens a `!multi` block."""

    def __init__(self) -> None:
        self._block: list[str] | None = None
        self._end = MULTI_END
        self._size = 0

    @property
    def in_block(self) -> bool:
        return self._block is not None

    def cancel(self) -> None:
        """Ctrl-C inside a block drops it."""
        self._block = None

    def feed(self, line: str) -> Entry | None:
        """The entry `line` completes, or None while a block is open."""
        line = line.rstrip("\r\n")
        if self._block is None:
            head = line.strip()
            if head == MULTI_START or head.startswith(MULTI_START + " "):
                marker = head[len(MULTI_START) :].strip()
                self._block, self._size = [], 0
                self._end = f"{MULTI_END} {marker}" if marker else MULTI_END
                return None
            return parse(line)
        if line.strip() == self._end:
            lines, self._block = self._block, None
            if self._size > MAX_QUESTION_CHARS:
                return Entry("error", error=_too_long(self._size))
            return parse("\n".join(lines))
        self._size += len(line) + 1
        if self._size <= MAX_QUESTION_CHARS + 1:  # beyond the limit only the count is kept: a runaway paste costs no memory
            self._block.append(line)
        return None

    def feed_lines(self, lines: list[str]) -> list[Entry]:
        """Several lines that arrived at once (a paste at the prompt) are one turn, as in a block."""
        if len(lines) > 1 and self._block is None and not lines[0].strip().startswith(MULTI_START):
            lines = [f"{MULTI_START} \0", *lines, f"{MULTI_END} \0"]  # a marker no pasted line holds
        entries = (self.feed(line) for line in lines)
        return [e for e in entries if e is not None]

    def finish(self) -> Entry | None:
        """The input ended inside a block: send what was typed (as `llm chat` would lose it, we don't)."""
        if self._block is None:
            return None
        return self.feed(self._end)


@dataclass
class ChatOptions:
    parts: list[ctxmod.Part] = field(default_factory=list)  # -f files and piped stdin: with the first question
    model: str | None = None
    backend: str | None = None
    level: str | None = None
    continue_last: bool = False
    cid: int | None = None
    redact: bool = True
    try_first: bool = False


@dataclass
class Turn:
    kind: str  # ask | run
    id: int | None  # interaction id, or task id for a command
    status: str  # an ask's status (ok, interrupted, error, …), or "ok"/"failed" for a command


@dataclass
class Summary:
    conversation_id: int | None
    questions: int
    answered: int
    interrupted: int
    failed: int
    commands: int
    failed_commands: int
    first_id: int | None
    last_id: int | None


class ChatSession:
    """The state between turns; every question becomes an `Ask` in one conversation."""

    def __init__(self, store: Store, options: ChatOptions, config: Config | None = None):
        self.store = store
        self.options = options
        self.config = config or Config()
        self.level = self.check_level(options.level) if options.level else None
        self.try_first = options.try_first
        self.conversation_id: int | None = options.cid
        self.pending: list[ctxmod.Part] = list(options.parts)  # files: wait for the next question
        self.command_parts: list[ctxmod.Part] = []  # the last `!cmd`'s output: only the latest waits, an older one is stale
        self._pending_task: int | None = None
        self.turns: list[Turn] = []

    @staticmethod
    def check_level(level: str) -> str:
        level = level.strip().lower()
        if level not in LEVELS:
            raise BadInput(f"Unknown level {level!r}.", hint=f"Choose one of: {', '.join(LEVELS)}.")
        return level

    def set_level(self, text: str) -> str | None:
        """`/level LEVEL`; `/level` alone goes back to the level measured per skill."""
        self.level = self.check_level(text) if text.strip() else None
        return self.level

    def set_try(self, text: str) -> bool:
        """`/try on|off` (or `/try` alone, which toggles it)."""
        word = text.strip().lower()
        if word not in ("", "on", "off"):
            raise BadInput(f"/try takes on or off, not {word!r}.")
        self.try_first = (not self.try_first) if not word else word == "on"
        return self.try_first

    def attach(self, path: str) -> ctxmod.Part:
        """`/file PATH`: read now (a clear error now beats one at the next question)."""
        if not path.strip():
            raise BadInput("/file needs a path.", hint="/file app/config.py")
        part = ctxmod.read_file(path.strip())
        self.pending.append(part)
        return part

    def ask(self, question: str, *, try_now: bool = False, ask_attempt: Callable[[], str] | None = None) -> Ask:
        """Prepare the next turn (the question is logged). Waiting context goes with it; if the
        question is refused (e.g. empty), the context waits for the next one."""
        opts = AskOptions(
            question=question, parts=self.pending + self.command_parts, model=self.options.model, backend=self.options.backend,
            cid=self.conversation_id, continue_last=self.options.continue_last and self.conversation_id is None,
            level=self.level, redact=self.options.redact,
            try_first=try_now or self.try_first, ask_attempt=ask_attempt,
        )  # fmt: skip
        run = Ask(self.store, opts, self.config)
        self.conversation_id = run.conversation_id
        self.pending, self.command_parts = [], []
        if self._pending_task is not None:
            self.store.link_task(self._pending_task, run.id)  # `explain` and `show` find the discussion of the run
            self._pending_task = None
        self.turns.append(Turn("ask", run.id, "pending"))
        return run

    def answered(self, run: Ask) -> None:
        """The turn's final status, once its stream ended (however it ended)."""
        for turn in reversed(self.turns):
            if turn.kind == "ask" and turn.id == run.id:
                turn.status = run.status
                return

    def run_command(self, argv: list[str]):
        """`!cmd`: run it as `learnflow run` does, record it as a task, and keep its output tail
        for the next question. Returns (outcome, task record)."""
        from learnflow.learner import tasks
        from learnflow.tutor import wrap

        outcome = wrap.run(argv)
        record = tasks.record(self.store, outcome)
        label = f"`{' '.join(record_argv(argv))}` exited {outcome.exit_code}"
        parts = [ctxmod.Part(f"{label}: stdout (tail)", outcome.stdout_tail)] if outcome.stdout_tail.strip() else []
        if outcome.stderr_tail.strip():
            parts.append(ctxmod.Part(f"{label}: stderr (tail)", outcome.stderr_tail))
        if not parts:
            parts = [ctxmod.Part(label, "(no output)")]
        self.command_parts = parts
        self._pending_task = record.id
        self.turns.append(Turn("run", record.id, "failed" if outcome.failed else "ok"))
        return outcome, record

    def summary(self) -> Summary:
        asks = [t for t in self.turns if t.kind == "ask"]
        runs = [t for t in self.turns if t.kind == "run"]
        ids = [t.id for t in asks if t.id is not None]
        return Summary(
            conversation_id=self.conversation_id,
            questions=len(asks),
            answered=sum(t.status == "ok" for t in asks),
            interrupted=sum(t.status == "interrupted" for t in asks),
            failed=sum(t.status not in ("ok", "interrupted") for t in asks),
            commands=len(runs),
            failed_commands=sum(t.status == "failed" for t in runs),
            first_id=min(ids) if ids else None,
            last_id=max(ids) if ids else None,
        )


def record_argv(argv: list[str]) -> list[str]:
    """The command as it may be shown and sent: secrets in its arguments redacted."""
    from learnflow.redact import redact_argv

    return redact_argv(argv)[0]
