"""`learnflow ask` against a real OpenAI-compatible server on 127.0.0.1, through
the fast path and through litellm, asserting what was sent and what was stored."""

import json
import re

import pytest
from conftest import free_port

from learnflow.db.store import Store

QUESTION = "How do I undo my last git commit but keep the changes?"
TAGGING = "Classify the user's question"


def answered(server):
    """Chat requests that are answers (not the concurrent tagging call)."""
    return [r for r in server.chat_requests if TAGGING not in r["body"]]


def last_row():
    s = Store()
    row = s.history(limit=1)[0]
    s.close()
    return row


@pytest.mark.parametrize("backend", ["openai", "litellm"])
def test_ask_streams_the_servers_answer_and_logs_tokens_and_latency(cli, openai_env, backend):
    openai_env.rule(TAGGING, {"content": '{"skills": [{"skill": "git", "relevance": 0.9}]}'})
    openai_env.script({"content": "Use `git reset --soft HEAD~1`.\n\n**Check:** Where do the changes go?"})
    result = cli("ask", "--backend", backend, QUESTION)
    assert result.exit_code == 0, result.output
    assert "git reset --soft HEAD~1" in result.stdout

    [sent] = answered(openai_env)
    body = sent["json"]
    assert body["model"] == "my-model" and body["stream"] is True
    assert sent["headers"]["authorization"] == "Bearer sk-test-0123456789"
    system, user = body["messages"][0], body["messages"][-1]
    assert system["role"] == "system" and "worked example" in system["content"].lower()
    assert "**Check:**" in system["content"]
    assert user == {"role": "user", "content": QUESTION}

    row = last_row()
    assert row["status"] == "ok" and row["backend"] == backend and row["model"] == "openai/my-model"
    assert row["tokens_in"] > 0 and row["tokens_out"] > 0
    assert row["latency_ms"] >= row["ttft_ms"] >= 0
    assert row["check_question"] == "Where do the changes go?"
    assert row["skills"] == [{"skill": "git", "relevance": 0.9, "method": "model"}]


def test_model_tags_that_are_not_json_fall_back_to_offline_tags(cli, openai_env):
    openai_env.rule(TAGGING, {"content": "I think this is about git, probably."})
    result = cli("ask", QUESTION)
    assert result.exit_code == 0
    assert last_row()["skills"][0] == {"skill": "git", "relevance": 1.0, "method": "offline"}


def test_model_tags_outside_the_label_set_are_ignored(cli, openai_env):
    openai_env.rule(TAGGING, {"content": '{"skills": [{"skill": "astrology", "relevance": 1}]}'})
    assert cli("ask", QUESTION).exit_code == 0
    assert last_row()["skills"][0]["method"] == "offline"


def test_offline_tagging_setting_sends_no_tagging_request(cli, openai_env):
    cli("config", "set", "tagging", "offline")
    assert cli("ask", QUESTION).exit_code == 0
    assert len(openai_env.chat_requests) == 1


def test_continue_sends_the_earlier_turns(cli, openai_env):
    openai_env.rule(TAGGING, {"content": '{"skills": ["git"]}'})
    openai_env.script({"content": "first answer"}, {"content": "second answer"})
    cli("ask", QUESTION)
    result = cli("ask", "-c", "and if I already pushed it?")
    assert result.exit_code == 0
    messages = answered(openai_env)[-1]["json"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == QUESTION and messages[2]["content"] == "first answer"
    rows = Store().history(limit=2)
    assert rows[0]["conversation_id"] == rows[1]["conversation_id"]


def test_unknown_conversation_id_is_a_clear_error(cli, openai_env):
    result = cli("ask", "--cid", "999", "hello")
    assert result.exit_code == 6
    assert "No conversation with id 999" in result.stderr


def test_direct_mode_uses_the_direct_prompt(cli, openai_env):
    assert cli("ask", "--direct", QUESTION).exit_code == 0
    system = answered(openai_env)[0]["json"]["messages"][0]["content"]
    assert "in a hurry" in system and "Check" not in system
    assert last_row()["mode"] == "direct"


def test_piped_input_and_files_are_fenced_as_data(cli, openai_env, tmp_path):
    cfg = tmp_path / "settings.toml"
    cfg.write_text("[db]\nurl = 'sqlite:///x.db'\n")
    result = cli("ask", "-f", str(cfg), "is this idiomatic?", input="FAILED test_x.py::test_a - AssertionError\n")
    assert result.exit_code == 0
    messages = answered(openai_env)[0]["json"]["messages"]
    user = messages[-1]["content"]
    tag = re.search(r"<(context-[0-9a-f]{16}) ", user).group(1)  # this request's fence, named in the system prompt
    assert f"<{tag}>" in messages[0]["content"]
    assert f'<{tag} source="stdin">\nFAILED test_x.py::test_a - AssertionError\n\n</{tag}>' in user
    assert f'<{tag} source="{cfg}">' in user and "sqlite:///x.db" in user
    assert user.endswith("is this idiomatic?")
    assert "stdin" in last_row()["context_summary"]


def test_context_over_budget_is_cut_keeping_head_and_tail(cli, openai_env):
    cli("config", "set", "context_tokens", "256")
    log = "HEAD-MARKER\n" + "\n".join(f"line {i} of a noisy build log" for i in range(5000)) + "\nTAIL-MARKER boom\n"
    result = cli("ask", "why did the build fail?", input=log)
    assert result.exit_code == 0
    assert "over the budget" in result.stderr
    user = answered(openai_env)[0]["json"]["messages"][-1]["content"]
    assert "HEAD-MARKER" in user and "TAIL-MARKER" in user and "tokens cut" in user
    assert len(user) < 3000
    assert last_row()["context_cut_tokens"] > 10_000


def test_json_output_is_one_record(cli, openai_env):
    result = cli("ask", "--json", QUESTION)
    record = json.loads(result.stdout)
    assert record["status"] == "ok" and record["backend"] == "openai" and record["answer"]
    assert record["id"] == last_row()["id"]


ERRORS = [
    ({"status": 401}, "rejected", "API key", "error"),
    ({"status": 429, "headers": {"Retry-After": "7"}}, "rate-limiting", "Wait", "error"),
    ({"status": 500}, "server error", "Try again", "error"),
    ({"status": 404}, "does not know the model", "model name", "error"),
    ({"garbage": True}, "not OpenAI-compatible", "OpenAI-compatible", "error"),
    ({"content": "one two three four five six seven eight nine ten", "cut_after": 2}, "before the answer was complete", "partial answer", "interrupted"),
]  # fmt: skip


@pytest.mark.parametrize("backend", ["openai", "litellm"])
@pytest.mark.parametrize("script,message,hint,status", ERRORS, ids=["401", "429", "500", "404", "garbage", "cut"])
def test_backend_errors_are_one_line_logged_and_exit_5(cli, openai_env, backend, script, message, hint, status):
    openai_env.rule(TAGGING, {"content": '{"skills": ["git"]}'})
    openai_env.script(script)
    cli("config", "set", "retries", "0")  # retries have their own tests below
    result = cli("ask", "--backend", backend, QUESTION)
    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output
    err_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(err_lines) == 1 and "logged as #" in err_lines[0]
    if backend == "openai":  # litellm words its own messages; the kind is what matters
        assert message in err_lines[0]
        assert hint in result.stderr
    row = last_row()
    assert row["question"] == QUESTION
    assert row["status"] == status if backend == "openai" or status == "error" else row["status"] in ("interrupted", "error")
    assert row["error"]
    assert "sk-test-0123456789" not in result.output and "sk-test-0123456789" not in (row["error"] or "")
    if status == "interrupted":
        assert row["answer"].startswith("one two")


@pytest.mark.parametrize("backend", ["openai", "litellm"])
def test_refused_connection_is_a_clear_error(cli, monkeypatch, backend):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("LEARNFLOW_MODEL", "openai/my-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    cli("config", "set", "tagging", "offline")
    cli("config", "set", "fallback", "off")  # else the offline coach answers (tests/test_commands_alike.py)
    result = cli("ask", "--backend", backend, QUESTION)
    assert result.exit_code == 5
    assert "Traceback" not in result.output
    if backend == "openai":
        assert "connection refused" in result.stderr
    row = last_row()
    assert row["status"] == "error" and row["question"] == QUESTION


def test_openai_without_key_says_how_to_add_one(cli, monkeypatch):
    result = cli("ask", "-m", "openai/gpt-4o-mini", "hi there")
    assert result.exit_code == 5
    assert "No OpenAI API key" in result.stderr and "OPENAI_API_KEY" in result.stderr


def test_keys_file_is_used_and_private(cli, server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    assert cli("keys", "set", "openai", "--value", "sk-from-file-42").exit_code == 0
    import stat

    from learnflow import paths

    assert stat.S_IMODE(paths.keys_path().stat().st_mode) == 0o600
    assert cli("ask", "-m", "openai/x", "hello").exit_code == 0
    # The answer's request, picked by its question: under load a previous test's late tagging call can land first.
    (request,) = [r for r in answered(server) if "hello" in r["body"]]
    assert request["headers"]["authorization"] == "Bearer sk-from-file-42"
    listed = cli("keys", "list").stdout
    assert "openai" in listed and "sk-from-file" not in listed


@pytest.mark.parametrize("backend", ["openai", "litellm"])
def test_rate_limit_is_retried_after_the_servers_retry_after(cli, openai_env, backend):
    import time

    openai_env.rule(TAGGING, {"content": '{"skills": ["git"]}'})
    openai_env.script({"status": 429, "headers": {"Retry-After": "1"}}, {"content": "finally an answer"})
    start = time.perf_counter()
    result = cli("ask", "--backend", backend, QUESTION)
    assert result.exit_code == 0 and "finally an answer" in result.stdout
    assert time.perf_counter() - start >= 1.0
    assert len(answered(openai_env)) == 2
    assert last_row()["status"] == "ok"


def test_server_errors_are_retried_a_bounded_number_of_times(cli, openai_env):
    openai_env.rule(TAGGING, {"content": '{"skills": ["git"]}'})
    openai_env.set_default({"status": 503})
    cli("config", "set", "retries", "2")
    result = cli("ask", QUESTION)
    assert result.exit_code == 5
    assert len(answered(openai_env)) == 3  # one try and two retries
    assert "after 3 attempts" in last_row()["error"]


def test_retry_after_beyond_the_wait_budget_fails_at_once(cli, openai_env):
    import time

    openai_env.rule(TAGGING, {"content": '{"skills": ["git"]}'})
    openai_env.script({"status": 429, "headers": {"Retry-After": "120"}})
    start = time.perf_counter()
    result = cli("ask", QUESTION)
    assert result.exit_code == 5 and "wait 120 s" in result.stderr
    assert time.perf_counter() - start < 5 and len(answered(openai_env)) == 1


@pytest.mark.parametrize("value,said", [("Fri, 31 Dec 2099 23:59:59 GMT", "more than a day"), ("5400", "90 min")])
def test_a_long_retry_after_is_said_in_words(cli, openai_env, value, said):
    """An HTTP date decades ahead was printed as "wait 2.29974e+09 s"."""
    openai_env.rule(TAGGING, {"content": '{"skills": ["git"]}'})
    openai_env.script({"status": 429, "headers": {"Retry-After": value}})
    result = cli("ask", QUESTION)
    assert result.exit_code == 5 and f"It asked to wait {said}." in result.stderr and "e+" not in result.stderr


def test_a_stream_cut_after_text_is_not_retried(cli, openai_env):
    openai_env.rule(TAGGING, {"content": '{"skills": ["git"]}'})
    openai_env.script({"content": "one two three four five six", "cut_after": 1})
    result = cli("ask", QUESTION)
    assert result.exit_code == 5 and len(answered(openai_env)) == 1
    assert last_row()["status"] == "interrupted" and last_row()["answer"].strip() == "one two three"


def test_bad_key_is_never_retried(cli, openai_env):
    openai_env.set_default({"status": 401})
    assert cli("ask", QUESTION).exit_code == 5
    assert len(answered(openai_env)) == 1


@pytest.mark.parametrize("backend", ["openai", "litellm"])
def test_a_key_echoed_by_the_server_is_never_printed_or_logged(cli, openai_env, monkeypatch, backend):
    key = "sk-proj-LEAKLEAKLEAK0123456789abcdefghijkl"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    cli("config", "set", "tagging", "offline")
    openai_env.set_default({"status": 401, "error": {"message": f"Incorrect API key provided: {key}.", "code": "invalid_api_key"}})
    result = cli("ask", "--backend", backend, QUESTION)
    assert result.exit_code == 5
    assert key not in result.output and key[:20] not in result.output
    row = last_row()
    assert key not in (row["error"] or "") and "[REDACTED" in row["error"]


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from learnflow.retry_after import parse_retry_after

    assert parse_retry_after("7") == 7.0 and parse_retry_after("-3") == 0.0
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= parse_retry_after(in_a_minute) <= 60
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
