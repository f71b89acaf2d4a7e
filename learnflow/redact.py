"""Secret redaction: runs on every question and context before anything is
sent to a backend *and* before it is stored.

Our own patterns cover the shapes that matter (provider keys, tokens, JWTs,
private keys, passwords in URLs, connection strings, `.env` assignments,
auth headers): they are precise, give typed placeholders and run in one pass.
detect-secrets (Yelp) adds a second opinion on attached context (files, piped
output), where keyword-style secrets in config formats are likely; its
entropy plugins are left off because they flag git hashes and UUIDs.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

# (type, pattern). A pattern with a group named `s` redacts only that group;
# otherwise the whole match. Order matters: specific shapes before generic ones.
PATTERNS: list[tuple[str, str]] = [
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    ("anthropic-key", r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}"),
    ("openrouter-key", r"\bsk-or-v1-[a-f0-9]{40,}"),
    ("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("aws-secret-key", r"(?i)aws_?secret_?(?:access_?)?key\W{0,5}(?P<s>[A-Za-z0-9/+=]{40})\b"),
    ("github-token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b"),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"),
    ("gitlab-token", r"\bgl(?:pat|dt|ptt|rt|cbt|soat|ffct)-[A-Za-z0-9_-]{20,}\b"),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    ("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/-]+"),
    ("discord-webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("google-oauth-secret", r"\bGOCSPX-[A-Za-z0-9_-]{20,}\b"),
    ("google-oauth-token", r"\bya29\.[A-Za-z0-9_-]{20,}"),
    ("stripe-key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    ("stripe-webhook-secret", r"\bwhsec_[A-Za-z0-9]{24,}\b"),
    ("azure-storage-key", r"(?i)AccountKey=(?P<s>[A-Za-z0-9+/=]{40,})"),
    ("azure-sas-signature", r"(?i)[?&]sig=(?P<s>[A-Za-z0-9%+/=]{30,})"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{10,}"),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi-token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
    ("sendgrid-key", r"\bSG\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}"),
    ("twilio-key", r"\bSK[0-9a-f]{32}\b"),
    ("mailgun-key", r"\bkey-[0-9a-f]{32}\b"),
    ("digitalocean-token", r"\bdo[por]_v1_[a-f0-9]{64}\b"),
    ("shopify-token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    ("databricks-token", r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),
    ("groq-key", r"\bgsk_[A-Za-z0-9]{40,}\b"),
    ("replicate-token", r"\br8_[A-Za-z0-9]{30,}\b"),
    ("telegram-bot-token", r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b"),
    ("atlassian-token", r"\bATATT3[A-Za-z0-9_=-]{50,}"),
    ("linear-key", r"\blin_api_[A-Za-z0-9]{32,}\b"),
    ("newrelic-key", r"\bNRAK-[A-Z0-9]{27}\b"),
    ("age-secret-key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b"),
    ("square-token", r"\b(?:sq0atp|sq0csp)-[A-Za-z0-9_-]{22,}\b"),
    ("mapbox-token", r"\bsk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{10,}"),
    ("url-password", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]+:(?P<s>[^\s@/'\"]{1,})@[^\s/'\"]+"),
    ("bearer-token", r"(?i)\b(?:authorization\s*[:=]\s*)?bearer\s+(?P<s>[A-Za-z0-9._~+/=-]{12,})"),
    ("basic-auth", r"(?i)\bauthorization\s*[:=]\s*basic\s+(?P<s>[A-Za-z0-9+/=]{8,})"),
    ("connection-string-password", r"(?i)(?:^|[;\s\"'])(?:password|pwd)\s*=\s*(?P<s>[^;\s\"'()\[\]]{3,})\s*(?=;|$)"),
    ("docker-auth", r"\"auth\"\s*:\s*\"(?P<s>[A-Za-z0-9+/=]{12,})\""),
    # .env / shell assignments: NAME_KEY=value (upper-case names: environment style).
    (
        "env-secret",
        r"\b(?:export\s+)?[A-Z][A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?)[A-Z0-9_]*\s*=\s*(?P<q>['\"]?)(?P<s>[^\s'\"$`{}()]{4,})(?P=q)",
    ),
    # key: "value" / key = "value" in code, JSON, YAML, TOML, with a string literal value.
    (
        "password-literal",
        r"(?i)(?:password|passwd|secret|api_?key|access_?token|auth_?token|client_?secret)[\w.-]*[\"']?\s*[:=]\s*(?P<q>[\"'])(?P<s>[^\"'\s$`{}]{4,})(?P=q)",
    ),
    ("password-flag", r"(?i)--(?:password|passwd|token|api-key|secret)[= ](?P<s>[^\s'\"-][^\s'\"]{3,})"),
]
# Compiled when first triggered: compiling all of them costs ~15 ms on every ask,
# and most questions trigger none.
_COMPILED: dict[int, re.Pattern] = {}


def _pattern(i: int) -> re.Pattern:
    if i not in _COMPILED:
        _COMPILED[i] = re.compile(PATTERNS[i][1], re.M)
    return _COMPILED[i]


# A pattern only runs when the (lower-cased) text contains one of its trigger
# strings: `in` scans at memory speed, a regex with a leading \b does not, and
# most text contains none of them (measured: 50 patterns over 200 KB of code
# took 0.3 s without triggers).
TRIGGERS: dict[str, tuple[str, ...]] = {
    "private-key": ("private key",), "anthropic-key": ("sk-ant-",), "openrouter-key": ("sk-or-",),
    "openai-key": ("sk-",), "aws-access-key": ("akia", "asia", "abia", "acca"), "aws-secret-key": ("secret",),
    "github-token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), "gitlab-token": ("gl",),
    "slack-token": ("xox",), "slack-webhook": ("hooks.slack.com",), "discord-webhook": ("discord",),
    "google-api-key": ("aiza",), "google-oauth-secret": ("gocspx-",), "google-oauth-token": ("ya29.",),
    "stripe-key": ("_live_", "_test_"), "stripe-webhook-secret": ("whsec_",), "azure-storage-key": ("accountkey=",),
    "azure-sas-signature": ("sig=",), "jwt": ("eyj",), "huggingface-token": ("hf_",), "npm-token": ("npm_",),
    "pypi-token": ("pypi-",), "sendgrid-key": ("sg.",), "twilio-key": ("sk",), "mailgun-key": ("key-",),
    "digitalocean-token": ("_v1_",), "shopify-token": ("shp",), "databricks-token": ("dapi",), "groq-key": ("gsk_",),
    "replicate-token": ("r8_",), "telegram-bot-token": (":aa",), "atlassian-token": ("atatt3",),
    "linear-key": ("lin_api_",), "newrelic-key": ("nrak-",), "age-secret-key": ("age-secret-key-",),
    "square-token": ("sq0",), "mapbox-token": ("sk.eyj",), "url-password": ("@",), "bearer-token": ("bearer",),
    "basic-auth": ("basic",), "connection-string-password": ("password", "pwd"), "docker-auth": ('"auth"',),
    "env-secret": ("key", "token", "secret", "pass", "pwd", "credential"),
    "password-literal": ("password", "passwd", "secret", "key", "token"), "password-flag": ("--",),
}  # fmt: skip

# Values that only look like secrets: placeholders people write in docs and configs.
_PLACEHOLDER = re.compile(
    r"^(?:x+|\*+|\.+|<[^>]*>|\[REDACTED[^\]]*\]|changeme|change-me|password|secret|your[_-]?\w*|example\w*|dummy\w*|test|none|null|true|false|redacted)$",
    re.I,
)


@dataclass
class Redaction:
    text: str
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in sorted(self.counts.items()))


def redact(text: str, *, deep: bool = False) -> Redaction:
    """Replace secrets with `[REDACTED:type]`. `deep` adds detect-secrets' keyword scan."""
    counts: Counter = Counter()
    if not text:
        return Redaction(text, counts)
    lowered = text.lower()
    for i, (kind, _) in enumerate(PATTERNS):
        if not any(t in lowered for t in TRIGGERS[kind]):
            continue
        rx = _pattern(i)
        replace = _replace_group if "s" in rx.groupindex else _replace_all
        text = rx.sub(functools.partial(_replace_with, replace, kind, counts), text)
    if deep:
        text = _detect_secrets(text, counts)
    return Redaction(text, counts)


def _replace_all(m: re.Match, kind: str, counts: Counter) -> str:
    counts[kind] += 1
    return f"[REDACTED:{kind}]"


def _replace_with(replace, kind: str, counts: Counter, match: re.Match) -> str:
    return replace(match, kind, counts)


def _replace_group(m: re.Match, kind: str, counts: Counter) -> str:
    value = m.group("s")
    if value is None or _PLACEHOLDER.match(value) or value.startswith("[REDACTED"):
        return m.group(0)
    counts[kind] += 1
    start, end = m.span("s")
    base = m.start()
    whole = m.group(0)
    return whole[: start - base] + f"[REDACTED:{kind}]" + whole[end - base :]


# detect-secrets plugins that match precise shapes or keywords; the entropy
# plugins flag git hashes, UUIDs and minified code, so they stay off.
_DS_PLUGINS = [
    {"name": "KeywordDetector"},
    {"name": "PrivateKeyDetector"},
    {"name": "AWSKeyDetector"},
    {"name": "AzureStorageKeyDetector"},
    {"name": "BasicAuthDetector"},
    {"name": "JwtTokenDetector"},
    {"name": "StripeDetector"},
    {"name": "SlackDetector"},
    {"name": "TwilioKeyDetector"},
    {"name": "SendGridDetector"},
    {"name": "NpmDetector"},
]


def _detect_secrets(text: str, counts: Counter) -> str:
    try:
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import transient_settings
    except ImportError:  # optional second opinion; our patterns already ran
        return text
    found: set[str] = set()
    with transient_settings({"plugins_used": _DS_PLUGINS}):
        for line in text.splitlines():
            if len(line) > 2000 or "[REDACTED:" in line and line.count("[REDACTED:") >= 1 and len(line) < 40:
                continue
            for secret in scan_line(line):
                value = secret.secret_value or ""
                if len(value) >= 6 and not _PLACEHOLDER.match(value) and "REDACTED" not in value:
                    found.add(value)
    for value in sorted(found, key=len, reverse=True):
        n = text.count(value)
        if n:
            counts["secret"] += n
            text = text.replace(value, "[REDACTED:secret]")
    return text


# Options whose *next* argument is a secret: `mysql --password hunter2`, `curl -u user:pass`.
_SECRET_OPTION = re.compile(r"^--?(?:[\w-]*-)?(?:password|passwd|pass|pwd|token|secret|api-?key|access-key|auth)$", re.I)
_USER_OPTION = re.compile(r"^(?:-u|--user|--proxy-user)$")


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
        if _SECRET_OPTION.match(prev) and arg and not arg.startswith("-") and not _PLACEHOLDER.match(arg):
            counts["password-flag"] += 1
            out.append("[REDACTED:password-flag]")
            continue
        if _USER_OPTION.match(prev) and ":" in arg:
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
