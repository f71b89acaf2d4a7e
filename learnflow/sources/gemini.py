"""Gemini CLI: `~/.gemini/tmp/<project hash>/chats/session-*.jsonl` (older: one `.json` document).

JSON lines: a first record with `sessionId`, `projectHash`, `startTime`; then message records
`{id, timestamp, type: user|gemini|info|error…, content, toolCalls?}`. A message is written again
whenever it changes (a tool call's status, its result), so items are recognised by id; `$set` and
`$rewindTo` records change the session's metadata or history and are skipped. A tool call is
`{id, name, args, result, status: success|error|cancelled}`; the shell tool is `run_shell_command`
with `args.command`, and its result text carries `Exit Code: N`. The older `.json` file holds the
same messages in one `messages` array and is read whole (it is rewritten whole by Gemini CLI too).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from learnflow.sources.base import Damaged, LineReader, Prompt, ShellRun, json_record, parse_ts, stable_id, text_of

DEFAULT = Path("~/.gemini/tmp")
PATTERNS = ("session-*.jsonl", "session-*.json")
SHELL_TOOLS = {"run_shell_command", "shell"}
WHOLE_MAX = 256 << 20  # an older .json session is read whole: beyond this it is skipped and counted
_EXIT = re.compile(r"Exit Code:\s*(-?\d+)", re.I)
_TYPES = {"user", "gemini", "info", "error", "warning", "model"}


class Reader(LineReader):
    def __init__(self, path: Path, state: dict):
        super().__init__(path, state)
        state.setdefault("session", path.stem.removeprefix("session-"))

    def feed(self, line: bytes):
        rec = json_record(line)
        if "$set" in rec or "$rewindTo" in rec:
            return ()
        if "sessionId" in rec and "type" not in rec:
            self.state["session"] = str(rec["sessionId"])
            return ()
        return message_events(rec, self.state["session"], self.skipped)


def message_events(rec: dict, session: str, skipped) -> list:
    kind = rec.get("type")
    if kind not in _TYPES:
        skipped[f"unknown message type {str(kind)[:30]}"] += 1
        return []
    ts = parse_ts(rec.get("timestamp"))
    out: list = []
    if kind == "user":
        text = text_of(rec.get("content"))
        if text.lstrip().startswith(("/", "!")):  # a slash command or a shell escape: not a question
            skipped["command, not a prompt"] += 1
        elif text.strip():
            out.append(Prompt(session, str(rec.get("id") or stable_id(ts, text)), text, ts))
    for call in rec.get("toolCalls") or ():
        if not isinstance(call, dict) or call.get("name") not in SHELL_TOOLS:
            continue
        status = call.get("status")
        command = (call.get("args") or {}).get("command") if isinstance(call.get("args"), dict) else None
        if status not in ("success", "error") or not isinstance(command, str):
            continue  # still running, cancelled, or not a command: nothing learned
        result = call.get("result")
        text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False) if result is not None else ""
        m = _EXIT.search(text)
        code = int(m.group(1)) if m else (1 if status == "error" else 0)
        ident = call.get("id") or stable_id(ts, command)
        out.append(ShellRun(session, f"tool:{ident}", command, code, text if code else "", parse_ts(call.get("timestamp")) or ts))
    return out


def whole_file(path: Path, skipped) -> list:
    """The events of an older `.json` session file (one document)."""
    if path.stat().st_size > WHOLE_MAX:
        skipped["session file too large to read whole"] += 1
        return []
    try:
        doc = json.loads(path.read_bytes())
    except ValueError:
        raise Damaged from None
    if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
        raise Damaged
    session = str(doc.get("sessionId") or path.stem)
    out: list = []
    for rec in doc["messages"]:
        if isinstance(rec, dict):
            out.extend(message_events(rec, session, skipped))
        else:
            skipped["message that is not an object"] += 1
    return out
