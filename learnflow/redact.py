"""Secret redaction: the one step every channel passes through before anything is sent to
a backend, stored, exported or printed in an error (questions, context, reflect and check
answers, error messages, file names).

Two layers, in one pass over the text:

1. Shapes with a signature (provider prefixes such as `sk-`, `ghp_`, `hvs.`, `AKIA`, JWTs,
   private-key blocks, webhooks): precise, typed placeholders.
2. Generic rules that follow from *where* a secret sits rather than what it looks like:
   a value assigned to a secret-like name (`password`, `passwd`, `pwd`, `pass`, `secret`,
   `token`, `key`, `auth`, `credential`, `session`, in any spelling: `db_password:`,
   `"apiKey":`, `SharedAccessKey=`, `X-Api-Key:`, `&password=`, `<password>`), a value
   following a secret-like flag (`--password`, `-storepass`, `-pPASS` glued for mysql-like
   tools, `sshpass -p`, `-u user:pass`), URL userinfo in any scheme (empty user, `/` or `@`
   in the password), `Authorization:` with any scheme, `.pgpass` lines, and strong-looking
   literals on a line that names a secret.

What keeps ordinary code intact is the value test (`_secretish`): a value that is code or a
reference (`os.environ[...]`, `self.pwd`, `${VAR}`, `{{ vault_x }}`, `None`, a call), a
path, a URL, a placeholder (`changeme`, `<your-key>`, `sk_test_xxx`), a bare identifier
(`Authorization`, `sessionid`) or a name whose last part says it is not the secret itself
(`AUTH_TOKEN_HEADER`, `HEADER_TOKEN_RE`, `PASSWORD_MIN_LENGTH`, `token_endpoint`) is left
alone. Figures on the corpora of bench/secrets/ are in bench/bench_redact.py's output.

detect-secrets (Yelp) is not imported here: its import alone costs ~0.12 s (the `ask`
budget is 0.30 s) and on the corpora it caught nothing these rules miss (bench_redact.py
--detect-secrets compares it).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

# `lf` redacts every command it records (cli/quickrun.py): neither dataclasses (which imports
# inspect) nor typing is imported at run time here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# -- layer 1: shapes with a signature ---------------------------------------------------------
# (type, pattern, triggers). A pattern with a group named `s` redacts only that group, otherwise
# the whole match. A pattern runs only when the lower-cased text contains one of its triggers:
# `in` scans at memory speed, most text contains none of them, and a pattern is compiled the
# first time it is needed (compiling all costs ~15 ms on every ask).
SHAPES: list[tuple[str, str, tuple[str, ...]]] = [
    ("private-key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)", ("private key",)),
    ("anthropic-key", r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}", ("sk-ant-",)),
    ("openrouter-key", r"\bsk-or-v1-[a-f0-9]{40,}", ("sk-or-",)),
    ("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", ("sk-",)),
    ("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", ("akia", "asia", "abia", "acca")),
    ("github-token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{22,}\b", ("github_pat_",)),
    ("gitlab-token", r"\bgl(?:pat|dt|ptt|rt|cbt|soat|ffct)-[A-Za-z0-9_-]{20,}\b", ("gl",)),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", ("xox",)),
    ("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/-]+", ("hooks.slack.com",)),
    ("discord-webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+", ("discord",)),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}\b", ("aiza",)),
    ("google-oauth-secret", r"\bGOCSPX-[A-Za-z0-9_-]{20,}\b", ("gocspx-",)),
    ("google-oauth-token", r"\bya29\.[A-Za-z0-9_-]{20,}", ("ya29.",)),
    ("stripe-key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b", ("_live_", "_test_")),
    ("stripe-webhook-secret", r"\bwhsec_[A-Za-z0-9]{24,}\b", ("whsec_",)),
    ("aws-secret-key", r"(?i)aws_?secret_?(?:access_?)?key[\"']?\W{0,5}(?P<s>[A-Za-z0-9/+=]{40,})", ("secret",)),
    ("azure-storage-key", r"(?i)(?:AccountKey|SharedAccessKey)=(?P<s>[A-Za-z0-9+/=]{40,})", ("accountkey=", "sharedaccesskey=")),
    ("azure-sas-signature", r"(?i)[?&]sig=(?P<s>[A-Za-z0-9%+/=]{30,})", ("sig=",)),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{10,}", ("eyj",)),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}\b", ("hf_",)),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", ("npm_",)),
    ("pypi-token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}", ("pypi-",)),
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}", ("sg.",)),
    ("twilio-key", r"\bSK[0-9a-f]{32}\b", ("sk",)),
    ("mailgun-key", r"\bkey-[0-9a-f]{32}\b", ("key-",)),
    ("digitalocean-token", r"\bdo[por]_v1_[a-f0-9]{64}\b", ("_v1_",)),
    ("shopify-token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b", ("shp",)),
    ("databricks-token", r"\bdapi[a-f0-9]{32}(?:-\d)?\b", ("dapi",)),
    ("vault-token", r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}", ("hvs.", "hvb.", "hvr.")),
    ("groq-key", r"\bgsk_[A-Za-z0-9]{40,}\b", ("gsk_",)),
    ("replicate-token", r"\br8_[A-Za-z0-9]{30,}\b", ("r8_",)),
    # No \b in front: the Bot API puts it right after "bot" (…/bot123456789:AA…/getMe).
    ("telegram-bot-token", r"(?<!\d)\d{8,10}:AA[A-Za-z0-9_-]{33}\b", (":aa",)),
    ("atlassian-token", r"\bATATT3[A-Za-z0-9_=-]{50,}", ("atatt3",)),
    ("linear-key", r"\blin_api_[A-Za-z0-9]{32,}\b", ("lin_api_",)),
    ("newrelic-key", r"\bNRAK-[A-Z0-9]{27}\b", ("nrak-",)),
    ("age-secret-key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b", ("age-secret-key-",)),
    ("square-token", r"\b(?:sq0atp|sq0csp)-[A-Za-z0-9_-]{22,}\b", ("sq0",)),
    ("mapbox-token", r"\bsk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{10,}", ("sk.eyj",)),
]  # fmt: skip

# -- layer 2: where secrets sit --------------------------------------------------------------


class _lazy:
    """A regex compiled the first time it is used: most texts need few of them, and every `ask`
    redacts its question (compiling them all costs ~8 ms)."""

    def __init__(self, pattern: str, flags: int = 0):
        self.pattern, self.flags = pattern, flags
        self.rx: re.Pattern | None = None

    def __getattr__(self, name: str) -> Any:
        if self.rx is None:
            self.rx = re.compile(self.pattern, self.flags)
        return getattr(self.rx, name)


# Words that make a name secret-like. Short ones only count as a whole part of the name
# (`db_pass`, `_auth`, `api-key`), so `keyring`, `author` and `passenger` stay out.
_LONG_WORDS = ("password", "passwd", "passphrase", "secret", "token", "credential", "session", "sessid", "apikey", "authkey")
_SHORT_WORDS = {"pass", "pwd", "pw", "key", "auth", "sig", "psk", "pat", "dsn"}
# The last part of a name that says the value is *about* the secret, not the secret itself.
_NOT_SECRET_SUFFIX = {
    "header", "name", "names", "prefix", "suffix", "file", "files", "path", "dir", "url", "uri", "endpoint", "host", "re",
    "regex", "pattern", "type", "types", "len", "length", "size", "ttl", "timeout", "expiry", "expires", "expiration", "age",
    "max", "min", "count", "tokens", "field", "fields", "env", "var", "format", "policy", "provider", "method", "mode",
    "backend", "scheme", "class", "kind", "label", "id", "ids", "store", "hash", "hashers", "hasher", "digest", "algorithm",
    "alg", "version", "enabled", "required", "used", "style", "source", "ref", "location", "cache", "helper", "command",
    "cmd", "mgr", "manager", "handler", "keys", "secrets", "error", "status", "index", "idx", "rotation", "days", "seconds",
}  # fmt: skip
_PARTS = _lazy(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_PLACEHOLDER = _lazy(
    r"^(?:x+|\*+|\.+|-+|#+|<[^>]*>|\[[^\]]*\]|\([^)]*\)|changeme|change[-_]?it|change[-_]me|password\d?|passwd|secret|token|"
    r"pass|pwd|your\w*|my[-_]?\w*|example\w*|sample\w*|dummy\w*|fake\w*|test\w{0,8}|none|null|nil|true|false|undefined|"
    r"redacted|required|optional|string|str|bytes|int|empty|todo|tbd|fixme|placeholder|foo\w*|bar|baz|admin|root|guest|"
    r"hunter2|letmein|default|prompt|ask|env|stdin|file)$",
    re.I,
)
_REFERENCE = _lazy(
    r"^(?:\$|%\(|%[sd]|\{|<%|!|@|&|\*)|^(?:process\.env|os\.environ|os\.getenv|env\(|getenv|secrets\.|vault:|env:|file:)", re.I
)
_IDENTIFIER = _lazy(r"^[A-Za-z]+(?:[_.-][A-Za-z]+)*$")  # Authorization, X-Api-Key, sessionid, prod-db, self.pwd
_DOTTED_CODE = _lazy(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_EMAIL = _lazy(r"^[\w.+%-]+@[\w-]+(?:\.[\w-]+)+$")
_PATHLIKE = _lazy(r"^(?:/|~|\.\.?/|[A-Za-z]:\\|[a-z][a-z0-9+.-]*://)")


def _parts(name: str) -> list[str]:
    return [p.lower() for p in _PARTS.findall(name)]


_GENERIC = {"key", "auth", "sig", "pat", "dsn", "session", "token", "secret"}


def _secret_name(name: str) -> str | None:
    """'password' or 'secret' when `name` names a secret, 'generic' for a bare `key`, `token`,
    `auth`… (a dict key, a cache key: only a random-looking value counts), else None."""
    parts = _parts(name)
    if not parts or parts[-1] in _NOT_SECRET_SUFFIX:
        return None
    if len(parts) == 1 and parts[0] in _GENERIC:
        return "generic"
    joined = "".join(parts)
    if any(p in ("password", "passwd", "passphrase", "pwd", "pw", "pass") or p.endswith("pass") for p in parts) or "password" in joined:
        return "password"
    if any(w in joined for w in _LONG_WORDS) or any(p in _SHORT_WORDS for p in parts):
        return "secret"
    return None


def _classes(value: str) -> int:
    return sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value),
                any(not c.isalnum() for c in value)))  # fmt: skip


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


_LOWER_CODE = _lazy(r"^[a-z0-9_.-]+$")


def _strong(value: str) -> bool:
    """Looks generated or chosen as a secret: mixed case, letters and digits, or long and random.
    All lower case (`force_zip64`, `sha256_hash`) it must be long and digit-rich, as hex and base36 are."""
    has_letter, digits = any(c.isalpha() for c in value), sum(c.isdigit() for c in value)
    if not has_letter or not digits:
        return False
    if _LOWER_CODE.match(value):
        return len(value) >= 16 and digits >= len(value) / 5 and _entropy(value) >= 3.3
    if len(value) >= 8 and _classes(value) >= 3:
        return True
    return len(value) >= 16 and _entropy(value) >= 3.3


def _secretish(value: str, kind: str, quoted: bool) -> bool:
    """Whether a value given to a secret-like name is the secret itself (not code, a reference, a placeholder)."""
    v = value.strip()
    if len(v) < 4 or v.startswith("[REDACTED") or _PLACEHOLDER.match(v) or _REFERENCE.match(v) or "…" in v or "..." in v:
        return False
    if "xxx" in v.lower() or "***" in v or _EMAIL.match(v) or _PATHLIKE.match(v):
        return False
    if not quoted and (_DOTTED_CODE.match(v) or v.endswith(("(", ",")) or v.startswith("-")):  # code, a flag
        return False
    if v.isdigit():  # a PIN-like password, never a count or an id behind `key`/`token`
        return kind == "password" and len(v) >= 4
    if _IDENTIFIER.match(v):
        # A bare word is code or a header name (`Authorization`), unless it is given to a password
        # quoted, or as a passphrase (`correct-horse-battery`).
        return kind == "password" and not _DOTTED_CODE.match(v) and (quoted or "-" in v)
    if " " in v:
        return quoted and kind == "password" and len(v) >= 12  # a passphrase
    if kind == "generic":
        return _random(v)
    has_letter_and_digit = any(c.isalpha() for c in v) and any(c.isdigit() for c in v)
    return kind == "password" or _strong(v) or (has_letter_and_digit and len(v) >= 8) or len(v) >= 24


_RANDOM = _lazy(r"^[A-Za-z0-9+/=_-]{16,}$")  # hex, base64, base64url, UUIDs, provider tokens


def _mixed_random(value: str) -> bool:
    """Upper, lower and digits, high entropy: what a generated key looks like (not an id or a slug)."""
    return _classes(value.replace("-", "").replace("_", "")) == 3 and _entropy(value) >= 4.0


def _random(value: str) -> bool:
    return bool(_RANDOM.match(value)) and _strong(value) and _entropy(value) >= 3.3


class Redaction:
    __slots__ = ("text", "counts")

    def __init__(self, text: str, counts: Counter | None = None) -> None:
        self.text = text
        self.counts: Counter = Counter() if counts is None else counts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Redaction) and (self.text, self.counts) == (other.text, other.counts)

    def __repr__(self) -> str:
        return f"Redaction(text={self.text!r}, counts={self.counts!r})"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in sorted(self.counts.items()))


Found = Redaction  # the name the layout rules use

_NAME = r"(?:[A-Za-z_][\w.-]*?)?"
_SECRET_WORD = r"(?:pass(?:word|wd|phrase)?|pwd|pw|secret|token|key|auth|credential|session|sessid|sig|psk|pat|dsn)"
# name OP value: `password = "…"`, `db_password: x`, `"apiKey": "…"`, `SharedAccessKey=…;`, `&password=…&`,
# `X-Api-Key: …`, `define('DB_PASSWORD', '…')`. OP excludes comparisons (`==`, `!=`, `<=`, `>=`).
_ASSIGN = _lazy(
    rf"""(?P<name>(?<![\w.$-]){_NAME}(?i:{_SECRET_WORD})[\w.-]*)(?P<nq>["']?)\]?
    (?P<op>\s*(?::=|=>|->|(?<![=!<>])=(?!=)|:(?!:)|,)\s*)
    (?:(?P<q>["'])(?P<qv>[^"'\n]{{1,400}})(?P=q)|(?P<v>[^\s"'&;,<>(){{}}\[\]`]{{1,400}})(?P<after>.?))""",
    re.X,
)
# <password>…</password>, <add key="ClearTextPassword" value="…"/>, <property name="…password" value="…"/>
_XML_ELEMENT = _lazy(rf"<(?P<name>[\w.:-]*(?i:{_SECRET_WORD})[\w.:-]*)>(?P<v>[^<\s]{{1,400}})</(?P=name)>")
_XML_ATTR = _lazy(
    rf"""(?i:key|name)\s*=\s*["'](?P<name>[^"']*(?i:{_SECRET_WORD})[^"']*)["']\s+(?i:value)\s*=\s*["'](?P<v>[^"'\n]{{1,400}})["']"""
)
# A space between name and value, as in .netrc (`password …`) and prose ("the password is …").
_SPACED = _lazy(r"(?i)\b(?P<name>password|passwd|passphrase|pass|pwd|token|secret|key)(?:\s+(?:is|was))?\s+(?P<v>[^\s\"'`]{6,400})")
# URL userinfo in any scheme: user optional, the password may hold `/` or `@` (the host is what follows the last `@`
# that is followed by a host and then a port, a path, a query or the end).
_URL = _lazy(
    r"""(?i)\b[a-z][a-z0-9+.-]*://(?P<user>[^\s:/@'"<>]*):(?P<s>[^\s'"<>]*?)@(?=[a-z0-9.-]+(?::\d+)?(?:[/?#\s'"<>,;)]|$))""",
)
# A secret used as the whole userinfo: https://<token>@github.com, a Sentry DSN's key.
_URL_USER = _lazy(r"""(?i)\b[a-z][a-z0-9+.-]*://(?P<s>[^\s:/@'"<>]{16,})@[a-z0-9.-]+""")
_AUTH_HEADER = _lazy(
    r"""(?i)\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?P<scheme>bearer|basic|token|digest|ssws|negotiate|apikey|key|hmac[\w-]*|sharedkey|aws4-hmac-sha256)\s+)?(?P<s>[^\s"',;]{8,})""",
)
_BEARER = _lazy(r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9._~+/=-]{16,})")
# Flags: --password X, --password=X, -storepass X, --api-key=X, --http-password=X, -passin pass:X.
_FLAG = _lazy(rf"""(?<![\w-])--?(?P<name>[\w-]*?(?i:{_SECRET_WORD})[\w-]*)(?:=|\s+)(?P<q>["']?)(?P<v>[^\s"'|;&<>]+)(?P=q)""")
# -p PASS / -pPASS for tools that take a password there (for the rest -p is a port or a flag).
_SHORT_FLAG = _lazy(
    r"""(?i)(?:\b(?:mysql\w*|mariadb\w*)\b[^\n|;&]*?\s-p(?P<glued>[^\s"'|;&-][^\s"'|;&]*|["'][^"'\n]+["'])|"""
    r"""\b(?:sshpass|twine|mongo\w*|sqlcmd|az\s+login|docker\s+login|podman\s+login|helm\s+registry\s+login|redis-cli|ldap\w+|smbclient|codecov)\b"""
    r"""[^\n|;&]*?\s-(?:p|a|w|P|t)\s+(?P<q>["']?)(?P<v>[^\s"'|;&]+)(?P=q))"""
)
_USER_PASS = _lazy(r"""(?<![\w-])(?:-u|--user|--proxy-user)(?:=|\s+)(?P<q>["']?)(?P<user>[^\s:"']+):(?P<s>[^\s"']+)(?P=q)""")
# A query parameter whatever its name (`appid=`, `code=`, `X-Amz-Signature=`) with a long random mixed-case value.
_QUERY = _lazy(r"[?&][\w.-]+=(?P<s>[A-Za-z0-9_-]{24,})(?=[&#\s\"'<>]|$)")
_PASS_ARG = _lazy(r"(?<![\w-])pass:(?P<s>\S+)")  # openssl -passin pass:…
_PGPASS = _lazy(r"(?m)^[\w.*-]+:(?:\d+|\*):[^:\s]+:[^:\s]+:(?P<s>\S+)$")
_NEAR_WORDS = _lazy(r"(?i)pass(?:word|wd)?|pwd|secret|token|auth|credential|api[_-]?key|private[_-]?key|access[_-]?key")
_QUOTED = _lazy(r"""(["'])(?P<s>[^"'\s]{8,400})\1""")


def _typed(kind: str) -> str:
    return f"[REDACTED:{kind}]"


class _Pass:
    """One redaction run: the text as it is being rewritten and what was found."""

    def __init__(self, text: str, counts: Counter | None = None):
        self.text = text
        self.counts: Counter = Counter() if counts is None else counts

    def sub(self, rx: Any, kind: str | Callable[[re.Match], str | None], group: str = "s") -> None:
        def repl(m: re.Match) -> str:
            value = m.group(group)
            if value is None or value.startswith("[REDACTED"):
                return m.group(0)
            k = kind(m) if callable(kind) else kind
            if k is None:
                return m.group(0)
            self.counts[k] += 1
            start, end = m.span(group)
            return m.string[m.start() : start] + _typed(k) + m.string[end : m.end()]

        self.text = rx.sub(repl, self.text)


def _assign_kind(m: re.Match) -> str | None:
    kind = _secret_name(m.group("name"))
    if kind is None:
        return None
    quoted = m.group("qv") is not None
    op = m.group("op").strip()
    if op == ",":  # define('DB_PASSWORD', 'value'), not a list of names
        return _label(kind) if quoted and m.group("nq") and _strong(m.group("qv")) else None
    if not quoted and m.group("after") in ("(", "[", "."):  # a call, an index: code
        return None
    return _label(kind) if _secretish(m.group("qv") if quoted else m.group("v"), kind, quoted) else None


def _label(kind: str) -> str:
    return "secret" if kind == "generic" else kind


def _assign_group(m: re.Match) -> str:
    return "qv" if m.group("qv") is not None else "v"


_COMPILED: dict[int, re.Pattern] = {}


def _shape(i: int) -> re.Pattern:
    if i not in _COMPILED:
        _COMPILED[i] = re.compile(SHAPES[i][1], re.M)
    return _COMPILED[i]


def _known_values() -> list[str]:
    from learnflow import keys

    return keys.known_secrets()


def redact(text: str, *, deep: bool = False) -> Redaction:
    """Replace secrets with `[REDACTED:type]`. (`deep` is accepted for older callers; every rule always runs.)"""
    if not text:
        return Redaction(text, Counter())
    run = _Pass(text)
    for value in _known_values():  # the keys learnflow itself holds, whatever their shape
        if value in run.text:
            run.counts["api-key"] += run.text.count(value)
            run.text = run.text.replace(value, _typed("api-key"))
    lowered = run.text.lower()
    for i, (kind, _, triggers) in enumerate(SHAPES):
        for trigger in triggers:
            if trigger in lowered:
                rx = _shape(i)
                run.sub(rx, kind, "s" if "s" in rx.groupindex else 0)  # type: ignore[arg-type]
                break
    # The rules below look at one line at a time, and only at lines one of them can apply to.
    if (
        "://" in lowered
        or "?" in lowered
        or " -" in lowered
        or "bearer" in lowered
        or _GENERIC_TRIGGER.search(lowered)
        or lowered.count(":") >= 4
    ):
        run.text = "\n".join(_line(line, run.counts) for line in run.text.split("\n"))
    return Redaction(run.text, run.counts)


_GENERIC_TRIGGER = _lazy(r"pass|pwd|secret|token|key|auth|credential|sess|(?<![a-z])(?:pw|sig|psk|pat|dsn)(?![a-z])")


def _line(line: str, counts: Counter) -> str:
    """The rules that follow from where a secret sits, on one line (lower-cased once for the gates)."""
    low = line.lower()
    run = _Pass(line, counts)
    if "://" in low and "@" in low:
        run.sub(_URL, lambda m: "url-password" if _url_password(m.group("s")) else None)
        run.sub(_URL_USER, lambda m: "url-token" if _strong(m.group("s")) else None)
    if "?" in low and "=" in low:
        run.sub(_QUERY, lambda m: "url-token" if _mixed_random(m.group("s")) else None)
    if "authorization" in low:
        run.sub(_AUTH_HEADER, lambda m: "auth-header" if _secretish(m.group("s"), "secret", False) or _strong(m.group("s")) else None)
    if "bearer" in low:
        run.sub(_BEARER, lambda m: "bearer-token" if _secretish(m.group("s"), "secret", False) else None)
    if _GENERIC_TRIGGER.search(low):
        run.sub(_XML_ELEMENT, lambda m: _named(m.group("name"), m.group("v"), True), "v")
        run.sub(_XML_ATTR, lambda m: _named(m.group("name"), m.group("v"), True), "v")
        run.text = _ASSIGN.sub(lambda m: _replace_assign(run, m), run.text)
        run.sub(_FLAG, lambda m: _named(m.group("name"), m.group("v"), bool(m.group("q"))), "v")
        if "pass:" in low:
            run.sub(_PASS_ARG, lambda m: "cli-password" if _secretish(m.group("s"), "password", False) else None)
        run.sub(_SPACED, _spaced_kind, "v")
        if ("'" in line or '"' in line) and _NEAR_WORDS.search(line):
            run.sub(_QUOTED, lambda m: "secret" if _near_value(m.group("s")) else None)
    if low.count(":") >= 4:
        run.sub(_PGPASS, lambda m: "pgpass" if _secretish(m.group("s"), "password", False) else None)
    if " -" in low:
        run.sub(_SHORT_FLAG, lambda m: "cli-password" if _flag_value(m) else None, "glued")
        run.sub(_SHORT_FLAG, lambda m: "cli-password" if _flag_value(m, "v") else None, "v")
        run.sub(_USER_PASS, lambda m: "cli-password" if _secretish(m.group("s"), "password", False) else None)
    return run.text


def _replace_assign(run: _Pass, m: re.Match) -> str:
    group = _assign_group(m)
    value = m.group(group)
    if value.startswith("[REDACTED"):
        return m.group(0)
    kind = _assign_kind(m)
    if kind is None:
        return m.group(0)
    run.counts[kind] += 1
    start, end = m.span(group)
    return m.string[m.start() : start] + _typed(kind) + m.string[end : m.end()]


def _named(name: str, value: str, quoted: bool) -> str | None:
    kind = _secret_name(name)
    return _label(kind) if kind and _secretish(value, kind, quoted) else None


def _spaced_kind(m: re.Match) -> str | None:
    value = m.group("v").rstrip(".,;:!?)")
    if not _strong(value) or _PATHLIKE.match(value) or _DOTTED_CODE.match(value) or re.search(r"[()\[\]=]", value):
        return None
    return "password" if m.group("name").lower().startswith("pa") else "secret"


def _url_password(value: str) -> bool:
    return bool(value) and not _REFERENCE.match(value) and not _PLACEHOLDER.match(value) and "xxx" not in value.lower()


def _flag_value(m: re.Match, group: str = "glued") -> bool:
    value = m.group(group)
    if value is None:
        return False
    return _secretish(value.strip("'\""), "password", False) and not value.isdigit()


_UUID = _lazy(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_NOT_NEAR = _lazy(r"[/:\\{}()\[\]<>%|,]")  # paths, times, URLs, user agents, regexes, format strings


def _near_value(value: str) -> bool:
    if _NOT_NEAR.search(value) or _UUID.match(value) or _EMAIL.match(value) or _DOTTED_CODE.match(value) or _REFERENCE.match(value):
        return False
    return len(value) >= 10 and _strong(value) and not _PLACEHOLDER.match(value)


def scrub(text: str | None) -> str | None:
    """`redact(text).text`, passing None through: for error messages and hints."""
    return redact(text).text if text else text


# Options whose *next* argument is a secret: `mysql --password hunter2`, `curl -u user:pass`.
_SECRET_OPTION = _lazy(r"^--?(?:[\w-]*-)?(?:password|passwd|pass|pwd|token|secret|api-?key|access-key|auth)$", re.I)
_USER_OPTION = _lazy(r"^(?:-u|--user|--proxy-user)$")


def redact_argv(argv: list[str]) -> tuple[list[str], Counter]:
    """Redact a command line argument by argument, keeping it a list.

    Each argument goes through `redact`; an argument after a secret-bearing option
    (`--password X`, `--token X`) is replaced whole, as is the password of `-u user:pass`
    and of mysql's glued `-pSECRET`.
    """
    counts: Counter = Counter()
    out: list[str] = []
    for i, arg in enumerate(argv):
        prev = argv[i - 1] if i else ""
        option = prev.startswith("-")  # both rules below follow an option: most arguments skip the patterns
        if option and _SECRET_OPTION.match(prev) and arg and not arg.startswith("-") and not _PLACEHOLDER.match(arg):
            counts["password-flag"] += 1
            out.append("[REDACTED:password-flag]")
            continue
        if option and _USER_OPTION.match(prev) and ":" in arg:
            user, _, secret = arg.partition(":")
            if secret and not _PLACEHOLDER.match(secret):
                counts["basic-auth"] += 1
                out.append(f"{user}:[REDACTED:basic-auth]")
                continue
        if i and re.match(r"^-p\S{3,}$", arg) and os_name(argv[0]) in ("mysql", "mysqldump", "mysqladmin", "mariadb"):
            counts["password-flag"] += 1
            out.append("-p[REDACTED:password-flag]")
            continue
        found = redact(arg)
        counts.update(found.counts)
        out.append(found.text)
    return out, counts


def os_name(path: str) -> str:
    """The program name of argv[0] (`/usr/bin/mysql` → `mysql`)."""
    return path.rsplit("/", 1)[-1]
