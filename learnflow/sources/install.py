"""`learnflow hooks install|uninstall claude|gemini|codex`: the agent's hook configuration.

- Claude Code: `~/.claude/settings.json`, `hooks` → UserPromptSubmit, PostToolUse and
  PostToolUseFailure (matcher `Bash`), SessionStart, each `{"type": "command", "command": …}`;
  all but SessionStart with `"async": true`, so the agent does not wait for them.
- Gemini CLI: `~/.gemini/settings.json`, `hooks` → BeforeAgent, AfterTool (matcher
  `run_shell_command`), SessionStart (timeouts in milliseconds).
- Codex CLI has no per-prompt or per-tool hook in its config: only `notify`, one program run
  when a turn ends. Nothing is installed; `import --from codex` reads its sessions instead.

Install shows the change, keeps a backup of the file as it was (`settings.json.learnflow-backup`)
and leaves every other setting and hook alone; uninstall removes exactly learnflow's entries
(so install then uninstall gives back the file's content), keeping a backup too.
"""

from __future__ import annotations

import difflib
import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from learnflow.errors import BadInput

AGENTS = ("claude", "gemini", "codex")
BACKUP_SUFFIX = ".learnflow-backup"
# event -> matcher (None: the event takes none)
EVENTS = {
    "claude": {"UserPromptSubmit": None, "PostToolUse": "Bash", "PostToolUseFailure": "Bash", "SessionStart": None},
    "gemini": {"BeforeAgent": None, "AfterTool": "run_shell_command", "SessionStart": None},
}
TIMEOUT = {"claude": 10, "gemini": 10_000}  # seconds; milliseconds. The hook takes < 0.1 s: a bound, not a wait.
# Claude Code runs a command hook with `"async": true` in the background, so the agent never waits for it.
# Only SessionStart must be waited for: its output (the due checks) is what the agent reads.
ASYNC = {"claude": {"UserPromptSubmit", "PostToolUse", "PostToolUseFailure"}}


@dataclass
class Change:
    agent: str
    path: Path
    before: str  # "" when the file does not exist
    after: str
    backup: Path | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True), self.after.splitlines(keepends=True), str(self.path), str(self.path) + " (new)"
            )
        )


def settings_path(agent: str, home: Path | None = None) -> Path:
    base = home if home is not None else Path.home()
    if agent == "claude":
        return Path(os.environ.get("CLAUDE_CONFIG_DIR") or base / ".claude") / "settings.json"
    if agent == "gemini":
        return base / ".gemini" / "settings.json"
    raise _unknown(agent)


def hook_command(event: str, agent: str) -> str:
    """How the agent runs learnflow: the installed script if on PATH, else this Python with -m."""
    exe = shutil.which("learnflow")
    base = shlex.quote(exe) if exe else f"{shlex.quote(sys.executable)} -m learnflow"
    return f"{base} hook {event}" + (" --agent gemini" if agent == "gemini" else "")


def is_ours(command) -> bool:
    if not isinstance(command, str):
        return False
    words = command.split()
    return "hook" in words and any(w.strip("'\"").endswith(("learnflow", "learnflow.exe")) for w in words[: words.index("hook")])


def plan(agent: str, *, install: bool, home: Path | None = None) -> Change:
    """What install (or uninstall) would write; nothing is written."""
    if agent == "codex":
        raise BadInput(
            "Codex CLI has no prompt or tool hooks to install (its `notify` runs one program when a turn ends).",
            hint="Import its sessions instead: learnflow import --from codex (run it again any time; only new lines are read).",
        )
    path = settings_path(agent, home)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        settings = json.loads(before) if before.strip() else {}
    except ValueError as exc:
        raise BadInput(f"{path} is not plain JSON ({exc}); nothing was changed.", hint="Fix or edit the file by hand.") from None
    if not isinstance(settings, dict) or not isinstance(settings.get("hooks", {}), dict):
        raise BadInput(f"{path} has an unexpected shape; nothing was changed.", hint="Edit the file by hand.")
    hooks = settings.setdefault("hooks", {})
    _remove_ours(hooks)
    if install:
        for event, matcher in EVENTS[agent].items():
            entry: dict = {"matcher": matcher} if matcher else {}
            entry["hooks"] = [{"type": "command", "command": hook_command(event, agent), "timeout": TIMEOUT[agent]}]
            if agent == "gemini":
                entry["hooks"][0]["name"] = f"learnflow-{event}"
            if event in ASYNC.get(agent, ()):
                entry["hooks"][0]["async"] = True
            hooks.setdefault(event, []).append(entry)
    if not hooks:
        del settings["hooks"]
    after = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    for earlier in (before, backup.read_text(encoding="utf-8") if backup.exists() else ""):
        if _same(earlier, settings):  # the same settings as the file was: its exact bytes back (its own layout)
            after = earlier
            break
    return Change(agent, path, before, after)


def state(agent: str, home: Path | None = None) -> str:
    """installed | out of date (some of learnflow's entries, or an older command) | not installed (for `doctor`);
    BadInput when the settings cannot be read."""
    if not plan(agent, install=True, home=home).changed:
        return "installed"
    without = plan(agent, install=False, home=home)  # the settings parsed (plan checked), minus learnflow's entries
    return "out of date" if json.loads(without.before or "{}") != json.loads(without.after) else "not installed"


def _same(text: str, settings: dict) -> bool:
    try:
        return bool(text.strip()) and json.loads(text) == settings
    except ValueError:
        return False


def _remove_ours(hooks: dict) -> None:
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                mine = [h for h in group["hooks"] if isinstance(h, dict) and is_ours(h.get("command"))]
                if mine:
                    group = {**group, "hooks": [h for h in group["hooks"] if h not in mine]}
                    if not group["hooks"]:
                        continue
            kept.append(group)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]


def apply(change: Change) -> Change:
    """Write the change, after a backup of the file as it was (0600, like the file it copies)."""
    if not change.changed:
        return change
    path = change.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        shutil.copy2(path, backup)
        change.backup = backup
    tmp = path.with_name(path.name + ".learnflow-tmp")
    tmp.write_text(change.after, encoding="utf-8")
    if path.exists():
        shutil.copymode(path, tmp)
    os.replace(tmp, path)
    return change


def _unknown(agent: str) -> BadInput:
    return BadInput(f"Unknown agent {agent!r}.", hint=f"Choose one of: {', '.join(AGENTS)}.")


def check_agent(agent: str) -> None:
    if agent not in AGENTS:
        raise _unknown(agent)
