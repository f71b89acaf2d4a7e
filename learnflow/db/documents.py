"""The index of the learner's own documents (`ask --docs`, `learnflow docs`): its own SQLite file.

It lives in the cache folder, not in the log: it is rebuilt from the documents whenever they
change, holds nothing the learner did, and so `forget` and `export` never need to look at it
(deleting the file loses nothing). Passages are stored already redacted.

Tables: `files` (one row per indexed file by absolute path: its mtime and size, what decides
whether it is read again; a folder is the range of paths under it, so indexing a folder and one of
its subfolders shares rows; a file that could not be indexed keeps a row with why (`skipped`) and no
passages, so it is not read again until it changes), `roots` (the folders indexed, so one that no
longer exists can be dropped whole) and `passages` (a file's text in bounded pieces, each with its
first line), searched through the FTS5 table `passages_fts` that SQLite keeps in step by triggers.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from learnflow.errors import DatabaseError

SCHEMA_VERSION = 2  # 2: files.skipped, roots
_BUSY_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    passages INTEGER NOT NULL DEFAULT 0,
    redacted INTEGER NOT NULL DEFAULT 0,
    skipped TEXT
);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_file ON passages(file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(text, content='passages', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER IF NOT EXISTS passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    text: str
    snippet: str
    score: float  # BM25, higher is better


class DocumentIndex:
    """One open index file. Every query on it is a method here (SQL stays in db/)."""

    def __init__(self, path: Path | str):
        self.path = path
        try:
            self.conn = sqlite3.connect(str(path), timeout=_BUSY_SECONDS, check_same_thread=False, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")  # a rebuildable cache: a lost last batch is read again
            self.conn.execute("PRAGMA foreign_keys=ON")
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                # A newer or older layout: the index is a cache, so it is dropped and rebuilt.
                self._drop()
            self.conn.executescript(_SCHEMA)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"The documents index {path} cannot be opened: {exc}.",
                hint=f"It is only a cache: delete {path} and run `learnflow docs index` again.",
            ) from None

    def _drop(self) -> None:
        self.conn.executescript(
            "DROP TABLE IF EXISTS passages_fts; DROP TABLE IF EXISTS passages; DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS roots;"
        )

    def close(self) -> None:
        self.conn.close()

    # -- what is indexed ---------------------------------------------------------------------

    def known(self, root: str) -> dict[str, tuple[int, int, str | None]]:
        """path -> (mtime_ns, size, why skipped or None) of every file indexed under the folder `root`:
        what a re-index compares."""
        where, args = _roots_clause([root])
        return {p: (m, s, k) for p, m, s, k in self.conn.execute(f"SELECT path, mtime_ns, size, skipped FROM files {where}", args)}

    def roots(self) -> list[str]:
        """The folders ever indexed (and not dropped since)."""
        return [r for (r,) in self.conn.execute("SELECT path FROM roots ORDER BY path")]

    def add_roots(self, roots: Iterable[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO roots (path) VALUES (?)", [(r,) for r in roots])

    def drop_root(self, root: str) -> int:
        """Forget a folder: its row and every file indexed under it. Returns the files dropped."""
        where, args = _roots_clause([root])
        ids = [i for (i,) in self.conn.execute(f"SELECT id FROM files {where}", args)]
        self.conn.executemany("DELETE FROM passages WHERE file_id = ?", [(i,) for i in ids])
        self.conn.execute(f"DELETE FROM files {where}", args)
        self.conn.execute("DELETE FROM roots WHERE path = ? OR (path >= ? AND path < ?)", [root, *args])
        return len(ids)

    def counts(self, roots: Iterable[str] | None = None) -> tuple[int, int]:
        """(files, passages) indexed, under `roots` when given."""
        where, args = _roots_clause(roots)
        row = self.conn.execute(f"SELECT count(*), coalesce(sum(passages), 0) FROM files {where}", args).fetchone()
        return int(row[0]), int(row[1])

    # -- writing: one transaction per batch ---------------------------------------------------

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def put_file(
        self, path: str, mtime_ns: int, size: int, passages: list[tuple[int, str]], redacted: int, skipped: str | None = None
    ) -> None:
        """Replace what is indexed of `path` with `passages` ((first line, text), already redacted);
        a skipped file is put with no passages and why, so it is not read again until it changes."""
        self.remove_files([path])
        cur = self.conn.execute(
            "INSERT INTO files (path, mtime_ns, size, passages, redacted, skipped) VALUES (?, ?, ?, ?, ?, ?)",
            [path, mtime_ns, size, len(passages), redacted, skipped],
        )
        file_id = cur.lastrowid
        self.conn.executemany("INSERT INTO passages (file_id, line, text) VALUES (?, ?, ?)", [(file_id, ln, t) for ln, t in passages])

    def remove_files(self, paths: list[str]) -> None:
        """Forget these files (gone, or about to be read again): their passages go with them."""
        for path in paths:
            row = self.conn.execute("SELECT id FROM files WHERE path = ?", [path]).fetchone()
            if row:
                self.conn.execute("DELETE FROM passages WHERE file_id = ?", [row[0]])
                self.conn.execute("DELETE FROM files WHERE id = ?", [row[0]])

    # -- searching ----------------------------------------------------------------------------

    def search(self, match: str, roots: Iterable[str] | None = None, limit: int = 5) -> list[Hit]:
        """The best passages for an FTS5 `match` expression (db/search.fts_query), best first."""
        where, args = _roots_clause(roots, "f.")
        sql = (
            "SELECT f.path, p.line, p.text, snippet(passages_fts, 0, '', '', '…', 16), -bm25(passages_fts) AS score "
            "FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid JOIN files f ON f.id = p.file_id "
            f"WHERE passages_fts MATCH ? {where.replace('WHERE', 'AND')} ORDER BY bm25(passages_fts) LIMIT ?"
        )
        try:
            rows = self.conn.execute(sql, [match, *args, limit]).fetchall()
        except sqlite3.OperationalError:  # a query FTS5 cannot parse: nothing matched
            return []
        return [Hit(path, int(line), text, " ".join(snip.split()), float(score)) for path, line, text, snip, score in rows]


def _roots_clause(roots: Iterable[str] | None, prefix: str = "") -> tuple[str, list[str]]:
    """A WHERE clause keeping the paths under any of the folders `roots` (absolute, no trailing
    separator): each folder is a range of the `path` index, `root/` up to (not including) `root0`."""
    if roots is None:
        return "", []
    ranges, args = [], []
    for root in roots:
        root = root.rstrip(os.sep)  # "/" is the range of every absolute path
        ranges.append(f"({prefix}path >= ? AND {prefix}path < ?)")
        args += [root + os.sep, root + chr(ord(os.sep) + 1)]
    return f"WHERE ({' OR '.join(ranges) or '0'})", args
