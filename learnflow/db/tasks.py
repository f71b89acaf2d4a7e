"""Queries of `learnflow run`'s tasks: a wrapped command with its skill, error class and evidence."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: `lf` records through here (cli/quickrun.py)
if TYPE_CHECKING:
    from learnflow.db.store import Store


def insert(store: Store, row: dict, evidence: list[dict]) -> int:
    """The task and its evidence (source 'tasks', source_id = the task id) in one transaction."""

    def write() -> int:
        task_id = store._insert("tasks", row)
        store._insert_many("evidence", [{"source": "tasks", "source_id": task_id, **e} for e in evidence])
        return task_id

    return store._write(write)


def last_run(store: Store, *, tool: str, command: str, cwd: str, since: str) -> dict | None:
    """The latest run of exactly this command (redacted argv as JSON) in this folder since `since`."""
    rows = store.query(
        "SELECT id, created_at, exit_code, error_class FROM tasks "
        "WHERE tool = ? AND created_at >= ? AND command = ? AND cwd = ? ORDER BY created_at DESC, id DESC LIMIT 1",
        [tool, since, command, cwd],
    )
    return rows[0] if rows else None


def failure_times(store: Store, *, tool: str, error_class: str, since: str) -> list[tuple[int, str]]:
    """(id, created_at) of this tool's failures with this error class since `since`, oldest first."""
    return store.conn.execute(
        "SELECT id, created_at FROM tasks WHERE tool = ? AND created_at >= ? AND error_class = ? AND exit_code != 0 "
        "ORDER BY created_at, id",
        [tool, since, error_class],
    ).fetchall()
