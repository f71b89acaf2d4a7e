"""User configuration: one TOML file in the config folder.

Only known keys are accepted by `config set`, so a typo is an error rather than
a setting that silently does nothing. Reading tolerates unknown keys (a newer
learnflow may have written them).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from learnflow import paths
from learnflow.errors import BadInput, ConfigError

LEVELS = ("novice", "intermediate", "expert")
_TYPE_NAMES = {int: "a whole number", float: "a number", str: "text", list: "a list of folders"}


@dataclass(frozen=True)
class Setting:
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    low: float | None = None  # inclusive bounds for numbers: checked when set, not when used
    high: float | None = None


SETTINGS: dict[str, Setting] = {
    "model": Setting(str, None, "Model to use, as litellm spells it (openai/gpt-4o-mini, ollama/llama3.2, offline)."),
    "backend": Setting(str, None, "Force a backend for every model (offline, openai, litellm)."),
    "api_base": Setting(str, None, "Base URL of an OpenAI-compatible server (else OPENAI_BASE_URL)."),
    "model_file": Setting(str, None, "Path to a local GGUF model (needs learnflow[local])."),
    "default_level": Setting(str, "novice", "Level used for a skill with no evidence yet.", LEVELS),
    "tagging": Setting(str, "model", "Who tags skills when a model is connected: model or offline.", ("model", "offline")),
    "fallback": Setting(str, "offline", "When the model server cannot be reached: offline (the coach answers) or off.", ("offline", "off")),
    "context_tokens": Setting(int, 6000, "Token budget for piped input and -f files sent to the model.", low=256, high=2000000),
    "connect_timeout": Setting(float, 5.0, "Seconds to wait for a backend to accept the connection.", low=0.05, high=600),
    "read_timeout": Setting(float, 120.0, "Seconds to wait between two chunks of an answer.", low=0.1, high=3600),
    "retries": Setting(int, 2, "Retries after a rate limit, server error or dropped connection (before any answer text).", low=0, high=10),
    "retry_max_seconds": Setting(float, 30.0, "Longest total wait across retries, Retry-After included.", low=0, high=3600),
    "xapi_actor_mbox": Setting(str, None, "xAPI actor: your e-mail (else a stable pseudonym per install)."),
    "xapi_actor_homepage": Setting(str, None, "xAPI actor account: the account system's home page, e.g. your SSO."),
    "xapi_actor_account": Setting(str, None, "xAPI actor account: your name on that system."),
    "xapi_actor_name": Setting(str, None, "xAPI actor: a display name sent with statements."),
    "xapi_lrs_url": Setting(str, None, "Your LRS's xAPI endpoint for `learnflow sync` / `team --lrs`."),
    "lrs_max_seconds": Setting(
        float, 120.0, "Longest a sync or team --lrs may talk to the LRS, retries and waits included.", low=1, high=86400
    ),
    "xapi_lrs_user": Setting(str, None, "LRS user / key (password: LEARNFLOW_LRS_PASSWORD or `learnflow keys set lrs`)."),
    # `learnflow gaps`: the learner model's knobs (docs/learner-model.md explains each).
    "gaps_half_life_days": Setting(
        float, 30.0, "Days after which a piece of evidence counts half: idle skills drift back to unknown.", low=0.01, high=36500
    ),
    "gaps_default_target": Setting(float, 0.7, "Target mastery (0..1) of a skill without a goal (`learnflow goals set`).", low=0, high=1),
    "gaps_min_evidence": Setting(
        float, 3.0, "Weighted, decayed evidence `ask` needs before it adapts its teaching level to your mastery.", low=0, high=1000000.0
    ),
    "gaps_learn_weights": Setting(
        str, "on", "Learn how much your self-ratings, attempts and command outcomes are worth from your checks.", ("on", "off")
    ),
    "gaps_weight_check": Setting(float, 1.0, "Weight of one check question answered (right or wrong).", low=0, high=100),
    "gaps_weight_review": Setting(
        float, 0.25, "Weight of one review rating (reflect logs it beside the check it grades).", low=0, high=100
    ),
    "gaps_weight_self_rating": Setting(float, 0.5, "Weight of one self-rating (people misjudge themselves).", low=0, high=100),
    "gaps_weight_imported": Setting(float, 0.75, "Weight of one imported (xAPI) result.", low=0, high=100),
    "gaps_weight_question_how": Setting(float, 0.15, "Weight of a 'how do I' question as evidence of a gap.", low=0, high=100),
    "gaps_weight_question_why": Setting(float, 0.05, "Weight of a 'why / trade-off' question as evidence of a gap.", low=0, high=100),
    "gaps_weight_attempt": Setting(float, 0.5, "Weight of a judged try-first attempt (`ask --try`).", low=0, high=100),
    "gaps_weight_task": Setting(float, 0.1, "Weight of a wrapped command's outcome (`learnflow run` / `lf`).", low=0, high=100),
    "gaps_weight_repeat": Setting(float, 0.3, "Weight of asking again what was already answered (a lapse).", low=0, high=100),
    "gaps_weight_flag": Setting(float, 0.5, "Weight of flagging a wrong AI answer (evaluating AI output).", low=0, high=100),
    # Learning by doing: the learner moves first (README "Learning by doing").
    "inline_check": Setting(str, "on", "After an answer on a terminal, offer its check question right away.", ("on", "off")),
    "try_first": Setting(
        str,
        "off",
        "Ask for your attempt before answering: off, novice (novices only), novice+intermediate, or all.",
        ("off", "novice", "novice+intermediate", "all"),
    ),
    "content_paths": Setting(str, None, "Content pack folders (skills, roles, guides), separated by os.pathsep; see docs/content.md."),
    "docs": Setting(
        list, None, "Folders of your own documents that ask grounds answers in (`config set docs DIR` with os.pathsep between several)."
    ),
    "memory_tokens": Setting(
        int, 300, "Token budget for what the model is told about you (levels, missed checks, action item).", low=0, high=4000
    ),
}
# Per-skill tables, e.g. `levels.git = "expert"`.
TABLES = {
    "levels": Setting(str, None, "Your level on one skill: novice, intermediate or expert.", LEVELS),
    "try_first_skill": Setting(str, None, "Try first on one skill regardless of level: on or off.", ("on", "off")),
}


def load(path: Path | None = None) -> dict[str, Any]:
    """Read the config file; a missing file is an empty config."""
    path = path or paths.config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {path} is not UTF-8 text.", hint="Save it as UTF-8, or move it away.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already names the line and column.
        raise ConfigError(
            f"Config file {path} is not valid TOML: {exc}.",
            hint="Fix that line, or move the file away and run `learnflow config set` again.",
        ) from None


def checked(key: str, value: Any, setting: Setting) -> Any:
    """A value read from the file, as its setting's type, or a ConfigError naming the key.

    `config set` validates what it writes, but the file is also edited by hand: a
    `read_timeout = "abc"` must be a clear error where it is used, not a traceback.
    """
    problem = None
    if setting.type is str:
        ok = isinstance(value, str)
    elif setting.type is list:
        # A TOML array of folders; a hand-written string is read like `config set`'s argument.
        value = [p for p in value.split(os.pathsep) if p] if isinstance(value, str) else value
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif setting.type is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    if not ok:
        problem = f"needs {_TYPE_NAMES.get(setting.type, setting.type.__name__)}"
    elif setting.choices and value not in setting.choices:
        problem = f"must be one of: {', '.join(setting.choices)}"
    elif setting.low is not None and setting.high is not None and not (setting.low <= value <= setting.high):
        problem = f"must be between {setting.low:g} and {setting.high:g}"
    if problem:
        raise ConfigError(
            f"Setting {key} = {value!r} in {paths.config_path()} {problem}.",
            hint=f"Fix it with `learnflow config set {key} …`, or `learnflow config unset {key}` for the default.",
        )
    return value


class Config:
    """Merged view: environment over file over defaults."""

    def __init__(self, data: dict[str, Any] | None = None):
        if data is None:
            data = load()
            # A bad value in the file is reported before any work starts (an ask would
            # otherwise log its question and then fail on the setting it reads last).
            for key, setting in SETTINGS.items():
                if key in data:
                    checked(key, data[key], setting)
        self.data = data

    def get(self, key: str) -> Any:
        if "." in key:
            table, _, sub = key.partition(".")
            value = self.data.get(table, {})
            return value.get(sub) if isinstance(value, dict) else None
        setting = SETTINGS.get(key)
        if key in self.data:
            value = self.data[key]
            return checked(key, value, setting) if setting is not None else value
        return setting.default if setting else None

    def unknown_keys(self) -> list[str]:
        """Keys in the file that this learnflow does not know: typos, or written by a newer version."""
        return [k for k in self.data if k not in SETTINGS and k not in TABLES]

    def level_for(self, skill: str) -> str | None:
        levels = self.data.get("levels") or {}
        value = levels.get(skill) if isinstance(levels, dict) else None
        return value if value in LEVELS else None

    @property
    def model(self) -> str | None:
        return os.environ.get("LEARNFLOW_MODEL") or self.get("model")


def parse_value(key: str, raw: str, *, skills: Collection[str] = ()) -> Any:
    """Turn a command-line string into the typed value a setting needs, or say why not.

    `skills` are the known skill ids, for the `levels.<skill>` keys (the caller reads the
    taxonomy: config is a leaf and knows nothing of skills)."""
    table, _, sub = key.partition(".")
    setting = TABLES.get(table) if sub else SETTINGS.get(key)
    if setting is None:
        known = ", ".join([*SETTINGS, *(f"{t}.<skill>" for t in TABLES)])
        raise BadInput(f"Unknown setting {key!r}.", hint=f"Known settings: {known}.")
    if sub:
        if sub not in skills:
            raise BadInput(f"Unknown skill {sub!r} in {key}.", hint="The skill ids are in `learnflow gaps --json` or skills.toml.")
    if setting.type is list:
        folders = [p for p in raw.split(os.pathsep) if p.strip()]
        if not folders:
            raise BadInput(f"{key} needs at least one folder.", hint=f"`learnflow config unset {key}` removes the setting.")
        return [_existing_folder(key, p) for p in folders]
    try:
        value = setting.type(raw)
    except ValueError:
        raise BadInput(f"{key} needs {_TYPE_NAMES.get(setting.type, setting.type.__name__)}, got {raw!r}.") from None
    if setting.choices and value not in setting.choices:
        raise BadInput(f"{key} must be one of: {', '.join(setting.choices)}.")
    if setting.low is not None and not (setting.low <= value <= setting.high):
        raise BadInput(f"{key} must be between {setting.low:g} and {setting.high:g}, got {raw}.")
    return value


def _existing_folder(key: str, raw: str) -> str:
    """A folder as it is stored: `~` expanded and made absolute from where `config set` runs, so
    the setting means the same folder from wherever learnflow runs later; it must exist now."""
    folder = os.path.abspath(os.path.expanduser(raw))
    if not os.path.isdir(folder):
        what = "is a file, not a folder" if os.path.exists(folder) else "does not exist"
        raise BadInput(f"{key}: {raw} {what}.", hint="Give a folder that holds your documents; nothing was changed.")
    return folder


def set_value(key: str, raw: str, path: Path | None = None, *, skills: Collection[str] = ()) -> Any:
    """Validate and write one setting; returns the stored value. `skills`: see parse_value."""
    import tomli_w

    path = path or paths.config_path()
    value = parse_value(key, raw, skills=skills)
    data = load(path)
    table, _, sub = key.partition(".")
    if sub:
        data.setdefault(table, {})[sub] = value
    else:
        data[key] = value
    paths.ensure_private_dir(path.parent)
    write_private(path, tomli_w.dumps(data))
    return value


def unset_value(key: str, path: Path | None = None) -> bool:
    import tomli_w

    path = path or paths.config_path()
    data = load(path)
    table, _, sub = key.partition(".")
    container = data.get(table) if sub else data
    if not isinstance(container, dict) or (sub or key) not in container:
        return False
    del container[sub or key]
    write_private(path, tomli_w.dumps(data))
    return True


def write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically: a crash never leaves half a config, a full disk leaves
    the old file as it was and no `*.tmp` beside it, and the failure is a ConfigError."""
    import errno

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())  # the bytes are on disk before the name points at them
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        path.chmod(0o600)
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        raise ConfigError(
            f"Cannot write {path}: {exc.strerror or exc}. Nothing was changed.",
            hint="Free some disk space and try again."
            if full
            else f"Check that {path.parent} is writable (or point LEARNFLOW_HOME elsewhere).",
        ) from None


def load_keys() -> dict[str, str]:
    """Keys file (0600): `openai = "sk-..."`. The environment wins over it."""
    data = load(paths.keys_path())
    return {k: v for k, v in data.items() if isinstance(v, str)}
