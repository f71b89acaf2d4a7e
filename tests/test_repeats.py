"""Asking again what was already answered counts as forgetting: `repeat` evidence on the skill."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from learnflow.db.store import Store
from learnflow.learner.repeats import key_terms, similar


def asked(store: Store) -> list[tuple]:
    return store.conn.execute("SELECT id, conversation_id, repeat_of FROM interactions ORDER BY id").fetchall()


def repeats(store: Store) -> list[tuple]:
    return store.conn.execute("SELECT skill, value, source_id FROM evidence WHERE kind = 'repeat' ORDER BY id").fetchall()


def test_asking_the_same_thing_again_is_a_repeat_on_that_skill(cli):
    assert cli("ask", "How do I undo my last git commit?").exit_code == 0
    assert cli("ask", "undo the last commit in git but keep my changes").exit_code == 0
    s = Store()
    assert asked(s) == [(1, 1, None), (2, 2, 1)]
    assert repeats(s) == [("git", 0.0, 2)]


def test_a_different_question_on_the_same_skill_is_not_a_repeat(cli):
    cli("ask", "How do I undo my last git commit?")
    cli("ask", "How do I delete a remote git branch?")
    s = Store()
    assert asked(s)[1][2] is None and repeats(s) == []


def test_a_follow_up_in_the_same_conversation_is_not_a_repeat(cli):
    cli("ask", "How do I undo my last git commit?")
    assert cli("ask", "-c", "undo the last commit in git but keep my changes").exit_code == 0
    s = Store()
    assert asked(s) == [(1, 1, None), (2, 1, None)] and repeats(s) == []


def test_only_answered_asks_within_30_days_count(cli):
    cli("ask", "How do I undo my last git commit?")
    s = Store()
    s.conn.execute("UPDATE interactions SET created_at = '2020-01-01T00:00:00.000Z' WHERE id = 1")
    s.conn.commit()
    cli("ask", "undo the last commit in git but keep my changes")  # the first was years ago
    s.conn.execute("UPDATE interactions SET status = 'error' WHERE id = 2")
    s.conn.commit()
    cli("ask", "undo my last commit in git")  # #2 failed to answer: nothing was answered to forget
    assert [r[2] for r in asked(s)] == [None, None, None] and repeats(s) == []


def test_similarity_is_about_the_question_not_the_topic():
    assert key_terms("How do I merge two branches?") == {"merg", "branch"}
    assert similar("How do I squash commits before a pull request?", "how to squash my last 3 commits into one")
    assert not similar("How do I cache dependencies in GitHub Actions?", "How do I run a GitHub Actions job only on tags?")  # topic only
    assert not similar("git", "git")  # one shared term is too little to call it the same question


def test_the_labelled_pairs_keep_their_precision():
    """bench/repeat_pairs.py: the thresholds were tuned on two thirds; the held-out third must stay good."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    pairs = pytest.importorskip("repeat_pairs")
    held = [(i, p) for i, p in enumerate(pairs.PAIRS) if pairs.held_out(i)]
    assert len(pairs.PAIRS) >= 60 and len(held) >= 20
    figures, _ = pairs.evaluate(held)
    assert figures["precision"] >= 0.9 and figures["recall"] >= 0.7
