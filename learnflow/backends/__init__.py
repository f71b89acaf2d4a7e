"""The backend registry.

Built-in backends are registered exactly as an extension package would
register its own: a module with a `register(registry)` function. Built-ins are
listed in `BUILTIN_PLUGINS`; extensions declare an entry point in the
`learnflow.backends` group, scanned only when needed (scanning installed
distributions costs tens of milliseconds, which `ask` should not pay).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from learnflow.errors import NotFound

BUILTIN_PLUGINS = (
    "learnflow.backends.offline",
    "learnflow.backends.openai_compat",
    "learnflow.backends.litellm_backend",
    "learnflow.backends.local",
)
ENTRY_POINT_GROUP = "learnflow.backends"


@dataclass
class Usage:
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None


@dataclass
class Request:
    """Everything a backend may use to answer. Backends must not write the log."""

    model: str
    messages: list[dict]
    question: str = ""
    context: str = ""
    skills: list = field(default_factory=list)  # list[SkillTag]
    level: str = "novice"
    mode: str = "teach"
    related: list[dict] = field(default_factory=list)
    api_base: str | None = None
    api_key: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 120.0
    json_mode: bool = False  # ask for a JSON reply (skill tagging)
    # Try first (`ask --try`, `learnflow hint`): the learner's attempt (redacted), the rung of the
    # hint ladder this reply is (0 critique + first hint, 1 bigger hint, 2 full answer; None: not
    # try-first), and the question the ladder is about (a hint request's own text says nothing).
    attempt: str = ""
    hint_step: int | None = None
    topic: str = ""
    # `ask --docs` / the `docs` setting: the best passages of the learner's documents, best first,
    # as {"cite": "file:line", "text": redacted passage}; `documents_searched` says documents were
    # searched at all (so an empty list means "no document matched", not "none asked for").
    documents: list[dict] = field(default_factory=list)
    documents_searched: bool = False


@dataclass
class ModelInfo:
    name: str
    backend: str
    note: str = ""


class Backend(ABC):
    """One way of producing answers. Subclasses set `name` and implement `stream`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    # The core fills `Request.related` (past answers from the log) only for backends that use it.
    wants_related: ClassVar[bool] = False
    # Whether a model behind this backend can tag skills (offline cannot).
    is_model: ClassVar[bool] = True
    # A catch-all (litellm) is asked last, after every specific backend and extension.
    catch_all: ClassVar[bool] = False

    @abstractmethod
    def handles(self, model: str) -> bool:
        """True if this backend serves `model` (as the user spelled it)."""

    @abstractmethod
    def stream(self, *, request: Request) -> Iterator[str | Usage]:
        """Yield text chunks as they arrive, and at most one Usage. Raise BackendError on failure."""

    def complete(self, *, request: Request) -> str:
        return "".join(c for c in self.stream(request=request) if isinstance(c, str))

    def models(self) -> list[ModelInfo]:
        """Models worth listing in `learnflow models`."""
        return []

    def check(self, model: str, api_base: str | None = None) -> None:
        """Raise a LearnflowError now when `model` cannot work (unknown provider, no key): in well
        under a second, before the question is logged, instead of after a slow import and a call."""
        return None

    def warning(self, model: str) -> str | None:
        """A caution to show where the user picks `model` (e.g. a tiny local model)."""
        return None


class Registry:
    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}
        self._entry_points_loaded = False

    def register(self, backend: Backend) -> None:
        self._backends[backend.name] = backend

    def load_plugin(self, module_name: str) -> None:
        importlib.import_module(module_name).register(self)

    def load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            ep.load()(self)

    def names(self) -> list[str]:
        self.load_entry_points()
        return list(self._backends)

    def all(self) -> list[Backend]:
        self.load_entry_points()
        return list(self._backends.values())

    def _specific(self) -> list[Backend]:
        return [b for b in self._backends.values() if not b.catch_all]

    def get(self, name: str) -> Backend:
        if name not in self._backends:
            self.load_entry_points()
        try:
            return self._backends[name]
        except KeyError:
            raise NotFound(
                f"Unknown backend {name!r}.",
                hint=f"Available: {', '.join(self.names())}. `learnflow models` explains them.",
            ) from None

    def for_model(self, model: str) -> Backend:
        """The backend that serves `model`: specific backends first, catch-alls last."""
        for backend in self._specific():
            if backend.handles(model):
                return backend
        self.load_entry_points()
        for backend in [*self._specific(), *(b for b in self._backends.values() if b.catch_all)]:
            if backend.handles(model):
                return backend
        raise NotFound(
            f"No backend serves the model {model!r}.",
            hint="Spell it as litellm does, with a provider prefix: openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, ollama/llama3.2 — or `offline`.",
        )


_registry: Registry | None = None


def registry() -> Registry:
    global _registry
    if _registry is None:
        _registry = Registry()
        for module_name in BUILTIN_PLUGINS:
            _registry.load_plugin(module_name)
    return _registry
