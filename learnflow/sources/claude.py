"""Claude Code: `~/.claude/projects/<cwd slug>/<session>.jsonl`, one JSON record per line.

Records the reader uses (the format is internal to Claude Code; anything else is skipped and counted):
- `type: user` with `message.content` a string, or blocks: `text` (the person's prompt) and
  `tool_result {tool_use_id, content, is_error}` (a tool's answer, read only for its exit status);
- `type: assistant` with `tool_use {id, name, input}` blocks: `Bash` with `input.command` is a shell run.
Each record carries `uuid`, `sessionId`, `timestamp`, `cwd`. Sub-agent records (`isSidechain`), meta
records (`isMeta`: caveats, slash-command echoes) and the agent's own messages are not the person's.
"""

from __future__ import annotations

import re
from pathlib import Path

from learnflow.sources.base import Damaged, LineReader, Prompt, ShellRun, json_record, parse_ts, stable_id, text_of

DEFAULT = Path("~/.claude/projects")
PATTERNS = ("*.jsonl",)
SHELL_TOOLS = {"Bash", "BashTool", "bash"}
KNOWN = {"user", "assistant", "summary", "system", "queue-operation", "file-history-snapshot", "progress", "turn_end"}
PENDING_MAX = 200  # tool calls waiting for their result, kept between runs
# Text Claude Code writes as the user although the person did not type it.
_NOT_TYPED = ("<command-name>", "<command-message>", "<local-command-stdout>", "<local-command-stderr>", "Caveat: ",
              "[Request interrupted", "<bash-input>", "<bash-stdout>", "<bash-stderr>", "<system-reminder>", "<user-memory-input>")  # fmt: skip
_EXIT = re.compile(r"\bexit code:?\s*(-?\d+)", re.I)


class Reader(LineReader):
    def __init__(self, path: Path, state: dict):
        super().__init__(path, state)
        self.pending: dict[str, list] = state.setdefault("pending", {})  # tool_use id -> [command, cwd, session]

    def feed(self, line: bytes):
        # Most bytes are assistant text and tool output: an assistant record without a tool call
        # cannot hold anything the reader uses, so it is not parsed at all.
        if b'"assistant"' in line and b'"tool_use"' not in line and b'"user"' not in line:
            return ()
        rec = json_record(line)
        kind = rec.get("type")
        if kind not in KNOWN:
            self.skipped[f"unknown record type {str(kind)[:30]}"] += 1
            return ()
        if kind == "assistant":
            return self._assistant(rec)
        if kind == "user":
            return self._user(rec)
        return ()

    def _assistant(self, rec: dict):
        content = (rec.get("message") or {}).get("content")
        if not isinstance(content, list):
            return ()
        session = str(rec.get("sessionId") or self.path.stem)
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("name") in SHELL_TOOLS:
                command = (block.get("input") or {}).get("command")
                if isinstance(command, str) and block.get("id"):
                    self.pending[str(block["id"])] = [command, str(rec.get("cwd") or ""), session]
        while len(self.pending) > PENDING_MAX:
            self.pending.pop(next(iter(self.pending)))
        return ()

    def _user(self, rec: dict):
        msg = rec.get("message")
        if not isinstance(msg, dict):
            raise Damaged
        session = str(rec.get("sessionId") or self.path.stem)
        ts = parse_ts(rec.get("timestamp"))
        content = msg.get("content")
        out = []
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    run = self._result(block, rec, session, ts)
                    if run:
                        out.append(run)
        if rec.get("isSidechain") or rec.get("isMeta") or rec.get("isCompactSummary"):
            # A sub-agent's prompt was written by the main agent; a meta record by Claude Code.
            if not out:
                self.skipped["not typed by the person"] += 1
            return out
        text = text_of(content)
        if isinstance(content, list) and not any(isinstance(b, dict) and b.get("type") == "text" for b in content):
            text = ""
        if text.strip():
            if text.lstrip().startswith(_NOT_TYPED):
                self.skipped["not typed by the person"] += 1
            else:
                out.append(Prompt(session, str(rec.get("uuid") or stable_id(rec.get("timestamp"), text)), text, ts))
        return out

    def _result(self, block: dict, rec: dict, session: str, ts):
        call = self.pending.pop(str(block.get("tool_use_id")), None)
        if call is None:
            return None  # not a shell command (Read, Edit…), or its call was not seen
        command, cwd, _ = call
        text = text_of(block.get("content"))
        m = _EXIT.search(text[:300])
        if m:
            code = int(m.group(1))
        elif block.get("is_error"):
            code = 1
        else:
            code = 0
        return ShellRun(session, f"tool:{block.get('tool_use_id')}", command, code, text if code else "", ts, cwd)
