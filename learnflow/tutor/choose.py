"""Which backend and model answer, and why.

Order when the user configured nothing: an explicit model (flag, env, config)
→ a provider key in the environment → a local server answering on loopback
(Ollama 11434, LM Studio 1234, llama.cpp 8080) → the offline coach. Probing
loopback costs a few milliseconds (refused connects return at once) and its
result is cached for a minute.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import asdict, dataclass

from learnflow import keys, paths
from learnflow.backends import Backend, registry
from learnflow.config import Config
from learnflow.errors import BadInput, ConfigError

# Cheap, capable default per provider key, as litellm spells them.
KEY_DEFAULTS = {
    "openai": "openai/gpt-4o-mini",
    "anthropic": "anthropic/claude-3-5-haiku-latest",
    "gemini": "gemini/gemini-2.0-flash",
    "mistral": "mistral/mistral-small-latest",
    "groq": "groq/llama-3.1-8b-instant",
}

LOCAL_SERVERS = (
    ("ollama", 11434, "ollama"),
    ("lm_studio", 1234, "lm_studio"),
    ("llama.cpp", 8080, "openai"),
)
PROBE_TTL = 60.0


@dataclass
class Choice:
    model: str
    backend: str
    reason: str
    api_base: str | None = None


def check_base_url(url: str | None, source: str) -> None:
    """A server URL the backends can use, or a ConfigError naming where it came from.

    `http://[::1` or a port of 99999 made every ask end in a ValueError traceback from urllib."""
    if not url:
        return
    from urllib.parse import urlsplit

    from learnflow.redact import redact

    # A password in the URL is never printed, even in a URL too broken for the redactor to read.
    shown = re.sub(r"//[^/?#\s]*@", "//[REDACTED]@", redact(url).text)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number or out of range
    except ValueError as exc:
        raise ConfigError(f"{source} = {shown!r} is not a valid URL: {exc}.", hint="e.g. http://127.0.0.1:8080/v1") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{source} = {shown!r} is not an http(s) URL.", hint="e.g. http://127.0.0.1:8080/v1")


def choose(config: Config, *, model: str | None = None, backend: str | None = None, probe: bool = True) -> Choice:
    """Resolve the model and backend for one call, with the reason shown by `models`/`doctor`."""
    forced = backend or config.get("backend")
    api_base = config.get("api_base")
    check_base_url(api_base, "api_base")
    check_base_url(os.environ.get("OPENAI_BASE_URL"), "OPENAI_BASE_URL")
    if forced:
        registry().get(forced)  # an unknown name fails here, with the list of known ones
        if forced == "offline":
            return Choice("offline", "offline", "backend forced to offline")
    explicit = [
        (model, "--model"),
        (os.environ.get("LEARNFLOW_MODEL"), "LEARNFLOW_MODEL"),
        (config.get("model"), "config model"),
    ]
    for value, source in explicit:
        if value:
            b = _backend_for(value, forced)
            return Choice(value, b.name, f"set by {source}", api_base)
    for provider in ("openai", "anthropic", "gemini", "mistral", "groq"):
        if keys.find_key(provider):
            m = KEY_DEFAULTS[provider]
            if provider == "openai" and os.environ.get("OPENAI_BASE_URL"):
                server = server_model(os.environ["OPENAI_BASE_URL"])
                m = f"openai/{server}" if server else m
            b = _backend_for(m, forced)
            return Choice(m, b.name, f"{keys.ENV_VARS[provider]} (or keys file) has a {provider} key", api_base)
    if probe and os.environ.get("LEARNFLOW_NO_PROBE") != "1":
        found = probe_local()
        if found:
            b = _backend_for(found["model"], forced)
            return Choice(found["model"], b.name, f"{found['server']} answered on {found['base']}", found["base"])
    model_file = config.get("model_file")
    if model_file:
        m = f"local/{model_file}"
        b = _backend_for(m, forced)
        return Choice(m, b.name, f"config model_file is {model_file}")
    if forced:
        raise BadInput(
            f"The {forced} backend needs a model.",
            hint="Name one with -m (e.g. -m openai/gpt-4o-mini) or `learnflow config set model …`.",
        )
    return Choice("offline", "offline", "no model configured, no key in the environment, no local server found")


def _backend_for(model: str, forced: str | None) -> Backend:
    """The forced backend when there is one, else the one that serves `model`."""
    return registry().get(forced) if forced else registry().for_model(model)


def resolve_backend(choice: Choice) -> Backend:
    """The registered backend a choice names."""
    return registry().get(choice.backend)


def local_servers() -> list[tuple[str, int, str]]:
    """Servers to probe; LEARNFLOW_PROBE_PORTS="ollama=11434,llama.cpp=8080" overrides (tests)."""
    raw = os.environ.get("LEARNFLOW_PROBE_PORTS")
    if raw is None:
        return list(LOCAL_SERVERS)
    out = []
    prefixes = {name: prefix for name, _, prefix in LOCAL_SERVERS}
    for item in filter(None, raw.split(",")):
        name, _, port = item.partition("=")
        if port.strip().isdigit() and 0 < int(port) < 65536:  # a malformed entry is skipped, not a traceback
            out.append((name, int(port), prefixes.get(name, "openai")))
    return out


def probe_local(*, use_cache: bool = True) -> dict | None:
    """The first local server that lists a model ({server, base, model}), or None; cached for PROBE_TTL."""
    cache = paths.cache_dir() / "probe.json"
    key = ",".join(f"{n}={p}" for n, p, _ in local_servers())
    if use_cache:
        try:
            data = json.loads(cache.read_text())
            if data.get("key") == key and time.time() - data.get("at", 0) < PROBE_TTL:
                return data.get("found")
        except (OSError, ValueError):
            pass
    found = None
    for name, port, prefix in local_servers():
        if not port_open(port):
            continue
        base = f"http://127.0.0.1:{port}/v1"
        served = server_model(base)
        if served:
            found = {"server": name, "base": base, "model": f"{prefix}/{served}"}
            break
    try:
        paths.ensure_private_dir(cache.parent)
        cache.write_text(json.dumps({"key": key, "at": time.time(), "found": found}))
    except OSError:
        pass
    return found


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port (a refused connect returns at once)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05):
            return True
    except OSError:
        return False


def server_model(base: str, timeout: float = 0.5) -> str | None:
    """First model id a server lists at /v1/models (None if it is not OpenAI-compatible)."""
    import http.client
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base.rstrip("/"))
        port = parts.port
    except ValueError:  # `http://[::1`, port 99999: the backend says so when it is used
        return None
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None  # only probe local servers; never call out to probe
    try:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
        conn.request("GET", parts.path + "/models")
        resp = conn.getresponse()
        data = json.loads(resp.read(65536)) if resp.status == 200 else None
        conn.close()
        models = (data or {}).get("data") or []
        return models[0].get("id") if models else None
    except (OSError, ValueError, http.client.HTTPException, AttributeError):
        return None


def describe(choice: Choice) -> dict:
    """The choice as a plain dict (for --json)."""
    return asdict(choice)
