"""xAPI export and import: statement shapes, stable ids, privacy, actor choice, the round trip."""

import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lrs"))

from testkit import evidence_rows, ralph_available, ralph_validate, simulate_log  # noqa: E402

from learnflow.interop import xapi  # noqa: E402
from learnflow.interop.imports import evidence_of, import_statements, parse_statements  # noqa: E402

ADL_ASKED = "http://adlnet.gov/expapi/verbs/asked"
ADL_ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
ADL_PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"


def build(store, **kw):
    return xapi.build_statements(store, xapi.resolve_actor(store), **kw)


def by_verb(statements, verb):
    return [s for s in statements if s["verb"]["id"] == xapi.VERBS[verb]]


def switch_home(monkeypatch, path):
    """Point learnflow at another (empty) home, as a second machine would be."""
    monkeypatch.setenv("LEARNFLOW_HOME", str(path))


def test_every_kind_of_record_becomes_a_statement_with_skills_as_context(store):
    simulate_log(store, asks=6, checks=4, ratings=2, reflections=1)
    sts = build(store)
    verbs = {s["verb"]["id"] for s in sts}
    assert {ADL_ASKED, ADL_ANSWERED, ADL_PROGRESSED, xapi.VERBS["reflected"], xapi.VERBS["self-assessed"]} <= verbs
    for s in sts:
        acts = s["context"]["contextActivities"]
        assert acts["category"][0]["id"] == "https://learnflow.dev/xapi/profile"
        assert s["context"]["platform"] == "learnflow"
    answered = by_verb(sts, "answered")[0]
    assert isinstance(answered["result"]["success"], bool)
    assert 1 <= answered["result"]["extensions"][xapi.EXT["confidence"]] <= 5
    skill = answered["context"]["contextActivities"]["other"][0]
    assert skill["id"].startswith("https://learnflow.dev/xapi/skills/")
    assert skill["definition"]["type"] == "https://learnflow.dev/xapi/activity-types/skill"
    rating = by_verb(sts, "self-assessed")[0]["result"]["score"]
    assert rating["min"] == 1 and rating["max"] == 5 and rating["scaled"] == (rating["raw"] - 1) / 4
    for snap in by_verb(sts, "progressed"):
        assert 0 < snap["result"]["score"]["scaled"] < 1
        assert snap["object"]["id"] == snap["context"]["contextActivities"]["other"][0]["id"]


def test_ids_are_stable_across_exports_and_differ_between_installs(store, home, monkeypatch, tmp_path):
    simulate_log(store, asks=5, checks=3, ratings=1, reflections=1)
    first, again = build(store), build(store)
    assert [s["id"] for s in first] == [s["id"] for s in again]
    assert first == again  # same content too: an LRS stores a re-export once
    assert len({s["id"] for s in first}) == len(first)
    switch_home(monkeypatch, tmp_path / "other")
    from learnflow.db.store import Store

    other = Store()
    simulate_log(other, asks=5, checks=3, ratings=1, reflections=1)
    assert not {s["id"] for s in first} & {s["id"] for s in build(other)}


def test_a_new_snapshot_only_when_evidence_changed(store):
    simulate_log(store, asks=3, checks=2, ratings=0, reflections=1)
    before = {s["id"] for s in by_verb(build(store), "progressed")}
    assert before == {s["id"] for s in by_verb(build(store), "progressed")}
    store.add_evidence([{"skill": "sql", "kind": "check", "value": 1.0}])
    after = {s["id"] for s in by_verb(build(store), "progressed")}
    assert len(after - before) == 1  # only sql's snapshot is new


def test_no_text_leaves_the_machine_unless_asked_for(cli, store, tmp_path):
    cli("ask", "How do I undo my last git commit but keep the changes?")
    simulate_log(store, asks=2, checks=2, ratings=1, reflections=1)
    plain = tmp_path / "plain.json"
    assert cli("export", "-o", str(plain)).exit_code == 0
    text = plain.read_text()
    for secret in ("undo my last git commit", "git reset", "my answer", "what does", "a day of work", "keep going"):
        assert secret not in text
    assert (plain.stat().st_mode & 0o777) == 0o600
    full = tmp_path / "full.json"
    cli("export", "--include-text", "-o", str(full))
    sts = json.loads(full.read_text())
    asked = [s for s in sts if "undo my last git commit" in json.dumps(s)][0]
    assert asked["object"]["definition"]["description"]["und"].startswith("How do I undo")
    assert "git reset" in asked["result"]["extensions"][xapi.EXT["answer"]]
    assert any(s["result"].get("response") == "my answer" for s in by_verb(sts, "answered"))


def test_a_real_ask_is_exported_with_its_skills(cli, tmp_path):
    cli("ask", "How do I undo my last git commit but keep the changes?")
    sts = json.loads(cli("export").stdout)
    asked = [s for s in sts if s["verb"]["id"] == ADL_ASKED]
    assert len(asked) == 1
    assert asked[0]["context"]["contextActivities"]["other"][0]["id"] == "https://learnflow.dev/xapi/skills/git"
    assert evidence_of(asked[0])[0]["kind"] == "question_how"


def test_actor_is_a_stable_pseudonym_unless_chosen(cli, home):
    cli("ask", "how do I rebase?")
    one = json.loads(cli("export").stdout)[0]["actor"]
    two = json.loads(cli("export").stdout)[0]["actor"]
    assert one == two and one["account"]["homePage"] == "https://learnflow.dev/xapi/pseudonym"
    assert one["account"]["name"].startswith("lf-") and "name" not in one
    by_mail = json.loads(cli("export", "--actor-mbox", "ada@example.com", "--actor-name", "Ada").stdout)[0]["actor"]
    assert by_mail == {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text('xapi_actor_homepage = "https://sso.example.com"\nxapi_actor_account = "ada.l"\n')
    by_config = json.loads(cli("export").stdout)[0]["actor"]
    assert by_config["account"] == {"homePage": "https://sso.example.com", "name": "ada.l"}
    bad = cli("export", "--actor-mbox", "not-an-address")
    assert bad.exit_code == 3 and "not an e-mail address" in bad.stderr


def test_round_trip_into_an_empty_home_gives_the_same_evidence_and_profile(cli, store, monkeypatch, tmp_path):
    from learnflow.db.store import Store
    from learnflow.learner.gaps import build_report

    simulate_log(store, asks=120, checks=60, ratings=12, reflections=6)
    store.add_evidence([{"skill": "shell", "kind": "check", "value": 1.0, "source": "some_future_table", "source_id": 7}])
    store.add_evidence([{"skill": "shell", "kind": "self_rating", "value": 0.5}])  # no source at all
    export = tmp_path / "me.json"
    assert cli("export", "-o", str(export)).exit_code == 0
    now = time.time()
    mine, profile = evidence_rows(store), _profile(build_report(store, now=now))
    daily = store.db.execute("SELECT * FROM evidence_daily ORDER BY skill, day, kind").fetchall()

    switch_home(monkeypatch, tmp_path / "laptop")
    result = cli("import", str(export))
    assert result.exit_code == 0 and "Imported" in result.stderr
    other = Store()
    assert evidence_rows(other) == mine
    assert other.db.execute("SELECT * FROM evidence_daily ORDER BY skill, day, kind").fetchall() == daily
    assert _profile(build_report(other, now=now)) == profile
    assert {r[0] for r in other.db.execute("SELECT DISTINCT source FROM evidence")} == {"xapi"}


def _profile(report) -> dict:
    """What `gaps` says, minus the next-step suggestions (they also read the cards on this machine)."""
    d = report.to_dict()
    for s in d["skills"]:
        s.pop("next_step", None)
    return d


def test_import_is_idempotent_and_never_reimports_this_logs_own_statements(cli, store, monkeypatch, tmp_path):
    simulate_log(store, asks=10, checks=5, ratings=2, reflections=1)
    export = tmp_path / "me.json"
    cli("export", "-o", str(export))
    n = len(json.loads(export.read_text()))
    before = evidence_rows(store)
    assert "from this log" in cli("import", str(export)).stderr
    assert evidence_rows(store) == before  # its own evidence is already here: nothing doubled

    switch_home(monkeypatch, tmp_path / "laptop")
    first = json.loads(cli("import", "--json", str(export)).stdout)
    again = json.loads(cli("import", "--json", str(export)).stdout)
    assert first["added"] == n and first["people"] == 1
    assert again == {"added": 0, "evidence": 0, "known": n, "own": 0, "invalid": 0, "people": 0, "problems": {}, "examples": []}


def test_imported_statements_are_passed_on_unchanged_by_the_next_export(cli, store, monkeypatch, tmp_path):
    simulate_log(store, asks=4, checks=2, ratings=1, reflections=1)
    export = tmp_path / "me.json"
    cli("export", "-o", str(export))
    original = {s["id"]: s for s in json.loads(export.read_text())}
    switch_home(monkeypatch, tmp_path / "laptop")
    cli("import", str(export))
    again = {s["id"]: s for s in json.loads(cli("export").stdout)}
    assert original.items() <= again.items()  # same ids, same content: an LRS keeps one copy


def test_import_reads_lrs_answers_json_lines_and_other_tools_statements(store, tmp_path):
    foreign = {
        "id": "0f3c6a1e-6d9f-4b8e-9a53-3f5e1c2d4b6a",
        "actor": {"mbox": "mailto:ada@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": {"id": "https://lms.example.com/course/sql-101"},
        "context": {"contextActivities": {"other": [{"id": "https://learnflow.dev/xapi/skills/sql"}]}},
        "result": {"score": {"scaled": 0.9}},
        "timestamp": "2026-03-01T10:00:00Z",
        "stored": "2026-03-01T10:00:01Z",
    }
    sts = parse_statements(json.dumps({"statements": [foreign], "more": ""}))
    result = import_statements(store, sts)
    assert result.added == 1 and result.evidence == 1
    row = store.db.execute("SELECT skill, kind, value, source FROM evidence").fetchone()
    assert row == ("sql", "imported", 0.9, "xapi")
    lines = "\n".join(json.dumps({**foreign, "id": f"0f3c6a1e-6d9f-4b8e-9a53-3f5e1c2d4b6{i}"}) for i in range(3))
    assert len(parse_statements(lines)) == 3
    kept = json.loads(store.db.execute("SELECT statement FROM xapi_imported").fetchone()[0])
    assert "stored" not in kept  # the LRS's own field is not passed on


def test_import_reports_its_progress_and_ends_at_the_total(store):
    sts = [
        {
            "id": f"0f3c6a1e-6d9f-4b8e-9a53-{i:012d}",
            "actor": {"mbox": "mailto:ada@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": "https://learnflow.dev/xapi/skills/sql"},
            "result": {"score": {"scaled": 0.5}},
            "timestamp": "2026-03-01T10:00:00Z",
        }
        for i in range(2500)
    ]
    seen = []
    result = import_statements(store, sts, progress=lambda done, total: seen.append((done, total)))
    assert result.added == 2500
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "is empty"),
        ("{not json", "is not JSON"),
        ('{"hello": 1}', "does not hold xAPI statements"),
        ("[1, 2]", "does not hold"),
    ],
)
def test_import_of_something_else_is_bad_input(cli, tmp_path, content, message):
    f = tmp_path / "x.json"
    f.write_text(content)
    result = cli("import", str(f))
    assert result.exit_code == 3 and message in result.stderr


def test_import_of_a_missing_file_is_bad_input(cli):
    result = cli("import", "/nonexistent/statements.json")
    assert result.exit_code == 3 and "File not found" in result.stderr


def test_csv_and_json_give_one_flat_row_per_statement(cli, store):
    simulate_log(store, asks=3, checks=2, ratings=1, reflections=1)
    n = len(json.loads(cli("export").stdout))
    rows = json.loads(cli("export", "--format", "json").stdout)
    assert len(rows) == n and {"id", "verb", "skills", "success", "score", "confidence"} <= set(rows[0])
    assert {r["verb"] for r in rows} >= {"asked", "answered", "self-assessed", "reflected", "progressed"}
    assert all(r["question"] is None for r in rows)
    csv_lines = cli("export", "--format", "csv").stdout.splitlines()
    assert csv_lines[0].startswith("id,timestamp,verb,actor") and len(csv_lines) == n + 1
    assert cli("export", "--format", "yaml").exit_code == 3


def test_since_keeps_only_recent_statements(cli, store):
    simulate_log(store, asks=30, checks=0, ratings=0, reflections=0, start=time.time() - 10 * 86400)
    everything = json.loads(cli("export").stdout)
    recent = json.loads(cli("export", "--since", "2d").stdout)
    assert 0 < len(recent) < len(everything)
    cut = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 2 * 86400 - 60))
    assert all(s["timestamp"] >= cut for s in recent)


def test_a_pending_ask_waits_until_it_is_finished(store):
    cid = store.new_conversation("x")
    iid = store.begin_interaction(conversation_id=cid, question="how do I grep?", pid=0)
    store.replace_evidence("interactions", iid, [{"skill": "shell", "kind": "question_how", "value": 1.0}])
    assert not by_verb(build(store), "asked") and not by_verb(build(store), "evidenced")
    store.finish_interaction(iid, status="ok", answer="grep -r")
    assert len(by_verb(build(store), "asked")) == 1


# -- an independent implementation: ralph's xAPI statement model ----------------------------


@pytest.fixture(scope="module")
def ralph():
    reason = ralph_available()
    if reason:
        pytest.skip(reason)
    return ralph_validate


def test_every_exported_statement_is_valid_xapi_for_ralph(ralph, store):
    simulate_log(store, asks=60, checks=40, ratings=10, reflections=5)
    store.add_evidence([{"skill": "shell", "kind": "check", "value": 1.0, "source": "some_future_table", "source_id": 7}])
    _a_check_outside_any_reflection(store)
    sts = build(store) + build(store, include_text=True)
    assert any("parent" not in st.get("context", {}).get("contextActivities", {}) for st in sts if st["verb"]["id"].endswith("answered"))
    report = ralph(sts)
    assert report["checked"] == len(sts)
    assert report["invalid_count"] == 0, report["invalid"]


def _a_check_outside_any_reflection(store):
    """What `learnflow check` writes: a probe answered with no reflection around it."""
    from datetime import UTC, datetime

    from learnflow.learner.goals import set_goal
    from learnflow.practice import checks, judging, review

    set_goal(store, "regex", 0.8)
    now = datetime.now(UTC)
    probe = review.pick_checks(store, [], now)[0]
    checks.record(store, reflection_id=None, check=probe, answer="no idea", confidence=2,
                  judgement=judging.judge_keywords(probe, "no idea"), seconds=9.0, now=now)  # fmt: skip


def test_ralph_does_reject_a_broken_statement(ralph, store):
    """The validator is live, not a pass-through: an empty value and a bad IRI are refused."""
    simulate_log(store, asks=1, checks=0, ratings=0, reflections=0)
    good = build(store)[0]
    broken = [
        {**good, "verb": {"id": "not an iri"}},
        {**good, "result": {"response": ""}},
    ]
    assert ralph(broken)["invalid_count"] == 2


def test_the_log_schema_has_the_sync_tables(store):
    tables = set(store.db.table_names())
    assert {"xapi_meta", "xapi_sent", "xapi_imported"} <= tables
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("INSERT INTO xapi_imported (statement_id, statement) VALUES ('a', '{}'), ('a', '{}')")


def test_importing_several_peoples_statements_says_so(cli, store, tmp_path):
    simulate_log(store, asks=2, checks=0, ratings=0, reflections=0)
    sts = build(store)
    other = [{**s, "id": s["id"][:-1] + ("0" if s["id"][-1] != "0" else "1"), "actor": {"mbox": "mailto:bob@example.com"}} for s in sts]
    f = tmp_path / "mixed.json"
    f.write_text(json.dumps(other + [{**o, "id": o["id"][:-2] + "ff", "actor": {"mbox": "mailto:cy@example.com"}} for o in other]))
    result = cli("import", str(f))
    assert result.exit_code == 0 and "from 2 different people" in result.stderr and "learnflow team" in result.stderr
