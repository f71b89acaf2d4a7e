"""API keys: from the environment first, else the 0600 keys file.

Keys are only ever passed to the backend call; they are never logged, stored
in the database or put in an error message.
"""

from __future__ import annotations

import os

from learnflow import paths
from learnflow.errors import ConfigError

# `config` (with tomllib, ~4 ms) is imported by the functions that read or write a file: redaction
# asks for the known secrets on every `lf` run, and most machines keep keys in the environment.

# Environment variable per provider, as each provider's own SDK spells it.
ENV_VARS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
}


def find_key(provider: str) -> str | None:
    """The key, stripped: a key pasted with its line end (`\r`, `\n`, a space) would make an
    invalid header, whose error message quotes the whole key."""
    env = ENV_VARS.get(provider)
    if env and os.environ.get(env, "").strip():
        return os.environ[env].strip()
    if paths.keys_path().exists():
        from learnflow import config

        value = config.load_keys().get(provider)
        return (value.strip() or None) if value else None
    return None


def set_key(provider: str, value: str) -> None:
    import tomli_w

    from learnflow import config

    data = config.load(paths.keys_path())
    data[provider] = value.strip()
    paths.ensure_private_dir(paths.keys_path().parent)
    config.write_private(paths.keys_path(), tomli_w.dumps(data))


def unset_key(provider: str) -> bool:
    """Remove a provider's key from the keys file; False when it held none."""
    import tomli_w

    from learnflow import config

    if not paths.keys_path().exists():
        return False
    data = config.load(paths.keys_path())
    if data.pop(provider, None) is None:
        return False
    config.write_private(paths.keys_path(), tomli_w.dumps(data))
    return True


def stored_providers() -> list[str]:
    from learnflow import config

    return sorted(config.load_keys()) if paths.keys_path().exists() else []


def env_providers() -> list[str]:
    return [p for p, env in ENV_VARS.items() if os.environ.get(env)]


def known_secrets() -> list[str]:
    """Every key value learnflow could send, longest first: redact.redact removes them from
    anything it prints or stores, whatever their shape. Each value is listed as it was given
    and stripped (a key with a trailing `\r` is found in both forms)."""
    values = [os.environ.get(env, "") for env in _SECRET_ENV]
    values += _file_keys()
    values += [v.strip() for v in values]
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


_SECRET_ENV = (*ENV_VARS.values(), "LEARNFLOW_LRS_PASSWORD")
# Redaction runs on every text learnflow sends or stores, so the keys file is located once per
# environment and read again only when it changes: (where-from) -> path, path -> (stamp, values).
_PATHS: dict[tuple, str] = {}
_FILE_CACHE: dict[str, tuple[tuple[int, int], list[str]]] = {}


def _file_keys() -> list[str]:
    where = (os.environ.get("LEARNFLOW_HOME"), os.environ.get("XDG_CONFIG_HOME"), os.environ.get("HOME"))
    path = _PATHS.get(where)
    if path is None:
        path = _PATHS[where] = str(paths.keys_path())
    try:
        st = os.stat(path)
    except OSError:
        return []
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _FILE_CACHE.get(path)
    if cached is None or cached[0] != stamp:
        from learnflow import config

        try:
            values = list(config.load_keys().values())
        except ConfigError:  # a damaged keys file is reported where keys are used, not here
            values = []
        cached = _FILE_CACHE[path] = (stamp, values)
    return cached[1]
