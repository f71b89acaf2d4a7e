"""API keys: from the environment first, else the 0600 keys file.

Keys are only ever passed to the backend call; they are never logged, stored
in the database or put in an error message.
"""

from __future__ import annotations

import os

from learnflow import config, paths

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
    env = ENV_VARS.get(provider)
    if env and os.environ.get(env):
        return os.environ[env]
    if paths.keys_path().exists():
        return config.load_keys().get(provider)
    return None


def set_key(provider: str, value: str) -> None:
    import tomli_w

    data = config.load(paths.keys_path())
    data[provider] = value
    paths.ensure_private_dir(paths.keys_path().parent)
    config.write_private(paths.keys_path(), tomli_w.dumps(data))


def stored_providers() -> list[str]:
    return sorted(config.load_keys()) if paths.keys_path().exists() else []


def env_providers() -> list[str]:
    return [p for p, env in ENV_VARS.items() if os.environ.get(env)]


def known_secrets() -> list[str]:
    """Every key value learnflow could send: scrubbed from anything it prints or stores."""
    values = [os.environ.get(env, "") for env in ENV_VARS.values()]
    values += [os.environ.get("LEARNFLOW_LRS_PASSWORD", "")]
    if paths.keys_path().exists():
        values += list(config.load_keys().values())
    return sorted({v for v in values if len(v) >= 8}, key=len, reverse=True)


def scrub(text: str | None) -> str | None:
    """`text` without any known key and without anything shaped like a secret.

    Servers echo keys in their errors ("Incorrect API key provided: sk-…"):
    such a message must not reach the terminal or the log as it came.
    """
    if not text:
        return text
    for value in known_secrets():
        text = text.replace(value, "[REDACTED:api-key]")
    from learnflow.redact import redact

    return redact(text).text
