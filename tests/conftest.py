"""Shared fixtures: every test gets its own LEARNFLOW_HOME, no provider keys,
no probing of the developer's local model servers, and a network guard that
fails any connection that is not to loopback (in-process and in subprocesses).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS / "netguard"))
sys.path.insert(0, str(TESTS))

import learnflow_netguard  # noqa: E402

PROVIDER_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_API_KEY", "GEMINI_API_KEY",
    "MISTRAL_API_KEY", "GROQ_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY", "TOGETHERAI_API_KEY",
    "LEARNFLOW_MODEL", "OLLAMA_HOST", "LM_STUDIO_API_BASE",
)  # fmt: skip


def pytest_configure(config):
    os.environ["LEARNFLOW_NETGUARD"] = "1"
    os.environ["LEARNFLOW_NETGUARD_LOG"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"learnflow-netguard-{os.getpid()}.log")
    # Subprocesses (CLI tests) load the guard through sitecustomize.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS / "netguard"), os.environ.get("PYTHONPATH")]))
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    learnflow_netguard.install(os.environ["LEARNFLOW_NETGUARD_LOG"])


def pytest_sessionfinish(session, exitstatus):
    log = Path(os.environ["LEARNFLOW_NETGUARD_LOG"])
    if log.exists() and log.read_text().strip():
        blocked = log.read_text()
        log.unlink()
        print(f"\nnetguard blocked non-loopback connections:\n{blocked}", file=sys.stderr)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A fresh learnflow home per test; nothing from the developer's environment leaks in."""
    h = tmp_path / "home"
    monkeypatch.setenv("LEARNFLOW_HOME", str(h))
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEARNFLOW_NO_PROBE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    from learnflow.learner import skills

    skills.taxonomy.cache_clear()
    yield h


@pytest.fixture
def store(home):
    from learnflow.db.store import Store

    s = Store()
    yield s
    s.close()


@pytest.fixture
def cli():
    """Run the CLI in-process, the way a user would type it. Returns typer's Result."""
    from typer.testing import CliRunner

    from learnflow.cli.app import app

    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def _server_process():
    from fake_openai import FakeOpenAI

    srv = FakeOpenAI().start()
    yield srv
    srv.stop()


@pytest.fixture
def server(_server_process):
    """The real loopback OpenAI-compatible server, reset for this test."""
    _server_process.reset()
    return _server_process


@pytest.fixture
def openai_env(server, monkeypatch):
    """Point learnflow at the loopback server the way a user would: env variables."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    monkeypatch.setenv("LEARNFLOW_MODEL", "openai/my-model")
    return server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
