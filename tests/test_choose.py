"""Automatic backend choice: explicit model → key in env → local server → offline."""

import json
import time

from conftest import free_port

from learnflow.config import Config
from learnflow.tutor.choose import choose, probe_local


def test_nothing_configured_is_the_offline_coach():
    assert choose(Config({})).model == "offline"


def test_explicit_model_wins_over_keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    c = choose(Config({"model": "ollama/llama3.2"}))
    assert (c.model, c.backend, c.reason) == ("ollama/llama3.2", "openai", "set by config model")


def test_provider_key_in_env_picks_that_provider(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    c = choose(Config({}))
    assert c.model.startswith("anthropic/") and c.backend == "litellm" and "ANTHROPIC_API_KEY" in c.reason


def test_ollama_style_server_on_loopback_is_found_used_and_cached(cli, server, monkeypatch):
    monkeypatch.delenv("LEARNFLOW_NO_PROBE")
    monkeypatch.setenv("LEARNFLOW_PROBE_PORTS", f"ollama=1,ollama={server.port}")
    server.set_models(["llama3.2:1b"])
    server.set_default({"content": "From the local server.\n\n**Check:** ok?"})
    cli("config", "set", "tagging", "offline")

    doctor = json.loads(cli("doctor", "--json").stdout)
    found = [c for c in doctor if c["name"] == "local ollama" and c["status"] == "ok"]
    assert found and "ollama/llama3.2:1b" in found[0]["detail"]
    backend = next(c for c in doctor if c["name"] == "backend")
    assert "ollama/llama3.2:1b" in backend["detail"] and "answered on" in backend["detail"]

    result = cli("ask", "hello there")
    assert result.exit_code == 0 and "From the local server." in result.stdout
    assert server.chat_requests[-1]["json"]["model"] == "llama3.2:1b"

    start = time.perf_counter()
    assert probe_local()["model"] == "ollama/llama3.2:1b"  # from the cache
    assert time.perf_counter() - start < 0.05


def test_probe_of_closed_ports_is_fast(monkeypatch):
    monkeypatch.setenv("LEARNFLOW_PROBE_PORTS", ",".join(f"ollama={free_port()}" for _ in range(3)))
    start = time.perf_counter()
    assert probe_local(use_cache=False) is None
    assert time.perf_counter() - start < 0.05
