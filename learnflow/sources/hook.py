"""`learnflow hook EVENT`: a coding agent's hook, fed the event's JSON on stdin.

The agent waits for its hooks, so this path must be quick and must never get in the way:
- it imports only the standard library and the few learnflow modules that store an event
  (no typer, click or rich: `__main__` dispatches here before the CLI is imported);
- it always exits 0 and prints nothing, except the JSON an agent reads back (the due
  retrieval checks at session start); any error goes to `hook.log` in learnflow's data dir;
- it stores what `import --from` would, with the same item keys (a prompt: its session and
  a hash of its redacted text; a shell call: `tool:<tool_use_id>`), so a later import of the
  same session adds nothing twice.

Events (Claude Code names; Gemini CLI's in brackets, chosen with `--agent gemini`):
UserPromptSubmit [BeforeAgent] → a question; PostToolUse / PostToolUseFailure [AfterTool] of a
shell tool → task evidence; SessionStart → the due checks as `additionalContext`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

AGENTS = ("claude", "gemini")
PROMPT_EVENTS = {"UserPromptSubmit", "BeforeAgent"}
TOOL_EVENTS = {"PostToolUse", "PostToolUseFailure", "AfterTool"}
SHELL_TOOLS = {"Bash", "BashTool", "bash", "run_shell_command"}
MAX_STDIN = 4 << 20  # a payload past this is a tool's huge output: only its start is needed
DUE_SHOWN = 3
_EXIT = re.compile(r"\bexit code:?\s*(-?\d+)", re.I)


def main(argv: list[str]) -> int:
    """Entry point; returns the exit status (always 0: a hook must never block its agent)."""
    event, agent = "", "claude"
    try:
        args = list(argv)
        if "--agent" in args:
            i = args.index("--agent")
            agent = args[i + 1] if i + 1 < len(args) else agent
            del args[i : i + 2]
        event = args[0] if args else ""
        raw = sys.stdin.buffer.read(MAX_STDIN) if sys.stdin is not None else b""
        out = handle(event, agent, raw)
        if out:
            sys.stdout.write(out + "\n")
            sys.stdout.flush()
    except BaseException as exc:  # noqa: BLE001 - nothing may reach the agent but a clean exit
        log_error(event, agent, exc)
    return 0


def handle(event: str, agent: str, raw: bytes) -> str:
    """Store what the event says; returns what to print (usually nothing)."""
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}")
    try:
        payload = json.loads(raw.decode("utf-8", "replace")) if raw.strip() else {}
    except ValueError as exc:
        # Only the error's class, position and the payload's size: a cut-off prompt's bytes would put its secrets in hook.log.
        where = f" at char {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ValueError(f"payload is not JSON ({type(exc).__name__}{where}; {len(raw)} bytes)") from None
    if not isinstance(payload, dict):
        raise ValueError("payload is not a JSON object")
    event = event or str(payload.get("hook_event_name") or "")
    session = str(payload.get("session_id") or "")
    if event in PROMPT_EVENTS:
        prompt = payload.get("prompt")
        if isinstance(prompt, str) and prompt.strip() and session:
            _store_event(agent, _prompt_event(session, prompt))
        return ""
    if event in TOOL_EVENTS:
        run = _shell_event(event, session, payload)
        if run is not None:
            _store_event(agent, run)
        return ""
    if event == "SessionStart":
        return _session_start(event)
    return ""  # an event we were not asked to log (Stop, Notification…): nothing to do


def _prompt_event(session: str, text: str):
    from learnflow.sources.base import Prompt

    # The item is computed by the Importer from the redacted text (see base.TEXT_KEYED).
    return Prompt(session, "", text, time.time())


def _shell_event(event: str, session: str, payload: dict):
    if payload.get("tool_name") not in SHELL_TOOLS or not session:
        return None
    tool_input = payload.get("tool_input") or {}
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    if not isinstance(command, str) or not command.strip():
        return None
    code, output = exit_status(event, payload)
    from learnflow.sources.base import ShellRun, stable_id

    call = payload.get("tool_use_id") or payload.get("tool_call_id")
    # The importer keys a Claude shell call by its tool_use_id; without one, a key from the call itself.
    item = f"tool:{call}" if call else "tool:" + stable_id(session, command, payload.get("timestamp") or time.time())
    return ShellRun(session, item, command, code, output, time.time(), str(payload.get("cwd") or ""))


def exit_status(event: str, payload: dict) -> tuple[int, str]:
    """(exit code, output to classify a failure) from the tool's response, as the importer reads a transcript."""
    response = payload.get("tool_response")
    error = payload.get("error")
    text = ""
    code: int | None = None
    if isinstance(response, dict):
        for key in ("exit_code", "exitCode", "returnCode", "code"):
            if isinstance(response.get(key), int):
                code = response[key]
                break
        parts = [response.get(k) for k in ("stderr", "stdout", "error", "llmContent", "returnDisplay", "output")]
        text = "\n".join(p for p in parts if isinstance(p, str))
        if code is None and response.get("error"):
            code = _code_in(text) or 1
    elif isinstance(response, str):
        text = response
    if isinstance(error, str | dict) and error:
        text = (json.dumps(error) if isinstance(error, dict) else error) + "\n" + text
    if code is None:
        found = _code_in(text[:300])
        if found is not None:
            code = found
        elif event == "PostToolUseFailure" or error:
            code = 1
        else:
            code = 0
    return code, text if code else ""


def _code_in(text: str) -> int | None:
    m = _EXIT.search(text)
    return int(m.group(1)) if m else None


def _store_event(agent: str, ev) -> None:
    from learnflow.db import agents as agents_db
    from learnflow.db.store import Store
    from learnflow.sources.base import Importer

    store = Store()
    try:
        importer = Importer(store, agent, hook=True)
        agents_db.in_transaction(store, lambda: importer.handle(ev))
    finally:
        store.close()


def _session_start(event: str) -> str:
    """The due retrieval checks, for the agent to mention (Claude Code and Gemini CLI read `additionalContext`)."""
    from learnflow import paths

    if not paths.db_path().exists():  # no log yet: nothing is due, and the hook creates none
        return ""
    from learnflow.db import reviews as reviews_db
    from learnflow.db.store import Store
    from learnflow.timespec import now_iso

    store = Store()
    try:
        cards = reviews_db.due_cards(store, now_iso(), exclude=[], skill=None, limit=DUE_SHOWN + 1)
    finally:
        store.close()
    if not cards:
        return ""
    skills = sorted({str(c.get("skill") or "") for c in cards if c.get("skill")})
    more = "+" if len(cards) > DUE_SHOWN else ""
    text = (
        f"learnflow: {min(len(cards), DUE_SHOWN)}{more} retrieval check(s) are due"
        + (f" (skills: {', '.join(skills[:DUE_SHOWN])})" if skills else "")
        + ". If the person has a minute at a natural pause, suggest `learnflow check`; do not quiz them yourself."
    )
    return json.dumps({"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}})


def log_path():
    from learnflow import paths

    return paths.data_dir() / "hook.log"


def _redacted(text: str) -> str:
    """An error's message may quote the event (a database error, an importer's); it is redacted like every channel.
    Only on this error path is redact imported, and if even that fails the message is left out."""
    try:
        from learnflow.redact import redact

        return redact(text).text
    except Exception:  # noqa: BLE001 - the error line must still be written
        return "(message left out: it could not be redacted)"


def log_error(event: str, agent: str, exc: BaseException) -> None:
    """One line per failure in hook.log (never on the agent's terminal). Never raises."""
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        line = f"{stamp} {agent} {event or '?'} {type(exc).__name__}: {_redacted(str(exc))[:300]}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", errors="replace") as fh:
            fh.write(line)
    except Exception:  # noqa: BLE001 - a hook that cannot even log still must not fail
        pass
