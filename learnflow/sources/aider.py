"""aider: `.aider.chat.history.md` in the project folder, Markdown appended as the chat goes.

A session starts with `# aider chat started at YYYY-MM-DD HH:MM:SS`; the person's input is written
as lines starting `#### ` (a multi-line input is several such lines); aider's own output is quoted
(`> `) and the model's answer is plain text. A slash command (`/add`, `/run`…) is not a question,
except `/ask`, `/code` and `/architect`, whose text is. The history does not record a command's
exit status, so aider gives prompts only.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from learnflow.sources.base import LineReader, Prompt, parse_ts, stable_id

DEFAULT = Path(".aider.chat.history.md")
PATTERNS = (".aider.chat.history.md",)
_START = "# aider chat started at "
_ASKING = ("/ask ", "/code ", "/architect ")


class Reader(LineReader):
    def __init__(self, path: Path, state: dict):
        super().__init__(path, state)
        state.setdefault("session", "")
        state.setdefault("n", 0)
        self.lines: list[str] = []

    def feed(self, line: bytes):
        text = line.decode("utf-8", "replace").rstrip("\n")
        if text.startswith("####"):
            self.lines.append(text[5:].rstrip() if len(text) > 4 else "")
            return ()
        out = self._flush()
        if text.startswith(_START):
            self.state["session"] = text[len(_START) :].strip()
            self.state["n"] = 0
        return out

    def finish(self):
        return self._flush()

    def _flush(self) -> list:
        if not self.lines:
            return []
        text = "\n".join(self.lines).strip()
        self.lines = []
        if not text or text == "<blank>":
            return []
        if text.startswith("/"):
            if not text.startswith(_ASKING):
                self.skipped["command, not a prompt"] += 1
                return []
            text = text.split(" ", 1)[1]
        self.state["n"] += 1
        session = self.state["session"] or "unknown"
        # aider writes no time per message: the session's start stands for it.
        return [Prompt(session, stable_id(self.state["n"], text), text, _local_ts(self.state["session"]))]


def _local_ts(header: str) -> float | None:
    """aider's header is the local time of the machine it ran on (`datetime.now()`), without a zone."""
    try:
        return datetime.strptime(header, "%Y-%m-%d %H:%M:%S").astimezone().timestamp()
    except ValueError:
        return parse_ts(header or None)
