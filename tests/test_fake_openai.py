"""Self-tests for the test infrastructure: tests/fake_openai.py and tests/netguard/.

Everything here talks to 127.0.0.1 only; the whole module runs with the netguard
installed, and the tests that try a non-loopback address first assert that the guard is
in place, so no packet can leave the machine even if the guard were broken.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
NETGUARD_DIR = TESTS / "netguard"
for _p in (str(TESTS), str(NETGUARD_DIR)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import learnflow_netguard  # noqa: E402
from fake_openai import (  # noqa: E402
    FakeOpenAI,
    FakeOpenAIClient,
    FakeOpenAIProcess,
    default_answer,
    split_words,
)

TAGGING_PROMPT = 'Classify the user\'s question into skills. Answer with JSON {"skills": [{"skill": str, "relevance": float}]}'
MSGS = [{"role": "user", "content": "How do I undo my last commit but keep changes?"}]


# ------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def guard():
    """Run this whole module with the network guard (don't undo someone else's)."""
    newly = learnflow_netguard.install()
    yield learnflow_netguard
    if newly:
        learnflow_netguard.uninstall()


@pytest.fixture
def srv():
    with FakeOpenAI() as s:
        yield s


@pytest.fixture
def oai(srv):
    import openai

    client = openai.OpenAI(base_url=srv.url, api_key="sk-test", max_retries=0, timeout=10)
    yield client
    client.close()


@pytest.fixture(scope="module")
def litellm():
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    before = len(learnflow_netguard.BLOCKED)
    import litellm as _litellm

    _litellm.suppress_debug_info = True
    # importing litellm must not try to reach the network
    assert learnflow_netguard.BLOCKED[before:] == []
    return _litellm


def _post(port: int, body: dict, conn: http.client.HTTPConnection | None = None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/v1/chat/completions",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-http"},
    )
    return conn, conn.getresponse()


def _sse_lines(resp) -> list[bytes]:
    lines = []
    while True:
        line = resp.readline()
        if not line:
            return lines
        if line.strip():
            lines.append(line.rstrip(b"\r\n"))


def _payloads(lines: list[bytes]) -> list:
    out = []
    for line in lines:
        assert line.startswith(b"data: ")
        data = line[len(b"data: ") :]
        out.append(data.decode() if data == b"[DONE]" else json.loads(data))
    return out


# ----------------------------------------------------------------- real clients: openai


def test_openai_sdk_non_stream(srv, oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert r.choices[0].message.content == default_answer({"messages": MSGS})
    assert r.choices[0].message.content.startswith("Loopback answer to: How do I undo my last commit but keep")
    assert r.choices[0].finish_reason == "stop"
    assert r.model == "gpt-4o-mini"
    assert r.usage.prompt_tokens == 10 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    (req,) = srv.requests
    assert req["method"] == "POST" and req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test"
    assert req["json"]["messages"] == MSGS and req["served"] == "default"


def test_openai_sdk_stream_with_usage(srv, oai):
    srv.script({"content": "Use git reset --soft HEAD~1 to undo the last commit."})
    stream = oai.chat.completions.create(model="m", messages=MSGS, stream=True, stream_options={"include_usage": True})
    pieces, finish, usage = [], None, None
    for ch in stream:
        if ch.choices:
            if ch.choices[0].delta.content:
                pieces.append(ch.choices[0].delta.content)
            finish = ch.choices[0].finish_reason or finish
        if ch.usage:
            usage = ch.usage
    assert len(pieces) >= 3
    assert "".join(pieces) == "Use git reset --soft HEAD~1 to undo the last commit."
    assert finish == "stop"
    assert usage.completion_tokens == 10 and usage.prompt_tokens == 10


def test_keepalive_calls_are_fast(oai):
    oai.chat.completions.create(model="m", messages=MSGS)  # warm up the connection
    times = []
    for _ in range(10):
        t = time.perf_counter()
        oai.chat.completions.create(model="m", messages=MSGS)
        times.append(time.perf_counter() - t)
    # without TCP_NODELAY every keep-alive call costs ~50 ms (Nagle + delayed ACK); the median, not
    # the mean, so a busy machine's occasional slow call does not fail it (CI saw a 37 ms mean once)
    assert sorted(times)[len(times) // 2] < 0.03, times


def test_models_endpoint(srv, oai):
    assert [m.id for m in oai.models.list()] == ["gpt-4o-mini", "gpt-4o", "fake-model"]
    srv.set_models(["only-one"])
    assert [m.id for m in oai.models.list()] == ["only-one"]


# ---------------------------------------------------------------- real clients: litellm


def test_litellm_stream_and_non_stream(srv, litellm):
    srv.script({"content": "one two three four five six seven"})
    resp = litellm.completion(model="openai/x", api_base=srv.url, api_key="sk-test", messages=MSGS, stream=True)
    text = "".join(ch.choices[0].delta.content or "" for ch in resp)
    assert text == "one two three four five six seven"
    r = litellm.completion(model="openai/x", api_base=srv.url, api_key="sk-test", messages=MSGS)
    assert r.choices[0].message.content.startswith("Loopback answer to: How do I")
    assert r.usage.total_tokens > 0
    assert [q["json"]["model"] for q in srv.requests] == ["x", "x"]
    assert srv.requests[0]["json"]["stream"] is True
    assert srv.requests[0]["headers"]["authorization"] == "Bearer sk-test"


def test_litellm_errors_and_cut_stream(srv, litellm):
    srv.script({"status": 401})
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model="openai/x", api_base=srv.url, api_key="sk-bad", messages=MSGS, stream=True)
    srv.script({"status": 500})
    with pytest.raises(litellm.InternalServerError):
        # note: without num_retries=0 the openai SDK inside litellm retries 2x
        litellm.completion(model="openai/x", api_base=srv.url, api_key="sk-test", messages=MSGS, num_retries=0)
    assert len(srv.requests) == 2
    srv.script({"content": "a b c d e f g h i j k l m n o", "cut_after": 2})
    got = []
    with pytest.raises(Exception):  # noqa: B017  (the SDK raises its own or a bare error: either is a failure)
        for ch in litellm.completion(model="openai/x", api_base=srv.url, api_key="sk-test", messages=MSGS, stream=True):
            got.append(ch.choices[0].delta.content)
    assert "".join(g or "" for g in got) == "a b c d e f "


# ----------------------------------------------------------- real clients: http.client


def test_http_client_sse_line_by_line_keepalive(srv):
    srv.script({"content": "alpha beta gamma delta epsilon"})
    conn, r = _post(srv.port, {"model": "m", "stream": True, "messages": MSGS, "stream_options": {"include_usage": True}})
    assert r.status == 200
    assert r.getheader("Content-Type").startswith("text/event-stream")
    assert r.getheader("Transfer-Encoding") == "chunked"
    events = _payloads(_sse_lines(r))
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "alpha beta gamma delta epsilon"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    # same connection again (keep-alive works after a chunked stream), non-stream JSON
    conn, r = _post(srv.port, {"model": "m", "messages": MSGS}, conn)
    body = json.loads(r.read())
    assert body["object"] == "chat.completion" and body["usage"]["total_tokens"] > 0
    conn.request("GET", "/v1/models")
    assert json.loads(conn.getresponse().read())["object"] == "list"
    conn.close()
    assert [q["headers"]["authorization"] for q in srv.chat_requests] == ["Bearer sk-http"] * 2


def test_unknown_endpoint_is_404(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request("POST", "/v1/embeddings", body="{}")
    r = conn.getresponse()
    assert r.status == 404 and "error" in json.loads(r.read())
    conn.close()


# ------------------------------------------------------------------------ scripted errors


@pytest.mark.parametrize(
    "status,exc_name,code",
    [
        (401, "AuthenticationError", "invalid_api_key"),
        (429, "RateLimitError", "rate_limit_exceeded"),
        (500, "InternalServerError", None),
        (503, "InternalServerError", None),
        (404, "NotFoundError", "model_not_found"),
    ],
)
def test_scripted_errors_openai(srv, oai, status, exc_name, code):
    import openai

    srv.script({"status": status, "headers": {"Retry-After": "1"}})
    with pytest.raises(getattr(openai, exc_name)) as ei:
        oai.chat.completions.create(model="m", messages=MSGS, stream=True)
    assert ei.value.status_code == status
    assert ei.value.code == code
    assert ei.value.response.headers["retry-after"] == "1"
    # queue consumed; next call gets the default answer
    assert oai.chat.completions.create(model="m", messages=MSGS).choices[0].message.content


def test_scripted_error_custom_body_http_client(srv):
    err = {"message": "Incorrect API key", "type": "invalid_request_error", "code": "invalid_api_key"}
    srv.script({"status": 401, "error": err})
    conn, r = _post(srv.port, {"model": "m", "messages": MSGS})
    assert r.status == 401
    assert json.loads(r.read())["error"] == dict(err, param=None)
    conn.close()


def test_garbage(srv, oai):
    srv.script({"garbage": True}, {"garbage": True})
    conn, r = _post(srv.port, {"model": "m", "messages": MSGS})
    assert r.status == 200
    with pytest.raises(ValueError):
        json.loads(r.read())
    conn, r = _post(srv.port, {"model": "m", "stream": True, "messages": MSGS}, conn)
    lines = _sse_lines(r)
    assert lines[-1] == b"data: [DONE]"
    for line in lines[:-1]:
        assert line.startswith(b"data: ")
        with pytest.raises(ValueError):
            json.loads(line[6:])
    conn.close()
    srv.script({"garbage": True})
    with pytest.raises(Exception):  # noqa: B017  (the SDK surfaces a bare json.JSONDecodeError here)
        list(oai.chat.completions.create(model="m", messages=MSGS, stream=True))


# --------------------------------------------------------------------------- cut streams


def test_cut_stream_openai(srv, oai):
    import openai

    srv.script({"content": "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12", "cut_after": 3})
    got = []
    with pytest.raises(openai.APIConnectionError):
        for ch in oai.chat.completions.create(model="m", messages=MSGS, stream=True):
            got.append(ch.choices[0].delta.content)
    assert "".join(got) == "w1 w2 w3 w4 w5 w6 w7 w8 w9 "
    # the server is still fine afterwards
    assert oai.chat.completions.create(model="m", messages=MSGS).choices[0].message.content


def test_cut_stream_http_client(srv):
    srv.script({"content": "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12", "cut_after": 2})
    conn, r = _post(srv.port, {"model": "m", "stream": True, "messages": MSGS})
    # http.client's readline() reports the dropped chunked body as plain EOF:
    # consumers must treat "EOF without [DONE]" as truncated.
    events = _payloads(_sse_lines(r))
    assert len(events) == 2 and "[DONE]" not in events
    assert all(e["choices"][0]["finish_reason"] is None for e in events)
    conn.close()


def test_cut_non_stream_and_clean_cut(srv, oai):
    import openai

    srv.script({"content": "some answer", "cut_after": 1})
    conn, r = _post(srv.port, {"model": "m", "messages": MSGS})
    with pytest.raises(http.client.IncompleteRead):
        r.read()
    conn.close()
    srv.script({"content": "some answer", "cut_after": 1})
    with pytest.raises(openai.APIConnectionError):
        oai.chat.completions.create(model="m", messages=MSGS)
    # cut_clean: proper end of HTTP body, but no finish chunk and no [DONE]
    srv.script({"content": "a b c d e f g", "cut_after": 1, "cut_clean": True})
    chunks = list(oai.chat.completions.create(model="m", messages=MSGS, stream=True))
    assert [c.choices[0].delta.content for c in chunks] == ["a b c "]
    assert chunks[-1].choices[0].finish_reason is None


# ---------------------------------------------------------------------------- timing


def test_delay_and_chunk_delay(srv, oai):
    import openai

    srv.script({"content": "late", "delay": 0.3})
    t = time.perf_counter()
    assert oai.chat.completions.create(model="m", messages=MSGS).choices[0].message.content == "late"
    assert time.perf_counter() - t >= 0.3
    srv.script({"content": "a b c d e f g h i", "chunk_delay": 0.05})
    t = time.perf_counter()
    stamps = []
    for _ch in oai.chat.completions.create(model="m", messages=MSGS, stream=True):
        stamps.append(time.perf_counter() - t)
    assert len(stamps) == 4 and stamps[-1] - stamps[0] >= 0.14
    srv.script({"content": "too late", "delay": 2})
    with pytest.raises(openai.APITimeoutError):
        oai.chat.completions.create(model="m", messages=MSGS, timeout=0.2)


# ----------------------------------------------------------------- scripting semantics


def test_queue_order_then_default_and_reset(srv, oai):
    srv.script([{"content": "first"}, {"content": "second"}])
    assert srv.pending == 2
    ask = lambda: oai.chat.completions.create(model="m", messages=MSGS).choices[0].message.content  # noqa: E731
    assert [ask(), ask()] == ["first", "second"]
    assert ask().startswith("Loopback answer to:")
    srv.set_default({"content": "always"})
    assert ask() == "always"
    srv.reset()
    assert srv.requests == [] and srv.pending == 0
    assert ask().startswith("Loopback answer to:")


def test_match_rules_with_concurrent_tagging_request(srv, oai):
    # "tagging requests get {skills...}, everything else gets 'Use git reset ...'"
    srv.rule("Classify the user's question", content={"skills": [{"skill": "git", "relevance": 0.9}]})
    srv.set_default({"content": "Use git reset --soft HEAD~1"})
    results = {}

    def tag():
        r = oai.chat.completions.create(model="m", messages=[{"role": "system", "content": TAGGING_PROMPT}, *MSGS])
        results["tag"] = json.loads(r.choices[0].message.content)

    t = threading.Thread(target=tag)
    t.start()
    stream = oai.chat.completions.create(model="m", messages=MSGS, stream=True)
    results["answer"] = "".join(c.choices[0].delta.content or "" for c in stream)
    t.join(10)
    assert results == {"tag": {"skills": [{"skill": "git", "relevance": 0.9}]}, "answer": "Use git reset --soft HEAD~1"}
    assert sorted(r["served"] for r in srv.requests) == ["default", "rule:0"]


def test_rules_take_precedence_over_queue_and_times(srv, oai):
    srv.script({"content": "queued"}, {"match": "NEEDLE", "content": "ruled", "times": 1})
    ask = lambda text: (
        oai.chat.completions.create(  # noqa: E731
            model="m", messages=[{"role": "user", "content": text}]
        )
        .choices[0]
        .message.content
    )
    assert ask("has NEEDLE") == "ruled"
    assert ask("has NEEDLE") == "queued"  # rule retired after 1 use
    assert ask("plain").startswith("Loopback")
    assert srv.state()["rules"] == []


def test_requests_record_everything_and_no_secret_in_bodies(srv, oai):
    oai.chat.completions.create(model="m", messages=MSGS)
    oai.models.list()
    reqs = srv.requests
    assert [(r["method"], r["path"]) for r in reqs] == [("POST", "/v1/chat/completions"), ("GET", "/v1/models")]
    assert [r["seq"] for r in reqs] == [1, 2]
    assert all(r["headers"]["authorization"] == "Bearer sk-test" for r in reqs)
    assert all("sk-test" not in r["body"] for r in reqs)
    assert reqs[1]["json"] is None and reqs[1]["body"] == ""


def test_split_words_roundtrip():
    for text in ["", "one", "  lead and trail  ", "a\n\nb c d e f g", "x " * 10]:
        assert "".join(split_words(text)) == text


# ------------------------------------------------------------- control over HTTP / subprocess


def test_control_endpoints_over_http(srv, oai):
    ctl = FakeOpenAIClient(srv.url)
    ctl.script([{"content": "via http"}, {"match": "zzz", "content": "rule"}])
    assert ctl.state()["queue"] == [{"content": "via http"}]
    assert oai.chat.completions.create(model="m", messages=MSGS).choices[0].message.content == "via http"
    assert ctl.requests == srv.requests and len(ctl.requests) == 1
    ctl.reset()
    assert srv.requests == [] and srv.state()["rules"] == []


def test_subprocess_mode():
    import openai

    env = dict(os.environ, PYTHONPATH=str(NETGUARD_DIR), LEARNFLOW_NETGUARD="1")
    with FakeOpenAIProcess(env=env) as proc:
        assert proc.proc.poll() is None and proc.port > 0
        proc.script({"status": 429, "error": {"message": "slow down"}}, {"content": "from subprocess"})
        client = openai.OpenAI(base_url=proc.url, api_key="sk-sub", max_retries=0)
        with pytest.raises(openai.RateLimitError, match="slow down"):
            client.chat.completions.create(model="m", messages=MSGS)
        text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(model="m", messages=MSGS, stream=True))
        assert text == "from subprocess"
        assert [r["served"] for r in proc.requests] == ["queue", "queue"]
        assert proc.requests[0]["headers"]["authorization"] == "Bearer sk-sub"
        client.close()
        p = proc.proc
    assert p.poll() is not None


def test_subprocess_prints_ready_line():
    p = subprocess.Popen([sys.executable, str(TESTS / "fake_openai.py")], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("READY ")
        port = int(line.split()[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/v1/models")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        p.terminate()
        p.wait(5)
        p.stdout.close()


# --------------------------------------------------------------------------- netguard


def _assert_guarded():
    # never attempt a real non-loopback connection unless the guard is surely in place
    assert learnflow_netguard.is_installed()
    assert socket.create_connection is learnflow_netguard._create_connection
    assert socket.getaddrinfo is learnflow_netguard._getaddrinfo


@pytest.mark.parametrize("addr", [("example.com", 80), ("10.1.2.3", 80)])
def test_guard_blocks_create_connection(addr):
    _assert_guarded()
    with learnflow_netguard.expected():  # deliberate: keep it out of the session's leak log
        with pytest.raises(OSError, match=f"learnflow netguard: blocked connection to {addr[0]}:{addr[1]}"):
            socket.create_connection(addr, timeout=1)
    assert learnflow_netguard.BLOCKED[-1].endswith(f"{addr[0]}:{addr[1]}")


def test_guard_blocks_low_level_calls():
    _assert_guarded()
    with learnflow_netguard.expected():
        _low_level_calls()


def _low_level_calls():
    with pytest.raises(OSError, match="netguard"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(OSError, match="netguard"):
        socket.gethostbyname("example.com")
    with socket.socket() as s:
        with pytest.raises(OSError, match="blocked connection to 10.1.2.3:80"):
            s.connect(("10.1.2.3", 80))
        with pytest.raises(OSError, match="netguard"):
            s.connect_ex(("10.1.2.3", 80))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        with pytest.raises(OSError, match="netguard"):
            u.sendto(b"x", ("8.8.8.8", 53))


def test_guard_logs_unexpected_blocks_only(tmp_path, monkeypatch):
    _assert_guarded()
    log = tmp_path / "ng.log"
    monkeypatch.setattr(learnflow_netguard, "_log_path", str(log))  # not the session's log
    with learnflow_netguard.expected(), pytest.raises(OSError):
        socket.create_connection(("10.9.9.9", 443), timeout=1)
    assert not log.exists()
    with pytest.raises(OSError):
        socket.create_connection(("10.9.9.8", 443), timeout=1)
    assert log.read_text().startswith("learnflow netguard: blocked connection to 10.9.9.8:443 (op=create_connection")


def test_guard_allows_loopback(srv):
    _assert_guarded()
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection((host, srv.port), timeout=2):
            pass
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", srv.port)) == 0
    assert socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo(None, 0, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    if hasattr(socket, "AF_UNIX"):
        a, b = socket.socketpair()
        a.close()
        b.close()


def test_is_loopback():
    ok = ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "LOCALHOST.", "::ffff:127.0.0.1", "0.0.0.0", None, "", b"127.0.0.1"]
    bad = ["example.com", "10.1.2.3", "93.184.216.34", "2001:db8::1", "localhost.evil.com", "::ffff:10.0.0.1", "128.0.0.1"]
    assert all(learnflow_netguard.is_loopback(h) for h in ok)
    assert not any(learnflow_netguard.is_loopback(h) for h in bad)


_CHILD = r"""
import socket, sys
import learnflow_netguard
if not learnflow_netguard.is_installed():
    print("GUARD NOT INSTALLED"); sys.exit(3)   # never try the real address
print("chained:", getattr(sys.modules.get("_learnflow_chained_sitecustomize"), "MARK", None))
try:
    socket.create_connection(("93.184.216.34", 80), timeout=1)
except OSError as e:
    print("ERR:", e)
    sys.exit(0)
print("CONNECTED"); sys.exit(4)
"""


def test_guard_in_subprocess_via_sitecustomize(tmp_path):
    log = tmp_path / "netguard.log"
    # an "existing" sitecustomize further down the path must still run (chaining)
    other = tmp_path / "other"
    other.mkdir()
    (other / "sitecustomize.py").write_text("MARK = 'other-ran'\n")
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(NETGUARD_DIR), str(other)]), LEARNFLOW_NETGUARD="1", LEARNFLOW_NETGUARD_LOG=str(log)
    )
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ERR: learnflow netguard: blocked connection to 93.184.216.34:80" in out.stdout
    assert "chained: other-ran" in out.stdout
    assert "blocked connection to 93.184.216.34:80" in log.read_text()


def test_guard_off_without_env_var():
    env = dict(os.environ, PYTHONPATH=str(NETGUARD_DIR))
    env.pop("LEARNFLOW_NETGUARD", None)
    code = "import socket, learnflow_netguard; print(learnflow_netguard.is_installed())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=20)
    assert out.stdout.strip() == "False", out.stderr
