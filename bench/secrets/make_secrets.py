#!/usr/bin/env python3
"""Write the secret corpus: realistic lines, each carrying one fake secret, and split it once.

    python bench/secrets/make_secrets.py            # writes tuning.jsonl and heldout.jsonl here

Every value is random (a fixed seed, so the files are reproducible) and fake: none was ever
issued by any provider. Each entry is {"id", "shape", "text", "secret"}: `text` is a line (or
a short block) as it would appear in a terminal, a config file, a log or a chat message, and
`secret` is the part that must not survive redaction.

The split is made once, here, before any tuning of learnflow/redact.py: per shape, one line in
three (at least one for every shape with three or more lines) goes to the held-out part, chosen
by the seeded generator. The held-out part was committed before the redactor was tuned and is
only ever scored as a whole (bench_redact.py --split heldout), never read while tuning.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
R = random.Random(20261126)

UP, LO, DI = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UP + LO + DI
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = DI + "abcdef"


def rnd(alphabet: str, n: int) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


def hexs(n: int) -> str:
    return rnd(HEX, n)


def uid() -> str:
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


WORDS = ["winter", "harbor", "falcon", "copper", "meadow", "zephyr", "orchid", "quartz", "tundra", "violet", "maple", "cobalt"]


def pw(special: str = "!#%^*-_") -> str:
    """A password a person would pick: a word, digits, a symbol, some capitals."""
    w = R.choice(WORDS)
    w = w[0].upper() + w[1:]
    return f"{w}{R.randint(10, 9999)}{R.choice(special)}{R.choice(WORDS)[:3].capitalize()}"


def pw_slash() -> str:
    return f"{R.choice(WORDS).capitalize()}/{R.randint(10, 99)}@{rnd(ALNUM, 5)}"


def aws_secret(n: int = 40) -> str:
    return rnd(ALNUM + "/+", n)


# (shape, secret factory, [templates with {s}]). A template may hold other fake values via
# {u} (a user name) and {h} (a host); they are not secrets.
SHAPES: list[tuple[str, object, list[str]]] = [
    ("openai-project-key", lambda: "sk-proj-" + rnd(URLSAFE, 48) + "T3BlbkFJ" + rnd(URLSAFE, 48), [
        "export OPENAI_API_KEY={s}",
        "openai.api_key = \"{s}\"  # TODO move to env",
        "hey can you check why this fails: client = OpenAI(api_key='{s}')",
    ]),
    ("openai-legacy-key", lambda: "sk-" + rnd(ALNUM, 20) + "T3BlbkFJ" + rnd(ALNUM, 20), [
        "Incorrect API key provided: {s}. You can find your API key at https://platform.openai.com",
        "OPENAI_KEY={s}",
    ]),
    ("anthropic-key", lambda: "sk-ant-api03-" + rnd(URLSAFE, 93) + "AA", [
        "ANTHROPIC_API_KEY=\"{s}\"",
        "curl https://api.anthropic.com/v1/messages -H \"x-api-key: {s}\" -H 'anthropic-version: 2023-06-01'",
    ]),
    ("openrouter-key", lambda: "sk-or-v1-" + hexs(64), [
        "Authorization: Bearer {s}",
        "OPENROUTER_API_KEY={s} python agent.py",
    ]),
    ("aws-access-key-id", lambda: "AKIA" + rnd(UP + "234567", 16), [
        "aws_access_key_id = {s}",
        "2026-03-02 11:02:13 botocore.credentials INFO Found credentials in environment variables. key={s}",
        "  AccessKeyId: {s}",
    ]),
    ("aws-temporary-key-id", lambda: "ASIA" + rnd(UP + "234567", 16), [
        "\"AccessKeyId\": \"{s}\",",
        "export AWS_ACCESS_KEY_ID={s}",
    ]),
    ("aws-secret-key-40", lambda: aws_secret(40), [
        "aws_secret_access_key = {s}",
        "export AWS_SECRET_ACCESS_KEY={s}",
        "\"SecretAccessKey\": \"{s}\",",
    ]),
    ("aws-secret-key-42", lambda: aws_secret(42), [
        "aws_secret_access_key={s}",
        "AWS_SECRET_ACCESS_KEY: {s}",
    ]),
    ("aws-session-token", lambda: "IQoJb3JpZ2luX2VjE" + rnd(B64, 300) + "==", [
        "aws_session_token = {s}",
        "export AWS_SESSION_TOKEN={s}",
        "\"SessionToken\": \"{s}\",",
    ]),
    ("github-classic-token", lambda: "ghp_" + rnd(ALNUM, 36), [
        "git remote set-url origin https://{s}@github.com/acme/infra.git",
        "GITHUB_TOKEN={s} gh pr list",
        "//npm.pkg.github.com/:_authToken={s}",
    ]),
    ("github-fine-grained-token", lambda: "github_pat_11" + rnd(UP + DI, 20) + "_" + rnd(ALNUM, 59), [
        "gh auth login --with-token <<< {s}",
        "token: {s}",
    ]),
    ("github-oauth-token", lambda: "gho_" + rnd(ALNUM, 36), [
        "    oauth_token: {s}",
        "Using cached credential gho={s}",
    ]),
    ("gitlab-token", lambda: "glpat-" + rnd(URLSAFE, 20), [
        "curl --header \"PRIVATE-TOKEN: {s}\" https://gitlab.example.com/api/v4/projects",
        "GITLAB_TOKEN={s}",
    ]),
    ("slack-bot-token", lambda: f"xoxb-{R.randint(10**11, 10**12)}-{R.randint(10**12, 10**13)}-" + rnd(ALNUM, 24), [
        "SLACK_BOT_TOKEN={s}",
        "slack_sdk.errors.SlackApiError: invalid_auth (token {s})",
    ]),
    ("slack-webhook", lambda: f"https://hooks.slack.com/services/T{rnd(UP + DI, 8)}/B{rnd(UP + DI, 10)}/{rnd(ALNUM, 24)}", [
        "curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"deploy done\"}}' {s}",
        "webhook_url: {s}",
    ]),
    ("discord-webhook", lambda: f"https://discord.com/api/webhooks/{R.randint(10**17, 10**18)}/{rnd(URLSAFE, 68)}", [
        "DISCORD_WEBHOOK={s}",
        "requests.post(\"{s}\", json=payload)",
    ]),
    ("google-api-key", lambda: "AIza" + rnd(URLSAFE, 35), [
        "<script src=\"https://maps.googleapis.com/maps/api/js?key={s}&callback=initMap\"></script>",
        "GOOGLE_API_KEY={s}",
    ]),
    ("google-oauth-client-secret", lambda: "GOCSPX-" + rnd(URLSAFE, 28), [
        "\"client_secret\": \"{s}\",",
        "GOOGLE_CLIENT_SECRET={s}",
    ]),
    ("gcp-service-account-private-key-id", lambda: hexs(40), [
        "  \"private_key_id\": \"{s}\",",
        "private_key_id = \"{s}\"",
    ]),
    ("stripe-secret-key", lambda: "sk_live_51" + rnd(ALNUM, 97), [
        "STRIPE_SECRET_KEY={s}",
        "stripe.api_key = \"{s}\"",
    ]),
    ("stripe-webhook-secret", lambda: "whsec_" + rnd(ALNUM, 32), [
        "STRIPE_WEBHOOK_SECRET={s}",
        "endpoint_secret = '{s}'",
    ]),
    ("azure-storage-account-key", lambda: rnd(B64, 86) + "==", [
        "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={s};EndpointSuffix=core.windows.net",
        "az storage blob upload --account-name acmeprod --account-key {s} -c logs -f out.txt -n out.txt",
    ]),
    ("azure-shared-access-key", lambda: rnd(B64, 43) + "=", [
        "Endpoint=sb://acme-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={s}",
        "HostName=acme-hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={s}",
        "EVENTHUB_CONN=\"Endpoint=sb://ev.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={s};EntityPath=clicks\"",
    ]),
    ("azure-sas-token", lambda: rnd(B64, 43) + "%3D", [
        "https://acmeprod.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-01T00:00:00Z&sig={s}",
        "azcopy copy ./site 'https://acmeweb.blob.core.windows.net/$web?sp=racwdl&st=2026-01-01&sig={s}' --recursive",
    ]),
    ("azure-client-secret", lambda: rnd(ALNUM, 3) + "8Q~" + rnd(URLSAFE + "~.", 34), [
        "AZURE_CLIENT_SECRET={s}",
        "az login --service-principal -u 3f1b2c4d-0000-4000-8000-1234567890ab -p {s} --tenant acme.onmicrosoft.com",
    ]),
    ("jwt", lambda: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + rnd(URLSAFE, 60) + "." + rnd(URLSAFE, 43), [
        "Cookie: access_token={s}; Path=/",
        "id_token={s}",
        "I get 401 with this token {s} any idea?",
    ]),
    ("rsa-private-key", lambda: "MIIEow" + rnd(B64, 58), [
        "-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----",
        "key = \"\"\"-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----\"\"\"",
    ]),
    ("openssh-private-key", lambda: "b3BlbnNzaC1rZXktdjEAAAAA" + rnd(B64, 46), [
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n-----END OPENSSH PRIVATE KEY-----",
        "cat ~/.ssh/id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\n{s}",
    ]),
    ("ec-private-key-json", lambda: "MHcCAQEEI" + rnd(B64, 50), [
        "\"private_key\": \"-----BEGIN EC PRIVATE KEY-----\\n{s}\\n-----END EC PRIVATE KEY-----\\n\",",
        "PRIVATE_KEY=\"-----BEGIN PRIVATE KEY-----\\n{s}\\n-----END PRIVATE KEY-----\"",
    ]),
    ("huggingface-token", lambda: "hf_" + rnd(ALNUM, 34), [
        "huggingface-cli login --token {s}",
        "HF_TOKEN={s}",
    ]),
    ("npm-token", lambda: "npm_" + rnd(ALNUM, 36), [
        "//registry.npmjs.org/:_authToken={s}",
        "NPM_TOKEN={s} npm publish",
    ]),
    ("npmrc-legacy-uuid-token", uid, [
        "//registry.npmjs.org/:_authToken={s}",
        "//npm.acme.internal/repository/npm/:_authToken={s}",
    ]),
    ("npmrc-auth", lambda: rnd(B64, 28) + "=", [
        "_auth={s}",
        "//nexus.acme.io/repository/npm-group/:_auth=\"{s}\"",
    ]),
    ("pypi-token", lambda: "pypi-AgEIcHlwaS5vcmc" + rnd(URLSAFE, 120), [
        "twine upload -u __token__ -p {s} dist/*",
        "password = {s}",
    ]),
    ("sendgrid-key", lambda: "SG." + rnd(URLSAFE, 22) + "." + rnd(URLSAFE, 43), [
        "SENDGRID_API_KEY={s}",
        "sg = SendGridAPIClient('{s}')",
    ]),
    ("twilio-auth-token", lambda: hexs(32), [
        "TWILIO_AUTH_TOKEN={s}",
        "client = Client(account_sid, \"{s}\")  # auth token",
    ]),
    ("mailgun-key", lambda: "key-" + hexs(32), [
        "curl -s --user 'api:{s}' https://api.mailgun.net/v3/mg.acme.io/messages",
        "MAILGUN_API_KEY={s}",
    ]),
    ("mailchimp-key", lambda: hexs(32) + "-us" + str(R.randint(1, 21)), [
        "MAILCHIMP_API_KEY={s}",
        "mailchimp.set_config({{\"api_key\": \"{s}\", \"server\": \"us14\"}})",
    ]),
    ("digitalocean-token", lambda: "dop_v1_" + hexs(64), [
        "doctl auth init --access-token {s}",
        "DIGITALOCEAN_TOKEN={s}",
    ]),
    ("shopify-token", lambda: "shpat_" + hexs(32), [
        "X-Shopify-Access-Token: {s}",
        "SHOPIFY_ACCESS_TOKEN={s}",
    ]),
    ("databricks-token", lambda: "dapi" + hexs(32), [
        "databricks configure --token <<< {s}",
        "token = {s}",
    ]),
    ("vault-service-token", lambda: "hvs." + rnd(URLSAFE, 24), [
        "export VAULT_TOKEN={s}",
        "vault login {s}",
        "X-Vault-Token: {s}",
    ]),
    ("vault-batch-token", lambda: "hvb." + rnd(URLSAFE, 90), [
        "VAULT_TOKEN={s} vault kv get secret/app",
        "token_accessor ... token {s}",
    ]),
    ("telegram-bot-token", lambda: f"{R.randint(10**8, 10**9)}:AA" + rnd(URLSAFE, 33), [
        "curl https://api.telegram.org/bot{s}/getUpdates",
        "TELEGRAM_TOKEN={s}",
    ]),
    ("linear-key", lambda: "lin_api_" + rnd(ALNUM, 40), [
        "LINEAR_API_KEY={s}",
        "Authorization: {s}",
    ]),
    ("newrelic-key", lambda: "NRAK-" + rnd(UP + DI, 27), [
        "NEW_RELIC_API_KEY={s}",
        "newrelic profile add --apiKey {s} --region us",
    ]),
    ("age-secret-key", lambda: "AGE-SECRET-KEY-1" + rnd("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58), [
        "# created: 2026-01-02T10:00:00Z\n{s}",
        "SOPS_AGE_KEY={s}",
    ]),
    ("groq-key", lambda: "gsk_" + rnd(ALNUM, 52), [
        "GROQ_API_KEY={s}",
        "client = Groq(api_key=\"{s}\")",
    ]),
    ("atlassian-token", lambda: "ATATT3xFfGF0" + rnd(URLSAFE, 170) + "=" + hexs(8).upper(), [
        "curl -u me@acme.io:{s} https://acme.atlassian.net/rest/api/3/myself",
        "JIRA_API_TOKEN={s}",
    ]),
    ("datadog-api-key", lambda: hexs(32), [
        "DD_API_KEY={s}",
        "datadog:\n  apiKey: {s}",
    ]),
    ("heroku-api-key", uid, [
        "HEROKU_API_KEY={s}",
        "machine api.heroku.com\n  login me@acme.io\n  password {s}",
    ]),
    ("sentry-dsn", lambda: hexs(32), [
        "SENTRY_DSN=https://{s}@o450123.ingest.sentry.io/5512345",
        "sentry_sdk.init(dsn=\"https://{s}@sentry.acme.io/12\")",
    ]),
    ("postgres-url-password", pw, [
        "DATABASE_URL=postgres://app:{s}@db.internal:5432/prod",
        "psql postgresql://report_ro:{s}@10.2.3.4/analytics -c 'select 1'",
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server failed (postgresql+psycopg2://app:{s}@pg-main:5432/app)",
    ]),
    ("url-password-with-slash-or-at", pw_slash, [
        "DATABASE_URL=postgres://app:{s}@db.internal:5432/prod",
        "mongodb://root:{s}@mongo-0.mongo:27017/admin?authSource=admin",
        "amqp://svc:{s}@rabbit.acme.io:5672/vhost",
    ]),
    ("url-empty-user", pw, [
        "REDIS_URL=redis://:{s}@cache.internal:6379/0",
        "rediss://:{s}@redis-prod.acme.io:6380",
        "celery broker: redis://:{s}@10.0.4.7:6379/1",
    ]),
    ("mongodb-srv-url", pw, [
        "MONGO_URI=mongodb+srv://appuser:{s}@cluster0.ab1cd.mongodb.net/shop?retryWrites=true",
        "mongosh \"mongodb+srv://admin:{s}@cluster0.xyz12.mongodb.net/\"",
    ]),
    ("git-https-credential", lambda: rnd(ALNUM, 20), [
        "https://deploy-bot:{s}@git.acme.io/platform/api.git",
        "pip install git+https://ci:{s}@gitlab.acme.io/libs/core.git@v1.2",
    ]),
    ("pip-index-url-token", lambda: rnd(URLSAFE, 32), [
        "pip install --index-url https://__token__:{s}@pypi.acme.io/simple/ acme-core",
        "PIP_EXTRA_INDEX_URL=https://ci:{s}@nexus.acme.io/repository/pypi/simple",
    ]),
    ("jdbc-password-param", pw, [
        "jdbc:mysql://db.acme.io:3306/shop?user=shop&password={s}&useSSL=true",
        "spring.datasource.url=jdbc:postgresql://pg:5432/app?user=app&password={s}",
        "jdbc:sqlserver://sql01:1433;databaseName=crm;user=crm_app;password={s};encrypt=true",
    ]),
    ("ado-connection-string", pw, [
        "Server=tcp:acme.database.windows.net,1433;Database=crm;User ID=crm;Password={s};Encrypt=True;",
        "\"DefaultConnection\": \"Host=pg;Database=app;Username=app;Password={s}\"",
        "Data Source=SQL01;Initial Catalog=Sales;User Id=sa;Pwd={s};",
    ]),
    ("mysql-glued-p", pw, [
        "mysql -u root -p{s} -h 127.0.0.1 shop",
        "mysqldump -uadmin -p{s} --all-databases > all.sql",
        "docker exec db mysql -uroot -p{s} -e 'show databases'",
    ]),
    ("password-long-flag", pw, [
        "mysql --user=root --password={s} shop",
        "mongodump --username admin --password {s} --authenticationDatabase admin",
        "docker login registry.acme.io --username ci --password {s}",
    ]),
    ("sshpass", pw, [
        "sshpass -p {s} ssh deploy@10.0.0.12",
        "sshpass -p '{s}' scp build.tgz ops@web01:/srv/",
    ]),
    ("curl-user-pass", pw, [
        "curl -u admin:{s} https://jenkins.acme.io/api/json",
        "curl --user deploy:{s} -X POST https://nexus.acme.io/service/rest/v1/components",
        "wget --user=ci --password={s} https://artifacts.acme.io/build.zip",
    ]),
    ("redis-cli-auth", pw, [
        "redis-cli -h cache.internal -a {s} ping",
        "redis-cli --pass {s} info",
    ]),
    ("authorization-bearer", lambda: rnd(URLSAFE, 40), [
        "curl -H 'Authorization: Bearer {s}' https://api.acme.io/v2/users",
        "headers = {{\"Authorization\": \"Bearer {s}\"}}",
        "> GET /v1/orders HTTP/1.1\n> Authorization: Bearer {s}",
    ]),
    ("authorization-basic", lambda: rnd(B64, 32) + "=", [
        "Authorization: Basic {s}",
        "proxy-authorization: basic {s}",
    ]),
    ("authorization-token-scheme", lambda: hexs(40), [
        "Authorization: token {s}",
        "curl -H \"Authorization: Token {s}\" https://api.acme.io/v1/me",
    ]),
    ("x-api-key-header", lambda: rnd(ALNUM, 40), [
        "curl -H 'X-Api-Key: {s}' https://api.acme.io/v1/reports",
        "x-api-key: {s}",
        "requests.get(url, headers={{'X-API-KEY': '{s}'}})",
    ]),
    ("custom-auth-header", lambda: rnd(ALNUM, 32), [
        "X-Auth-Token: {s}",
        "curl -H \"X-Access-Token: {s}\" https://api.acme.io",
    ]),
    ("cookie-session", lambda: rnd(ALNUM, 32), [
        "Cookie: sessionid={s}; csrftoken=abc",
        "Set-Cookie: session={s}; HttpOnly; Secure; Path=/",
        "curl -b 'PHPSESSID={s}' https://shop.acme.io/cart",
    ]),
    ("yaml-password-unquoted", pw, [
        "  db_password: {s}",
        "password: {s}",
        "    smtp_password: {s}",
    ]),
    ("yaml-secret-unquoted", lambda: rnd(ALNUM, 30), [
        "secret_key: {s}",
        "  client_secret: {s}",
        "    apiToken: {s}",
    ]),
    ("json-secret-field", lambda: rnd(ALNUM, 32), [
        "{{\"username\": \"svc\", \"password\": \"{s}\"}}",
        "    \"apiKey\": \"{s}\",",
        "{{\"access_token\": \"{s}\", \"token_type\": \"bearer\", \"expires_in\": 3600}}",
    ]),
    ("ini-password", pw, [
        "password = {s}",
        "pass={s}",
        "db_pass = {s}",
    ]),
    ("dotenv-secret", lambda: rnd(ALNUM, 24), [
        "SECRET_KEY={s}",
        "JWT_SECRET=\"{s}\"",
        "export SESSION_SECRET='{s}'",
    ]),
    ("env-password-lowercase-name", pw, [
        "db_password={s}",
        "admin_pwd={s}",
    ]),
    ("pgpass-line", pw, [
        "db.internal:5432:prod:app:{s}",
        "*:*:*:postgres:{s}",
    ]),
    ("pgpassword-env", pw, [
        "PGPASSWORD={s} psql -h db -U app prod",
        "PGPASSWORD='{s}' pg_dump -h pg -U admin shop > shop.sql",
    ]),
    ("docker-config-auth", lambda: rnd(B64, 36) + "==", [
        "\"auth\": \"{s}\"",
        "{{\"auths\":{{\"registry.acme.io\":{{\"auth\":\"{s}\"}}}}}}",
    ]),
    ("docker-env-flag", pw, [
        "docker run -e POSTGRES_PASSWORD={s} -d postgres:16",
        "docker run --env MYSQL_ROOT_PASSWORD={s} mysql:8",
    ]),
    ("python-kwarg-password", pw, [
        "conn = psycopg2.connect(host='db', user='app', password='{s}')",
        "smtp.login('alerts@acme.io', '{s}')  # password",
        "engine = create_engine(url, connect_args={{'password': '{s}'}})",
    ]),
    ("code-constant-secret", lambda: rnd(ALNUM, 28), [
        "API_KEY = \"{s}\"",
        "const apiSecret = \"{s}\";",
        "private static final String AUTH_TOKEN = \"{s}\";",
    ]),
    ("php-define-password", pw, [
        "define( 'DB_PASSWORD', '{s}' );",
        "define('AUTH_KEY', '{s}');",
    ]),
    ("java-properties-password", pw, [
        "spring.datasource.password={s}",
        "mail.smtp.password = {s}",
    ]),
    ("xml-password-element", pw, [
        "<password>{s}</password>",
        "<add key=\"ClearTextPassword\" value=\"{s}\" />",
        "<property name=\"hibernate.connection.password\" value=\"{s}\"/>",
    ]),
    ("terraform-secret-var", pw, [
        "  default = \"{s}\"  # db_password",
        "variable \"db_password\" {{ default = \"{s}\" }}",
    ]),
    ("toml-token", lambda: rnd(ALNUM, 36), [
        "token = \"{s}\"",
        "api-key = \"{s}\"",
    ]),
    ("query-string-key", lambda: rnd(ALNUM, 32), [
        "GET /v1/weather?q=Paris&appid={s} HTTP/1.1",
        "https://api.acme.io/export?format=csv&api_key={s}",
        "https://api.acme.io/feed?access_token={s}&limit=10",
    ]),
    ("netrc", pw, [
        "machine github.com login octocat password {s}",
        "machine ftp.acme.io\n    login backup\n    password {s}",
    ]),
    ("generic-token-flag", lambda: rnd(ALNUM, 32), [
        "terraform login --token {s}",
        "codecov -t {s}",
        "cli deploy --api-key={s} --env prod",
    ]),
    ("openssl-pass-arg", pw, [
        "openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.p12 -passout pass:{s}",
        "openssl rsa -in enc.key -out dec.key -passin pass:{s}",
    ]),
    ("keytool-storepass", pw, [
        "keytool -list -keystore app.jks -storepass {s}",
        "keytool -importkeystore -srckeystore a.p12 -srcstorepass {s} -destkeystore a.jks",
    ]),
    ("rails-laravel-app-key", lambda: "base64:" + rnd(B64, 43) + "=", [
        "APP_KEY={s}",
        "secret_key_base: {s}",
    ]),
    ("django-secret-key", lambda: "django-insecure-" + rnd(LO + DI + "!@#$%^&*(-_=+)", 50), [
        "SECRET_KEY = '{s}'",
        "DJANGO_SECRET_KEY=\"{s}\"",
    ]),
    ("okta-ssws", lambda: "00" + rnd(URLSAFE, 40), [
        "Authorization: SSWS {s}",
        "OKTA_API_TOKEN={s}",
    ]),
    ("ldap-bind-password", pw, [
        "ldapsearch -x -D 'cn=admin,dc=acme,dc=io' -w {s} -b 'dc=acme,dc=io'",
        "bindPassword: {s}",
    ]),
    ("password-in-prose", pw, [
        "the wifi password is {s} btw",
        "my password: {s} (please don't share)",
        "new credentials for staging -> user admin pass {s}",
    ]),
    ("k8s-secret-stringdata", pw, [
        "  stringData:\n    password: {s}",
        "kubectl create secret generic db --from-literal=password={s}",
    ]),
    ("session-token-generic", lambda: rnd(ALNUM, 40), [
        "session_token={s}",
        "X-Session-Token: {s}",
    ]),
    ("credentials-field", lambda: rnd(ALNUM, 30), [
        "credentials: {s}",
        "\"credential\": \"{s}\"",
    ]),
    ("ftp-url-password", pw, [
        "lftp ftp://backup:{s}@ftp.acme.io/nightly",
        "sftp://deploy:{s}@files.acme.io:22/upload",
    ]),
    ("smtp-url-password", pw, [
        "EMAIL_URL=smtp://alerts%40acme.io:{s}@smtp.gmail.com:587",
        "MAILER_DSN=smtp://apikey:{s}@smtp.sendgrid.net:587",
    ]),
]  # fmt: skip


def build() -> list[dict]:
    entries = []
    for shape, make, templates in SHAPES:
        for n, template in enumerate(templates):
            secret = make()  # type: ignore[operator]
            entries.append({"id": f"{shape}-{n}", "shape": shape, "text": template.format(s=secret), "secret": secret})
    return entries


def split(entries: list[dict]) -> tuple[list[dict], list[dict]]:
    """Held out: one line in three per shape (one random line of each shape with ≥ 3 lines,
    plus one random line of every third two-line shape), the rest tunes."""
    by_shape: dict[str, list[dict]] = {}
    for e in entries:
        by_shape.setdefault(e["shape"], []).append(e)
    held: set[str] = set()
    two_line = 0
    for group in by_shape.values():
        if len(group) >= 3:
            held.add(R.choice(group)["id"])
        else:
            two_line += 1
            if two_line % 3 == 0:
                held.add(R.choice(group)["id"])
    tuning = [e for e in entries if e["id"] not in held]
    heldout = [e for e in entries if e["id"] in held]
    return tuning, heldout


def main() -> None:
    entries = build()
    tuning, heldout = split(entries)
    for name, part in (("tuning", tuning), ("heldout", heldout)):
        (HERE / f"{name}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in part))
    shapes = {e["shape"] for e in entries}
    print(f"{len(entries)} secrets of {len(shapes)} shapes: {len(tuning)} tuning, {len(heldout)} held out "
          f"({len({e['shape'] for e in heldout})} shapes)")  # fmt: skip


if __name__ == "__main__":
    main()
