"""A scriptable, OpenAI-compatible HTTP server for learnflow's tests (stdlib only).

It listens on 127.0.0.1 only and never talks to the internet.

Two ways to use it
------------------
In-process (a daemon thread)::

    with FakeOpenAI() as srv:             # or srv = FakeOpenAI().start(); ...; srv.stop()
        srv.script({"content": "hi"})
        client = openai.OpenAI(base_url=srv.url, api_key="sk-test")
        ...
        assert srv.requests[-1]["headers"]["authorization"] == "Bearer sk-test"

As a subprocess (``python tests/fake_openai.py`` prints ``READY <port>``)::

    with FakeOpenAIProcess() as srv:      # same script()/requests/reset() API, over HTTP
        ...

    # or, given a port/url of a server started elsewhere:
    ctl = FakeOpenAIClient("http://127.0.0.1:PORT")

Endpoints
---------
``POST /v1/chat/completions``  JSON, or SSE (chunked transfer-encoding) when ``"stream": true``
``GET  /v1/models``            model list
``POST /_control/script``      body: a response dict or a list of them (see below); appended
``POST /_control/default``     body: a response dict (the default from now on) or ``null``
``POST /_control/models``      body: list of model ids served by ``GET /v1/models``
``POST /_control/reset``       clear queue, rules, default, models and recorded requests
``GET  /_control/requests``    every recorded (non-control) request so far
``GET  /_control/state``       ``{"queue": [...], "rules": [...], "default": ..., "models": [...]}``

Response dicts (the "script" format)
------------------------------------
All keys are optional::

    content      str (or any JSON value, which is json.dumps'ed) - the assistant text.
                 Missing -> the default loopback answer (so {"delay": 1} works).
    chunks       list[str] - exact SSE content pieces (content = "".join(chunks)).
                 Without it, content is streamed in pieces of 3 words.
    status       int, default 200. != 200 -> an OpenAI-style JSON error body, also for
                 stream requests (like the real API).
    error        dict for the error body {"message","type","code"}; a sensible default
                 exists for 400/401/403/404/429/500/502/503.
    headers      dict of extra response headers, e.g. {"Retry-After": "1"}.
    body         send this verbatim instead (str, or JSON value which is dumped), with
                 `status`; content-type application/json.
    garbage      true -> 200 with a non-JSON body; for streams, `data:` lines that are
                 not JSON followed by `data: [DONE]`.
    cut_after    int N -> stream: send N content chunks, then drop the connection
                 (no terminating chunk, no [DONE]; clients see an incomplete-body error).
                 Non-stream: send the headers and about half the body, then drop.
    cut_clean    true (with cut_after) -> end the HTTP body properly (terminal chunk)
                 after N chunks, but without a finish_reason chunk and without [DONE].
    delay        float seconds to wait before answering.
    chunk_delay  float seconds to wait between SSE chunks.
    finish_reason  str, default "stop".
    usage        dict overriding the computed usage numbers.
    model        str, model name to report (default: the requested model).
    match        str -> makes this a *standing rule* instead of a queue item: it answers
                 every request whose body contains the substring (in the raw body, the
                 re-serialized JSON, or any message's text), ahead of the queue.
                 Rules are tried in the order they were added; first match wins.
    times        int (rules only) -> the rule retires after answering this many times.

Choosing a response for a chat request: first matching rule -> else next queue item
(FIFO, consumed) -> else the default (settable; built-in default echoes
"Loopback answer to: <first 40 chars of the last user message>\\n\\n**Check:** What did
you learn?").

Recorded requests are dicts::

    {"seq": int, "time": float, "method": str, "path": str,
     "headers": {lower-cased name: value}, "body": str (raw, utf-8),
     "json": parsed body or None, "served": "rule:<i>" | "queue" | "default" | None}
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "FakeOpenAI",
    "FakeOpenAIClient",
    "FakeOpenAIProcess",
    "default_answer",
    "split_words",
]

DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o", "fake-model"]

_DEFAULT_ERRORS = {
    400: ("Bad request", "invalid_request_error", None),
    401: (
        "Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("You are not allowed to access this resource.", "invalid_request_error", "forbidden"),
    404: ("The model does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
    429: ("Rate limit reached. Please try again later.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


# ----------------------------------------------------------------------------- helpers


def _text_of(content: Any) -> str:
    """Text of a message `content` (a str or a list of content parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict):
                parts.append(str(p.get("text", "")))
            else:
                parts.append(str(p))
        return " ".join(parts)
    return str(content)


def _messages(body: Any) -> list:
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        return [m for m in body["messages"] if isinstance(m, dict)]
    return []


def default_answer(body: Any) -> str:
    last_user = ""
    for m in _messages(body):
        if m.get("role") == "user":
            last_user = _text_of(m.get("content"))
    return f"Loopback answer to: {last_user[:40]}\n\n**Check:** What did you learn?"


def _count_tokens(text: str) -> int:
    return len(text.split())


def split_words(text: str, per_chunk: int = 3) -> list[str]:
    """Split into pieces of `per_chunk` words; "".join(result) == text."""
    if text == "":
        return [""]
    m = re.match(r"\s*", text)
    lead = m.group(0)
    words = re.findall(r"\S+\s*", text[len(lead) :])
    if not words:
        return [text]
    pieces = ["".join(words[i : i + per_chunk]) for i in range(0, len(words), per_chunk)]
    pieces[0] = lead + pieces[0]
    return pieces


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


# ------------------------------------------------------------------------------- state


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.started = time.time()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.queue: list[dict] = []
            self.rules: list[dict] = []  # each: {"rule": dict, "uses": int}
            self.default: dict | None = None
            self.models: list[str] = list(DEFAULT_MODELS)
            self.requests: list[dict] = []
            self.seq = 0

    def add_script(self, items: Iterable[dict]) -> None:
        with self.lock:
            for item in items:
                if not isinstance(item, dict):
                    raise ValueError(f"scripted response must be a dict, got {item!r}")
                item = copy.deepcopy(item)
                if "match" in item:
                    self.rules.append({"rule": item, "uses": 0})
                else:
                    self.queue.append(item)

    def record(self, rec: dict) -> dict:
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.requests.append(rec)
        return rec

    def choose(self, raw: str, body: Any) -> tuple[dict, str]:
        haystacks = [raw]
        if body is not None:
            haystacks.append(json.dumps(body, ensure_ascii=False))
        haystacks.extend(_text_of(m.get("content")) for m in _messages(body))
        with self.lock:
            for i, entry in enumerate(self.rules):
                rule = entry["rule"]
                needle = str(rule["match"])
                if any(needle in h for h in haystacks):
                    entry["uses"] += 1
                    times = rule.get("times")
                    if times is not None and entry["uses"] >= int(times):
                        self.rules.pop(i)
                    return copy.deepcopy(rule), f"rule:{i}"
            if self.queue:
                return self.queue.pop(0), "queue"
            if self.default is not None:
                return copy.deepcopy(self.default), "default"
            return {}, "default"

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "queue": copy.deepcopy(self.queue),
                "rules": [dict(copy.deepcopy(e["rule"]), _uses=e["uses"]) for e in self.rules],
                "default": copy.deepcopy(self.default),
                "models": list(self.models),
            }


# ----------------------------------------------------------------------------- handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeOpenAI/1.0"
    sys_version = ""

    # quiet by default
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if os.environ.get("FAKE_OPENAI_VERBOSE"):
            sys.stderr.write("fake_openai: " + (format % args) + "\n")

    @property
    def state(self) -> _State:
        return self.server.state  # type: ignore[attr-defined]

    # --- plumbing
    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)  # type: ignore[attr-defined]

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until blank line
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, obj: Any, extra: dict | None = None) -> None:
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status, _REASONS.get(status))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the connection abruptly (no more bytes, no keep-alive)."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _sleep(self, seconds: Any) -> None:
        if seconds:
            self.state.stopping.wait(float(seconds))

    # --- dispatch
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        try:
            raw_bytes = self._read_body()
            raw = raw_bytes.decode("utf-8", "replace")
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError:
                body = None
            path = self.path.split("?", 1)[0]
            if path.startswith("/_control/"):
                self._control(method, path, raw, body)
                return
            rec = self.state.record(
                {
                    "time": time.time(),
                    "method": method,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": raw,
                    "json": body,
                    "served": None,
                }
            )
            norm = path.rstrip("/")
            if norm.endswith("/chat/completions") and method == "POST":
                self._chat(rec, raw, body)
            elif norm.endswith("/models") and method == "GET":
                self._send_json(
                    200,
                    {
                        "object": "list",
                        "data": [
                            {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake-openai"}
                            for m in self.state.snapshot()["models"]
                        ],
                    },
                )
            elif "/models/" in norm and method == "GET":
                mid = norm.split("/models/", 1)[1]
                if mid in self.state.snapshot()["models"]:
                    self._send_json(200, {"id": mid, "object": "model", "created": 1700000000, "owned_by": "fake-openai"})
                else:
                    self._error(404, None, {})
            else:
                self._send_json(
                    404,
                    {
                        "error": {
                            "message": f"Unknown endpoint {method} {path} (fake_openai)",
                            "type": "invalid_request_error",
                            "param": None,
                            "code": "unknown_url",
                        }
                    },
                )
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    # --- control
    def _control(self, method: str, path: str, raw: str, body: Any) -> None:
        st = self.state
        name = path[len("/_control/") :].strip("/")
        try:
            if name == "script" and method == "POST":
                items = body if isinstance(body, list) else [body]
                st.add_script(items)
                snap = st.snapshot()
                self._send_json(200, {"queued": len(snap["queue"]), "rules": len(snap["rules"])})
            elif name == "default" and method == "POST":
                if body is not None and not isinstance(body, dict):
                    raise ValueError("default must be a dict or null")
                with st.lock:
                    st.default = body
                self._send_json(200, {"ok": True})
            elif name == "models" and method == "POST":
                if not isinstance(body, list):
                    raise ValueError("models must be a list of ids")
                with st.lock:
                    st.models = [str(m) for m in body]
                self._send_json(200, {"ok": True})
            elif name == "reset" and method == "POST":
                st.reset()
                self._send_json(200, {"ok": True})
            elif name == "requests" and method == "GET":
                with st.lock:
                    reqs = copy.deepcopy(st.requests)
                self._send_json(200, reqs)
            elif name == "state" and method == "GET":
                self._send_json(200, st.snapshot())
            else:
                self._send_json(404, {"error": f"unknown control endpoint {method} {path}"})
        except ValueError as e:
            self._send_json(400, {"error": str(e)})

    # --- chat
    def _error(self, status: int, err: Any, extra: dict) -> None:
        msg, typ, code = _DEFAULT_ERRORS.get(status, (f"HTTP {status}", "server_error", None))
        e = {"message": msg, "type": typ, "param": None, "code": code}
        if isinstance(err, dict):
            e.update(err)
        elif isinstance(err, str):
            e["message"] = err
        self._send_json(status, {"error": e}, extra)

    def _chat(self, rec: dict, raw: str, body: Any) -> None:
        resp, served = self.state.choose(raw, body)
        rec["served"] = served
        self._sleep(resp.get("delay"))
        if self.state.stopping.is_set():
            self._drop()
            return
        status = int(resp.get("status", 200))
        extra = dict(resp.get("headers") or {})
        req = body if isinstance(body, dict) else {}
        stream = bool(req.get("stream"))

        if "body" in resp:
            b = resp["body"]
            data = (b if isinstance(b, str) else json.dumps(b)).encode()
            self._send_json(status, data, extra)
            return
        if status != 200:
            self._error(status, resp.get("error"), extra)
            return

        model = resp.get("model") or req.get("model") or "fake-model"
        if "chunks" in resp:
            chunks = [str(c) for c in resp["chunks"]] or [""]
            content = "".join(chunks)
        else:
            content = _as_text(resp["content"]) if "content" in resp else default_answer(body)
            chunks = split_words(content)
        prompt_tokens = sum(_count_tokens(_text_of(m.get("content"))) for m in _messages(body))
        completion_tokens = _count_tokens(content)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
        usage.update(resp.get("usage") or {})
        finish = resp.get("finish_reason", "stop")
        cid = f"chatcmpl-fake{rec['seq']:06d}"
        created = int(time.time())

        if stream:
            self._stream(resp, extra, req, cid, created, model, chunks, usage, finish)
            return

        if resp.get("garbage"):
            data = b"<html><body>502 this is not JSON {{{</body></html>"
            self._send_json(200, data, extra)
            return
        obj = {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
        }
        data = json.dumps(obj).encode()
        if resp.get("cut_after") is not None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self._drop()
            return
        self._send_json(200, data, extra)

    def _stream(
        self, resp: dict, extra: dict, req: dict, cid: str, created: int, model: str, chunks: list[str], usage: dict, finish: str
    ) -> None:
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in extra.items():
            self.send_header(k, str(v))
        self.end_headers()

        def write(data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def event(obj: Any) -> None:
            payload = obj if isinstance(obj, str) else json.dumps(obj)
            write(f"data: {payload}\n\n".encode())

        def chunk(delta: dict, finish_reason: Any, with_usage: bool = True) -> dict:
            c = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage and with_usage:
                c["usage"] = None
            return c

        chunk_delay = resp.get("chunk_delay")
        if resp.get("garbage"):
            for line in ("this is not json", '{"id": broken', "<html>oops</html>"):
                event(line)
            event("[DONE]")
            write(b"")
            return

        cut = resp.get("cut_after")
        for i, piece in enumerate(chunks):
            if cut is not None and i >= int(cut):
                break
            if i:
                self._sleep(chunk_delay)
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            event(chunk(delta, None))
        if cut is not None:
            if resp.get("cut_clean"):
                write(b"")  # proper end of the HTTP body, but no finish_reason / [DONE]
            else:
                self._drop()
            return
        self._sleep(chunk_delay)
        event(chunk({}, finish))
        if include_usage:
            u = chunk({}, None)
            u["choices"] = []
            u["usage"] = usage
            event(u)
        event("[DONE]")
        write(b"")  # terminating zero-length chunk


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple, state: _State) -> None:
        self.state = state
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def close_all_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)) or self.state.stopping.is_set():
            return
        super().handle_error(request, client_address)


# ------------------------------------------------------------------------- public API


class _ControlAPI:
    """Methods shared by the in-process server and the HTTP control client."""

    def _post(self, name: str, payload: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _get(self, name: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def script(self, *responses: dict | list) -> _ControlAPI:
        """Queue responses (or add standing rules: dicts with "match"). Lists are flattened."""
        items: list = []
        for r in responses:
            items.extend(r if isinstance(r, (list, tuple)) else [r])
        self._post("script", items)
        return self

    def rule(self, match: str, response: dict | None = None, **fields: Any) -> _ControlAPI:
        """Standing rule: rule("Classify the user's question", content='{"skills": []}')."""
        r = dict(response or {}, **fields)
        r["match"] = match
        return self.script(r)

    def set_default(self, response: dict | None) -> _ControlAPI:
        """Response used when no rule matches and the queue is empty (None = built-in)."""
        self._post("default", response)
        return self

    def set_models(self, models: list[str]) -> _ControlAPI:
        self._post("models", list(models))
        return self

    def reset(self) -> _ControlAPI:
        self._post("reset", None)
        return self

    @property
    def requests(self) -> list[dict]:
        return self._get("requests")

    @property
    def chat_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].split("?")[0].rstrip("/").endswith("/chat/completions")]

    @property
    def last_request(self) -> dict | None:
        reqs = self.requests
        return reqs[-1] if reqs else None

    def state(self) -> dict:
        return self._get("state")

    @property
    def pending(self) -> int:
        """Number of queued (unconsumed) responses."""
        return len(self.state()["queue"])


class FakeOpenAI(_ControlAPI):
    """In-process server on 127.0.0.1 (port 0 = pick a free one), served by a thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._state = _State()
        self._server = _Server((host, port), self._state)
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    base_url = url

    def start(self) -> FakeOpenAI:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name=f"fake-openai-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.01)

    def stop(self) -> None:
        self._state.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.close_all_connections()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # direct access instead of HTTP
    def _post(self, name: str, payload: Any) -> Any:
        st = self._state
        if name == "script":
            st.add_script(payload)
        elif name == "default":
            with st.lock:
                st.default = copy.deepcopy(payload)
        elif name == "models":
            with st.lock:
                st.models = [str(m) for m in payload]
        elif name == "reset":
            st.reset()
        else:
            raise ValueError(name)

    def _get(self, name: str) -> Any:
        st = self._state
        if name == "requests":
            with st.lock:
                return copy.deepcopy(st.requests)
        if name == "state":
            return st.snapshot()
        raise ValueError(name)


class FakeOpenAIClient(_ControlAPI):
    """Drive a FakeOpenAI server (e.g. a subprocess) through its /_control endpoints.

    Uses http.client directly, so HTTP(S)_PROXY variables are never consulted.
    Accepts "http://127.0.0.1:PORT", ".../v1" or just a port number.
    """

    def __init__(self, url: str | int, timeout: float = 10.0) -> None:
        if isinstance(url, int):
            url = f"http://127.0.0.1:{url}"
        m = re.match(r"^https?://([^/:]+):(\d+)", url)
        if not m:
            raise ValueError(f"not a http://host:port url: {url!r}")
        self.host, self.port = m.group(1), int(m.group(2))
        self.timeout = timeout

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def _call(self, method: str, name: str, payload: Any = None) -> Any:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            data = json.dumps(payload).encode() if method == "POST" else None
            conn.request(method, "/_control/" + name, body=data, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            out = r.read()
            if r.status != 200:
                raise RuntimeError(f"fake_openai control {name}: {r.status} {out[:200]!r}")
            return json.loads(out)
        finally:
            conn.close()

    def _post(self, name: str, payload: Any) -> Any:
        return self._call("POST", name, payload)

    def _get(self, name: str) -> Any:
        return self._call("GET", name)


class FakeOpenAIProcess(FakeOpenAIClient):
    """Run ``python tests/fake_openai.py`` as a subprocess; control it over HTTP."""

    def __init__(self, python: str | None = None, env: dict | None = None, startup_timeout: float = 10.0) -> None:
        self._python = python or sys.executable
        self._env = env
        self._startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None

    def start(self) -> FakeOpenAIProcess:
        self.proc = subprocess.Popen(
            [self._python, os.path.abspath(__file__)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=self._env
        )
        port_box: list = []
        t = threading.Thread(target=lambda: port_box.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(self._startup_timeout)
        line = port_box[0] if port_box else ""
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"fake_openai subprocess did not start (got {line!r})")
        super().__init__(int(line.split()[1]))
        return self

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None

    def __enter__(self) -> FakeOpenAIProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Scriptable fake OpenAI server (loopback only)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script", help="JSON file with a list of scripted responses")
    args = ap.parse_args(argv)
    srv = FakeOpenAI(port=args.port)
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            srv.script(json.load(f))
    import signal

    def _term(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    print(f"READY {srv.port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv._state.stopping.set()
        srv._server.close_all_connections()
        srv._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
