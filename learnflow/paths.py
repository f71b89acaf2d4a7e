"""Where learnflow keeps its state.

`LEARNFLOW_HOME` moves everything (database, config, prompts overrides, keys)
into one folder, like llm's LLM_USER_PATH; otherwise platformdirs decides.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "learnflow"


def home_override() -> Path | None:
    value = os.environ.get("LEARNFLOW_HOME")
    return Path(value).expanduser() if value else None


def _xdg(variable: str, default: str) -> Path | None:
    """platformdirs' answer on Linux in the plain cases, without importing it: importing
    platformdirs (tempfile, shutil, random, typing) costs ~5 ms, paid by every `lf` run.

    `$XDG_…_HOME/learnflow` when the variable is an absolute path; `$HOME/<default>/learnflow`
    when it is unset or blank and HOME is absolute. Anything else (a relative XDG path, no
    HOME, another system) is left to platformdirs (None); tests/test_quickrun.py compares the two.
    """
    if not sys.platform.startswith("linux"):
        return None
    value = os.environ.get(variable, "")
    if value.startswith("/"):
        return Path(value) / APP
    home = os.environ.get("HOME", "")
    if not value.strip() and home.startswith("/"):
        return Path(home.rstrip("/") + default) / APP
    return None


def data_dir() -> Path:
    """Folder of the database (created 0700 on first write)."""
    home = home_override()
    if home:
        return home
    found = _xdg("XDG_DATA_HOME", "/.local/share")
    if found:
        return found
    from platformdirs import user_data_path

    return user_data_path(APP, appauthor=False)


def config_dir() -> Path:
    """Folder of config.toml, keys.toml, prompts/ and skills.toml overrides."""
    home = home_override()
    if home:
        return home
    found = _xdg("XDG_CONFIG_HOME", "/.config")
    if found:
        return found
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False)


def cache_dir() -> Path:
    home = home_override()
    if home:
        return home / "cache"
    found = _xdg("XDG_CACHE_HOME", "/.cache")
    if found:
        return found
    from platformdirs import user_cache_path

    return user_cache_path(APP, appauthor=False)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` readable by its owner only: the log holds people's work."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError):
        from learnflow.errors import ConfigError

        # e.g. LEARNFLOW_HOME pointing at a file, or at a folder under one.
        raise ConfigError(
            f"{path} cannot be a folder: it, or a folder above it, is a file.",
            hint="Point LEARNFLOW_HOME (or XDG_DATA_HOME / XDG_CONFIG_HOME) at a folder, or move that file away.",
        ) from None
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            # Take others' access away, never add our own: a folder made read-only on purpose
            # (chmod 555) stays read-only, and learnflow reads it without writing.
            path.chmod(mode & 0o700)
    except OSError:  # pragma: no cover - e.g. a folder owned by someone else
        pass
    return path


def db_path() -> Path:
    return data_dir() / "learnflow.db"


def config_path() -> Path:
    return config_dir() / "config.toml"


def keys_path() -> Path:
    return config_dir() / "keys.toml"


def user_prompts_dir() -> Path:
    return config_dir() / "prompts"


def user_skills_path() -> Path:
    return config_dir() / "skills.toml"


def package_dir() -> Path:
    return Path(__file__).resolve().parent


def bundled_prompts_dir() -> Path:
    """Prompts ship inside the wheel; in a source checkout they are at the top level."""
    inside = package_dir() / "prompts"
    if inside.is_dir():
        return inside
    return package_dir().parent / "prompts"
