"""What every agent importer shares: the events a reader yields, reading files incrementally, and storing.

A reader (one module per agent) turns one line, or one row, into events: a `Prompt` (what the
person typed) or a `ShellRun` (a shell command the agent ran, with its exit status and, only
while it is being classified, its output). `Importer` does the rest the same way for every
agent:

- **incremental**: each file's byte offset after its last complete line is remembered with its
  identity (inode, size); a file that shrank or was replaced is read again from the start, and
  `agent_items` (source, session, item) keeps what was taken before from being taken twice;
- **private**: a prompt is redacted before it is tagged or stored; a command's argv is redacted;
  tool output and file contents are never stored, only the tool, the exit status and the error class;
- **evidence**: a prompt is a question, stored and weighted exactly like an `ask` (its tags,
  `question_how` / `question_why`); a shell command that failed is `task` evidence 0 on its
  tool's skill, and a later success of the same tool in the same session is a recovery (1).
  A success with no failure before it says little about the person (the agent ran it), so it
  is not evidence;
- **tolerant**: a line that is not JSON is counted as damaged, a record of a kind the reader does
  not know is counted as skipped; neither stops the import.
"""

from __future__ import annotations

import json
import os
import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from learnflow.db import agents as agents_db
from learnflow.errors import NotFound
from learnflow.redact import redact, redact_argv

MAX_PROMPT_CHARS = 20_000  # as an ask's question (tutor/ask.MAX_QUESTION_CHARS)
OUTPUT_TAIL = 4_000  # enough of a failed command's output to classify it; never stored
EXAMPLES = 3
BATCH = 500  # items per transaction: fewer commits, and an interrupted import keeps what it committed


@dataclass
class Prompt:
    session: str
    item: str
    text: str
    ts: float | None = None


@dataclass
class ShellRun:
    session: str
    item: str
    command: str | list[str]
    exit_code: int
    output: str = ""  # only to classify a failure: never stored
    ts: float | None = None
    cwd: str = ""


Event = Prompt | ShellRun


# Agents whose hooks (sources/hook.py) log prompts. Claude Code's UserPromptSubmit payload has no
# uuid and Gemini CLI's BeforeAgent no message id, so the hook keys a prompt by its session and a hash
# of its redacted text (plus a unique tail, marked 'hook'); a later import of the same prompt (its uuid
# not seen) first claims an unclaimed hook row with that hash, re-keying it by the uuid, instead of
# storing it again. The same prompt typed twice stays two prompts (two hook rows, two uuids).
TEXT_KEYED = {"claude", "gemini"}
HOOK = "hook"


def text_key(text: str) -> str:
    """A prompt's item key from its redacted text (a hash of the raw text would be a hash of its secrets)."""
    return "text:" + stable_id(redact(prepared(text)).text)


def prepared(text: str) -> str:
    """A prompt as it is stored: stripped, cut to MAX_PROMPT_CHARS."""
    text = text.strip()
    return text[:MAX_PROMPT_CHARS] if len(text) > MAX_PROMPT_CHARS else text


class Damaged(ValueError):
    """A line or record that cannot be read: counted, skipped, never fatal."""


def json_record(line: bytes) -> dict:
    """One JSONL line as the object it must be, or Damaged (the readers of claude, codex and gemini)."""
    try:
        rec = json.loads(line)
    except ValueError:
        raise Damaged from None
    if not isinstance(rec, dict):
        raise Damaged
    return rec


@dataclass
class Report:
    source: str
    path: str
    dry_run: bool
    files: int = 0
    bytes: int = 0
    prompts: int = 0
    tasks: int = 0
    recoveries: int = 0
    known: int = 0  # items imported before
    damaged: int = 0
    skipped: Counter = field(default_factory=Counter)  # why -> n
    secrets: Counter = field(default_factory=Counter)  # kind -> n
    examples: dict[str, list[str]] = field(default_factory=dict)  # kind -> a few redacted examples
    sessions: int = 0

    @property
    def secrets_removed(self) -> int:
        return sum(self.secrets.values())

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "path": self.path,
            "dry_run": self.dry_run,
            "files": self.files,
            "bytes": self.bytes,
            "sessions": self.sessions,
            "prompts": self.prompts,
            "tasks": self.tasks,
            "recoveries": self.recoveries,
            "known": self.known,
            "damaged": self.damaged,
            "skipped": dict(self.skipped),
            "secrets_removed": self.secrets_removed,
            "secrets": dict(self.secrets),
            "examples": self.examples,
        }


def parse_ts(value) -> float | None:
    """An ISO timestamp (`2025-10-29T00:59:38.317Z`), epoch seconds or milliseconds → epoch seconds."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value) / (1000 if value > 1e11 else 1)
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def stable_id(*parts) -> str:
    """An item id from its content, the same in every run (Python's hash() is not)."""
    import hashlib

    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8", "replace")).hexdigest()[:24]


def text_of(content) -> str:
    """The text of a message's content: a string, or a list of blocks/parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return ""


def redacted_command(command: str | list[str], secrets: Counter) -> str | list[str]:
    """A command as a reader keeps it between runs (a tool call waiting for its result): redacted, counted."""
    if isinstance(command, list):
        argv, counts = redact_argv([str(w) for w in command])
        secrets.update(counts)
        return argv
    found = redact(command)
    secrets.update(found.counts)
    return found.text


def argv_of(command: str | list[str]) -> list[str]:
    """A command as argv: the shell words of a string (a `bash -lc "…"` wrapper looked through)."""
    if isinstance(command, list):
        words = [str(w) for w in command]
        if len(words) >= 3 and Path(words[0]).name in ("bash", "sh", "zsh") and words[1] in ("-c", "-lc", "-ic"):
            return argv_of(words[2])
        return words
    try:
        return shlex.split(command, comments=False)
    except ValueError:  # an unbalanced quote: still words
        return command.split()


_SEPARATORS = {"&&", "||", ";", "|", "&"}


def segments(argv: list[str]) -> list[list[str]]:
    """`cd app && npm test | tee log` → [["cd", "app"], ["npm", "test"], ["tee", "log"]]."""
    out: list[list[str]] = [[]]
    for word in argv:
        if word in _SEPARATORS:
            out.append([])
            continue
        stripped = word.rstrip(";")
        if stripped:
            out[-1].append(stripped)
        if word.endswith(";") and len(word) > 1:
            out.append([])
    return [s for s in out if s]


# -- reading files ------------------------------------------------------------------------------


def files_under(path: Path, patterns: Iterable[str]) -> list[Path]:
    """The session files at `path` (a file, or a folder searched recursively), oldest first."""
    if path.is_file():
        return [path]
    found = {p for pattern in patterns for p in path.rglob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: (p.stat().st_mtime, str(p)))


def read_lines(path: Path, start: int) -> Iterator[tuple[bytes, int]]:
    """(line, offset after it) from `start`; a last line without its newline is still being written: not yet read."""
    offset = start
    with open(path, "rb") as fh:
        fh.seek(start)
        for line in fh:
            if not line.endswith(b"\n"):
                return
            offset += len(line)
            yield line, offset


class LineReader:
    """One file's reader. `feed(line)` yields events or raises Damaged; `state` survives between runs."""

    def __init__(self, path: Path, state: dict):
        self.path = path
        self.state = state
        self.skipped: Counter = Counter()
        self.secrets: Counter = Counter()  # removed from commands kept between runs
        self._counted: set[str] = set()

    def feed(self, line: bytes) -> Iterable[Event]:  # pragma: no cover - each agent's reader defines it
        raise NotImplementedError

    def finish(self) -> Iterable[Event]:
        """Events held back until the end of what is written so far (e.g. aider's prompt lines)."""
        return ()

    def saved_state(self) -> dict:
        """The state kept between runs. Commands still waiting for their result (`pending`: id -> [command, …])
        are redacted here rather than as they are read: most get their result within the same run, and
        redacting each one would cost more than the rest of reading it."""
        pending = self.state.get("pending")
        if not pending:
            return self.state
        counted = self._counted
        kept = {}
        for call_id, entry in pending.items():
            counts: Counter = Counter()
            kept[call_id] = [redacted_command(entry[0], counts), *entry[1:]]
            if call_id not in counted:
                counted.add(call_id)
                self.secrets.update(counts)
        return {**self.state, "pending": kept}


# -- storing ------------------------------------------------------------------------------------------


class Importer:
    """Turns a source's events into stored, redacted evidence (or, dry, into counts and examples)."""

    def __init__(self, store, source: str, *, dry_run: bool = False, path: str = "", hook: bool = False):
        self.store = store
        self.hook = hook  # called from an agent's hook (sources/hook.py), not from an import
        self.source = source
        self.dry_run = dry_run
        self.report = Report(source, path, dry_run)
        self._pending = 0
        self._conversations: dict[str, int] = {}
        self._last_shell: dict[tuple[str, str], tuple[int, bool]] = {}  # (session, tool) -> (task id, failed): dry runs too
        self._dry_seen: set[tuple[str, str]] = set()

    # Each event is stored inside its batch's transaction (see _read_file): a crash loses at most one
    # batch, and the cursor is saved only after the batch is committed, so those lines are read again.
    def handle(self, event: Event) -> None:
        if isinstance(event, Prompt) and self.hook:
            import time

            event.item = f"{text_key(event.text)}:{time.time_ns()}"
        if self._seen(event.session, event.item):
            self.report.known += 1
            return
        if isinstance(event, Prompt) and self.source in TEXT_KEYED and not self.hook and not self.dry_run:
            if agents_db.claim_hook_prompt(self.store, self.source, event.session, text_key(event.text), event.item, HOOK):
                self.report.known += 1  # logged by the hook when it was typed
                return
        if isinstance(event, Prompt):
            self._prompt(event)
        else:
            self._shell(event)

    def _seen(self, session: str, item: str) -> bool:
        if self.dry_run:
            key = (session, item)
            if key in self._dry_seen:
                return True
            self._dry_seen.add(key)
        return agents_db.seen(self.store, self.source, session, item)

    def _example(self, kind: str, text: str) -> None:
        shown = self.report.examples.setdefault(kind, [])
        if len(shown) < EXAMPLES:
            shown.append(text if len(text) <= 160 else text[:157] + "…")

    def _prompt(self, ev: Prompt) -> None:
        text = prepared(ev.text)
        if not text:
            self.report.skipped["empty prompt"] += 1
            return
        found = redact(text)
        text = found.text
        self.report.secrets.update(found.counts)
        from learnflow.learner.skills import tag_offline
        from learnflow.tutor.ask import question_kind

        tags = tag_offline(text)
        self.report.prompts += 1
        self._example("prompts", f"[{tags[0].skill}] {text}")
        if self.dry_run:
            return
        when = ev.ts if ev.ts is not None else datetime.now(UTC).timestamp()
        created = _iso(when)
        conversation = self._conversation(ev.session)
        store = self.store
        iid = store.begin_interaction(
            conversation_id=conversation,
            created_at=created,
            finished_at=created,
            question=text,
            status="ok",
            backend=self.source,
            source=self.source,
        )
        store.set_skills(iid, tags)
        kind = question_kind(text)
        store.replace_evidence("interactions", iid, [{"ts": when, "skill": t.skill, "kind": kind, "value": t.relevance} for t in tags])
        agents_db.remember(store, self.source, ev.session, ev.item, "prompt", iid, tool=HOOK if self.hook else None)
        self._count()

    def _conversation(self, session: str) -> int:
        """One learnflow conversation per agent session, created on its first prompt."""
        cid = self._conversations.get(session) or agents_db.session_conversation(self.store, self.source, session)
        if cid is None:
            cid = self.store.new_conversation(f"{self.source} session {session[:12]}")
            agents_db.remember(self.store, self.source, session, "", "session", cid)
            self.report.sessions += 1
        self._conversations[session] = cid
        return cid

    def _shell(self, ev: ShellRun) -> None:
        from learnflow.learner.commands import error_class, skill_for

        argv = argv_of(ev.command)
        found = None
        for seg in reversed(segments(argv)):  # `cd app && npm test`: the last known tool is the one that ran the test
            found = skill_for(seg)
            if found:
                break
        if found is None:
            self.report.skipped["shell command with no known tool"] += 1
            return
        tool, skill = found
        failed = ev.exit_code != 0
        key = (ev.session, tool)
        last = self._last_shell.get(key)
        if last is None:  # a failure in an earlier run of the import (read only: a dry run too)
            last = agents_db.last_shell_run(self.store, self.source, ev.session, tool)
        if not failed and not (last and last[1]):
            self.report.skipped["shell success with no failure before"] += 1
            return
        red_argv, counts = redact_argv(argv)
        self.report.secrets.update(counts)
        klass = None
        if failed:
            out = redact(ev.output[-OUTPUT_TAIL:]) if ev.output else None
            klass = error_class(tool, ev.exit_code, "", out.text if out else "")
            klass = redact(klass).text if klass else klass
        recovery_of = last[0] if (not failed and last and last[1]) else None
        self.report.tasks += 1
        self.report.recoveries += recovery_of is not None
        self._example("tasks", f"[{skill}] {' '.join(red_argv)[:120]} → " + (f"exit {ev.exit_code} ({klass})" if failed else "fixed"))
        if self.dry_run:
            self._last_shell[key] = (0, failed)
            return
        when = ev.ts if ev.ts is not None else datetime.now(UTC).timestamp()
        row = {
            "created_at": _iso(when),
            "command": json.dumps(red_argv),
            "cwd": ev.cwd,
            "exit_code": ev.exit_code,
            "tool": tool,
            "skill": skill,
            "error_class": klass,
            "recovery_of": recovery_of if recovery_of else None,
            "source": self.source,
        }
        evidence = [{"ts": when, "skill": skill, "kind": "task", "value": 0.0 if failed else 1.0}]
        task_id = agents_db.insert_task(self.store, row, evidence)
        agents_db.remember(self.store, self.source, ev.session, ev.item, "task", task_id, tool=tool, failed=int(failed))
        self._last_shell[key] = (task_id, failed)
        self._count()

    def _count(self) -> None:
        self._pending += 1

    # -- the loop over files ---------------------------------------------------------------------

    def run_files(self, files: list[Path], make_reader: Callable[[Path, dict], LineReader], progress=None) -> Report:
        total = sum(_size(p) for p in files)
        done = 0
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                self.report.skipped["file vanished"] += 1
                continue
            self.report.files += 1
            read = self._read_file(path, stat, make_reader, lambda n, base=done: progress and progress(base + n, total))
            done += stat.st_size
            self.report.bytes += read
            if progress:
                progress(done, total)
        return self.report

    def _read_file(self, path: Path, stat: os.stat_result, make_reader, progress) -> int:
        """Read one file from where the last run stopped; returns the bytes read."""
        key = str(path.resolve())
        cur = agents_db.cursor(self.store, self.source, key)
        start, state = 0, {}
        # The same file (inode) that has not shrunk: go on from the offset. Otherwise (rotated,
        # rewritten, truncated) read it again from the start; items taken before are recognised.
        if cur and cur["inode"] == stat.st_ino and stat.st_size >= (cur["offset"] or 0):
            start, state = cur["offset"] or 0, cur["state"]
            if stat.st_size == start:
                return 0
        reader = make_reader(path, state)
        lines = read_lines(path, start)
        pos = {"offset": start, "read": 0, "reported": 0, "done": False}

        def batch() -> None:
            self._pending = 0
            for line, end in lines:
                pos["read"] += len(line)
                pos["offset"] = end
                if line.strip():
                    try:
                        events = list(reader.feed(line))
                    except Damaged:
                        self.report.damaged += 1
                        events = []
                    for ev in events:
                        self.handle(ev)
                if pos["read"] - pos["reported"] > 4 << 20:
                    pos["reported"] = pos["read"]
                    progress(pos["read"])
                if self._pending >= BATCH:
                    return
            for ev in reader.finish():
                self.handle(ev)
            pos["done"] = True

        while not pos["done"]:
            if self.dry_run:
                batch()
                continue
            agents_db.in_transaction(self.store, batch)
            # Saved after its batch is committed: a crash reads the uncommitted part again.
            agents_db.save_cursor(
                self.store, self.source, key, inode=stat.st_ino, size=stat.st_size, offset=pos["offset"], state=reader.saved_state()
            )
        self.report.skipped.update(reader.skipped)
        self.report.secrets.update(reader.secrets)
        return pos["read"]

    def _store_all(self, events: Iterator, after_batch: Callable[[], None]) -> None:
        """Handle events BATCH at a time, each batch one transaction followed by `after_batch` (the cursor)."""
        done = False

        def batch() -> None:
            nonlocal done
            self._pending = 0
            for ev in events:
                self.handle(ev)
                if self._pending >= BATCH:
                    return
            done = True

        while not done:
            if self.dry_run:
                batch()
                continue
            agents_db.in_transaction(self.store, batch)
            after_batch()

    def run_whole(self, files: list[Path], read: Callable, progress=None) -> Report:
        """Files read whole (Gemini CLI's older .json sessions): read again only when they changed."""
        for path in files:
            stat = path.stat()
            key = str(path.resolve())
            cur = agents_db.cursor(self.store, self.source, key)
            self.report.files += 1
            if cur and cur["inode"] == stat.st_ino and cur["size"] == stat.st_size and cur["offset"] == stat.st_size:
                continue
            skipped: Counter = Counter()
            try:
                events = read(path, skipped)
            except Damaged:
                self.report.damaged += 1
                events = []
            self.report.bytes += stat.st_size
            self.report.skipped.update(skipped)

            def save(stat=stat, key=key) -> None:
                agents_db.save_cursor(self.store, self.source, key, inode=stat.st_ino, size=stat.st_size, offset=stat.st_size, state={})

            self._store_all(iter(events), save)
            if not self.dry_run and not events:
                save()
        return self.report

    def run_llm(self, path: Path, progress=None) -> Report:
        """llm's logs.db: rows newer than the last ones read, from both of its layouts."""
        key = str(path.resolve())
        cur = agents_db.cursor(self.store, self.source, key)
        after: dict[str, int] = dict((cur or {}).get("state") or {})
        self.report.files = 1
        self.report.bytes = _size(path)
        stat = path.stat()

        def events() -> Iterator[Prompt]:
            for table, rowid, row in agents_db.llm_rows(path, after):
                after[table] = rowid
                text = row["prompt"]
                if not isinstance(text, str) or not text.strip():
                    self.report.skipped["row without prompt text"] += 1
                    continue
                yield Prompt(row["session"], row["id"], text, parse_ts(row["datetime_utc"]))

        def save() -> None:
            agents_db.save_cursor(self.store, self.source, key, inode=stat.st_ino, size=stat.st_size, offset=0, state=after)

        self._store_all(events(), save)
        return self.report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _iso(ts: float) -> str:
    from learnflow.timespec import iso

    return iso(datetime.fromtimestamp(ts, UTC))


def missing(source: str, path: Path, what: str) -> NotFound:
    return NotFound(
        f"No {what} at {path}.",
        hint=f"Pass the path: learnflow import --from {source} PATH (nothing was imported).",
    )
