"""Codex CLI: `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, lines `{timestamp, type, payload}`.

- `session_meta` (`payload.id`, `payload.cwd`) opens the session; `turn_context` may change the cwd;
- `response_item` payloads: `message` (role `user`: `input_text` blocks; the environment and
  instruction blocks Codex adds itself are not the person's), `function_call {name, arguments,
  call_id}` (shell tools: `shell`/`container.exec` with `command` as argv, `shell_command` and
  `exec_command` with a string `command`/`cmd`), `local_shell_call`, and `function_call_output
  {call_id, output}` whose output carries the exit code (`{"metadata": {"exit_code": N}}`, or text
  `Exit code: N` / `Process exited with code N`);
- `event_msg` (`user_message` repeats a prompt already read as a `response_item`), `compacted`: skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from learnflow.sources.base import Damaged, LineReader, Prompt, ShellRun, json_record, parse_ts, stable_id, text_of

DEFAULT = Path("~/.codex/sessions")
PATTERNS = ("rollout-*.jsonl", "*.jsonl")
SHELL_TOOLS = {"shell", "container.exec", "shell_command", "exec_command", "local_shell", "bash"}
KNOWN = {"session_meta", "response_item", "event_msg", "turn_context", "compacted"}
PENDING_MAX = 200
_NOT_TYPED = ("<environment_context>", "<user_instructions>", "# AGENTS.md", "<user_shell_command>", "<turn_aborted>")
_EXIT_JSON = re.compile(r'"exit_code"\s*:\s*(-?\d+)')
_EXIT = re.compile(r"(?:exit code|exited with code)[: ]\s*(-?\d+)", re.I)


class Reader(LineReader):
    def __init__(self, path: Path, state: dict):
        super().__init__(path, state)
        self.pending: dict[str, list] = state.setdefault("pending", {})  # call_id -> [command, ts]
        state.setdefault("session", path.stem.removeprefix("rollout-"))
        state.setdefault("cwd", "")

    def feed(self, line: bytes):
        if b'"reasoning"' in line and b'"function_call' not in line and b'"message"' not in line:
            return ()  # reasoning items: the model's, and large
        if b'"function_call_output"' in line and not any(call_id.encode() in line for call_id in self.pending):
            return ()  # the output of a call that is not a shell command (or not seen): large, and not needed
        rec = json_record(line)
        kind, payload = rec.get("type"), rec.get("payload")
        if kind not in KNOWN:
            # Rollouts before session_meta existed wrote the items themselves, one per line.
            if kind in ("message", "function_call", "function_call_output", "local_shell_call"):
                kind, payload = "response_item", rec
            else:
                self.skipped[f"unknown record type {str(kind)[:30]}"] += 1
                return ()
        if not isinstance(payload, dict):
            raise Damaged
        ts = parse_ts(rec.get("timestamp") or payload.get("timestamp"))
        if kind == "session_meta":
            self.state["session"] = str(payload.get("id") or self.state["session"])
            self.state["cwd"] = str(payload.get("cwd") or "")
            return ()
        if kind == "turn_context":
            self.state["cwd"] = str(payload.get("cwd") or self.state["cwd"])
            return ()
        if kind != "response_item":
            return ()
        return self._item(payload, ts, line)

    def _item(self, item: dict, ts, line: bytes):
        session = self.state["session"]
        kind = item.get("type")
        if kind == "message":
            if item.get("role") != "user":
                return ()
            text = text_of(item.get("content"))
            if text.lstrip().startswith(_NOT_TYPED):
                self.skipped["not typed by the person"] += 1
                return ()
            return [Prompt(session, str(item.get("id") or stable_id(ts, text)), text, ts)]
        if kind in ("function_call", "local_shell_call"):
            name = item.get("name") or ("local_shell" if kind == "local_shell_call" else None)
            if name not in SHELL_TOOLS:
                return ()
            command = _command(item)
            call_id = item.get("call_id") or item.get("id")
            if command is None or not call_id:
                self.skipped["shell call without a command"] += 1
                return ()
            self.pending[str(call_id)] = [command, ts]
            while len(self.pending) > PENDING_MAX:
                self.pending.pop(next(iter(self.pending)))
            return ()
        if kind == "function_call_output":
            call = self.pending.pop(str(item.get("call_id")), None)
            if call is None:
                return ()
            output = item.get("output")
            code, text = _outcome(output)
            if code is None:
                self.skipped["shell result without an exit code"] += 1
                return ()
            return [ShellRun(session, f"call:{item.get('call_id')}", call[0], code, text if code else "", ts or call[1], self.state["cwd"])]
        if kind in ("reasoning", "custom_tool_call", "custom_tool_call_output", "web_search_call"):
            return ()
        self.skipped[f"unknown item type {str(kind)[:30]}"] += 1
        return ()


def _command(item: dict):
    args = item.get("arguments")
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return None
    if not isinstance(args, dict):
        args = (item.get("action") or {}) if isinstance(item.get("action"), dict) else {}
    command = args.get("command", args.get("cmd"))
    if isinstance(command, list) and all(isinstance(w, str) for w in command):
        return command
    if isinstance(command, str):
        return command
    return None


def _outcome(output) -> tuple[int | None, str]:
    """(exit code, output text) of a function_call_output; the text only classifies a failure."""
    data: dict | None = output if isinstance(output, dict) else None
    if data is None:
        text = str(output or "")
        # The metadata follows the output: its last occurrence is the real one, not text quoted in the output.
        at = text.rfind('"metadata"')
        m = _EXIT_JSON.search(text, at) if at >= 0 else None
        if m and m.group(1) == "0":
            return 0, ""  # a success: its output is not needed, so not parsed
        try:
            parsed = json.loads(text) if text.startswith("{") else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            m = _EXIT.search(text[:400])
            return (int(m.group(1)) if m else None), text
        data = parsed
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    code = (meta or {}).get("exit_code", data.get("exit_code"))
    body = str(data.get("output") or data.get("content") or "")
    if isinstance(code, int):
        return code, body
    m = _EXIT.search(body[:400])
    return (int(m.group(1)) if m else None), body
