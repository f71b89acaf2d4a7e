"""The local log: one SQLite file, owned by this module.

Every ask is written *before* the backend is called (status `pending`) and
finished afterwards with the answer, or the partial answer and a status, so a
crash, a Ctrl-C or a backend failure never loses the question.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from learnflow import paths
from learnflow.db.search import fts_query
from learnflow.errors import DatabaseError, NotFound
from learnflow.timespec import now_iso

# `lf` opens the store on every command typed (cli/quickrun.py): neither typing nor dataclasses
# (which imports inspect, ~7 ms) is imported at run time, so SkillTag is a plain class.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sqlite_utils import Database


class SkillTag:
    __slots__ = ("skill", "relevance", "method")

    def __init__(self, skill: str, relevance: float, method: str) -> None:
        self.skill, self.relevance = skill, relevance
        self.method = method  # model | offline | user

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SkillTag) and (self.skill, self.relevance, self.method) == (other.skill, other.relevance, other.method)

    def __repr__(self) -> str:
        return f"SkillTag(skill={self.skill!r}, relevance={self.relevance!r}, method={self.method!r})"


# The number of migrations in migrations.py (a test keeps the two in step). Knowing it
# here lets an up-to-date database open without importing sqlite-utils, which costs
# ~60 ms of every command: the hot path (ask, history) talks to sqlite3 directly.
SCHEMA_VERSION = 11
# How long a process waits for another one holding the log's write lock (sqlite3 timeout, busy_timeout).
_BUSY_SECONDS = 30
# Evidence rows name their source row (source, source_id); these sources are tables of the log.
_SOURCE_TABLES = frozenset({"interactions", "tasks", "check_results", "skill_ratings", "flags", "reflections"})


def marks(values) -> str:
    """`?, ?, ?`: one SQL parameter placeholder per value."""
    return ", ".join("?" * len(values))


def _dict_rows(cursor: sqlite3.Cursor) -> list[dict]:
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row)) for row in cursor.fetchall()]


class Store:
    """Open (creating and migrating as needed) the learnflow database.

    `conn` is the sqlite3 connection every query in db/ goes through; `db` wraps
    it in sqlite-utils' Database for the migrations (created on first use).
    """

    def __init__(self, path: Path | str | None = None):
        self._db: Database | None = None
        # Why the log can only be read here (a full disk, a read-only folder), or None.
        self.read_only: str | None = None
        self._read_only_kind = ""
        self.not_kept: list[str] = []  # what a read-only run made up and could not keep (e.g. the xAPI namespace)
        if str(path) == ":memory:":
            self.path = Path(":memory:")
            self.conn = sqlite3.connect(":memory:", check_same_thread=False)
            self._migrate()
            return
        self.path = Path(path) if path else paths.db_path()
        paths.ensure_private_dir(self.path.parent)
        existed = self.path.exists()
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, check_same_thread=False)
            # Read-only checks first: a file we must refuse is never written to.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if not existed or fault_kind(exc) not in ("full", "read_only", "io"):
                raise database_error(exc, self.path, doing="Cannot open") from None
            # A full disk or a read-only folder: SQLite cannot create the WAL index (-shm) it
            # needs even to read. The log is still readable; writes say why they cannot happen.
            conn, version = self._open_read_only(exc)
        if not existed:
            self.path.chmod(0o600)
        if version > SCHEMA_VERSION:
            conn.close()
            raise DatabaseError(
                f"The log at {self.path} was written by a newer learnflow (schema {version}, this one knows {SCHEMA_VERSION}).",
                hint="Upgrade learnflow (pip install -U learnflow); the file was left untouched.",
            )
        self.conn = conn
        if self.read_only is not None:
            if version < SCHEMA_VERSION:
                raise DatabaseError(
                    f"The log at {self.path} needs an upgrade to schema {SCHEMA_VERSION}, but {self.read_only}.",
                    hint=_HINTS[self._read_only_kind],
                )
            return
        # Switching a new log to WAL while another process holds its write lock fails at once with
        # "database is locked": SQLite does not call the busy handler there (it could deadlock). Several
        # first runs at once (parallel asks on a new machine) meet this, so the preparation, which is
        # idempotent, is tried again until the same 30 s busy_timeout has passed.
        deadline = time.monotonic() + _BUSY_SECONDS
        pause = 0.005
        while True:
            try:
                # WAL lets readers (history, Datasette) run while an answer streams in.
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
                if version < SCHEMA_VERSION:
                    self._migrate()
                return
            except sqlite3.DatabaseError as exc:
                if not is_fault(exc):
                    raise
                if fault_kind(exc) != "busy" or time.monotonic() + pause > deadline:
                    raise database_error(exc, self.path, doing="Cannot prepare") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.25)

    def _open_read_only(self, cause: sqlite3.DatabaseError) -> tuple[sqlite3.Connection, int]:
        """The log opened for reading only, after a read-write open failed with `cause`.

        `mode=ro` reads the WAL when its index (-shm) exists. Without one, and with no folder
        or disk space to create it, only `immutable=1` can read the file: exact when the WAL is
        empty (a log whose last connection closed cleanly); otherwise changes still in the WAL
        are not seen until the log is writable again (docs/reliability.md).
        """
        self._read_only_kind = fault_kind(cause)
        self.read_only = f"{_WHAT[self._read_only_kind]}, so it can be read but not written"
        wal = self.path.with_name(self.path.name + "-wal")
        for query in ("mode=ro", "mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(f"{self.path.absolute().as_uri()}?{query}", uri=True, timeout=_BUSY_SECONDS, check_same_thread=False)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if query.endswith("immutable=1") and wal.exists() and wal.stat().st_size:
                    self.read_only += " (changes still in its -wal file are not shown)"
                return conn, version
            except sqlite3.DatabaseError as exc:
                if fault_kind(exc) == "damaged":
                    raise database_error(exc, self.path, doing="Cannot open") from None
        raise database_error(cause, self.path, doing="Cannot open") from None

    def _migrate(self) -> None:
        from learnflow.db import migrations

        migrations.apply(self.db)

    @property
    def db(self):
        """sqlite-utils' view of the same connection, for migrations (imported on first use)."""
        if self._db is None:
            from sqlite_utils import Database

            # No plugin scan: learnflow uses none, and the scan reads every installed package.
            self._db = Database(self.conn, execute_plugins=False)
        return self._db

    def close(self) -> None:
        self.conn.close()

    def query(self, sql: str, params: Iterable = ()) -> list[dict]:
        """Rows as dicts, straight from sqlite3."""
        return _dict_rows(self.conn.execute(sql, list(params) if not isinstance(params, dict) else params))

    # -- writes -----------------------------------------------------------

    def _write(self, fn):
        """Run `fn` in one IMMEDIATE transaction.

        IMMEDIATE takes the write lock up front, so concurrent learnflow
        processes queue on busy_timeout instead of failing with "database is
        locked" when a read-then-write transaction cannot be upgraded.
        """
        conn = self.conn
        if conn.in_transaction:  # nested: the outer transaction already holds the lock
            conn.execute("SAVEPOINT learnflow_write")
            try:
                result = fn()
            except BaseException:
                conn.execute("ROLLBACK TO SAVEPOINT learnflow_write")
                conn.execute("RELEASE SAVEPOINT learnflow_write")
                raise
            conn.execute("RELEASE SAVEPOINT learnflow_write")
            return result
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn()
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return result
        except sqlite3.IntegrityError as exc:
            if "FOREIGN KEY" not in str(exc):
                raise
            # A row this write refers to is gone: `learnflow forget` ran meanwhile in another process.
            raise NotFound(f"What this refers to was deleted meanwhile ({exc}).", hint="Was `learnflow forget` run? Try again.") from None
        except sqlite3.DatabaseError as exc:
            if not is_fault(exc):
                raise
            if self.read_only is not None:
                raise DatabaseError(
                    f"Cannot write to the log at {self.path}: {self.read_only}. Nothing was written.", hint=_HINTS[self._read_only_kind]
                ) from None
            raise database_error(exc, self.path, doing="Cannot write to") from None

    def _insert(self, table: str, row: dict) -> int:
        cols = ", ".join(f"[{c}]" for c in row)
        rowid = self.conn.execute(f"INSERT INTO [{table}] ({cols}) VALUES ({marks(row)})", list(row.values())).lastrowid
        assert rowid is not None  # always set after a one-row INSERT
        return rowid

    def _insert_many(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        sql = f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) VALUES ({marks(cols)})"
        self.conn.executemany(sql, [[r.get(c) for c in cols] for r in rows])

    def new_conversation(self, title: str) -> int:
        return self._write(lambda: self._insert("conversations", {"created_at": now_iso(), "title": title[:200]}))

    def begin_interaction(self, **fields: Any) -> int:
        """Record the question before anything else happens.

        Continuing a conversation that a concurrent `forget` removed is NotFound, not a failed constraint.
        """
        row = {"created_at": now_iso(), "status": "pending", **fields}

        def write() -> int:
            if row.get("conversation_id") is not None and not self.conversation_exists(row["conversation_id"]):
                raise NotFound(f"Conversation {row['conversation_id']} was forgotten meanwhile.", hint="Ask without -c/--cid.")
            return self._insert("interactions", row)

        return self._write(write)

    def begin_conversation(self, title: str, **fields: Any) -> tuple[int, int]:
        """Start a conversation with its first question, in one transaction; (conversation id, interaction id).

        A conversation never exists without its first turn, so a concurrent `forget`, which removes
        conversations left without turns, cannot take it from under an ask that is about to write.
        """
        row = {"created_at": now_iso(), "status": "pending", **fields}

        def write() -> tuple[int, int]:
            cid = self._insert("conversations", {"created_at": row["created_at"], "title": title[:200]})
            return cid, self._insert("interactions", {**row, "conversation_id": cid})

        return self._write(write)

    def update_interaction(self, interaction_id: int, **fields: Any) -> None:
        sets = ", ".join(f"[{k}] = ?" for k in fields)
        self._write(lambda: self.conn.execute(f"UPDATE interactions SET {sets} WHERE id = ?", [*fields.values(), interaction_id]))

    def finish_interaction(self, interaction_id: int, **fields: Any) -> None:
        self.update_interaction(interaction_id, finished_at=now_iso(), **fields)

    def mark_abandoned(self) -> int:
        """Close rows left `pending` by a process that no longer exists (killed, crashed)."""
        import os

        stale = []
        for row in self.query("SELECT id, pid FROM interactions WHERE status = 'pending'"):
            pid = row["pid"]
            if pid == os.getpid():
                continue
            try:
                if pid:
                    os.kill(pid, 0)
                    continue  # still running: another ask in progress
            except ProcessLookupError:
                pass
            except PermissionError:
                continue  # exists, owned by someone else
            stale.append(row["id"])
        for rid in stale:
            self.finish_interaction(rid, status="interrupted", error="the learnflow process ended before the answer was complete or saved")
        return len(stale)

    def _exists(self, table: str, row_id: int) -> bool:
        return self.conn.execute(f"SELECT 1 FROM [{table}] WHERE id = ?", [row_id]).fetchone() is not None

    def set_skills(self, interaction_id: int, tags: Iterable[SkillTag]) -> None:
        def write():
            self.conn.execute("DELETE FROM interaction_skills WHERE interaction_id = ?", [interaction_id])
            if not self._exists("interactions", interaction_id):
                return  # forgotten while it was being answered: forget wins, nothing of it is written back
            self._insert_many(
                "interaction_skills",
                [
                    {"interaction_id": interaction_id, "skill": t.skill, "relevance": round(t.relevance, 3), "method": t.method}
                    for t in tags
                ],
            )

        self._write(write)

    def add_evidence(self, rows: Iterable[dict]) -> None:
        """Append evidence rows: {ts?, skill, kind, value?, source?, source_id?}."""
        import time

        now = time.time()
        batch = [{"ts": now, "skill": None, "kind": None, "value": None, "source": None, "source_id": None, **r} for r in rows]
        if batch:
            self._write(lambda: self._insert_many("evidence", batch))

    def replace_evidence(self, source: str, source_id: int, rows: list[dict]) -> None:
        """Evidence derived from one source row, replaced as a whole (e.g. re-tagged)."""
        import time

        now = time.time()

        def write():
            self.conn.execute("DELETE FROM evidence WHERE source = ? AND source_id = ?", [source, source_id])
            if source in _SOURCE_TABLES and not self._exists(source, source_id):
                return  # its source row was forgotten meanwhile: no evidence may outlive it
            self._insert_many(
                "evidence",
                [{"ts": now, "skill": None, "kind": None, "value": None, **r, "source": source, "source_id": source_id} for r in rows],
            )

        self._write(write)

    def link_task(self, task_id: int, interaction_id: int) -> None:
        # Either side may have been forgotten meanwhile: then there is nothing to link.
        self._write(
            lambda: self.conn.execute(
                "UPDATE tasks SET interaction_id = ? WHERE id = ? AND EXISTS (SELECT 1 FROM interactions WHERE id = ?)",
                [interaction_id, task_id, interaction_id],
            )
        )

    def get_task(self, task_id: int | None = None) -> dict:
        """One task; by default the last one that failed."""
        if task_id is None:
            rows = self.query("SELECT * FROM tasks WHERE exit_code != 0 ORDER BY id DESC LIMIT 1")
            if not rows:
                raise NotFound("No failed command recorded yet.", hint="Run commands through `learnflow run -- CMD` (alias `lf`).")
            return rows[0]
        rows = self.query("SELECT * FROM tasks WHERE id = ?", [task_id])
        if not rows:
            raise NotFound(f"No task with id {task_id}.")
        return rows[0]

    # -- reads ------------------------------------------------------------

    def last_conversation_id(self) -> int | None:
        row = self.conn.execute("SELECT conversation_id FROM interactions ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def conversation_level(self, cid: int) -> str | None:
        """The level the conversation's latest turn was taught at."""
        row = self.conn.execute(
            "SELECT level FROM interactions WHERE conversation_id = ? AND level IS NOT NULL ORDER BY id DESC LIMIT 1", [cid]
        ).fetchone()
        return row[0] if row else None

    def conversation_exists(self, cid: int) -> bool:
        return self.conn.execute("SELECT 1 FROM conversations WHERE id = ?", [cid]).fetchone() is not None

    def conversation_turns(self, cid: int, limit: int = 10) -> list[dict]:
        """The last `limit` answered turns of a conversation, oldest first."""
        rows = self.query(
            "SELECT question, context_text, answer, attempt FROM interactions "
            "WHERE conversation_id = ? AND answer IS NOT NULL AND answer != '' "
            "ORDER BY id DESC LIMIT ?",
            [cid, limit],
        )
        return list(rows)[::-1]

    def skills_of(self, ids: list[int]) -> dict[int, list[dict]]:
        if not ids:
            return {}
        out: dict[int, list[dict]] = {i: [] for i in ids}
        for row in self.query(
            f"SELECT interaction_id, skill, relevance, method FROM interaction_skills "
            f"WHERE interaction_id IN ({marks(ids)}) ORDER BY relevance DESC",
            ids,
        ):
            out[row.pop("interaction_id")].append(row)
        return out

    def get(self, interaction_id: int) -> dict:
        rows = self.query("SELECT * FROM interactions WHERE id = ?", [interaction_id])
        if not rows:
            raise NotFound(
                f"No interaction with id {interaction_id}.",
                hint="`learnflow history` lists the ids.",
            )
        row = rows[0]
        row["skills"] = self.skills_of([interaction_id])[interaction_id]
        row["flags"] = self.query(
            "SELECT id, created_at, verdict, reason FROM flags WHERE interaction_id = ? ORDER BY id", [interaction_id]
        )
        return row

    def history(self, *, limit: int = 20, query: str | None = None, skill: str | None = None) -> list[dict]:
        """Newest first; `query` is full-text over question and answer."""
        where: list[str] = []
        params: list[str | int] = []
        # `flag`: the verdict of a flag on the answer (wrong | unverified), else None.
        sql = "SELECT i.*, (SELECT verdict FROM flags WHERE interaction_id = i.id ORDER BY id LIMIT 1) AS flag FROM interactions i"
        if query:
            match = fts_query(query)
            if match is None:
                return []
            sql += " JOIN interactions_fts f ON f.rowid = i.id"
            where.append("interactions_fts MATCH ?")
            params.append(match)
        if skill:
            where.append("i.id IN (SELECT interaction_id FROM interaction_skills WHERE skill = ?)")
            params.append(skill)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.id DESC LIMIT ?"
        params.append(limit)
        rows = self.query(sql, params)
        tags = self.skills_of([r["id"] for r in rows])
        for r in rows:
            r["skills"] = tags[r["id"]]
        return rows

    def related_answers(self, text: str, *, limit: int = 3, exclude: int | None = None) -> list[dict]:
        """Past answered interactions ranked by BM25 against `text`."""
        match = fts_query(text, any_word=True, min_len=3)
        if match is None:
            return []
        # Questions weigh more than answers: they say what the person needed. An answer the
        # learner flagged (wrong or unverified) is never offered again.
        rows = self.query(
            "SELECT i.id, i.created_at, i.question, i.answer, bm25(interactions_fts, 3.0, 1.0) AS score "
            "FROM interactions_fts JOIN interactions i ON i.id = interactions_fts.rowid "
            "WHERE interactions_fts MATCH ? AND i.status = 'ok' AND i.backend != 'offline' AND i.id != ? "
            "AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.interaction_id = i.id) "
            "ORDER BY score LIMIT ?",
            [match, exclude or -1, limit],
        )
        return list(rows)


# -- faults -------------------------------------------------------------------------
# What SQLite said, sorted into what the person can do about it. `sqlite_errorname`
# (Python 3.11+) carries SQLite's extended code, e.g. SQLITE_IOERR_SHMSIZE when a full disk
# cannot give the WAL index its space.

_WHAT = {
    "full": "the disk is full",
    "read_only": "it is read-only here",
    "damaged": "it is damaged",
    "io": "the disk reported an input/output error",
    "busy": "another learnflow process kept it busy",
    "other": "SQLite refused",
}
_HINTS = {
    "full": "Free some disk space and try again; everything logged before is kept. `learnflow ask --no-log` answers without logging.",
    "read_only": "Make its folder writable (or point LEARNFLOW_HOME at one); everything logged is kept, and history, gaps and export still read it.",
    "damaged": "It was left as it is. `learnflow doctor` checks it; `learnflow doctor --repair` keeps the damaged file aside and rebuilds the log from every readable row.",
    "io": "Check the disk (free space, dmesg); everything committed before is kept. `learnflow doctor` checks the file.",
    "busy": "Try again when the other learnflow command has finished.",
    "other": "`learnflow doctor` checks the log.",
}


def fault_kind(exc: BaseException) -> str:
    """full | read_only | damaged | io | busy | other: why SQLite failed, from its extended error name."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return "damaged"
    if name in ("SQLITE_FULL", "SQLITE_IOERR_SHMSIZE"):
        return "full"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return "read_only"
    if name.startswith("SQLITE_IOERR"):
        # EFBIG (a file size limit) and EIO arrive as IOERR_WRITE / IOERR_FSYNC.
        return "io"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "busy"
    return "other"


def is_fault(exc: BaseException) -> bool:
    """A failure of the file or the disk, not of learnflow's SQL: constraint failures
    (sqlite3.IntegrityError) and misuse (ProgrammingError) are bugs and stay loud."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def database_error(exc: BaseException, path: Path | str | None, *, doing: str = "Cannot use") -> DatabaseError:
    """A sqlite3 error as the DatabaseError the person sees: what happened, that the log is
    kept, and the one thing to do (free space, a writable folder, `learnflow doctor`)."""
    kind = fault_kind(exc)
    where = f"The log at {path} cannot be opened" if doing == "Cannot open" else f"{doing} the log at {path}"
    return DatabaseError(f"{where}: {_WHAT[kind]} ({exc}).", hint=_HINTS[kind])


def as_database_error(exc: BaseException) -> DatabaseError | None:
    """For the CLI's edge: a fault of the log that escaped a query (a damaged page met
    mid-read, a disk error) as a DatabaseError; None for anything else. Keeps sqlite3 in db/."""
    return database_error(exc, paths.db_path()) if is_fault(exc) else None
