"""Secrets never reach a backend or the log; ordinary text stays as it is."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnflow.redact import redact

A = "Ab3Cd4Ef5Gh6Ij7Kl8Mn9Op0Qr1St2Uv3Wx4Yz5"  # 40 mixed chars, obviously fake
HEX = "0123456789abcdef" * 4

# (expected type, text containing exactly one secret, the secret itself)
SECRETS = [
    ("openai-key", "OPENAI key: sk-proj-" + A + A, "sk-proj-" + A + A),
    ("openai-key", "use sk-" + A + " for now", "sk-" + A),
    ("anthropic-key", "key sk-ant-api03-" + A + A + "-AA", "sk-ant-api03-" + A + A + "-AA"),
    ("openrouter-key", "sk-or-v1-" + HEX[:64], "sk-or-v1-" + HEX[:64]),
    ("aws-access-key", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("aws-access-key", "creds ASIAY34FZKBOKMUTVV7A expire", "ASIAY34FZKBOKMUTVV7A"),
    ("aws-secret-key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("github-token", "token ghp_" + A[:36], "ghp_" + A[:36]),
    ("github-token", "gho_" + A[:36], "gho_" + A[:36]),
    ("github-token", "github_pat_11ABCDEFG0" + A, "github_pat_11ABCDEFG0" + A),
    ("gitlab-token", "glpat-" + A[:20], "glpat-" + A[:20]),
    ("slack-token", "xoxb-123456789012-1234567890123-" + A[:24], "xoxb-123456789012-1234567890123-" + A[:24]),
    ("slack-token", "xoxp-1234567890-" + A[:20], "xoxp-1234567890-" + A[:20]),
    ("slack-webhook", "post to https://hooks.slack.com/services/T000/B000/" + A[:24], "https://hooks.slack.com/services/T000/B000/" + A[:24]),
    ("discord-webhook", "https://discord.com/api/webhooks/123456789/" + A, "https://discord.com/api/webhooks/123456789/" + A),
    ("google-api-key", "maps key AIzaSyA1" + A[:31], "AIzaSyA1" + A[:31]),
    ("google-oauth-secret", "client_secret GOCSPX-" + A[:28], "GOCSPX-" + A[:28]),
    ("google-oauth-token", "ya29.a0Af" + A, "ya29.a0Af" + A),
    ("stripe-key", "sk_live_" + A[:24], "sk_live_" + A[:24]),
    ("stripe-key", "rk_test_" + A[:24], "rk_test_" + A[:24]),
    ("stripe-webhook-secret", "whsec_" + A[:32], "whsec_" + A[:32]),
    ("azure-storage-key", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + A + A[:48] + "==;EndpointSuffix=core.windows.net", A + A[:48] + "=="),
    ("azure-sas-signature", "https://x.blob.core.windows.net/c?sv=2022&sig=" + A + "%3D", A + "%3D"),
    ("jwt", "Cookie: session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("private-key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + A + "\n" + A + "\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA" + A),
    ("private-key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + A + "\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA"),
    ("private-key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF" + A + "\n-----END PGP PRIVATE KEY BLOCK-----", "lQOYBF" + A),
    ("huggingface-token", "HF: hf_" + A[:34], "hf_" + A[:34]),
    ("npm-token", "//registry.npmjs.org/:_authToken=npm_" + A[:36], "npm_" + A[:36]),
    ("pypi-token", "password: pypi-AgEIcHlwaS5vcmcCJ" + A + A, "pypi-AgEIcHlwaS5vcmcCJ" + A + A),
    ("sendgrid-key", "SG." + A[:22] + "." + A[:30] + A[:13], "SG." + A[:22] + "." + A[:30] + A[:13]),
    ("twilio-key", "twilio SK" + HEX[:32], "SK" + HEX[:32]),
    ("mailgun-key", "key-" + HEX[:32], "key-" + HEX[:32]),
    ("digitalocean-token", "dop_v1_" + HEX, "dop_v1_" + HEX),
    ("shopify-token", "shpat_" + HEX[:32], "shpat_" + HEX[:32]),
    ("databricks-token", "dapi" + HEX[:32], "dapi" + HEX[:32]),
    ("groq-key", "gsk_" + A + "ab", "gsk_" + A + "ab"),
    ("replicate-token", "r8_" + A[:36], "r8_" + A[:36]),
    ("telegram-bot-token", "bot 123456789:AA" + A[:33], "123456789:AA" + A[:33]),
    ("linear-key", "lin_api_" + A, "lin_api_" + A),
    ("newrelic-key", "NRAK-" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0", "NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ0"),
    ("age-secret-key", "AGE-SECRET-KEY-1" + "QYZ" * 19 + "Q", "AGE-SECRET-KEY-1" + "QYZ" * 19 + "Q"),
    ("url-password", "DATABASE_URL is postgres://app:S3cretPw0rd@db.internal:5432/prod", "S3cretPw0rd"),
    ("url-password", "git clone https://deploy:tok3nValue99@git.example.com/r.git", "tok3nValue99"),
    ("auth-header", "curl -H 'Authorization: Bearer abcDEF123456ghiJKL789'", "abcDEF123456ghiJKL789"),
    ("auth-header", "Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
    ("password", "Server=db;Database=app;User Id=sa;Password=Hunter2Hunter2;", "Hunter2Hunter2"),
    ("secret", '{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNzd29yZDEyMw=="}}}', "dXNlcjpwYXNzd29yZDEyMw=="),
    ("password", "DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    ("secret", "export MY_SERVICE_TOKEN='tk_9f8e7d6c5b4a'", "tk_9f8e7d6c5b4a"),
    ("secret", "STRIPE_SECRET=swordfish42", "swordfish42"),
    ("password", 'config = {"password": "pa55w0rd!x"}', "pa55w0rd!x"),
    ("password", "db:\n  password: 'yaml-secret-99'", "yaml-secret-99"),
    ("secret", 'api_key = "live-1234-abcd-5678"', "live-1234-abcd-5678"),
    ("password", "mysql --password=Sup3rS3cret -h db", "Sup3rS3cret"),
]  # fmt: skip

ORDINARY = [
    "commit 3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c\nAuthor: Jane <jane@example.com>",
    "request id 550e8400-e29b-41d4-a716-446655440000 took 35 ms",
    "def login(password):\n    return check_password(password, user.hash)",
    'password = os.environ["DB_PASSWORD"]',
    "DB_PASSWORD=${DB_PASSWORD}",
    "export API_KEY=$(cat ~/.key)",
    "Traceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'token'",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "git reset --soft HEAD~1",
    "SELECT id, email FROM users WHERE password_hash IS NULL;",
    "https://docs.python.org/3/library/secrets.html",
    "ERROR 2026-11-26T10:00:00Z worker-3 connection refused to 10.0.0.4:5432",
    "npm ERR! code ERESOLVE\nnpm ERR! peer react@18",
    "token = get_token()\nif not token: raise AuthError",
    "The password must be at least 12 characters.",
    "Use a secret manager; never put the API key in the repo.",
    "Bearer tokens are sent in the Authorization header.",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm0 user@laptop (a public key)",
    "image: python:3.11-slim@sha256:2b9d2f7a4c0e",
    "kubectl get pods -n kube-system -o wide",
    "base64 of hello is aGVsbG8=",
    "PASSWORD_MIN_LENGTH=12",
    "password: ${{ secrets.DB_PASSWORD }}",
    "if [[ $TOKEN_COUNT -gt 10 ]]; then echo many; fi",
    "The sk-learn library (scikit-learn) is great.",
    "pytest -k 'test_secret_is_redacted' -x",
    "load_dotenv(); key = os.getenv('OPENAI_API_KEY')",
    "curl https://api.github.com/repos/owner/repo",
    "AccountName=devstoreaccount1;BlobEndpoint=http://127.0.0.1:10000",
    "My favourite hash is md5 d41d8cd98f00b204e9800998ecf8427e",
]  # fmt: skip


@pytest.mark.parametrize("kind,text,secret", SECRETS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(SECRETS)])
def test_every_secret_shape_is_redacted_with_its_type(kind, text, secret):
    result = redact(text)
    assert secret not in result.text
    assert f"[REDACTED:{kind}]" in result.text
    assert result.total >= 1


# The shapes issue 14 found leaking on the `ask` path (each reached the server and the database).
ISSUE_14_SHAPES = [
    ("42-char aws_secret_access_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY42", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY42"),
    ("URL with an empty user", "REDIS_URL=redis://:Sn0wfall-42x@cache:6379/0", "Sn0wfall-42x"),
    ("password glued to -p", "mysql -u root -pTr1cky-Pass shop", "Tr1cky-Pass"),
    ("Azure SharedAccessKey", "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=" + A + "xyz=", A + "xyz="),
    ("YAML password unquoted", "db:\n  db_password: Gr33nTea!", "Gr33nTea!"),
    ("JDBC &password=", "jdbc:mysql://db:3306/shop?user=shop&password=Pa55-w0rd&useSSL=true", "Pa55-w0rd"),
    ("URL password with / and @", "postgres://app:Se/cr@t9x@db.internal:5432/prod", "Se/cr@t9x"),
    (".npmrc legacy _authToken uuid", "//registry.npmjs.org/:_authToken=7d3c1f0e-2b4a-4c5d-9e8f-0a1b2c3d4e5f", "7d3c1f0e-2b4a-4c5d-9e8f-0a1b2c3d4e5f"),
    ("Vault hvs. token", "vault login hvs.CAESIJ" + A[:24], "hvs.CAESIJ" + A[:24]),
    ("curl -u user:pass", "curl -u admin:Wint3r-Is-Here https://jenkins/api/json", "Wint3r-Is-Here"),
    ("X-Api-Key header", "curl -H 'X-Api-Key: " + A + "' https://api", A),
    ("aws_session_token", "aws_session_token = IQoJb3JpZ2luX2VjE" + A + A, "IQoJb3JpZ2luX2VjE" + A + A),
    ("sshpass -p", "sshpass -p 'Dr4gon-Fly' ssh deploy@web01", "Dr4gon-Fly"),
    (".pgpass line", "db.internal:5432:prod:app:S3cret-Pgpass", "S3cret-Pgpass"),
]  # fmt: skip


@pytest.mark.parametrize("what,text,secret", ISSUE_14_SHAPES, ids=[w for w, _, _ in ISSUE_14_SHAPES])
def test_the_shapes_that_leaked_in_issue_14_are_redacted(what, text, secret):
    assert secret not in redact(text).text


@pytest.mark.parametrize(
    "line",
    [
        "AUTH_TOKEN_HEADER=Authorization",
        'HEADER_TOKEN_RE = re.compile(r"^Bearer\\s+(?P<token>[A-Za-z0-9._~+/-]+=*)$")',
        'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]',
        "password: ${{ secrets.DB_PASSWORD }}",
        "pwd = self.pwd",
        "ANSWER_MAX_TOKENS = 2048",
        "export PGPASSFILE=~/.pgpass",
        'curl -H "Authorization: Bearer $TOKEN" https://api.acme.io/v1/me',
        "mysql -u app -p -h db shop",
        "key = secrets.token_urlsafe(24)",
    ],
)
def test_code_that_names_secrets_is_not_mangled(line):
    assert redact(line).text == line


def test_the_corpus_meets_its_targets_on_the_held_out_part():
    """bench/bench_redact.py on the part of the corpus never tuned on: every secret caught, and
    at most 0.1 % of the clean lines (code, configs, logs) changed."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "bench_redact.py"
    spec = importlib.util.spec_from_file_location("bench_redact", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    heldout, tuning, clean = bench.load_secrets("heldout"), bench.load_secrets("tuning"), bench.load_clean()
    assert len(heldout) + len(tuning) >= 150 and len({e["shape"] for e in heldout + tuning}) >= 60
    assert len(heldout) >= 50 and len(clean) >= 20_000
    fn = bench.current()
    recall, misses = bench.recall(fn, heldout)
    assert misses == [], [m["id"] for m in misses]
    rate, flagged, _ = bench.false_positives(fn, clean)
    assert rate <= 0.001, flagged[:10]


def test_false_positive_rate_on_ordinary_text_is_at_most_2_percent():
    lines = [ln for text in ORDINARY for ln in text.splitlines()]
    # Plus this project's own source code: real code, full of "token", "key" and "password" words.
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "learnflow"
    for path in sorted(root.rglob("*.py")):
        if path.name != "redact.py":
            lines += path.read_text().splitlines()
    flagged = [ln for ln in lines if redact(ln).total]
    rate = len(flagged) / len(lines)
    print(f"ordinary corpus: {len(lines)} lines, {len(flagged)} flagged, rate {rate:.4%}")
    assert rate <= 0.02, flagged[:20]
    assert all(redact(t).total == 0 for t in ORDINARY), [t for t in ORDINARY if redact(t).total]


alphabet = string.ascii_letters + string.digits


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.text(alphabet=string.ascii_letters + " .,\n", max_size=40),
    suffix=st.text(alphabet=string.ascii_letters + " .,\n", max_size=40),
    body=st.text(alphabet=alphabet, min_size=36, max_size=60),
    kind=st.sampled_from(["sk-proj-", "ghp_", "glpat-", "hf_", "npm_", "sk_live_"]),
)
def test_a_key_anywhere_in_any_text_is_removed(prefix, suffix, body, kind):
    secret = kind + body[: 36 if kind in ("ghp_", "npm_") else len(body)]
    result = redact(f"{prefix} {secret} {suffix}")
    assert secret not in result.text and "[REDACTED:" in result.text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_redaction_is_idempotent_and_never_grows_secrets(text):
    once = redact(text).text
    assert redact(once).text == once


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=string.ascii_lowercase + " \n.,", max_size=500))
def test_plain_prose_is_untouched(text):
    assert redact(text).text == text


def test_secrets_never_reach_the_server_or_the_database(cli, openai_env):
    """End to end: question, piped output and a file all carry secrets."""
    import json

    from learnflow import paths

    cfg = paths.data_dir().parent / "settings.env"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    secrets_in = [s for _, _, s in SECRETS]
    cfg.write_text("\n".join(t for _, t, _ in SECRETS[: len(SECRETS) // 2]))
    piped = "\n".join(t for _, t, _ in SECRETS[len(SECRETS) // 2 :])
    question = "why does auth fail with sk-proj-" + A + A + " ?"
    result = cli("ask", "-f", str(cfg), question, input=piped)
    assert result.exit_code == 0, result.output
    assert "Redacted" in result.stderr and "--no-redact" in result.stderr
    sent = json.dumps([r["json"] for r in openai_env.chat_requests])
    leaked = [s for s in secrets_in if s in sent]
    assert leaked == []
    db_bytes = paths.db_path().read_bytes() + b"".join(p.read_bytes() for p in paths.db_path().parent.glob("learnflow.db-wal"))
    assert [s for s in secrets_in if s.encode() in db_bytes] == []
    record = json.loads(cli("history", "--json").stdout)[0]
    assert "[REDACTED:openai-key]" in record["question"]


def test_no_redact_sends_what_was_typed(cli, openai_env):
    secret = "sk-proj-" + A + A
    assert cli("ask", "--no-redact", f"is {secret} valid?").exit_code == 0
    assert any(secret in r["body"] for r in openai_env.chat_requests)
