"""Every channel passes through redact() before anything is sent, stored, exported or printed:
reflect and check answers, the base URL in errors and the log, a key with a line end, a file name."""

import json
from pathlib import Path

import pytest
from conftest import free_port

from learnflow import paths

CORPUS = Path(__file__).resolve().parents[1] / "bench" / "secrets" / "tuning.jsonl"
# Twenty secrets of twenty shapes from the corpus, one line each: what a person might paste into an answer.
ENTRIES = list({e["shape"]: e for e in map(json.loads, CORPUS.read_text().splitlines()) if "\n" not in e["text"]}.values())[:20]
SECRETS = [e["secret"] for e in ENTRIES]
LINES = [e["text"] for e in ENTRIES]


def stored_bytes() -> bytes:
    db = paths.db_path()
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def leaked(blob: str | bytes) -> list[str]:
    return [s for s in SECRETS if (s.encode() if isinstance(blob, bytes) else s) in blob]


def sent(server) -> str:
    return json.dumps(server.requests)


@pytest.fixture
def day(cli):
    for q in ("How do I undo my last git commit but keep the changes?", "How do I write a SQL join between orders and customers?"):
        assert cli("ask", "-m", "offline", q).exit_code == 0


def test_secrets_in_reflect_answers_reach_neither_the_model_nor_the_log_nor_the_export(cli, day, openai_env, tmp_path):
    assert len(SECRETS) == 20
    chunks = [" ".join(LINES[i::7]) for i in range(7)]  # 5 reflection answers + 2 check answers
    answers = "[reflection]\n" + "".join(
        f"{key} = {json.dumps('I used ' + chunk)}\n" for key, chunk in zip(["trying", "worked", "surprised", "rule", "action"], chunks)
    )
    answers += "".join(f"[[checks]]\nconfidence = 3\nanswer = {json.dumps(chunk)}\n" for chunk in chunks[5:])
    path = tmp_path / "answers.toml"
    path.write_text(answers)
    result = cli("reflect", "--since", "1h", "--answers", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert openai_env.chat_requests, "the model was asked (narrative, judge, feedback)"
    assert leaked(sent(openai_env)) == []
    assert leaked(stored_bytes()) == []
    assert leaked(result.stdout) == []
    md = cli("reflections", "--export", "md")
    assert md.exit_code == 0 and "[REDACTED:" in md.stdout
    assert leaked(md.stdout) == []


def test_a_secret_typed_into_check_interactively_or_from_a_file_is_redacted(cli, openai_env):
    line = LINES[0]
    typed = cli("check", "--skill", "regex", "-n", "1", input=f"3\n{line}\nn\n")  # confidence, answer, own verdict
    assert typed.exit_code == 0, typed.output
    from_file = cli("check", "--skill", "regex", "-n", "1", "--answers", "-", input=f"[[checks]]\nanswer = {json.dumps(LINES[1])}\n")
    assert from_file.exit_code == 0, from_file.output
    judged = [r for r in openai_env.chat_requests if "regex" in json.dumps(r["json"]) or "match" in json.dumps(r["json"])]
    assert len(judged) >= 2, "both answers went to the model judge"
    assert leaked(sent(openai_env)) == [] and leaked(stored_bytes()) == []


def test_old_rows_with_secrets_are_redacted_in_the_markdown_export(cli, day):
    from learnflow.db.store import Store

    assert cli("reflect", "--since", "1h", "--answers", "-", input='[reflection]\ntrying = "x"\n').exit_code == 0
    s = Store()
    s.db.execute("UPDATE reflection_answers SET answer = ?", [LINES[2]])  # as written before answers were redacted
    s.db.conn.commit()
    s.close()
    md = cli("reflections", "--export", "md").stdout
    assert SECRETS[2] not in md and "[REDACTED:" in md


def test_a_password_in_the_base_url_is_in_neither_the_error_nor_the_log(cli, monkeypatch):
    password = "Hunter-42-Pass"
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://deploy:{password}@127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("LEARNFLOW_MODEL", "openai/my-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    cli("config", "set", "tagging", "offline")
    result = cli("ask", "what is git?")
    assert result.exit_code == 0 and "127.0.0.1" in result.stderr  # the offline coach answered; the notice names the host
    assert password not in result.output
    assert password.encode() not in stored_bytes()
    cli("config", "set", "fallback", "off")
    result = cli("ask", "what is git?")
    assert result.exit_code == 5 and "127.0.0.1" in result.stderr
    assert password not in result.output
    assert password.encode() not in stored_bytes()


def test_a_key_with_a_trailing_carriage_return_is_stripped_and_never_printed(cli, openai_env, monkeypatch):
    key = "sk-proj-CarriageReturn0123456789abcdefXYZ"
    monkeypatch.setenv("OPENAI_API_KEY", key + "\r")
    result = cli("ask", "what is git?")
    assert result.exit_code == 0, result.output
    assert openai_env.chat_requests[-1]["headers"]["authorization"] == f"Bearer {key}"
    assert key not in result.output


def test_a_key_no_header_can_carry_is_a_clear_error_without_the_key(server):
    from learnflow.backends import Request
    from learnflow.backends.openai_compat import OpenAICompatBackend
    from learnflow.errors import BackendError

    key = "sk-proj-LineEnd0123456789abcdefXYZ\r\n"
    request = Request(model="openai/m", messages=[{"role": "user", "content": "hi"}], api_base=server.url, api_key=key)
    with pytest.raises(BackendError) as caught:
        list(OpenAICompatBackend().stream(request=request))
    assert "line end" in caught.value.message and key.strip() not in str(caught.value) + (caught.value.hint or "")


def test_a_token_in_a_file_name_is_not_sent_or_stored(cli, openai_env, tmp_path):
    token = "ghp_" + "A1b2C3d4E5" * 3 + "A1b2C3"
    attached = tmp_path / f"notes-{token}.txt"
    attached.write_text("the build fails on main")
    result = cli("ask", "-f", str(attached), "why does it fail?")
    assert result.exit_code == 0, result.output
    assert token not in sent(openai_env) and token.encode() not in stored_bytes()
    assert "notes-[REDACTED:github-token].txt" in sent(openai_env)


def test_an_error_message_quoting_a_secret_is_redacted_at_the_edge(cli, tmp_path):
    missing = tmp_path / "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345.env"
    result = cli("ask", "-f", str(missing), "what is this?")
    assert result.exit_code == 3 and "File not found" in result.stderr
    assert "AbCdEfGhIjKlMnOpQrStUvWxYz012345" not in result.output
