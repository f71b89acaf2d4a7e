"""`learnflow sync` against a real LRS: LearningLocker's xapi-statements, in memory, on 127.0.0.1.

Done when 10,000 statements export, validate (ralph), push to the real LRS and come back
(GET with paging) with nothing lost or duplicated, a second sync sends nothing, and the
statements read back import into an empty home with the same evidence.

Needs `npm ci --prefix tests/lrs` (and ralph for the validation step: tests/lrs/helpers.py).
"""

import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lrs"))

from testkit import evidence_rows, lrs_available, ralph_available, ralph_validate_in_background, simulate_log, start_lrs  # noqa: E402

from learnflow.interop import lrs as sync  # noqa: E402


@pytest.fixture(scope="module")
def real_lrs(tmp_path_factory):
    reason = lrs_available()
    if reason:
        pytest.skip(reason)
    server = start_lrs(tmp_path_factory.mktemp("lrs"))
    yield server
    server.stop()


@pytest.fixture
def lrs_env(real_lrs, monkeypatch):
    """The LRS as a user would configure it: URL flag, credentials in the environment."""
    monkeypatch.setenv("LEARNFLOW_LRS_USER", real_lrs.user)
    monkeypatch.setenv("LEARNFLOW_LRS_PASSWORD", real_lrs.password)
    return real_lrs


def read_back(lrs, mbox: str) -> list[dict]:
    """Everything in the LRS, page by page, then this actor's. (Filtering with `agent=` would be
    neater, but this LRS writes `agent=[object Object]` into its `more` links, losing the filter.)"""
    client = sync.Client(sync.Lrs(lrs.url, lrs.user, lrs.password))
    try:
        return [s for s in client.get_statements(limit=1000) if s["actor"].get("mbox") == mbox]
    finally:
        client.close()


def test_ten_thousand_statements_arrive_once_and_come_back_whole(cli, store, lrs_env, monkeypatch, tmp_path):
    simulate_log(store, asks=7340, checks=2200, ratings=400, reflections=52)  # + 8 skill snapshots = 10,000
    figures = {}

    t = time.perf_counter()
    export = tmp_path / "me.json"
    assert cli("export", "--actor-mbox", "tenk@example.com", "-o", str(export)).exit_code == 0
    figures["export"] = time.perf_counter() - t
    sent = json.loads(export.read_text())
    assert len(sent) == 10_000

    # ralph validates every statement while the push runs (two processes, two cores).
    validated = None if ralph_available() else ralph_validate_in_background(sent)
    t = time.perf_counter()
    first = cli("sync", "--lrs", lrs_env.url, "--actor-mbox", "tenk@example.com", "--json")
    figures["push"] = time.perf_counter() - t
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["sent"] == len(sent)
    if validated is not None:
        report = validated()
        figures["validate (during the push)"] = time.perf_counter() - t
        assert report["checked"] == len(sent) and report["invalid_count"] == 0, report["invalid"]
    else:
        print(f"\nnot validated with ralph: {ralph_available()}")

    t = time.perf_counter()
    back = read_back(lrs_env, "mailto:tenk@example.com")
    figures["read back"] = time.perf_counter() - t
    ids = [s["id"] for s in back]
    assert len(ids) == len(set(ids)) == len(sent)  # nothing duplicated
    assert set(ids) == {s["id"] for s in sent}  # nothing lost

    second = cli("sync", "--lrs", lrs_env.url, "--actor-mbox", "tenk@example.com", "--json")
    assert json.loads(second.stdout)["sent"] == 0 and json.loads(second.stdout)["requests"] == 0
    assert len(read_back(lrs_env, "mailto:tenk@example.com")) == len(sent)

    mine = evidence_rows(store)
    monkeypatch.setenv("LEARNFLOW_HOME", str(tmp_path / "new-laptop"))
    lrs_answer = tmp_path / "from-lrs.json"
    lrs_answer.write_text(json.dumps({"statements": back, "more": ""}))
    t = time.perf_counter()
    imported = json.loads(cli("import", "--json", str(lrs_answer)).stdout)
    figures["import"] = time.perf_counter() - t
    assert imported["added"] == len(sent)
    from learnflow.db.store import Store

    assert evidence_rows(Store()) == mine
    print("\n10k figures (s): " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()) + f" for {len(sent)} statements")


def test_a_wrong_password_is_a_clear_error_with_exit_code_5(cli, store, real_lrs, monkeypatch):
    simulate_log(store, asks=3, checks=1, ratings=0, reflections=0)
    monkeypatch.setenv("LEARNFLOW_LRS_USER", real_lrs.user)
    monkeypatch.setenv("LEARNFLOW_LRS_PASSWORD", "not-the-password")
    result = cli("sync", "--lrs", real_lrs.url)
    assert result.exit_code == 5
    assert "refused the credentials (HTTP 401)" in result.stderr
    assert "LEARNFLOW_LRS_PASSWORD" in result.stderr  # the hint says where the password comes from
    assert not store.db.execute("SELECT count(*) FROM xapi_sent").fetchone()[0]


def test_an_lrs_refusal_names_the_statement_and_keeps_what_went_through(store, real_lrs):
    from learnflow.interop import xapi

    simulate_log(store, asks=8, checks=0, ratings=0, reflections=0)
    sts = xapi.build_statements(store, xapi.resolve_actor(store, mbox="refusal@example.com"))
    bad = {**sts[5], "verb": {"id": "not an iri"}}
    target = sync.Lrs(real_lrs.url, real_lrs.user, real_lrs.password)
    with pytest.raises(sync.LrsError) as err:
        sync.sync(store, sts[:5] + [bad] + sts[6:], target, batch=5)
    assert f"rejected statement {bad['id']} (HTTP 400)" in err.value.message and "verb.id" in err.value.message
    assert len(sync.acknowledged(store, target)) == 5  # the first batch is in, and recorded


@pytest.fixture(scope="module")
def voiding_lrs(tmp_path_factory):
    """The same LRS with its voiding at work (off in `real_lrs`, for speed)."""
    reason = lrs_available()
    if reason:
        pytest.skip(reason)
    server = start_lrs(tmp_path_factory.mktemp("lrs-voids"), voids=True)
    yield server
    server.stop()


def test_after_forget_and_sync_the_lrs_no_longer_returns_the_forgotten_statement(cli, store, voiding_lrs, monkeypatch):
    import uuid

    from learnflow.interop import xapi

    monkeypatch.setenv("LEARNFLOW_LRS_USER", voiding_lrs.user)
    monkeypatch.setenv("LEARNFLOW_LRS_PASSWORD", voiding_lrs.password)
    mbox = "forgetful@example.com"
    simulate_log(store, asks=5, checks=1, ratings=0, reflections=0)
    assert cli("config", "set", "xapi_actor_mbox", mbox).exit_code == 0  # forget's voidings carry the same actor as sync
    first = cli("sync", "--lrs", voiding_lrs.url)
    assert first.exit_code == 0, first.output
    gone = str(uuid.uuid5(xapi.namespace(store), "asked:2"))
    assert gone in {s["id"] for s in read_back(voiding_lrs, f"mailto:{mbox}")}

    forgot = cli("forget", "2")
    assert forgot.exit_code == 0 and "will be voided by the next `learnflow sync`" in forgot.stderr
    synced = cli("sync", "--lrs", voiding_lrs.url)
    assert synced.exit_code == 0 and "Voided 1 statements" in synced.stderr, synced.output
    back = read_back(voiding_lrs, f"mailto:{mbox}")
    assert gone not in {s["id"] for s in back}  # a plain GET no longer returns it (xAPI 1.0.3, 2.2)
    [voiding] = [s for s in back if s["verb"]["id"] == xapi.VOIDED]
    assert voiding["object"] == {"objectType": "StatementRef", "id": gone}
    client = sync.Client(sync.Lrs(voiding_lrs.url, voiding_lrs.user, voiding_lrs.password))
    try:  # still there for who asks for it by name, marked voided: the LRS keeps it, it just stops serving it
        assert client.request("GET", voiding_lrs.url + f"statements?voidedStatementId={gone}")[0] == 200
    finally:
        client.close()
