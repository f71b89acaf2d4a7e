"""`learnflow hooks install|uninstall claude|gemini|codex`: the agent's hook configuration.

- Claude Code: `~/.claude/settings.json`, `hooks` → UserPromptSubmit, PostToolUse and
  PostToolUseFailure (matcher `Bash`), SessionStart, each `{"type": "command", "command": …}`;
  all but SessionStart with `"async": true`, so the agent does not wait for them.
- Gemini CLI: `~/.gemini/settings.json`, `hooks` → BeforeAgent, AfterTool (matcher
  `run_shell_command`), SessionStart (timeouts in milliseconds).
- Codex CLI has no per-prompt or per-tool hook in its config: only `notify`, one program run
  when a turn ends. Nothing is installed; `import --from codex` reads its sessions instead.

Install shows the change (redacted: settings may hold keys), keeps a backup of the file as it was
(`settings.json.learnflow-backup`) and leaves every other setting and hook alone, byte for byte
(sources/jsonedit.py writes only what changed); uninstall removes exactly learnflow's entries
(so install then uninstall gives back the file's content), keeping a backup too. A settings.json
that is a symbolic link stays one: the file it points to is written. Uninstall where there is no
settings file writes nothing.
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
from learnflow.sources import jsonedit

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
        """The change as a unified diff, redacted: the settings may hold keys (an `env` block) and the diff is shown."""
        from learnflow.redact import redact

        return redact(self.raw_diff).text

    @property
    def raw_diff(self) -> str:
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
    if path.is_symlink() and not path.exists():
        raise BadInput(f"{path} is a link to {os.readlink(path)}, which does not exist; nothing was changed.", hint="Fix the link first.")
    if not install and not path.exists():  # never set up: nothing to remove, and no file or folder is created
        return Change(agent, path, "", "")
    before = _read(path)
    try:
        settings = json.loads(before) if before.strip() else {}
    except ValueError as exc:
        raise BadInput(f"{path} is not plain JSON ({exc}); nothing was changed.", hint="Fix or edit the file by hand.") from None
    hooks = settings.get("hooks", {}) if isinstance(settings, dict) else None
    events = EVENTS[agent] if install else {}
    if not isinstance(hooks, dict) or any(not isinstance(hooks.get(event, []), list) for event in events):
        what = "its `hooks`" if isinstance(settings, dict) else "it"
        raise BadInput(
            f"{path} has an unexpected shape ({what} is not what {agent} documents); nothing was changed.", hint="Edit the file by hand."
        )
    settings["hooks"] = hooks
    _remove_ours(hooks)
    for event, matcher in events.items():
        entry: dict = {"matcher": matcher} if matcher else {}
        entry["hooks"] = [{"type": "command", "command": hook_command(event, agent), "timeout": TIMEOUT[agent]}]
        if agent == "gemini":
            entry["hooks"][0]["name"] = f"learnflow-{event}"
        if event in ASYNC.get(agent, ()):
            entry["hooks"][0]["async"] = True
        hooks.setdefault(event, []).append(entry)
    if not hooks:
        del settings["hooks"]
    after = jsonedit.rewrite(before, settings)
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    for earlier in (before, _backup_text(backup)):
        if _same(earlier, settings):  # the same settings as the file was: its exact bytes back (its own layout)
            after = earlier
            break
    return Change(agent, path, before, after)


def _backup_text(backup: Path) -> str:
    try:
        return backup.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # no backup, or one that is not ours to read: only the file's own bytes come back
        return ""


def _read(path: Path) -> str:
    """The settings' text; "" when there is no file yet (install creates it)."""
    if not path.exists():
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 JSON; nothing was changed.", hint="Save it as UTF-8, or edit it by hand.") from None
    except OSError as exc:
        raise BadInput(f"{path} cannot be read ({exc.strerror or type(exc).__name__}); nothing was changed.") from None


def state(agent: str, home: Path | None = None) -> str:
    """installed | out of date (some of learnflow's entries, or an older command) | not installed (for `doctor`);
    BadInput when the settings cannot be read."""
    if not plan(agent, install=True, home=home).changed:
        return "installed"
    without = plan(agent, install=False, home=home)  # the settings parsed (plan checked), minus learnflow's entries
    return "out of date" if json.loads(without.before or "{}") != json.loads(without.after or "{}") else "not installed"


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
    """Write the change, after a backup of the file as it was (0600, like the file it copies).

    A settings.json that is a link (dotfiles) stays a link: the file it points to is written, and the
    backup is a copy of that file's content beside the link."""
    if not change.changed:
        return change
    path = change.path
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        shutil.copy2(target, backup)
        change.backup = backup
    tmp = target.with_name(target.name + ".learnflow-tmp")
    tmp.write_text(change.after, encoding="utf-8")
    if target.exists():
        shutil.copymode(target, tmp)
    os.replace(tmp, target)
    return change


def _unknown(agent: str) -> BadInput:
    return BadInput(f"Unknown agent {agent!r}.", hint=f"Choose one of: {', '.join(AGENTS)}.")


def check_agent(agent: str) -> None:
    if agent not in AGENTS:
        raise _unknown(agent)
