"""`learnflow sync` against a scripted LRS on 127.0.0.1: retries, resuming, errors, credentials.

The real LRS (LearningLocker's) is in test_sync_lrs.py; this one can be told to fail on cue.
"""

import base64
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lrs"))

from testkit import simulate_log  # noqa: E402

from learnflow.interop import lrs as sync
from learnflow.interop import xapi  # noqa: E402
from learnflow.interop.lrs import Client, Lrs, LrsError  # noqa: E402


class ScriptedLrs:
    """Stores what it is sent; answers from a script first (status, headers, body), then 200."""

    def __init__(self):
        self.script: list[tuple[int, dict, dict | list]] = []
        self.stored: dict[str, dict] = {}
        self.posts = 0
        self.auth: list[str | None] = []
        self.hang: list[float] = []  # seconds to sit on the next POSTs before answering
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.posts += 1
                outer.auth.append(self.headers.get("Authorization"))
                if outer.hang:
                    time.sleep(outer.hang.pop(0))
                assert self.headers["X-Experience-API-Version"] == "1.0.3"
                if outer.script:
                    status, headers, payload = outer.script.pop(0)
                    if status != 200 or isinstance(payload, bytes):  # bytes: a raw body, stored nowhere
                        return self.reply(status, payload, headers)
                for st in body:
                    outer.stored[st["id"]] = st
                self.reply(200, [st["id"] for st in body])

            def reply(self, status, payload, headers=None):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/xapi/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lrs():
    server = ScriptedLrs()
    yield server
    server.stop()


@pytest.fixture
def statements(store):
    simulate_log(store, asks=40, checks=10, ratings=2, reflections=1)
    return xapi.build_statements(store, xapi.resolve_actor(store))


def quiet_client(lrs_, waits):
    return Client(lrs_, sleep=waits.append)


def test_sends_in_batches_then_nothing_the_second_time(store, statements, lrs):
    target = Lrs(lrs.url, "key", "secret")
    first = sync.sync(store, statements, target, batch=10)
    assert first.sent == len(statements) and first.batches == -(-len(statements) // 10)
    assert set(lrs.stored) == {s["id"] for s in statements}
    assert lrs.auth[0] == "Basic " + base64.b64encode(b"key:secret").decode()
    posts = lrs.posts
    second = sync.sync(store, statements, target, batch=10)
    assert (second.sent, second.already, second.requests) == (0, len(statements), 0)
    assert lrs.posts == posts  # not one request


def test_retries_rate_limits_and_server_errors_honouring_retry_after(store, statements, lrs):
    lrs.script = [(429, {"Retry-After": "7"}, {"message": "slow down"}), (503, {}, {"message": "busy"})]
    waits: list[float] = []
    result = sync.sync(store, statements, Lrs(lrs.url, "k", "s"), batch=1000, client=quiet_client(Lrs(lrs.url, "k", "s"), waits))
    assert result.sent == len(statements) and lrs.posts == 3
    assert waits[0] == 7.0  # the LRS said how long
    assert 0 < waits[1] <= 1.0  # then our own backoff


def test_retry_after_is_capped(store, statements, lrs):
    lrs.script = [(429, {"Retry-After": "86400"}, {})]
    waits: list[float] = []
    sync.sync(store, statements, Lrs(lrs.url), client=quiet_client(Lrs(lrs.url), waits))
    assert waits == [sync.MAX_WAIT]


@pytest.mark.parametrize("form", ["%a, %d %b %Y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"], ids=["IMF-fixdate", "asctime"])
def test_retry_after_as_an_http_date_is_honoured(store, statements, lrs, form):
    in_thirty_seconds = time.strftime(form, time.gmtime(time.time() + 30))
    lrs.script = [(503, {"Retry-After": in_thirty_seconds}, {"message": "down for maintenance"})]
    waits: list[float] = []
    result = sync.sync(store, statements, Lrs(lrs.url), client=quiet_client(Lrs(lrs.url), waits))
    assert result.sent == len(statements) and lrs.posts == 2
    assert len(waits) == 1 and 25 <= waits[0] <= 30  # the date, read against our clock (whole seconds)


def test_a_timeout_is_retried(store, statements, lrs):
    lrs.hang = [1.0]  # the first POST gets no answer within the timeout
    target = Lrs(lrs.url, timeout=0.2)
    waits: list[float] = []
    result = sync.sync(store, statements, target, client=quiet_client(target, waits))
    assert result.sent == len(statements) and lrs.posts == 2 and len(waits) == 1
    assert result.requests == 2


def test_gives_up_after_one_retry_when_nobody_listens(store, statements):
    """A refused connection rarely heals within seconds: one retry, not five (it took 12.9 s)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    target = Lrs(f"http://127.0.0.1:{port}/xapi/")
    start = time.monotonic()
    with pytest.raises(LrsError) as err:
        sync.sync(store, statements, target)  # real waits
    assert err.value.kind == "connection" and "failed after 2 tries" in err.value.message
    assert time.monotonic() - start < 3
    assert not sync.acknowledged(store, target)


def test_server_errors_are_still_retried_with_bounded_backoff(store, statements, lrs):
    lrs.script = [(503, {}, {"message": "busy"})] * sync.ATTEMPTS
    waits: list[float] = []
    target = Lrs(lrs.url)
    with pytest.raises(LrsError, match="failed after 6 tries"):
        sync.sync(store, statements, target, client=quiet_client(target, waits))
    assert len(waits) == sync.ATTEMPTS - 1 and sum(waits) <= 0.5 + 1 + 2 + 4 + 8


def test_a_hanging_lrs_is_given_up_within_lrs_max_seconds(store, statements, lrs):
    lrs.hang = [30.0] * 10  # every POST sits there
    target = Lrs(lrs.url, timeout=20, max_seconds=1.5)
    start = time.monotonic()
    with pytest.raises(LrsError) as err:
        sync.sync(store, statements, target)
    assert time.monotonic() - start < 3
    assert "lrs_max_seconds = 1.5" in err.value.message
    assert not sync.acknowledged(store, target)


@pytest.mark.parametrize(
    "body", [b"<html>Welcome to nginx</html>", b"", b"[]", b'["not-one-of-ours"]'], ids=["html", "empty", "no-ids", "other-ids"]
)
def test_a_200_that_does_not_list_the_batch_ids_is_not_an_acknowledgement(store, statements, lrs, body):
    lrs.script = [(200, {}, body)]
    target = Lrs(lrs.url)
    with pytest.raises(LrsError) as err:
        sync.sync(store, statements, target, batch=10)
    assert err.value.kind == "bad_response" and "without acknowledging" in err.value.message
    assert not sync.acknowledged(store, target)  # so the next sync sends them again
    assert sync.sync(store, statements, target, batch=10).sent == len(statements)


def test_lrs_max_seconds_is_a_setting(cli, monkeypatch):
    assert cli("config", "set", "lrs_max_seconds", "30").exit_code == 0
    assert sync.lrs_from("http://127.0.0.1:9/xapi/").max_seconds == 30.0
    assert cli("config", "set", "lrs_max_seconds", "0").exit_code == 3


def test_an_interrupted_sync_resumes_where_it_stopped(store, statements, lrs):
    target = Lrs(lrs.url)
    lrs.script = [(200, {}, {}), (200, {}, {})] + [(500, {}, {"message": "disk full"})] * sync.ATTEMPTS
    waits: list[float] = []
    with pytest.raises(LrsError, match="HTTP 500"):
        sync.sync(store, statements, target, batch=10, client=quiet_client(target, waits))
    assert len(sync.acknowledged(store, target)) == 20  # two batches acknowledged and recorded
    posts = lrs.posts
    result = sync.sync(store, statements, target, batch=10)
    assert result.already == 20 and result.sent == len(statements) - 20
    assert lrs.posts - posts == -(-(len(statements) - 20) // 10)
    assert set(lrs.stored) == {s["id"] for s in statements}


def test_acknowledged_is_per_lrs(store, statements, lrs):
    sync.sync(store, statements, Lrs(lrs.url))
    other = ScriptedLrs()
    try:
        assert sync.sync(store, statements, Lrs(other.url)).sent == len(statements)
    finally:
        other.stop()


@pytest.mark.parametrize(
    "status,payload,expected,kind",
    [
        (401, {"message": "Unauthorised"}, "refused the credentials (HTTP 401)", "auth"),
        (
            400,
            {"warnings": ["Problem in 'statements.3.verb.id'. Received '\"x\"'"]},
            "rejected statement {id3} (HTTP 400): Problem in 'statements.3.verb.id'",
            "bad_request",
        ),
        (409, {"message": "abc is conflicting"}, "same id and other content (HTTP 409): abc is conflicting", "conflict"),
        (404, {"message": "no"}, "No xAPI statements resource", "not_found"),
        (413, {}, "too large", "bad_request"),
    ],
)
def test_refusals_say_what_the_lrs_said(store, statements, lrs, status, payload, expected, kind):
    lrs.script = [(status, {}, payload)]
    with pytest.raises(LrsError) as err:
        sync.sync(store, statements, Lrs(lrs.url), batch=10)
    assert expected.format(id3=statements[3]["id"]) in err.value.message
    assert err.value.kind == kind and err.value.exit_code == 5 and lrs.posts == 1


def test_credentials_come_from_flags_then_environment_then_config_and_keys(home, monkeypatch):
    from learnflow import keys

    monkeypatch.delenv("LEARNFLOW_LRS_USER", raising=False)
    monkeypatch.delenv("LEARNFLOW_LRS_PASSWORD", raising=False)
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text('xapi_lrs_url = "https://lrs.example.com/xapi"\nxapi_lrs_user = "cfg-user"\n')
    keys.set_key("lrs", "from-keys-file")
    got = sync.lrs_from()
    assert (got.url, got.user, got.password) == ("https://lrs.example.com/xapi/", "cfg-user", "from-keys-file")
    monkeypatch.setenv("LEARNFLOW_LRS_USER", "env-user")
    monkeypatch.setenv("LEARNFLOW_LRS_PASSWORD", "env-pw")
    assert (sync.lrs_from().user, sync.lrs_from().password) == ("env-user", "env-pw")
    flagged = sync.lrs_from("http://u:p@127.0.0.1:9/xAPI/", "flag-user")
    assert (flagged.user, flagged.password, flagged.url) == ("flag-user", "p", "http://127.0.0.1:9/xAPI/")
    assert "u:p@" not in flagged.key and "password" not in repr(flagged)  # never printed


def test_sync_without_an_lrs_is_a_config_error(cli, home):
    result = cli("sync")
    assert result.exit_code == 4 and "No LRS given" in result.stderr and "--lrs" in result.stderr


def test_sync_command_reports_what_it_did(cli, store, lrs):
    simulate_log(store, asks=12, checks=3, ratings=1, reflections=1)
    first = cli("sync", "--lrs", lrs.url, "--user", "k", "--password", "s", "--batch", "5")
    assert first.exit_code == 0 and "Sent " in first.stderr and "were there already" in first.stderr
    second = cli("sync", "--lrs", lrs.url, "--json")
    assert json.loads(second.stdout)["sent"] == 0


# -- the progress bar (ui.render.progress) --------------------------------------------------


def test_progress_draws_nothing_when_stderr_is_not_a_terminal(capsys):
    from learnflow.ui import render

    with render.progress("Sending statements") as show:
        show(5, 10)
        show(10, 10)
    assert capsys.readouterr() == ("", "")


def test_sync_on_a_terminal_shows_a_progress_bar_that_gives_way_to_the_summary(store, statements, lrs, monkeypatch):
    """A real pty as stderr: the bar counts the statements, then the summary line is what remains."""
    import os
    import pty
    import select
    import subprocess

    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm")
    n = len(statements)
    parent, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "learnflow", "sync", "--lrs", lrs.url, "--user", "k", "--password", "s", "--batch", "5"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=child,
    )  # fmt: skip
    os.close(child)
    seen = b""
    while True:  # read as it comes, so the pty's buffer never blocks the child
        if select.select([parent], [], [], 60)[0] == []:
            break
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(parent)
    assert proc.wait(timeout=60) == 0 and proc.stdout.read() == b""
    text = seen.decode()
    assert "Sending statements" in text and f"{n}/{n}" in text  # the bar, at its last count
    assert "\r" in text and "\x1b[" in text  # drawn in place, not line after line
    tail = text[text.rindex(f"{n}/{n}") :]
    assert "\x1b[2K" in tail and f"Sent {n:,} statements" in tail  # the bar is erased; the summary follows
    assert len(lrs.stored) == n


def test_httpx_and_tenacity_are_imported_only_when_a_request_is_made():
    import subprocess

    code = "import sys, learnflow.interop.lrs; print(sorted({'httpx', 'tenacity'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("url", ["http://lrs.example:abc/xapi/", "http://lrs.example:99999/xapi/", "http://[::1/xapi/"])
def test_a_malformed_lrs_url_is_a_config_error_not_a_traceback(cli, url):
    result = cli("sync", "--lrs", url)
    assert result.exit_code == 4, result.output
    assert "is not a valid URL" in result.stderr and "Traceback" not in result.output


# -- forget reaches the LRS: voiding statements (xAPI 1.0.3, 2.2) ---------------------------------


def statements_now(store):
    return xapi.build_statements(store, xapi.resolve_actor(store), snapshots=False)  # no mastery snapshots: only asks change


def asked_id(store, i: int) -> str:
    import uuid

    return str(uuid.uuid5(xapi.namespace(store), f"asked:{i}"))


def test_forget_voids_at_the_next_sync_what_the_lrs_holds_and_a_failed_sync_keeps_the_voiding(store, lrs):
    from learnflow.admin.forget import forget

    simulate_log(store, asks=6, checks=0, ratings=0, reflections=0)
    target = Lrs(lrs.url, "k", "s")
    sync.sync(store, statements_now(store), target)
    gone = asked_id(store, 3)
    assert gone in lrs.stored

    done = forget(store, ids=[3])
    assert done.voidings_queued == 1
    lrs.script = [(503, {}, {"message": "down"})]
    with pytest.raises(LrsError):
        sync.sync(store, statements_now(store), target, client=Client(target, attempts=1))
    posts = lrs.posts

    result = sync.sync(store, statements_now(store), target)
    assert result.voided == 1 and lrs.posts == posts + 1  # the voiding only: nothing else is new
    [voiding] = [s for s in lrs.stored.values() if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"]
    assert voiding["object"] == {"objectType": "StatementRef", "id": gone}
    assert voiding["actor"] == xapi.resolve_actor(store) and voiding["timestamp"]
    again = sync.sync(store, statements_now(store), target)
    assert (again.voided, again.sent, again.requests) == (0, 0, 0)  # voided once, recorded as sent


def test_a_new_ask_after_forget_gets_a_new_statement_that_is_sent(store, lrs):
    from learnflow.admin.forget import forget
    from learnflow.tutor.ask import Ask, AskOptions

    simulate_log(store, asks=3, checks=0, ratings=0, reflections=0)
    target = Lrs(lrs.url)
    sync.sync(store, xapi.build_statements(store, xapi.resolve_actor(store)), target)
    forget(store, ids=[3])
    run = Ask(store, AskOptions(question="what is a git tag?", model="offline"))
    for _ in run.stream():
        pass
    assert run.id == 4
    result = sync.sync(store, xapi.build_statements(store, xapi.resolve_actor(store)), target)
    assert asked_id(store, 4) in lrs.stored and result.voided == 1 and result.sent >= 1


def test_forget_all_voids_every_statement_of_this_install_an_lrs_acknowledged(store, lrs):
    from learnflow.admin.forget import forget

    simulate_log(store, asks=4, checks=2, ratings=1, reflections=1)
    target = Lrs(lrs.url)
    first = sync.sync(store, xapi.build_statements(store, xapi.resolve_actor(store)), target)
    done = forget(store, everything=True)
    assert done.voidings_queued == first.sent
    result = sync.sync(store, xapi.build_statements(store, xapi.resolve_actor(store)), target)
    voidings = [s for s in lrs.stored.values() if s["verb"]["id"].endswith("/voided")]
    originals = {sid for sid, s in lrs.stored.items() if not s["verb"]["id"].endswith("/voided")}
    assert result.voided == first.sent and {v["object"]["id"] for v in voidings} == originals
