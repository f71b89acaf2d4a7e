#!/usr/bin/env python3
"""Write the clean corpus (clean.txt.gz): ordinary code, configs and logs with no secret in them.

    python bench/secrets/make_clean.py

Three sources, one line per corpus line (blank lines dropped):
  1. Python 3.11 standard-library modules that talk about passwords, tokens, keys, auth and
     sessions all the time (smtplib, imaplib, netrc, urllib.request, http.cookiejar, ssl, hmac,
     zipfile's pwd=, logging.handlers' credentials=, ...). Test suites are left out: their
     fixtures hold deliberately fake credentials.
  2. learnflow's own code at LEARNFLOW_REV (without redact.py, whose patterns describe secrets).
  3. Synthetic but realistic text generated here with a fixed seed: web-server and application
     logs (request ids, UUIDs, git SHAs, sha256 digests, trace ids, durations), pytest/pip/git/
     docker/kubectl output, shell history, and configuration that *refers* to secrets without
     holding one (`password: ${DB_PASSWORD}`, `${{ secrets.TOKEN }}`, secretKeyRef, os.environ
     lookups, `AUTH_TOKEN_HEADER=Authorization`, `HEADER_TOKEN_RE = re.compile(...)`).

The corpus was audited once, before any tuning of redact.py: every line flagged by the old
redactor (12) or by `detect-secrets scan` with its default plugins (16: hex digests, ETags,
placeholders, one docstring password) was read, and so were the lines a grep for a secret-like
name next to a quoted literal or for URL userinfo finds. The one line that really holds a
credential (a documentation example) is in EXCLUDED with the reason; nothing was removed
afterwards.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import re
import sysconfig
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
R = random.Random(424242)

STDLIB = [
    "smtplib.py", "imaplib.py", "poplib.py", "ftplib.py", "getpass.py", "netrc.py", "secrets.py", "hmac.py",
    "base64.py", "uuid.py", "ssl.py", "hashlib.py", "urllib/request.py", "urllib/parse.py", "http/client.py",
    "http/cookies.py", "http/cookiejar.py", "logging/handlers.py", "configparser.py", "xmlrpc/client.py",
    "email/utils.py", "zipfile.py", "sqlite3/dbapi2.py", "multiprocessing/connection.py",
]  # fmt: skip

# Lines of the sources above that really are credentials, found in the audit (see the docstring).
EXCLUDED: dict[str, str] = {
    "                      passwd='geheim$parole')": "urllib/request.py docstring: a literal password passed as passwd=",
}


def stdlib_lines() -> list[str]:
    base = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for name in dict.fromkeys(STDLIB):
        out += (base / name).read_text(encoding="utf-8").splitlines()
    return out


LEARNFLOW_REV = "4e725eb"  # learnflow's code as it was before this corpus: the file stays reproducible


def learnflow_lines() -> list[str]:
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout

    names = [n for n in git("ls-tree", "-r", "--name-only", LEARNFLOW_REV, "learnflow").splitlines() if n.endswith(".py")]
    out = []
    for name in sorted(names, key=lambda n: Path(n).parts):
        if not name.endswith("/redact.py"):
            out += git("show", f"{LEARNFLOW_REV}:{name}").splitlines()
    return out


def h(n: int) -> str:
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def uid() -> str:
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def ip() -> str:
    return f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def ts(i: int) -> str:
    return f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:{i * 7 % 60:02d}:{i * 13 % 60:02d}.{i * 37 % 1000:03d}Z"


PATHS = ["/api/v1/users", "/api/v1/orders/{id}", "/healthz", "/login", "/api/v2/tokens/refresh", "/static/app.{h}.js",
         "/auth/callback", "/api/v1/sessions", "/metrics", "/api/v1/keys", "/oauth/authorize", "/password/reset"]  # fmt: skip
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
          "curl/8.5.0", "python-requests/2.32.3", "kube-probe/1.29", "Go-http-client/1.1"]  # fmt: skip
LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARNING", "ERROR"]
EVENTS = [
    "user {u} logged in via password (mfa=totp)", "token refreshed for session {id}", "auth failed for user {u}: invalid password",
    "api key rotated for project {id} (old key revoked)", "session {id} expired after 3600s", "password reset requested for {u}",
    "secret {name} synced from vault (version 7)", "credential cache hit for {u}", "issued access token for client {id} (ttl 900s)",
    "GET {path} 200 {ms}ms request_id={id}", "retrying upload chunk {n}/12 after ConnectionResetError",
    "cache miss key=user:{n}:profile", "loaded config from /etc/acme/app.yaml (12 keys)", "worker {n} heartbeat ok",
    "db pool: 8 active, 2 idle, wait 3ms", "kafka consumer rebalanced: partitions [0, 3, 7]", "token bucket: 42/100 left",
    "sha256 of artifact {sha}", "commit {git} deployed to prod", "trace_id={trace} span_id={span} duration={ms}ms",
]  # fmt: skip


def logs(n: int) -> list[str]:
    out = []
    for i in range(n):
        kind = i % 6
        values = dict(u=R.choice(["alice", "bob", "carol", "dave", "svc-deploy"]), id=uid(), n=R.randint(1, 999),
                      ms=R.randint(1, 900), path=R.choice(PATHS).format(id=R.randint(1, 99999), h=h(8)),
                      sha=h(64), git=h(40), trace=h(32), span=h(16), name=R.choice(["db", "smtp", "stripe", "s3"]))  # fmt: skip
        if kind == 0:
            out.append(f'{ip()} - - [0{1 + i % 9}/Mar/2026:10:{i % 60:02d}:{i * 3 % 60:02d} +0000] "GET {values["path"]} HTTP/1.1" '
                       f'{R.choice([200, 200, 304, 401, 404, 500])} {R.randint(100, 90000)} "-" "{R.choice(AGENTS)}"')  # fmt: skip
        elif kind == 1:
            out.append(
                f"{ts(i)} {R.choice(LEVELS):<7} [{R.choice(['api', 'worker', 'auth', 'billing'])}] " + R.choice(EVENTS).format(**values)
            )
        elif kind == 2:
            level, msg = R.choice(LEVELS).lower(), R.choice(EVENTS).format(**values).replace('"', "'")
            out.append(f'{{"ts": "{ts(i)}", "level": "{level}", "msg": "{msg}", "request_id": "{values["id"]}", "user_id": {values["n"]}}}')
        elif kind == 3:
            out.append(f"Mar {1 + i % 28:2d} 10:{i % 60:02d}:01 web{R.randint(1, 9)} sshd[{R.randint(1000, 99999)}]: "
                       + R.choice(["Accepted publickey for deploy from {ip} port 51234 ssh2: ED25519 SHA256:{b}",
                                   "Failed password for invalid user admin from {ip} port 40022 ssh2",
                                   "Connection closed by authenticating user root {ip} port 22 [preauth]",
                                   "pam_unix(sshd:session): session opened for user deploy(uid=1001)"]).format(
                           ip=ip(), b=hashlib.sha256(h(8).encode()).hexdigest()[:43]))  # fmt: skip
        elif kind == 4:
            out.append(f"{ts(i)} pod/{R.choice(['api', 'web', 'worker'])}-{h(10)}-{h(5)} "
                       + R.choice(["Pulled image \"registry.acme.io/api@sha256:{sha}\"", "Back-off restarting failed container",
                                   "Readiness probe failed: HTTP probe failed with statuscode: 503",
                                   "MountVolume.SetUp succeeded for volume \"db-credentials\"",
                                   "Created container token-refresher", "Successfully assigned default/api to node-{n}"]).format(**values))  # fmt: skip
        else:
            out.append(R.choice([
                "  File \"/srv/app/auth/{name}.py\", line {n}, in verify_token",
                "    raise InvalidTokenError(\"signature has expired\")",
                "jwt.exceptions.ExpiredSignatureError: Signature has expired",
                "KeyError: 'password'", "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.acme.io{path}",
                "psycopg2.OperationalError: FATAL:  password authentication failed for user \"{u}\"",
                "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
                "PermissionError: [Errno 13] Permission denied: '/etc/ssl/private/{name}.key'",
            ]).format(**values))  # fmt: skip
    return out


TOOL_OUTPUT = [
    "Collecting requests>=2.31 (from -r requirements.txt (line 3))",
    "  Downloading requests-2.32.3-py3-none-any.whl (64 kB)",
    "Successfully installed certifi-2024.7.4 charset-normalizer-3.3.2 idna-3.7 requests-2.32.3 urllib3-2.2.2",
    "commit {git}", "Author: Dana Smith <dana@acme.io>", "Date:   Tue Mar 3 10:12:44 2026 +0100",
    "    Rotate the session secret on deploy (no secret in the repo)",
    "Merge: {g7} {g7b}", "index {g7}..{g7b} 100644", "--- a/config/settings.py", "+++ b/config/settings.py",
    "+SESSION_COOKIE_SECURE = True", "-PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']",
    " create mode 100644 src/auth/tokens.py", "[main {g7}] Fix token refresh race", " 3 files changed, 41 insertions(+), 7 deletions(-)",
    "tests/test_auth.py::test_login_with_wrong_password PASSED                  [ 12%]",
    "tests/test_tokens.py::test_expired_token_is_rejected FAILED               [ 40%]",
    "E       AssertionError: assert 401 == 200", "E        +  where 401 = <Response [401]>.status_code",
    "FAILED tests/test_tokens.py::test_expired_token_is_rejected - AssertionError: assert 401 == 200",
    "========================= 1 failed, 57 passed in 3.21s =========================",
    "#8 [build 3/7] RUN pip install --no-cache-dir -r requirements.txt", "#8 DONE 21.4s",
    "#12 exporting to image", "#12 writing image sha256:{sha} done", "#12 naming to registry.acme.io/api:{g7} done",
    "NAME                        READY   STATUS    RESTARTS   AGE", "api-{g10}-{g5}   1/1     Running   0          3d4h",
    "secret/db-credentials created", "secret/tls-cert configured", "serviceaccount/token-reviewer created",
    "Switched to context \"prod-eu\".", "Your branch is up to date with 'origin/main'.",
    "npm WARN deprecated uuid@3.4.0: Please upgrade  to version 7 or higher.", "added 1342 packages in 23s",
    "Terraform will perform the following actions:", "  # aws_secretsmanager_secret.db will be created",
    "      + arn        = (known after apply)", "      + kms_key_id = \"alias/aws/secretsmanager\"",
    "Plan: 4 to add, 0 to change, 0 to destroy.", "Apply complete! Resources: 4 added, 0 changed, 0 destroyed.",
    "ok  \tgithub.com/acme/auth/token\t0.412s", "--- FAIL: TestRefreshToken (0.01s)", "ssh-keygen -t ed25519 -C \"dana@acme.io\"",
    "The key fingerprint is:", "SHA256:{b43} dana@acme.io", "Generating public/private ed25519 key pair.",
    "Identity added: /home/dana/.ssh/id_ed25519 (dana@acme.io)",
]  # fmt: skip

SHELL = [
    "git log --oneline -n 20", "git rebase -i HEAD~3", "git push --force-with-lease origin feature/token-refresh",
    "kubectl get secret db-credentials -o yaml", "kubectl describe pod api-{g10}-{g5}", "kubectl logs -f deploy/api --since=10m",
    "docker compose up -d --build", "docker login registry.acme.io", "aws sts get-caller-identity", "aws s3 ls s3://acme-backups/",
    "aws secretsmanager get-secret-value --secret-id prod/db --query SecretString", "vault kv get -field=password secret/prod/db",
    "ssh -i ~/.ssh/id_ed25519 deploy@web01", "scp -P 2222 build.tgz deploy@web01:/srv/", "psql -h db.internal -U app -W prod",
    "mysql -u root -p", "mysql -u app -p -h db shop", "pg_dump -h pg -U admin -Fc shop > shop.dump", "redis-cli -h cache.internal ping",
    "openssl rand -hex 32", "openssl x509 -in cert.pem -noout -text", "openssl req -new -key server.key -out server.csr",
    "python -m pytest -k 'token or password' -x", "pip install -e '.[test]'", "export PATH=$HOME/.local/bin:$PATH",
    "export AWS_PROFILE=prod", "export KUBECONFIG=~/.kube/prod.yaml", "export PGPASSFILE=~/.pgpass", "chmod 600 ~/.pgpass ~/.netrc",
    "curl -sS https://api.acme.io/healthz", "curl -H \"Authorization: Bearer $TOKEN\" https://api.acme.io/v1/me",
    "curl -u \"$USER:$PASSWORD\" https://jenkins.acme.io/api/json", "curl -H 'X-Api-Key: ${API_KEY}' https://api.acme.io/v1/reports",
    "sshpass -p \"$SSHPASS\" ssh deploy@web01", "sshpass -e ssh deploy@web01", "mysql -u root -p\"$MYSQL_ROOT_PASSWORD\" -e 'select 1'",
    "gh auth login --with-token < token.txt", "echo \"$CR_PAT\" | docker login ghcr.io -u octocat --password-stdin",
    "htpasswd -c /etc/nginx/.htpasswd admin", "ssh-add -l", "gpg --list-secret-keys --keyid-format=long",
    "terraform plan -var-file=prod.tfvars", "helm upgrade --install api ./chart -f values.prod.yaml",
    "find . -name '*.pem' -newer key.txt", "grep -rn 'password' config/", "sed -i 's/token_ttl: 300/token_ttl: 900/' app.yaml",
]  # fmt: skip

CONFIG = [
    "AUTH_TOKEN_HEADER=Authorization", "HEADER_TOKEN_RE = re.compile(r\"^Bearer\\s+(?P<token>[A-Za-z0-9._~+/-]+=*)$\")",
    "TOKEN_PREFIX = \"Bearer \"", "SESSION_COOKIE_NAME = \"sessionid\"", "PASSWORD_RESET_TIMEOUT = 259200",
    "API_KEY_HEADER = \"X-Api-Key\"", "SECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"]", "DATABASE_URL = env(\"DATABASE_URL\")",
    "password = os.environ.get(\"DB_PASSWORD\", \"\")", "token = request.headers.get(\"Authorization\", \"\").removeprefix(\"Bearer \")",
    "api_key = settings.STRIPE_SECRET_KEY", "self.session_token = None", "auth = HTTPBasicAuth(user, password)",
    "creds = service_account.Credentials.from_service_account_file(path)", "secret = vault.read(path)[\"data\"][\"value\"]",
    "password: ${DB_PASSWORD}", "  password: ${{ secrets.DB_PASSWORD }}", "  token: ${{ secrets.GITHUB_TOKEN }}",
    "        env:\n          - name: DB_PASSWORD\n            valueFrom:\n              secretKeyRef:\n                name: db-credentials\n                key: password",
    "  api_key: !vault prod/stripe#api_key", "db_password: \"{{ vault_db_password }}\"", "secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>",
    "DB_PASSWORD=", "DB_PASSWORD=changeme", "API_KEY=<your-api-key>", "SECRET_KEY=your-secret-key-here", "STRIPE_KEY=sk_test_xxx",
    "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}", "export GITHUB_TOKEN=$(gh auth token)", "TOKEN_TTL_SECONDS=900",
    "PASSWORD_MIN_LENGTH=12", "SESSION_TIMEOUT=30m", "AUTH_PROVIDER=oidc", "KEY_ROTATION_DAYS=90", "CREDENTIALS_FILE=/run/secrets/gcp.json",
    "password_file = /run/secrets/db_password", "token_endpoint = https://auth.acme.io/oauth2/token", "auth_url: https://auth.acme.io/authorize",
    "ssl_key: /etc/ssl/private/server.key", "key_file = \"~/.ssh/id_ed25519\"", "keyring_backend = \"secretstorage\"",
    "session_store: redis", "authentication: ldap", "token_type: bearer", "password_policy: strong", "secret_name: prod-db",
    "\"password\": {\"type\": \"string\", \"minLength\": 12, \"writeOnly\": true},", "\"token\": {\"$ref\": \"#/components/schemas/Token\"},",
    "  securitySchemes:\n    bearerAuth:\n      type: http\n      scheme: bearer\n      bearerFormat: JWT",
    "[client]\nuser = app\nhost = db.internal", "[auth]\nmethod = oidc\nclient_id = acme-cli",
    "if not verify_password(password, user.password_hash):", "def rotate_key(key_id: str) -> Key:",
    "class TokenExpired(AuthError):", "raise PermissionDenied(\"invalid credentials\")", "assert session.token is None",
    "for key, value in sorted(headers.items()):", "key = (user_id, day)", "cache_key = f\"session:{session_id}\"",
    "password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt())", "const token = await getToken({ audience });",
    "const apiKey = process.env.API_KEY;", "let password = prompt(\"Password:\");", "String secret = System.getenv(\"APP_SECRET\");",
    "func (c *Client) Token(ctx context.Context) (string, error) {", "tokenSource := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})",
    "  - name: api\n    image: registry.acme.io/api@sha256:{sha}", "integrity sha512-{b88}==",
    "resolved \"https://registry.yarnpkg.com/uuid/-/uuid-9.0.1.tgz#{g40}\"", "    \"version\": \"1.4.2\",\n    \"resolved\": \"https://registry.npmjs.org/jwt-decode/-/jwt-decode-4.0.0.tgz\",",
    "checksum = \"{sha}\"", "etag: \"{g32}\"", "X-Request-Id: {uid}", "X-Amzn-Trace-Id: Root=1-{g8}-{g24}",
    "Content-Security-Policy: default-src 'self'; script-src 'nonce-{b22}'", "ETag: W/\"{g16}\"",
]  # fmt: skip


def fill(line: str) -> str:
    from base64 import b64encode

    values = dict(
        git=h(40), g7=h(7), g7b=h(7), g10=h(10), g5=h(5), g8=h(8), g16=h(16), g24=h(24), g32=h(32), g40=h(40), sha=h(64),
        uid=uid(), b43=b64encode(R.randbytes(32)).decode()[:43], b22=b64encode(R.randbytes(16)).decode()[:22],
        b88=b64encode(R.randbytes(64)).decode()[:86],
    )  # fmt: skip
    # Only the named slots: the lines themselves hold JSON and code braces.
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), line)


def synthetic(n: int) -> list[str]:
    out = logs(n)
    for pool in (TOOL_OUTPUT, SHELL, CONFIG):
        for _ in range(3):  # three fillings of each line's random slots; exact repeats dropped
            for line in pool:
                out += fill(line).splitlines()
    return list(dict.fromkeys(out))


def build() -> list[str]:
    lines = stdlib_lines() + learnflow_lines() + synthetic(4000)
    return [ln for ln in lines if ln.strip() and ln not in EXCLUDED]


def main() -> None:
    lines = build()
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(HERE / "clean.txt.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as fh:
        fh.write(data)  # mtime 0: the same corpus gives the same bytes
    print(f"{len(lines)} clean lines")


if __name__ == "__main__":
    main()
