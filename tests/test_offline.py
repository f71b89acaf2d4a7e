"""The offline coach answers usefully with no model, no key and no network."""

import time

from learnflow.tutor.ask import Ask, AskOptions


def ask(store, question, **kw):
    run = Ask(store, AskOptions(question=question, model="offline", **kw))
    text = "".join(run.stream())
    return run, text


def test_git_undo_question_leads_to_reset_soft_and_warns_about_hard(store):
    run, text = ask(store, "How do I undo my last git commit but keep the changes?")
    assert "git reset --soft HEAD~1" in text
    assert "--hard" in text and "DESTROYS" in text
    assert run.tags[0].skill == "git"
    assert text.rstrip().splitlines()[-1].startswith("(with `OPENAI_API_KEY`)") or "offline coach" in text
    assert "**Check:**" in text
    assert run.result().check_question and "reset --soft" in run.result().check_question


def test_offline_answer_is_deterministic_and_fast(store):
    start = time.perf_counter()
    _, first = ask(store, "How do I undo my last git commit but keep the changes?")
    elapsed = time.perf_counter() - start
    _, second = ask(store, "How do I undo my last git commit but keep the changes?")
    assert first == second
    assert elapsed < 0.5


def test_level_changes_the_teaching(store):
    _, novice = ask(store, "undo last git commit keep changes", level="novice")
    _, expert = ask(store, "undo last git commit keep changes", level="expert")
    assert "Worked example" in novice
    assert "How would you approach it?" in expert and "Worked example" not in expert


def test_direct_mode_skips_teaching_but_is_logged(store):
    run, text = ask(store, "undo last git commit keep changes", direct=True)
    assert "git reset --soft HEAD~1" in text
    assert "**Check:**" not in text and "Think it through" not in text
    assert store.get(run.id)["mode"] == "direct"


def test_offline_coach_quotes_the_users_own_past_answers(store):
    cid = store.new_conversation("earlier")
    past = store.begin_interaction(conversation_id=cid, question="how to squash commits before merging", backend="openai")
    store.finish_interaction(past, answer="Use git rebase -i main and mark commits as squash.", status="ok")
    _, text = ask(store, "squash my commits")
    assert "From your own log" in text and f"#{past}" in text and "rebase -i" in text


def test_unknown_topic_still_guides_and_ends_with_one_check(store):
    run, text = ask(store, "zxqv frobnicate the wibble")
    assert run.tags[0].skill == "general"
    assert text.count("**Check:**") == 1
    assert "Connect a model" in text


def test_mastery_from_the_learner_model_sets_the_level(store):
    """Right checks on git make the next git answer challenge instead of walk through."""
    store.add_evidence([{"skill": "git", "kind": "check", "value": 1.0} for _ in range(12)])
    run, text = ask(store, "undo last git commit keep changes")
    assert run.level == "expert" and run.level_reason.startswith("mastery")
    assert "How would you approach it?" in text
    store.add_evidence([{"skill": "sql", "kind": "check", "value": 0.0} for _ in range(12)])
    run, _ = ask(store, "how do I write a sql join")
    assert run.level == "novice" and run.level_reason.startswith("mastery")


def test_too_little_evidence_keeps_the_default_level(store):
    store.add_evidence([{"skill": "git", "kind": "check", "value": 1.0}])
    run, _ = ask(store, "undo last git commit keep changes")
    assert run.level == "novice" and run.level_reason == "default_level"
