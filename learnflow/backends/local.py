"""Local models: a GGUF file run inside this process with xllamacpp (llama.cpp).

Models are spelled `local/<path-to-file.gguf>` or `local/<name>`, where a name
is a model already downloaded by Ollama (`local/llama3.2`, `local/qwen2.5:7b`)
or LM Studio (`local/Qwen2.5-7B-Instruct-Q4_K_M`, `local/<publisher>/<repo>`).
`learnflow config set model_file PATH` makes a file the default.

How one call runs: load the model into xllamacpp's embedded llama.cpp server,
bound to 127.0.0.1 on a free port with a random per-load API key; stream the
answer through the same stdlib HTTP/SSE code as every OpenAI-compatible server
(`openai_compat._post_stream`); shut the server down. The concurrent
skill-tagging request of the same `ask` shares that one load (reference-counted),
so a call loads the model once.

Why HTTP on loopback rather than `Server.handle_chat_completions(body, callback)`
in-process: the in-process call blocks the calling thread inside C++ until the
whole answer is done and only calls back per chunk, so streaming it as a
generator needs a second thread and a queue, and Ctrl-C is not delivered until
the C++ call returns. Over HTTP the caller reads a socket: Ctrl-C, read
timeouts, SSE parsing, usage and error mapping are the fast path's, already
tested, and an abandoned generator just closes the connection. The cost is one
loopback connection (well under a millisecond).

xllamacpp is imported only inside `stream` (it is an optional extra:
`pip install 'learnflow[local]'`), so `learnflow --help` never pays for it.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from learnflow.backends import Backend, ModelInfo, Request, Usage
from learnflow.errors import BackendError, BadInput

PREFIX = "local/"
INSTALL_HINT = "pip install 'learnflow[local]'"
SMALL_MODEL_BYTES = 1_000_000_000  # below ~1 GB, models answer poorly
SMALL_MODEL_WARNING = "small models answer poorly; check their advice"

THREADS = 2  # our machines have 2 cores
MIN_CTX = 4096  # a question, the teaching prompt and an answer fit in this
MAX_CTX = 32768
ANSWER_MAX_TOKENS = 2048  # a runaway model stops here
# Tiny models loop on themselves far more often, and slowly on a CPU: stop them sooner,
# and damp repetition.
SMALL_ANSWER_MAX_TOKENS = 512
TAGGING_MAX_TOKENS = 100  # three tags in JSON take ~45 tokens; a tiny model rambles on
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"


@dataclass
class Found:
    """A model file found on this machine."""

    name: str  # as the user spells it after `local/`
    path: Path
    size: int
    source: str  # "Ollama" or "LM Studio"


# -- where models live ---------------------------------------------------------


def ollama_dir() -> Path:
    env = os.environ.get("OLLAMA_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".ollama" / "models"


def lmstudio_dirs() -> list[Path]:
    home = Path.home()
    return [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]


def _ollama_blob(models: Path, manifest: Path) -> tuple[Path, int] | None:
    """The model layer's blob for one Ollama manifest (an OCI image manifest)."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        layers = data.get("layers") or []
        layer = next(x for x in layers if isinstance(x, dict) and x.get("mediaType") == OLLAMA_MODEL_LAYER)
        algo, _, digest = str(layer["digest"]).partition(":")
    except (OSError, ValueError, StopIteration, KeyError, TypeError, AttributeError):
        return None
    if not digest or "/" in digest or "/" in algo:
        return None
    # Blobs are named "sha256-<hex>"; Ollama before 0.1.x used "sha256:<hex>".
    for blob in (models / "blobs" / f"{algo}-{digest}", models / "blobs" / f"{algo}:{digest}"):
        if blob.is_file():
            size = layer.get("size")
            return blob, size if isinstance(size, int) else blob.stat().st_size
    return None


def _ollama_name(host: str, namespace: str, model: str, tag: str) -> str:
    name = f"{model}:{tag}"
    if host == "registry.ollama.ai":
        return name if namespace == "library" else f"{namespace}/{name}"
    return f"{host}/{namespace}/{name}"


def ollama_models() -> list[Found]:
    """Models pulled with Ollama: manifests/<host>/<namespace>/<model>/<tag> → blobs/."""
    models = ollama_dir()
    manifests = models / "manifests"
    out = []
    try:
        candidates = sorted(manifests.glob("*/*/*/*"))
    except OSError:
        return []
    for manifest in candidates:
        if not manifest.is_file():
            continue
        blob = _ollama_blob(models, manifest)
        if blob:
            host, namespace, model, tag = manifest.relative_to(manifests).parts
            out.append(Found(_ollama_name(host, namespace, model, tag), blob[0], blob[1], "Ollama"))
    return out


def _ollama_lookup(name: str) -> Found | None:
    """`llama3.2` → library/llama3.2:latest; `me/model:tag`; `host/ns/model:tag`."""
    base, _, tag = name.partition(":")
    parts = base.split("/")
    if not all(parts) or len(parts) > 3 or any(p in (".", "..") for p in parts) or "/" in tag:
        return None
    host, namespace = "registry.ollama.ai", "library"
    if len(parts) == 3:
        host, namespace, model = parts
    elif len(parts) == 2:
        namespace, model = parts
    else:
        (model,) = parts
    tag = tag or "latest"
    models = ollama_dir()
    blob = _ollama_blob(models, models / "manifests" / host / namespace / model / tag)
    return Found(_ollama_name(host, namespace, model, tag), blob[0], blob[1], "Ollama") if blob else None


def lmstudio_models() -> list[Found]:
    """GGUF files under LM Studio's folders: <publisher>/<repo>/<file>.gguf."""
    out = []
    for root in lmstudio_dirs():
        try:
            files = sorted(root.rglob("*.gguf"))
        except OSError:
            continue
        for f in files:
            if "mmproj" in f.name.lower() or not f.is_file():
                continue  # vision projectors are not chat models
            try:
                rel = f.relative_to(root).with_suffix("")
                out.append(Found(rel.as_posix(), f, f.stat().st_size, "LM Studio"))
            except (OSError, ValueError):
                continue
    return out


def _lmstudio_lookup(name: str) -> Found | None:
    want = name.lower().removesuffix(".gguf")
    hits = []
    for found in lmstudio_models():
        parts = found.name.lower().split("/")
        keys = {found.name.lower(), parts[-1]}  # publisher/repo/file, file
        if len(parts) >= 3:
            keys |= {"/".join(parts[:-1]), parts[-2]}  # publisher/repo, repo
        if want in keys:
            hits.append(found)
    exact = [h for h in hits if want in (h.name.lower(), h.name.lower().split("/")[-1])]
    hits = exact or hits
    if len(hits) > 1:
        names = ", ".join(f"local/{h.name}" for h in hits[:6])
        raise BadInput(f"{name!r} matches several LM Studio models.", hint=f"Pick one: {names}.")
    return hits[0] if hits else None


def found_models() -> list[Found]:
    return [*ollama_models(), *lmstudio_models()]


# -- which file a model name means ---------------------------------------------


def _looks_like_path(spec: str) -> bool:
    return spec.lower().endswith(".gguf") or spec.startswith(("/", "~", ".", "\\")) or (len(spec) > 1 and spec[1] == ":")


def resolve(model: str) -> Path:
    """The GGUF file for `local/<path or name>`; BadInput when there is none."""
    spec = model[len(PREFIX) :] if model.startswith(PREFIX) else model
    if not spec.strip():
        raise BadInput("The local model needs a file or a name: local/<file.gguf> or local/<name>.")
    path = Path(spec).expanduser()
    if _looks_like_path(spec) or path.is_file():
        if path.is_dir():
            raise BadInput(f"{path} is a folder, not a GGUF model file.", hint="Name the .gguf file inside it.")
        if not path.is_file():
            raise BadInput(
                f"No model file at {path}.",
                hint="Check the path (`learnflow config get model_file`), or `learnflow models` to list the local models found.",
            )
        return path
    found = _ollama_lookup(spec) or _lmstudio_lookup(spec)
    if found is None:
        raise BadInput(
            f"No local model named {spec!r} (looked in {ollama_dir()} and LM Studio's folders).",
            hint="Give the path to a .gguf file (-m local/path/to/model.gguf), or `learnflow models` to see the ones found.",
        )
    return found.path


def small_model_warning(size: int) -> str | None:
    return SMALL_MODEL_WARNING if size < SMALL_MODEL_BYTES else None


def _human(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def check_gguf(path: Path) -> None:
    """Fail clearly on a file that is not GGUF at all (llama.cpp only says 'failed')."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise BadInput(f"Cannot read the model file {path}: {exc.strerror}.") from None
    if len(head) < 8 or head[:4] != b"GGUF":
        raise BackendError(
            f"{path.name} is not a GGUF model file.",
            hint="learnflow runs llama.cpp's GGUF format; download a .gguf (e.g. a Q4_K_M quantisation) or convert the model.",
            kind="bad_model",
        )


# -- the embedded llama.cpp server, shared by the calls of one ask ---------------


class _Loaded:
    def __init__(self, server, base: str, key: str):
        self.server = server
        self.base = base
        self.key = key
        self.users = 0


_lock = threading.Lock()
_loaded: dict[tuple[str, int], _Loaded] = {}


def import_xllamacpp():
    try:
        import xllamacpp
    except ImportError:
        raise BackendError(
            "Local models need the xllamacpp package, which is not installed.",
            hint=f"{INSTALL_HINT}   (a prebuilt llama.cpp wheel, ~35 MB)",
            kind="not_installed",
        ) from None
    return xllamacpp


def threads() -> int:
    """THREADS, or 1 when other processes already keep the cores busy.

    llama.cpp's threads meet at a barrier many times per token, so when another process
    deschedules one of them the other waits: on 2 cores with a load of ~4.5, SmolLM2 made
    4-6 tokens/s on 2 threads and 22-39 on 1 thread.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    want = max(1, min(THREADS, cores))
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return want if busy < cores - want + 1 else 1


def context_size(request: Request) -> int:
    """Tokens of context: 4096 unless the attached context needs more (chars/2.5 is a safe token guess)."""
    need = int(len(request.context) / 2.5) + 3072
    return max(MIN_CTX, min(MAX_CTX, -(-need // 1024) * 1024))


def _load(path: Path, n_ctx: int) -> _Loaded:
    import secrets

    xlc = import_xllamacpp()
    params = xlc.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    params.n_parallel = 2  # the answer and the concurrent skill tagging
    params.kv_unified = True  # both share the n_ctx cache instead of halving it
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads()
    params.n_predict = ANSWER_MAX_TOKENS
    params.ctx_shift = False  # stop at a full context rather than loop forever
    params.warmup = False  # an empty run at load: costs time, buys nothing for one call
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # a free port; `listening_address` tells which
    params.verbosity = -1  # llama.cpp prints nothing
    params.ui = False
    params.offline = True  # never download anything
    params.endpoint_metrics = True  # _start uses it as a "main loop is running" barrier
    params.sse_ping_interval = 10  # keeps the read timeout from firing during a long prompt
    key = secrets.token_urlsafe(24)
    params.api_keys = [key]  # other local users cannot borrow the server while it runs
    try:
        server = _start(xlc, params)
    except (RuntimeError, ValueError) as exc:
        raise BackendError(
            f"llama.cpp could not load {path.name} ({exc}): the file is truncated or damaged, "
            "or its architecture is newer than this xllamacpp.",
            hint="Download it again, or try another GGUF; `pip install -U xllamacpp` for newer architectures.",
            kind="bad_model",
        ) from None
    return _Loaded(server, server.listening_address.rstrip("/") + "/v1", key)


def _start(xlc, params):
    """Server(params), returned only once llama.cpp's main loop runs.

    xllamacpp's Server() returns before that loop starts, and destroying the server in that
    window hangs forever (the loop's start overwrites the stop flag). A metrics request goes
    through the loop's task queue, so once it returns a shutdown is safe. Ctrl-C (and the
    SIGTERM/SIGHUP the CLI turns into it) is held back until then: raised in between, it
    would drop the new server straight into that hang. Loading holds the GIL anyway, so
    Ctrl-C was never going to interrupt it.
    """
    import signal

    held = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}
    can_hold = hasattr(signal, "pthread_sigmask")
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held) if can_hold else None
    try:
        server = xlc.Server(params)
        server.handle_metrics()
        return server
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _acquire(path: Path, n_ctx: int) -> tuple[tuple[str, int], _Loaded]:
    slot = (str(path.resolve()), n_ctx)
    with _lock:  # a second caller waits for the first one's load, then shares it
        loaded = _loaded.get(slot)
        if loaded is None:
            loaded = _loaded[slot] = _load(path, n_ctx)
        loaded.users += 1
    return slot, loaded


def _release(slot: tuple[str, int], loaded: _Loaded) -> None:
    with _lock:
        loaded.users -= 1
        if loaded.users > 0:
            return
        _loaded.pop(slot, None)
        server, loaded.server = loaded.server, None
    del server  # the C++ destructor stops the HTTP server and the main loop (~0.05 s)


def shutdown_all() -> None:
    """Stop every loaded model (at exit). A request still running in another thread, such as
    skill tagging that outlived its answer, gets a closed connection instead of a crash:
    exiting with llama.cpp's threads still running segfaults the interpreter."""
    with _lock:
        doomed = [loaded for loaded in _loaded.values()]
        _loaded.clear()
        servers = [loaded.server for loaded in doomed]
        for loaded in doomed:
            loaded.server = None
    del servers


atexit.register(shutdown_all)


def loaded_count() -> int:
    """How many models are loaded right now (tests check that calls clean up)."""
    with _lock:
        return len(_loaded)


# -- the backend -------------------------------------------------------------------


class LocalBackend(Backend):
    name = "local"
    description = "A GGUF model file run in-process with llama.cpp (xllamacpp); needs learnflow[local]."

    def handles(self, model: str) -> bool:
        return model.startswith(PREFIX) and len(model) > len(PREFIX)

    def warning(self, model: str) -> str | None:
        """A caution to show before answering with `model`, or None (never raises)."""
        try:
            return small_model_warning(resolve(model).stat().st_size)
        except (BadInput, OSError):
            return None

    def models(self) -> list[ModelInfo]:
        from importlib.util import find_spec

        missing = "" if find_spec("xllamacpp") else f" ({INSTALL_HINT})"
        rows = [ModelInfo("local/<file.gguf>", self.name, f"a GGUF file run in-process; `config set model_file`{missing}")]
        for found in found_models():
            note = f"{found.source}, {_human(found.size)}"
            warn = small_model_warning(found.size)
            rows.append(ModelInfo(f"{PREFIX}{found.name}", self.name, f"{note}; {warn}" if warn else note))
        return rows

    def stream(self, *, request: Request) -> Iterator[str | Usage]:
        from learnflow.backends.openai_compat import _post_stream

        path = resolve(request.model)
        check_gguf(path)
        slot, loaded = _acquire(path, context_size(request))
        try:
            body: dict = {
                "model": path.stem,
                "messages": request.messages,
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": TAGGING_MAX_TOKENS if request.json_mode else ANSWER_MAX_TOKENS,
            }
            if not request.json_mode and small_model_warning(path.stat().st_size):
                body["max_tokens"] = min(ANSWER_MAX_TOKENS, SMALL_ANSWER_MAX_TOKENS)
                body["repeat_penalty"] = 1.3  # llama.cpp server option
            if request.json_mode:
                # llama.cpp turns this into a JSON grammar: the reply is valid JSON.
                body["response_format"] = {"type": "json_object"}
                body["temperature"] = 0
            try:
                yield from _post_stream(loaded.base, loaded.key, body, request)
            except BackendError as exc:
                # Name the model, not the throwaway port it was served on.
                exc.message = exc.message.replace(loaded.base.split("//", 1)[-1].split("/")[0], f"llama.cpp ({path.name})")
                if exc.status == 400 and "context" in exc.message.lower():
                    exc.hint = "Attach less (a smaller -f file or piped log), or lower `learnflow config set context_tokens`."
                raise
        finally:
            _release(slot, loaded)


def register(registry) -> None:
    registry.register(LocalBackend())
