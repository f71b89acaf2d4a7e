"""`learnflow sync`: push statements to a Learning Record Store; pull them back for `team`.

HTTP through httpx (one kept-alive connection pool), retries through tenacity; both are imported
only when a request is made, so no other command pays for them. The LRS is the person's
organisation's, so the rules are the polite ones:

- Resumable: a batch's statement ids are recorded in `xapi_sent` (per LRS) as soon as
  the LRS acknowledges it. A sync killed half way resends at most one batch, and
  resending is harmless: an LRS stores an identical statement (same id, same content) once.
- Idempotent: statements already acknowledged are never sent again; a second sync with
  nothing new makes no request at all.
- Retries with bounded, jittered exponential backoff on 429, 5xx and connection errors,
  honouring Retry-After (seconds or an HTTP date, capped); anything else, a refused password
  first of all, is an error at once with the LRS's own words.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urljoin, urlsplit

from learnflow.db import xapi as db_xapi
from learnflow.db.store import Store
from learnflow.errors import BackendError, ConfigError
from learnflow.interop.xapi import voiding_statement
from learnflow.retry_after import parse_retry_after
from learnflow.timespec import now_iso

if TYPE_CHECKING:
    import httpx
    from tenacity import Future, RetryCallState

DEFAULT_BATCH = 500
ATTEMPTS = 6  # one try and five retries: 0.5 + 1 + 2 + 4 + 8 s of backoff at most, plus Retry-After
MAX_WAIT = 60.0  # never wait longer than this for one Retry-After
XAPI_VERSION = "1.0.3"
RETRY_STATUS = {429, 500, 502, 503, 504}
_URL_SAFE = "/?&=:;,+@!$'()*~%#"
CREDENTIALS_HINT = (
    "Set the LRS user and password: --user/--password, LEARNFLOW_LRS_USER / LEARNFLOW_LRS_PASSWORD, "
    "or `learnflow config set xapi_lrs_user NAME` and `learnflow keys set lrs`."
)


class LrsError(BackendError):
    """The LRS refused or could not be reached (exit code 5, like a model backend)."""


@dataclass
class Lrs:
    """Where statements go: the xAPI endpoint (ends with '/') and Basic credentials."""

    url: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0  # seconds to wait for one answer
    max_seconds: float = 120.0  # the whole conversation with the LRS, retries and waits included
    connect_timeout: float = 5.0

    @property
    def key(self) -> str:
        """The endpoint without credentials: what `xapi_sent` rows are recorded against."""
        parts = urlsplit(self.url)
        host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
        return f"{parts.scheme}://{host}{parts.path}"

    def statements_url(self) -> str:
        """The xAPI statements resource under this endpoint."""
        return urljoin(self.url, "statements")


def lrs_from(url: str | None = None, user: str | None = None, password: str | None = None, config=None) -> Lrs:
    """Resolve the LRS: flags, then LEARNFLOW_LRS_* environment, then config (and the keys file for the password)."""
    from learnflow.config import Config, load_keys

    cfg = config or Config()
    url = url or os.environ.get("LEARNFLOW_LRS_URL") or cfg.get("xapi_lrs_url")
    if not url:
        raise ConfigError(
            "No LRS given.",
            hint="Pass --lrs https://lrs.example.com/xapi/ or `learnflow config set xapi_lrs_url URL`.",
        )
    try:
        parts = urlsplit(str(url))
        parts.port  # noqa: B018 - a port that is not a number, or above 65535, raises here: say so once
    except ValueError as exc:
        raise ConfigError(f"{url!r} is not a valid URL: {exc}.", hint="e.g. https://lrs.example.com:8443/xapi/") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http(s) URL of an xAPI endpoint.", hint="e.g. https://lrs.example.com/xapi/")
    # Credentials written into the URL are taken out of it: the URL is stored and printed.
    user = user or parts.username or os.environ.get("LEARNFLOW_LRS_USER") or cfg.get("xapi_lrs_user")
    password = password or parts.password or os.environ.get("LEARNFLOW_LRS_PASSWORD")
    if password is None:
        password = load_keys().get("lrs")
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return Lrs(
        f"{parts.scheme}://{netloc}{path}", user, password, float(cfg.get("read_timeout") or 30),
        max_seconds=float(cfg.get("lrs_max_seconds")), connect_timeout=float(cfg.get("connect_timeout")),
    )  # fmt: skip


class Client:
    """A few xAPI calls over one kept-alive httpx connection pool, with tenacity's retries.

    `sleep` is how the retries wait (tests pass `list.append` to record the waits instead).
    """

    def __init__(self, lrs: Lrs, *, sleep: Callable[[float], None] = time.sleep, attempts: int = ATTEMPTS):
        self.lrs, self.sleep, self.attempts = lrs, sleep, attempts
        self._http: httpx.Client | None = None  # opened by the first request: a sync with nothing new opens none
        self.requests = 0
        # One bound for everything this client does (a hanging LRS once kept `sync` running for
        # read timeout x tries, ~12 minutes): every wait and every request timeout fits in it.
        self.deadline = time.monotonic() + lrs.max_seconds

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def close(self) -> None:
        """Close the connections (the client opens new ones if used again)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            import ssl

            import httpx

            auth = None
            if self.lrs.user is not None or self.lrs.password is not None:
                auth = httpx.BasicAuth(self.lrs.user or "", self.lrs.password or "")
            self._http = httpx.Client(
                auth=auth,
                headers={"X-Experience-API-Version": XAPI_VERSION, "Accept": "application/json", "User-Agent": "learnflow"},
                timeout=self.lrs.timeout,
                # The same network as the standard-library client this replaced: the system's trust store
                # (an organisation's LRS may have an internal CA that certifi lacks; SSL_CERT_FILE still
                # applies through OpenSSL) and no proxy taken from the environment.
                verify=ssl.create_default_context(),
                trust_env=False,
            )
        return self._http

    def request(self, method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send, retrying what is worth retrying; return (status, body) of the final answer."""
        from tenacity import RetryError, Retrying, retry_if_exception_type, retry_if_result, stop_after_attempt, wait_random_exponential

        backoff = wait_random_exponential(multiplier=0.5, max=8)  # full jitter: 0.5, 1, 2, 4, 8 s windows

        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            if outcome is not None and not outcome.failed:
                told = parse_retry_after(outcome.result().headers.get("Retry-After"))
                if told is not None:
                    return min(told, MAX_WAIT, max(self._left(), 0.0))
            return min(backoff(state), max(self._left(), 0.0))

        def stop(state: RetryCallState) -> bool:
            if stop_after_attempt(self.attempts)(state) or self._left() <= 0.5:
                return True
            # Nobody listening (refused, no such host) rarely changes within seconds: one retry, not five.
            outcome = state.outcome
            refused = outcome is not None and outcome.failed and isinstance(outcome.exception(), _unreachable())
            return refused and state.attempt_number >= 2

        retrying = Retrying(
            sleep=self.sleep,
            stop=stop,
            wait=wait,
            retry=retry_if_exception_type(_transient()) | retry_if_result(lambda r: r.status_code in RETRY_STATUS),
        )
        try:
            resp = retrying(self._send, method, url, body)
        except RetryError as exc:
            raise self._gave_up(exc.last_attempt) from None
        return resp.status_code, resp.content

    def _send(self, method: str, url: str, body: bytes | None) -> httpx.Response:
        import httpx

        headers = {"Content-Type": "application/json"} if body is not None else None
        left = self._left()
        if left <= 0:
            raise httpx.ReadTimeout(f"no time left of lrs_max_seconds = {self.lrs.max_seconds:g}")
        self.requests += 1
        timeout = httpx.Timeout(min(self.lrs.timeout, left), connect=min(self.lrs.connect_timeout, left))
        try:
            return self._client().request(method, url, content=body, headers=headers, timeout=timeout)
        except _transient():
            raise  # tenacity retries these
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # a URL it cannot send, a protocol it cannot speak
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            raise LrsError(f"Cannot ask the LRS at {self.lrs.key} for {target[:200]!r}: {exc}.", kind="bad_response") from None

    def _gave_up(self, last: Future) -> LrsError:
        """The error once every try failed, named after the last one."""
        if last.failed:
            exc = last.exception()
            problem, kind = f"cannot reach it ({exc.__class__.__name__}: {exc})", "connection"
        else:
            status = last.result().status_code
            problem, kind = f"it answered HTTP {status}", "rate_limit" if status == 429 else "server"
        tries = last.attempt_number
        within = f" within lrs_max_seconds = {self.lrs.max_seconds:g}" if self._left() <= 0.5 else ""
        return LrsError(
            f"The LRS at {self.lrs.key} failed after {tries} {'try' if tries == 1 else 'tries'}{within}: {problem}.",
            hint="Nothing is lost: what was acknowledged is recorded, run `learnflow sync` again later.",
            kind=kind,
        )

    def post_statements(self, batch: list[dict]) -> list[str]:
        """Send one batch; the ids the LRS acknowledged."""
        body = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()
        status, data = self.request("POST", self.lrs.statements_url(), body)
        if status != 200:
            raise _refusal(self.lrs, status, data, batch)
        # xAPI 1.0.3 (2.1.2): a POST answers 200 with the array of the statement ids it stored.
        # Anything else (an HTML error page behind a proxy, an empty body, other ids) is not an
        # acknowledgement: recording it would mean never sending these statements again.
        try:
            ids = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            ids = None
        sent = [s["id"] for s in batch]
        if not isinstance(ids, list) or sorted(map(str, ids)) != sorted(sent):
            raise LrsError(
                f"The LRS at {self.lrs.key} answered HTTP 200 without acknowledging the batch "
                f"(xAPI asks for the list of stored statement ids; got {_lrs_message(data)[:80]!r}).",
                hint="Nothing was recorded as sent. Is the URL the xAPI endpoint and not a web page in front of it?",
                kind="bad_response",
            )
        return sent

    def get_statements(self, **params) -> Iterator[dict]:
        """Every statement matching `params`, following `more` page by page."""
        url = self.lrs.statements_url() + ("?" + urlencode(params) if params else "")
        while url:
            status, data = self.request("GET", url)
            if status != 200:
                raise _refusal(self.lrs, status, data, [])
            try:
                page = json.loads(data)
            except json.JSONDecodeError:
                raise LrsError(f"The LRS at {self.lrs.key} answered something that is not JSON.", kind="bad_response") from None
            yield from page.get("statements") or []
            more = page.get("more")
            # `more` is relative to the server root (xAPI 1.0.3, 2.1.3): join it to the host, not the endpoint.
            # Some LRSs put raw spaces or JSON in it: percent-encode what a request line cannot carry.
            url = urljoin(self.lrs.url, quote(more, safe=_URL_SAFE)) if more else ""


def _unreachable() -> tuple[type[Exception], ...]:
    """No one is listening there: refused, unknown host, no route."""
    import httpx

    return (httpx.ConnectError,)


def _transient() -> tuple[type[Exception], ...]:
    """What a new try may cure: no connection, a timeout, a connection dropped before the whole answer came."""
    import httpx

    return (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _lrs_message(data: bytes) -> str:
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return data.decode("utf-8", "replace").strip()[:300]
    if isinstance(body, dict):
        warnings = body.get("warnings")
        if isinstance(warnings, list) and warnings:
            return str(warnings[0])
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


def _refusal(lrs: Lrs, status: int, data: bytes, batch: list[dict]) -> LrsError:
    """The error for an answer that retrying will not fix, in the LRS's own words where it has some."""
    import re

    msg = _lrs_message(data)
    if status in (401, 403):
        return LrsError(
            f"The LRS at {lrs.key} refused the credentials (HTTP {status}): {msg}",
            hint=CREDENTIALS_HINT,
            kind="auth",
            status=status,
        )
    if status == 400:
        # Many LRSs name the culprit by its index in the batch ("statements.12.verb.id").
        m = re.search(r"statements\.(\d+)", msg)
        which = ""
        if m and int(m.group(1)) < len(batch):
            which = f" statement {batch[int(m.group(1))].get('id')}"
        return LrsError(
            f"The LRS at {lrs.key} rejected{which or ' a statement'} (HTTP 400): {msg}",
            hint="Check it with `learnflow export --format xapi`; if learnflow wrote it, please report it.",
            kind="bad_request", status=status,
        )  # fmt: skip
    if status == 404:
        return LrsError(
            f"No xAPI statements resource at {lrs.statements_url()} (HTTP 404).",
            hint="Give the LRS's xAPI endpoint, e.g. https://lrs.example.com/xapi/.",
            kind="not_found",
            status=status,
        )
    if status == 409:
        return LrsError(
            f"The LRS at {lrs.key} already holds a statement with the same id and other content (HTTP 409): {msg}",
            hint="It was sent by another tool or an older export; the statements acknowledged so far are recorded.",
            kind="conflict", status=status,
        )  # fmt: skip
    if status == 413:
        return LrsError(
            f"The LRS at {lrs.key} refused a batch as too large (HTTP 413).",
            hint="Send smaller batches: --batch 100.",
            kind="bad_request",
            status=status,
        )
    return LrsError(f"The LRS at {lrs.key} answered HTTP {status}: {msg}", kind="error", status=status)


# -- sync ------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    lrs: str
    total: int  # statements the log gives now
    already: int  # acknowledged by this LRS before: not sent
    sent: int  # sent and acknowledged now
    batches: int
    requests: int
    seconds: float
    voided: int = 0  # voiding statements for forgotten records, sent and acknowledged now


def acknowledged(store: Store, lrs: Lrs) -> set[str]:
    """Statement ids this LRS has acknowledged: never sent to it again."""
    return db_xapi.acknowledged_ids(store, lrs.key)


def sync(
    store: Store, statements: list[dict], lrs: Lrs, *, batch: int = DEFAULT_BATCH, client: Client | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:  # fmt: skip
    """Send what this LRS has not acknowledged yet, `batch` statements per request."""
    start = time.perf_counter()
    done = acknowledged(store, lrs)
    todo = [s for s in statements if s["id"] not in done]
    client = client or Client(lrs)
    sent = batches = voided = 0
    try:
        # First what `forget` owes this LRS: a queued voiding leaves the queue only once acknowledged,
        # so a failed sync keeps it for the next one.
        owed = db_xapi.pending_voidings(store, lrs.key)
        for i in range(0, len(owed), max(1, batch)):
            owed_now = owed[i : i + max(1, batch)]
            client.post_statements([voiding_statement(vid, sid, json.loads(actor), at) for sid, vid, actor, at in owed_now])
            db_xapi.record_voided(store, lrs.key, [(sid, vid) for sid, vid, _, _ in owed_now], now_iso())
            voided += len(owed_now)
            batches += 1
        for i in range(0, len(todo), max(1, batch)):
            chunk = todo[i : i + max(1, batch)]
            client.post_statements(chunk)
            # Recorded batch by batch: an interrupted sync resumes after the last acknowledged batch.
            db_xapi.record_acknowledged(store, lrs.key, [s["id"] for s in chunk], now_iso())
            sent += len(chunk)
            batches += 1
            if progress:
                progress(sent, len(todo))
    finally:
        client.close()
    return SyncResult(
        lrs.key, len(statements), len(statements) - len(todo), sent, batches, client.requests, time.perf_counter() - start, voided
    )  # fmt: skip


def pull(lrs: Lrs, *, since: str | None = None, client: Client | None = None) -> list[dict]:
    """Every statement the LRS lets these credentials read (for `team --lrs`)."""
    client = client or Client(lrs)
    params: dict[str, str | int] = {"limit": 500}
    if since:
        params["since"] = since
    try:
        return list(client.get_statements(**params))
    finally:
        client.close()
