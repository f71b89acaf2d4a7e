"""Full-text search: quoting user text for FTS5, and the in-memory index of skill cards.

The cards index is built per process (about a hundred short documents: a few
milliseconds) in an in-memory SQLite database: SQLite's FTS5 and BM25 are already here.
"""

from __future__ import annotations

import re
import sqlite3

TYPE_CHECKING = False  # typing is not imported at run time: `lf` opens the store on every command (cli/quickrun.py)
if TYPE_CHECKING:
    from typing import Protocol

    class _Store(Protocol):
        """A db.store.Store (not imported: the store imports this module)."""

        conn: sqlite3.Connection


_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str, *, any_word: bool = False, min_len: int = 1) -> str | None:
    """Quote user text for FTS5 so punctuation is never FTS syntax.

    `any_word` ORs the words (for "related answers"); the default ANDs them
    (for `history -q`, where every word should match).
    """
    words = [w for w in _WORD.findall(text.lower()) if len(w) >= min_len]
    if not words:
        return None
    quoted = [f'"{w}"' for w in dict.fromkeys(words)]
    return (" OR " if any_word else " ").join(quoted)


def card_index(cards) -> sqlite3.Connection:
    """An in-memory FTS5 index of `cards` (rowid = position), Porter-stemmed."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE VIRTUAL TABLE cards USING fts5(id UNINDEXED, title, keywords, body, tokenize='porter')")
    conn.executemany(
        "INSERT INTO cards(rowid, id, title, keywords, body) VALUES (?, ?, ?, ?, ?)",
        [
            (
                i,
                c.id,
                c.title,
                " ".join(c.keywords),
                " ".join([c.concept, *(cmd.get("cmd", "") + " " + cmd.get("what", "") for cmd in c.commands), *c.pitfalls]),
            )
            for i, c in enumerate(cards)
        ],
    )
    return conn


def card_scores(index: sqlite3.Connection, match: str) -> list[tuple[int, float]]:
    """(rowid, score) of the cards matching an FTS query; title and keywords weigh most."""
    return index.execute(
        "SELECT rowid, -bm25(cards, 0.0, 4.0, 3.0, 1.0) FROM cards WHERE cards MATCH ? ORDER BY rowid",
        [match],
    ).fetchall()


def repeat_candidates(
    store: _Store, match: str, *, skills: list[str], since: str, exclude: int, limit: int = 5
) -> list[tuple[int, str, str]]:
    """(id, question, its skills among `skills` comma-joined) of earlier answered asks since `since`
    whose *question* matches, best BM25 first.

    The FTS match runs over the question column only (an answer mentioning the words is not
    the same question); the skill filter uses interaction_skills' (skill) index.
    """
    return store.conn.execute(
        "WITH m AS MATERIALIZED (SELECT rowid AS id, bm25(interactions_fts, 1.0, 0.0) AS score "
        "FROM interactions_fts WHERE interactions_fts MATCH ?) "
        "SELECT i.id, i.question, group_concat(s.skill) FROM m JOIN interactions i ON i.id = m.id "
        f"JOIN interaction_skills s ON s.interaction_id = i.id AND s.skill IN ({', '.join('?' * len(skills))}) "
        "WHERE i.status = 'ok' AND i.created_at >= ? AND i.id != ? "
        "GROUP BY i.id ORDER BY min(m.score) LIMIT ?",
        [f"question : ({match})", *skills, since, exclude, limit],
    ).fetchall()


def complete_statement(sql: str) -> bool:
    """Whether `sql` is one or more whole SQL statements (quotes, parentheses and the final `;` closed):
    how a content pack's SQL commands are checked (learner/content.py)."""
    return sqlite3.complete_statement(sql if sql.rstrip().endswith(";") else sql + ";")
