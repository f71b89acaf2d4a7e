"""The log: migrations on a blank and an older database, FTS, WAL, permissions."""

import sqlite3
import stat
import threading

import pytest
from sqlite_utils import Database

from learnflow.db import migrations
from learnflow.db.store import SkillTag, Store
from learnflow.errors import DatabaseError, NotFound


def test_blank_database_gets_every_migration_and_wal(home):
    s = Store()
    applied = [m.name for m in migrations.migrations.applied(s.db)]
    assert applied == [m.name for m in migrations.migrations._migrations]
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    assert {"conversations", "interactions", "interaction_skills", "interactions_fts"} <= set(s.db.table_names())


def test_database_and_folder_are_private(home):
    s = Store()
    assert stat.S_IMODE(s.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(s.path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("stop_before", [m.name for m in migrations.migrations._migrations[1:]] or [None])
def test_upgrade_from_each_older_schema_keeps_rows(home, stop_before):
    """A database left at an older schema is upgraded in place; its rows survive."""
    path = home / "learnflow.db"
    home.mkdir(parents=True)
    db = Database(path)
    migrations.migrations.apply(db, stop_before=stop_before)
    cid = db["conversations"].insert({"created_at": "2026-01-01T00:00:00Z", "title": "old"}).last_pk
    db["interactions"].insert(
        {"conversation_id": cid, "created_at": "2026-01-01T00:00:00Z", "question": "how do I rebase?",
         "answer": "git rebase main", "status": "ok"}
    )  # fmt: skip
    db.conn.close()
    s = Store(path)
    assert [m.name for m in migrations.migrations.pending(s.db)] == []
    assert s.history(query="rebase")[0]["answer"] == "git rebase main"


def test_database_from_a_newer_learnflow_is_refused_untouched(home):
    home.mkdir(parents=True)
    path = home / "learnflow.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="newer learnflow"):
        Store(path)
    assert path.read_bytes() == before


def test_corrupt_file_gives_a_clear_error_and_is_not_overwritten(home):
    home.mkdir(parents=True)
    path = home / "learnflow.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="cannot be opened") as exc:
        Store(path)
    assert "doctor" in exc.value.hint
    assert path.read_bytes() == b"this is not a database" * 100


def test_question_is_stored_before_the_answer(store):
    cid = store.new_conversation("q")
    iid = store.begin_interaction(conversation_id=cid, question="why is the sky blue?")
    row = store.get(iid)
    assert row["status"] == "pending" and row["answer"] is None
    store.finish_interaction(iid, answer="Rayleigh scattering", status="ok")
    assert store.get(iid)["status"] == "ok"


def test_history_search_filters_and_skills(store):
    cid = store.new_conversation("x")
    a = store.begin_interaction(conversation_id=cid, question="How do I rebase onto main?", status="ok")
    store.finish_interaction(a, answer="git rebase main", status="ok")
    store.set_skills(a, [SkillTag("git", 1.0, "offline")])
    b = store.begin_interaction(conversation_id=cid, question="Explain SQL joins")
    store.set_skills(b, [SkillTag("sql", 0.9, "model")])
    assert [r["id"] for r in store.history(query="rebase")] == [a]
    assert [r["id"] for r in store.history(skill="sql")] == [b]
    assert [r["id"] for r in store.history()] == [b, a]
    assert store.history(query='"; DROP TABLE interactions; --') == []  # FTS syntax is quoted
    assert store.get(b)["skills"] == [{"skill": "sql", "relevance": 0.9, "method": "model"}]


def test_related_answers_rank_past_model_answers(store):
    cid = store.new_conversation("x")
    for q, a in [("undo last git commit", "use git reset --soft HEAD~1"), ("docker image size", "multi-stage builds")]:
        i = store.begin_interaction(conversation_id=cid, question=q, backend="openai")
        store.finish_interaction(i, answer=a, status="ok")
    related = store.related_answers("how to undo a commit in git")
    assert related and related[0]["answer"] == "use git reset --soft HEAD~1"


def test_show_missing_id_is_not_found(store):
    with pytest.raises(NotFound):
        store.get(999)


def test_abandoned_pending_rows_are_closed_as_interrupted(store):
    cid = store.new_conversation("x")
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    iid = store.begin_interaction(conversation_id=cid, question="killed mid-answer", pid=dead_pid)
    assert store.mark_abandoned() == 1
    row = store.get(iid)
    assert row["status"] == "interrupted" and "ended before" in row["error"]


def test_store_knows_the_schema_version_without_importing_migrations():
    from learnflow.db import store

    assert store.SCHEMA_VERSION == migrations.SCHEMA_VERSION


def test_an_up_to_date_database_opens_without_sqlite_utils(home):
    """The hot path (ask, history) must not pay sqlite-utils' import."""
    import subprocess
    import sys

    Store().close()
    code = "import sys; from learnflow.db.store import Store; s = Store(); s.history(); print('sqlite_utils' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- named queries in db/ ---------------------------------------------------------------


def test_goals_upsert_replaces_the_row_and_delete_says_whether_there_was_one(store):
    from learnflow.db import goals

    row = {"skill": "git", "target": 0.6, "importance": 1.0, "source": "role:x", "updated_at": "t1"}
    goals.upsert_goals(store, [row])
    goals.upsert_goals(store, [{**row, "target": 0.9, "source": "user", "updated_at": "t2"}])
    assert goals.all_goals(store) == [("git", 0.9, 1.0, "user", "t2")]
    assert goals.delete_goal(store, "git") and not goals.delete_goal(store, "git")


def test_statement_keys_are_read_only_from_statement_tables(store):
    from learnflow.db import xapi

    assert xapi.row_ids(store, "interactions") == []
    with pytest.raises(ValueError):
        xapi.row_ids(store, "goals; DROP TABLE goals")


def test_salvaged_rows_keep_known_tables_and_columns_only(store):
    from learnflow.db import admin

    salvaged = admin.restore_rows(store, {
        "conversations": [{"id": 7, "created_at": "t", "title": "kept", "gone_column": 1}],
        "a_table_of_an_old_extension": [{"x": 1}],
        "tasks": [],
    })  # fmt: skip
    assert salvaged == {"conversations": 1}
    assert store.query("SELECT id, title FROM conversations") == [{"id": 7, "title": "kept"}]


def test_upgrade_keeps_the_id_high_water_mark_even_past_rows_forgotten_after_a_sync(home):
    """m009: a log from before it gets its high-water marks from the ids it holds and, for statement
    tables, from the statements an LRS acknowledged for rows forgotten since (they must not come back)."""
    import uuid

    path = home / "learnflow.db"
    home.mkdir(parents=True)
    db = Database(path)
    migrations.migrations.apply(db, stop_before="m009_ids_never_reused")
    cid = db["conversations"].insert({"created_at": "2026-01-01T00:00:00Z", "title": "old"}).last_pk
    for i in range(1, 8):
        db["interactions"].insert(
            {"id": i, "conversation_id": cid, "created_at": "2026-01-01T00:00:00Z", "question": f"q{i}", "status": "ok"}
        )
    for _ in range(1, 5):
        db["evidence"].insert({"ts": 1.0, "skill": "git", "kind": "check", "value": 1.0})
    ns = uuid.uuid4()
    db["xapi_meta"].insert({"key": "namespace", "value": str(ns)})
    # #6 and #7 were synced, then forgotten (before m009 the next ask would have been #6 again).
    db.execute("INSERT INTO xapi_sent VALUES ('http://lrs/xapi/', ?, 'x')", [str(uuid.uuid5(ns, "asked:7"))])
    db.execute("DELETE FROM interactions WHERE id >= 6")
    db.execute("DELETE FROM evidence WHERE id = 4")  # nothing says #4 was sent: the mark is the highest left
    db.conn.commit()
    db.conn.close()

    s = Store(path)
    assert s.begin_interaction(conversation_id=cid, question="new") == 8
    s.add_evidence([{"skill": "git", "kind": "check", "value": 1.0}])
    assert s.conn.execute("SELECT max(id) FROM evidence").fetchone()[0] == 4
    assert s.history(limit=10)[-1]["question"] == "q1" and s.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert s.history(query="q5")[0]["id"] == 5  # the full-text index was rebuilt with the table's triggers intact
    s.conn.execute("DELETE FROM interactions WHERE id = 8")
    s.conn.commit()
    assert s.begin_interaction(conversation_id=cid, question="newer") == 9
    assert [r["id"] for r in s.history(query="newer")] == [9]  # the rebuilt table's FTS triggers index new rows


def test_a_first_open_waits_for_another_process_writing_to_a_new_log(home):
    # A new log is still in rollback mode; switching it to WAL while another connection holds the write
    # lock fails at once with "database is locked" (SQLite skips the busy handler there). Sixteen first
    # runs at once hit this (tests/test_forget.py, CI); opening must wait its turn instead.
    path = home / "learnflow.db"
    home.mkdir(mode=0o700)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE elsewhere (x)")
    release = threading.Timer(0.4, other.execute, ["COMMIT"])
    release.start()
    try:
        store = Store(path)
    finally:
        release.join()
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
