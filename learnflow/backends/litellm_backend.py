"""Universal backend: any model litellm supports (anthropic/…, gemini/…, …).

litellm is imported only inside `stream`, because importing it costs ~3.3 s.
Before the import we ask it to use its bundled price map: otherwise it fetches
one from the internet at import time (+5 s where traffic is silently dropped).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator

from learnflow import keys
from learnflow.backends import Backend, ModelInfo, Request, Usage
from learnflow.errors import BackendError, NotFound


def import_litellm():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class LitellmBackend(Backend):
    name = "litellm"
    description = "Any model litellm supports (anthropic/…, gemini/…, mistral/…, bedrock/…); imported only when used."
    catch_all = True

    def handles(self, model: str) -> bool:
        provider, _, name = model.partition("/")
        return bool(provider and name)

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo("anthropic/<model>", self.name, "needs ANTHROPIC_API_KEY"),
            ModelInfo("gemini/<model>", self.name, "needs GEMINI_API_KEY"),
            ModelInfo("<provider>/<model>", self.name, "any provider litellm knows"),
        ]

    def check(self, model: str, api_base: str | None = None) -> None:
        provider = model.partition("/")[0]
        known, made_with = known_providers()
        if provider not in known and made_with == _installed_version():  # a newer litellm may know more: it decides
            raise NotFound(
                f"No provider {provider!r} in litellm, so the model {model!r} cannot be reached.",
                hint="Spell the model as provider/model: openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, ollama/llama3.2, "
                "or `-m offline`. `learnflow models` lists what answers here.",
            )
        if provider in keys.ENV_VARS and not keys.find_key(provider) and not (api_base or _base_from_env(provider)):
            raise BackendError(
                f"No {provider} API key found for {model}.",
                hint=f"export {keys.ENV_VARS[provider]}=… or `learnflow keys set {provider}`; `-m offline` answers without one.",
                kind="auth",
            )

    def stream(self, *, request: Request) -> Iterator[str | Usage]:
        litellm = import_litellm()
        provider = request.model.partition("/")[0]
        kwargs: dict = {
            "model": request.model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": request.read_timeout,
            # Retries are ours to decide (bounded, honouring Retry-After), not the SDK's.
            "max_retries": 0,
        }
        if request.api_base or _base_from_env(provider):
            kwargs["api_base"] = request.api_base or _base_from_env(provider)
        key = request.api_key or keys.find_key(provider)
        if key:
            kwargs["api_key"] = key
        elif kwargs.get("api_base"):
            # OpenAI-compatible local servers need no key, but the client insists on one.
            kwargs["api_key"] = "not-needed"
        if request.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        got_any = False
        try:
            response = litellm.completion(**kwargs)
            usage = None
            for chunk in response:
                for choice in chunk.choices or []:
                    text = getattr(choice.delta, "content", None)
                    if text:
                        got_any = True
                        yield text
                u = getattr(chunk, "usage", None)
                if u and getattr(u, "prompt_tokens", None) is not None:
                    usage = Usage(u.prompt_tokens, u.completion_tokens)
        except BackendError:
            raise
        except Exception as exc:  # litellm raises openai.APIError subclasses and a few bare ones
            raise map_litellm_error(exc, request.model, got_any) from None
        if usage:
            usage.cost = _cost(litellm, request.model, usage)
            yield usage


def _base_from_env(provider: str) -> str | None:
    return os.environ.get("OPENAI_BASE_URL") if provider == "openai" else None


@functools.cache
def known_providers() -> tuple[frozenset[str], str]:
    """(provider names, the litellm version they were listed from): read from a shipped list, as
    importing litellm to ask costs seconds."""
    from importlib.resources import files

    lines = (files("learnflow") / "data" / "litellm_providers.txt").read_text(encoding="utf-8").splitlines()
    version = lines[0].split()[3] if lines and lines[0].startswith("# Providers litellm") else ""
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#")), version


def _installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("litellm")
    except PackageNotFoundError:
        return None


def _cost(litellm, model: str, usage: Usage) -> float | None:
    try:
        prompt, completion = litellm.cost_per_token(
            model=model, prompt_tokens=usage.tokens_in or 0, completion_tokens=usage.tokens_out or 0
        )
        total = prompt + completion
        return round(total, 8) if total else None
    except Exception:  # unknown model: cost stays unknown rather than wrong
        return None


def map_litellm_error(exc: Exception, model: str, got_any: bool) -> BackendError:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    raw = " ".join(str(getattr(exc, "message", "") or exc).split())
    # litellm prefixes messages with its own class path: keep the human part, whole words only.
    detail = _shorten(raw.split(" - ", 1)[-1], 600)
    provider = model.partition("/")[0]
    env = keys.ENV_VARS.get(provider, f"{provider.upper()}_API_KEY")
    if (
        name == "AuthenticationError"
        or status in (401, 403)
        or "Missing credentials" in raw
        or "api_key" in raw.lower()
        and "missing" in raw.lower()
    ):
        return BackendError(
            f"{model}: the provider rejected or is missing the API key ({detail}).",
            hint=f"export {env}=… or `learnflow keys set {provider}`.",
            kind="auth",
            status=status,
        )
    if name == "RateLimitError" or status == 429:
        return BackendError(
            f"{model}: rate-limited ({detail}).", hint="Wait a moment and ask again.",
            kind="rate_limit", status=status, retry_after=_retry_after(exc),
        )  # fmt: skip
    if name == "NotFoundError" or status == 404:
        return BackendError(
            f"{model}: model not found ({detail}).", hint="Check the model name (`learnflow models`).", kind="not_found", status=status
        )
    if name in ("APIConnectionError", "Timeout", "APITimeoutError") and not got_any:
        return BackendError(
            f"{model}: cannot reach the provider ({detail}).",
            hint="Is the server running / the network up? `-m offline` answers without one.",
            kind="connection",
        )
    if got_any:
        return BackendError(
            f"{model}: the answer stopped halfway ({detail}).",
            hint="The partial answer was kept in the log. Ask again with -c to continue.",
            kind="stream_cut",
        )
    if name in ("BadRequestError", "UnprocessableEntityError"):
        return BackendError(f"{model}: the provider refused the request ({detail}).", kind="bad_request", status=status)
    if status and status >= 500 or name in ("InternalServerError", "ServiceUnavailableError", "APIError"):
        return BackendError(
            f"{model}: the provider failed ({detail}).", hint="Try again shortly; `-m offline` works without a server.",
            kind="server", status=status, retry_after=_retry_after(exc),
        )  # fmt: skip
    return BackendError(f"{model}: {name}: {detail}.", kind="error", status=status)


def _shorten(text: str, limit: int) -> str:
    """`text`, or its first words up to `limit` characters and an ellipsis: never cut mid-word."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.") + " …"


def _retry_after(exc: Exception) -> float | None:
    from learnflow.retry_after import parse_retry_after

    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        return parse_retry_after(headers.get("retry-after"))
    except AttributeError:
        return None


def register(registry) -> None:
    registry.register(LitellmBackend())
