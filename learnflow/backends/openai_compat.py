"""Fast path for OpenAI-compatible servers (OpenAI, Ollama /v1, LM Studio,
llama.cpp server, vLLM...).

Written on the standard library's http.client on purpose: importing litellm
costs ~3.3 s and the openai SDK ~0.4 s on a small machine, while one streamed
chat completion needs only a POST and a line-by-line SSE reader. litellm stays
the universal backend for everything else.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from learnflow import keys
from learnflow.backends import Backend, ModelInfo, Request, Usage
from learnflow.errors import BackendError
from learnflow.retry_after import describe_wait, parse_retry_after

OPENAI_URL = "https://api.openai.com/v1"


def _default_base(provider: str) -> str:
    if provider == "ollama":
        host = os.environ.get("OLLAMA_HOST", "http://127.0.0.1:11434")
        host = host if "://" in host else f"http://{host}"
        return host.rstrip("/") + "/v1"
    if provider == "lm_studio":
        return os.environ.get("LM_STUDIO_API_BASE", "http://127.0.0.1:1234/v1")
    return os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or OPENAI_URL


PROVIDERS = ("openai", "ollama", "lm_studio")


def split_model(model: str) -> tuple[str, str]:
    provider, _, name = model.partition("/")
    return provider, name


def resolve_endpoint(request: Request) -> tuple[str, str | None]:
    """(base URL, key) for a request: explicit values win over the environment."""
    provider, _ = split_model(request.model)
    base = (request.api_base or _default_base(provider)).rstrip("/")
    key = request.api_key or (keys.find_key("openai") if provider == "openai" else None)
    return base, key


@dataclass
class Served:
    """What an OpenAI-compatible server says it serves (`GET /v1/models`)."""

    base: str  # the base URL, without any userinfo
    provider: str  # openai, ollama or lm_studio: the prefix learnflow spells its models with
    models: list[str]


def served_models(model: str, api_base: str | None = None, *, timeout: float = 2.0) -> Served:
    """The models the server behind `model` lists (like `llm models`), within `timeout` seconds.

    Raises BackendError when the server cannot be reached, rejects the key or is not OpenAI-compatible.
    """
    provider, _ = split_model(model)
    base, key = resolve_endpoint(Request(model=model, messages=[], api_base=api_base, connect_timeout=timeout, read_timeout=timeout))
    request = Request(model=model, messages=[], connect_timeout=timeout, read_timeout=timeout)
    conn, path = _connection(base, request)
    path = path.removesuffix("/chat/completions") + "/models"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        raw = resp.read(1 << 20)
    except TimeoutError as exc:
        raise _connection_error(base, exc, request) from None
    except (ConnectionError, OSError, http.client.HTTPException) as exc:
        raise _connection_error(base, exc, request) from None
    except ValueError:
        raise BackendError(
            f"{_scrubbed(base)!r} is not a usable URL.", hint="Check OPENAI_BASE_URL or api_base.", kind="connection"
        ) from None
    finally:
        conn.close()
    host = _host(base)
    if resp.status != 200:
        raise http_error(host, resp.status, raw, resp.getheader("Retry-After"), model="(listing models)")
    try:
        data = json.loads(raw)
        ids = [str(m["id"]) for m in data["data"]]
    except (ValueError, KeyError, TypeError):
        raise _garbage(host) from None
    parts = urlsplit(base)
    return Served(f"{parts.scheme}://{host}{parts.path}", provider, sorted(ids))


class OpenAICompatBackend(Backend):
    name = "openai"
    description = "Any OpenAI-compatible server via HTTP (OpenAI, Ollama, LM Studio, llama.cpp, vLLM); no litellm import."

    def handles(self, model: str) -> bool:
        provider, name = split_model(model)
        return provider in PROVIDERS and bool(name)

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo("openai/<model>", self.name, "OPENAI_BASE_URL / api_base reaches any OpenAI-compatible server"),
            ModelInfo("ollama/<model>", self.name, "Ollama's /v1 endpoint (OLLAMA_HOST, default 127.0.0.1:11434)"),
            ModelInfo("lm_studio/<model>", self.name, "LM Studio's server (default 127.0.0.1:1234)"),
        ]

    def stream(self, *, request: Request) -> Iterator[str | Usage]:
        base, key = resolve_endpoint(request)
        _, model_id = split_model(request.model)
        if key is None and base == OPENAI_URL:
            raise BackendError(
                "No OpenAI API key found.",
                hint="export OPENAI_API_KEY=sk-… or run `learnflow keys set openai`; for a local server set OPENAI_BASE_URL.",
                kind="auth",
            )
        body: dict = {"model": model_id, "messages": request.messages, "stream": True}
        body["stream_options"] = {"include_usage": True}
        if request.json_mode:
            body["response_format"] = {"type": "json_object"}
        yield from _post_stream(base, key, body, request)


def _connection(base: str, request: Request) -> tuple[http.client.HTTPConnection, str]:
    try:
        parts = urlsplit(base)
        port = parts.port
    except ValueError:  # `http://[::1`, a port above 65535: not worth a retry
        raise BackendError(
            f"{_scrubbed(base)!r} is not a valid URL.",
            hint="Set OPENAI_BASE_URL or `learnflow config set api_base` to something like http://127.0.0.1:8080/v1.",
            kind="error",
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendError(
            f"{_scrubbed(base)!r} is not an http(s) URL.",
            hint="Set OPENAI_BASE_URL or `learnflow config set api_base` to something like http://127.0.0.1:8080/v1.",
            kind="connection",
        )
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    kwargs: dict[str, Any] = {}
    if parts.scheme == "https":
        import ssl  # ~10 ms: only for remote servers, not the loopback ones

        kwargs["context"] = ssl.create_default_context()
    conn = cls(parts.hostname, port, timeout=request.connect_timeout, **kwargs)
    return conn, parts.path.rstrip("/") + "/chat/completions"


def _post_stream(base: str, key: str | None, body: dict, request: Request) -> Iterator[str | Usage]:
    host = _host(base)
    conn, path = _connection(base, request)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        conn.connect()  # within connect_timeout
    except OSError as exc:
        conn.close()
        raise _connection_error(base, exc, request) from None
    try:
        # From here on the server is reached: a silence is a read timeout, not a connection failure.
        conn.sock.settimeout(request.read_timeout)
        conn.request("POST", path, body=json.dumps(body).encode("utf-8"), headers=headers)
        resp = conn.getresponse()
    except ValueError:  # a header or URL http.client refuses; its message would quote the key
        conn.close()
        if key and not key.isprintable():
            raise BackendError(
                "The API key holds a character no HTTP header can carry (a line end or a control character).",
                hint="Set it again without the line end: `learnflow keys set openai`, or re-export OPENAI_API_KEY.",
                kind="auth",
            ) from None
        raise BackendError(
            f"{_scrubbed(base)!r} is not a usable URL.", hint="Check OPENAI_BASE_URL or api_base.", kind="connection"
        ) from None
    except TimeoutError:
        conn.close()
        raise _read_timeout(host, request) from None
    except (ConnectionError, OSError, http.client.HTTPException) as exc:
        conn.close()
        raise _connection_error(base, exc, request) from None
    try:
        if resp.status != 200:
            raise http_error(host, resp.status, resp.read(4096), resp.getheader("Retry-After"), model=body["model"])
        if "text/event-stream" in (resp.getheader("Content-Type") or ""):
            yield from _read_sse(resp, host)
        else:
            # Some servers ignore "stream": a plain JSON completion is fine too.
            yield from _read_json(resp.read(), host)
    except TimeoutError:
        raise _read_timeout(host, request) from None
    finally:
        conn.close()


def _host(base: str) -> str:
    """host[:port] of a base URL, never its userinfo (`http://user:password@host/v1`)."""
    try:
        parts = urlsplit(base)
        return (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    except ValueError:  # a port out of range, an unclosed [ : name what can be named
        return _scrubbed(base)


def _scrubbed(base: str) -> str:
    from learnflow.redact import scrub

    return scrub(base) or ""


def _read_timeout(host: str, request: Request) -> BackendError:
    return BackendError(
        f"{host} stopped sending for {request.read_timeout:g} s.",
        hint="Raise `learnflow config set read_timeout`, or try again.",
        kind="timeout",
    )


def _connection_error(base: str, exc: Exception, request: Request) -> BackendError:
    host = _host(base)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        reason = f"no answer within {request.connect_timeout:g} s"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "connection refused"
    elif isinstance(exc, socket.gaierror):
        reason = "host name not found"
    else:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__  # HTTPException has no strerror
    return BackendError(
        f"Cannot reach the model server at {host}: {reason}.",
        hint="Is the server running and is the URL right (OPENAI_BASE_URL, `learnflow config get api_base`)? `-m offline` answers without one.",
        kind="connection",
    )


def _error_text(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        err = data.get("error", data)
        msg = err.get("message") if isinstance(err, dict) else str(err)
    except (ValueError, AttributeError):
        msg = raw.decode("utf-8", "replace")
    return " ".join(str(msg or "").split())[:200]


def http_error(host: str, status: int, raw: bytes, retry_after: str | None, *, model: str) -> BackendError:
    """One-line error for an HTTP failure, with what to do about it."""
    detail = _error_text(raw)
    detail = f": {detail}" if detail else ""
    if status in (401, 403):
        return BackendError(
            f"{host} rejected the request ({status}){detail}.",
            hint="Check the API key: export OPENAI_API_KEY=… or `learnflow keys set openai`.",
            kind="auth",
            status=status,
        )
    if status == 404:
        return BackendError(
            f"{host} does not know the model {model!r} ({status}){detail}.",
            hint="Check the model name (`learnflow models`) and the server URL.",
            kind="not_found",
            status=status,
        )
    wait = parse_retry_after(retry_after)
    if status == 429:
        return BackendError(
            f"{host} is rate-limiting requests (429){detail}." + (f" It asked to wait {describe_wait(wait)}." if wait else ""),
            hint="Wait a moment and ask again, or pick another model with -m.",
            kind="rate_limit",
            status=status,
            retry_after=wait,
        )
    if status >= 500:
        return BackendError(
            f"{host} failed with a server error ({status}){detail}.",
            hint="Try again shortly; `-m offline` answers without a server.",
            kind="server",
            status=status,
            retry_after=wait,
        )
    return BackendError(f"{host} refused the request ({status}){detail}.", kind="bad_request", status=status)


def _garbage(host: str) -> BackendError:
    return BackendError(
        f"{host} sent a reply that is not OpenAI-compatible JSON.",
        hint="Check that the URL points at an OpenAI-compatible /v1 endpoint.",
        kind="bad_response",
    )


def _usage(data: dict) -> Usage | None:
    u = data.get("usage")
    if not isinstance(u, dict):
        return None
    return Usage(tokens_in=u.get("prompt_tokens"), tokens_out=u.get("completion_tokens"))


def _read_json(raw: bytes, host: str) -> Iterator[str | Usage]:
    try:
        data = json.loads(raw)
        text = data["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        raise _garbage(host) from None
    yield text
    usage = _usage(data)
    if usage:
        yield usage


def _read_sse(resp: http.client.HTTPResponse, host: str) -> Iterator[str | Usage]:
    done = False
    got_any = False
    try:
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # comments, event names, blank separators
            payload = line[5:].strip()
            if payload == b"[DONE]":
                done = True
                break
            try:
                data = json.loads(payload)
            except ValueError:
                raise _garbage(host) from None
            if "error" in data:
                raise BackendError(f"{host} reported an error mid-answer: {_error_text(payload)}.", kind="server")
            for choice in data.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    got_any = True
                    yield text
                if choice.get("finish_reason"):
                    done = True
            usage = _usage(data)
            if usage:
                yield usage
    except (http.client.IncompleteRead, ConnectionResetError):
        done = False
    if not done:
        raise BackendError(
            f"{host} closed the connection before the answer was complete.",
            hint="The partial answer was kept in the log. Ask again (`learnflow ask -c …` continues the conversation).",
            kind="stream_cut" if got_any else "bad_response",
        )


def register(registry) -> None:
    registry.register(OpenAICompatBackend())
