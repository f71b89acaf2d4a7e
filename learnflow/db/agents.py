"""Queries of the coding-agent importers (sources/): read cursors, items already taken, and llm's logs.db.

Imported rows go through the same Store methods as an ask or a wrapped command; what is new here
is the bookkeeping that makes importing twice add nothing, and reading llm's own SQLite file
(read-only: it is another program's database).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from learnflow.db import tasks as tasks_db
from learnflow.errors import BadInput
from learnflow.timespec import now_iso

if TYPE_CHECKING:
    from learnflow.db.store import Store

T = TypeVar("T")


def in_transaction(store: Store, fn: Callable[[], T]) -> T:
    """Run `fn` as one transaction: a batch of imported items is committed together (writes inside nest as savepoints)."""
    return store._write(fn)


# -- how far each file was read -----------------------------------------------------------


def cursor(store: Store, source: str, path: str) -> dict | None:
    """{inode, size, offset, state} of a file read before, or None."""
    rows = store.query("SELECT inode, size, offset, state FROM agent_files WHERE source = ? AND path = ?", [source, path])
    if not rows:
        return None
    row = rows[0]
    try:
        row["state"] = json.loads(row["state"] or "{}")
    except ValueError:
        row["state"] = {}
    return row


def save_cursor(store: Store, source: str, path: str, *, inode: int, size: int, offset: int, state: dict) -> None:
    store._write(
        lambda: store.conn.execute(
            "INSERT INTO agent_files (source, path, inode, size, offset, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source, path) DO UPDATE SET inode = excluded.inode, size = excluded.size, offset = excluded.offset, "
            "state = excluded.state, updated_at = excluded.updated_at",
            [source, path, inode, size, offset, json.dumps(state), now_iso()],
        )
    )


# -- items already taken --------------------------------------------------------------------


def seen(store: Store, source: str, session: str, item: str) -> bool:
    return (
        store.conn.execute("SELECT 1 FROM agent_items WHERE source = ? AND session = ? AND item = ?", [source, session, item]).fetchone()
        is not None
    )


def remember(store: Store, source: str, session: str, item: str, kind: str, row_id: int | None, *, tool=None, failed=None) -> None:
    store._insert(
        "agent_items",
        {"source": source, "session": session, "item": item, "kind": kind, "row_id": row_id, "tool": tool, "failed": failed},
    )


def claim_hook_prompt(store: Store, source: str, session: str, key: str, item: str, mark: str) -> bool:
    """A prompt a hook logged (item `key:…`, tool = mark) and no import has claimed yet: re-key it by `item`. True if one was."""
    row = store.conn.execute(
        "SELECT id FROM agent_items WHERE source = ? AND session = ? AND kind = 'prompt' AND tool = ? AND substr(item, 1, ?) = ? "
        "ORDER BY id LIMIT 1",
        [source, session, mark, len(key) + 1, key + ":"],
    ).fetchone()
    if row is None:
        return False
    store.conn.execute("UPDATE agent_items SET item = ?, tool = NULL WHERE id = ?", [item, row[0]])
    return True


# -- checks the MCP server handed out ------------------------------------------------------------
# A row per review card `learnflow_check` gave an agent (source 'mcp', session 'checks', item 'card:ID'):
# kind 'check' while it waits for its answer, 'graded' once `learnflow_grade` took one; tool 'probe' when
# the MCP call created the card (a bundled card brought into review), so `forget --source mcp` can take it back.

_CHECKS = ("mcp", "checks")


def hand_out_check(store: Store, card_id: int, *, made: bool) -> None:
    """Record that `card_id` was handed out and waits for one answer (again, after an earlier grade)."""
    store._write(
        lambda: store.conn.execute(
            "INSERT INTO agent_items (source, session, item, kind, row_id, tool) VALUES (?, ?, ?, 'check', ?, ?) "
            "ON CONFLICT (source, session, item) DO UPDATE SET kind = 'check'",
            [*_CHECKS, f"card:{card_id}", card_id, "probe" if made else None],
        )
    )


def check_state(store: Store, card_id: int) -> str | None:
    """'check' (handed out, not answered yet), 'graded' (answered since it was last handed out), or None (never handed out)."""
    row = store.conn.execute(
        "SELECT kind FROM agent_items WHERE source = ? AND session = ? AND item = ?", [*_CHECKS, f"card:{card_id}"]
    ).fetchone()
    return row[0] if row else None


def take_check(store: Store, card_id: int) -> bool:
    """Mark a handed-out check answered; False when it was not waiting (never handed out, or answered already).
    Called in the transaction that records the answer, so two answers to one check cannot both be kept."""
    return (
        store.conn.execute(
            "UPDATE agent_items SET kind = 'graded' WHERE source = ? AND session = ? AND item = ? AND kind = 'check'",
            [*_CHECKS, f"card:{card_id}"],
        ).rowcount
        == 1
    )


def session_conversation(store: Store, source: str, session: str) -> int | None:
    row = store.conn.execute(
        "SELECT row_id FROM agent_items WHERE source = ? AND session = ? AND kind = 'session'", [source, session]
    ).fetchone()
    return row[0] if row else None


def last_shell_run(store: Store, source: str, session: str, tool: str) -> tuple[int, bool] | None:
    """(task id, failed) of the latest imported run of `tool` in this session: a success after a failure is a recovery."""
    row = store.conn.execute(
        "SELECT row_id, failed FROM agent_items WHERE source = ? AND session = ? AND kind = 'task' AND tool = ? ORDER BY id DESC LIMIT 1",
        [source, session, tool],
    ).fetchone()
    return (row[0], bool(row[1])) if row else None


def insert_task(store: Store, row: dict, evidence: list[dict]) -> int:
    """The task and its evidence, as `learnflow run` stores them."""
    return tasks_db.insert(store, row, evidence)


def error_class_of(store: Store, task_id: int) -> str | None:
    row = store.conn.execute("SELECT error_class FROM tasks WHERE id = ?", [task_id]).fetchone()
    return row[0] if row else None


# -- llm's logs.db ---------------------------------------------------------------------------------


def _open_foreign(path: Path) -> sqlite3.Connection:
    """Another program's SQLite file, read-only: never locked for writing, never migrated."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BadInput(f"{path} is not a readable SQLite database: {exc}.") from None
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


# The user's text of one turn of llm's message store (m023): walk from the turn's tip message back
# to the message it started from; the user-role messages on the way are what this turn added.
_TURN_USER_TEXT = """
WITH RECURSIVE chain(hash, parent_hash, role, depth) AS (
  SELECT m.hash, m.parent_hash, m.role, 0 FROM messages m WHERE m.hash = :tip
  UNION ALL
  SELECT m.hash, m.parent_hash, m.role, c.depth + 1 FROM chain c JOIN messages m ON m.hash = c.parent_hash
  WHERE c.hash IS NOT :stop AND c.parent_hash IS NOT :stop AND c.depth < 200
)
SELECT group_concat(p.text, char(10)) FROM chain c JOIN parts p ON p.message_hash = c.hash
WHERE c.role = 'user' AND p.type = 'text' AND p.text IS NOT NULL
"""


def llm_rows(path: Path, after: dict[str, int]) -> Iterator[tuple[str, int, dict]]:
    """('responses' | 'turns', rowid, {id, session, prompt, datetime_utc}) newer than `after`, oldest first.

    Both layouts are read: `responses`/`conversations` (llm up to 0.2x) and the message store
    `threads`/`turns`/`messages`/`parts` (later). Unknown or missing columns just mean no rows.
    """
    conn = _open_foreign(path)
    try:
        tables = _tables(conn)
        if "responses" in tables:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(responses)")}
            if {"id", "prompt"} <= cols:
                conv = "conversation_id" if "conversation_id" in cols else "NULL"
                when = "datetime_utc" if "datetime_utc" in cols else "NULL"
                cur = conn.execute(
                    f"SELECT rowid, id, {conv}, prompt, {when} FROM responses WHERE rowid > ? ORDER BY rowid", [after.get("responses", 0)]
                )
                for rowid, rid, session, prompt, when_ in cur:
                    yield "responses", rowid, {"id": str(rid), "session": str(session or rid), "prompt": prompt, "datetime_utc": when_}
        if {"turns", "messages", "parts"} <= tables:
            cur = conn.execute(
                "SELECT rowid, id, thread_id, parent_message_hash, tip_message_hash, datetime_utc FROM turns WHERE rowid > ? ORDER BY rowid",
                [after.get("turns", 0)],
            )
            for rowid, tid, thread, parent, tip, when_ in cur.fetchall():
                text = None
                if tip:
                    text = conn.execute(_TURN_USER_TEXT, {"tip": tip, "stop": parent}).fetchone()[0]
                if text is None and "turn_search" in tables:
                    found = conn.execute("SELECT prompt FROM turn_search WHERE turn_id = ?", [tid]).fetchone()
                    text = found[0] if found else None
                yield "turns", rowid, {"id": str(tid), "session": str(thread or tid), "prompt": text, "datetime_utc": when_}
    except sqlite3.DatabaseError as exc:
        raise BadInput(f"Cannot read {path}: {exc}.") from None
    finally:
        conn.close()


def connected(path: Path) -> list[dict]:
    """Per source a coding agent or the MCP server wrote from: {source, files, last_import, prompts, tasks, checks, last},
    read-only from the log at `path` (for `doctor`: it never creates or migrates the log)."""
    if not path.exists():
        return []
    conn = _open_foreign(path)
    try:
        tables = _tables(conn)
        if "agent_files" not in tables:
            return []
        found: dict[str, dict] = {}

        def add(source: str, **values) -> None:
            row = found.setdefault(source, {"source": source, "files": 0, "last_import": None, "prompts": 0, "tasks": 0, "checks": 0,
                                            "last": None})  # fmt: skip
            last = values.pop("last", None)
            row.update(values)
            row["last"] = max(filter(None, [row["last"], last]), default=None)

        for source, files, last in conn.execute("SELECT source, count(*), max(updated_at) FROM agent_files GROUP BY source"):
            add(source, files=files, last_import=last, last=last)
        for table, key in (("interactions", "prompts"), ("tasks", "tasks")):
            for source, n, last in conn.execute(
                f"SELECT source, count(*), max(created_at) FROM {table} WHERE source IS NOT NULL GROUP BY source"
            ):
                add(source, **{key: n}, last=last)
        n, last = conn.execute("SELECT count(*), max(created_at) FROM check_results WHERE source = 'mcp'").fetchone()
        if n:
            add("mcp", checks=n, last=last)
        return [found[s] for s in sorted(found)]
    except sqlite3.DatabaseError:
        return []
    finally:
        conn.close()
