"""The model knows the learner: what the system prompt carries about them, the gap line after an
answer, and the reliance view of `gaps`. Real SQLite log, real loopback server, the CLI as typed."""

import json
import re
import time

from learnflow.db.store import Store
from learnflow.learner.goals import set_goal
from learnflow.timespec import iso_ts

QUESTION = "How do I undo my last git commit but keep the changes?"
TAGGING = "Classify the user's question"
KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"


def system_prompt(server) -> str:
    """The system prompt of the latest answer request (not the concurrent tagging call)."""
    sent = [r for r in server.chat_requests if TAGGING not in r["body"]][-1]
    return sent["json"]["messages"][0]["content"]


def seed(*, git_right: int, git_wrong: int, missed=(), action=None, goal=None, now=None):
    """A log with checks on git, missed check questions (with their answers) and an action item."""
    now = time.time() if now is None else now
    s = Store()
    rows = [{"skill": "git", "kind": "check", "value": 1.0, "ts": now - 3600 - i} for i in range(git_right)]
    rows += [{"skill": "git", "kind": "check", "value": 0.0, "ts": now - 3600 - i} for i in range(git_wrong)]
    s.add_evidence(rows)
    for i, (question, answer) in enumerate(missed):
        s.conn.execute(
            "INSERT INTO check_results (created_at, skill, question, answer, correct, score, source) VALUES (?, 'git', ?, ?, 0, 0, 'check')",
            [iso_ts(now - 7200 + i), question, answer],
        )
    s.conn.execute(
        "INSERT INTO check_results (created_at, skill, question, answer, correct, score) VALUES (?, 'git', 'A check they got right', 'x', 1, 1)",
        [iso_ts(now)],
    )
    if action:
        s.conn.execute("INSERT INTO action_items (created_at, text, status) VALUES (?, ?, 'open')", [iso_ts(now), action])
        s.conn.execute("INSERT INTO action_items (created_at, text, status) VALUES (?, 'An item already done', 'done')", [iso_ts(now)])
    s.conn.commit()
    if goal is not None:
        set_goal(s, "git", goal)
    s.close()


def test_the_system_prompt_carries_level_missed_checks_without_answers_and_the_action_item(cli, openai_env):
    missed = [(f"What does git reset --soft do, case {i}?", f"ANSWER-{i}: it keeps the index") for i in range(4)]
    seed(git_right=3, git_wrong=9, missed=missed, action="Practise interactive rebase on a scratch repo")
    assert cli("ask", QUESTION).exit_code == 0

    system = system_prompt(openai_env)
    assert "- git: mastery 0.29, 80% interval" in system and "target 0.70" in system
    # Three newest misses, newest first; never an answer, never a right check or a done item.
    assert system.index("case 3?") < system.index("case 2?") < system.index("case 1?")
    assert "case 0?" not in system and "ANSWER-" not in system and "A check they got right" not in system
    assert 'Open action item (from a reflection): "Practise interactive rebase on a scratch repo"' in system
    assert "An item already done" not in system


def test_a_skill_without_evidence_says_so(cli, openai_env):
    assert cli("ask", QUESTION).exit_code == 0
    assert "- git: no evidence yet; target 0.70." in system_prompt(openai_env)


def test_secrets_in_a_missed_check_question_are_redacted_before_sending(cli, openai_env):
    seed(git_right=0, git_wrong=4, missed=[(f"Why does `export OPENAI_API_KEY={KEY}` leak in git history?", "x")])
    result = cli("ask", "--json", QUESTION)
    system = system_prompt(openai_env)
    assert KEY not in system and "[REDACTED:" in system
    learner = json.loads(result.stdout)["learner"]
    assert learner["redacted"] and learner["text"] in system


def test_direct_asks_carry_no_memory_and_no_gap_line(cli, openai_env):
    seed(git_right=1, git_wrong=9, missed=[("What does git stash pop do?", "x")], goal=0.8)
    out = json.loads(cli("ask", "--direct", "--json", QUESTION).stdout)
    assert "missed check" not in system_prompt(openai_env)
    assert out["learner"] is None and out["gap"] is None


def test_the_memory_stays_within_memory_tokens_and_drops_the_least_valuable_lines_first(cli, openai_env, store):
    from learnflow import tokens

    long = "Explain in detail why rebasing a shared branch rewrites history " * 20
    seed(git_right=2, git_wrong=8, missed=[(f"{long} #{i}", "x") for i in range(3)], action="Read the Pro Git chapter on rebasing " * 30)
    now = time.time()
    for skill in ("sql", "shell", "python"):
        store.add_evidence([{"skill": skill, "kind": "check", "value": 0.0, "ts": now - 60}] * 4)
        for i in range(3):
            store.conn.execute(
                "INSERT INTO check_results (created_at, skill, question, answer, correct) VALUES (?, ?, ?, 'x', 0)",
                [iso_ts(now - i), skill, f"{skill} question {i}: {long}"],
            )
    store.conn.commit()
    cli("config", "set", "memory_tokens", "150")
    out = json.loads(cli("ask", "--json", "git rebase vs merge in sql migrations with a python shell script?").stdout)
    learner = out["learner"]
    assert [s["skill"] for s in learner["skills"]][0] == "git" and len(learner["skills"]) >= 2
    assert learner["dropped"] > 0
    assert tokens.count(learner["text"]) <= learner["tokens"] <= 150  # the real count, within the bound
    # The main skill's level outlives everything else.
    assert "- git: mastery" in learner["text"] and "sql question" not in learner["text"]
    assert learner["text"] in system_prompt(openai_env)

    cli("config", "set", "memory_tokens", "0")
    out = json.loads(cli("ask", "--json", QUESTION).stdout)
    assert out["learner"]["text"] == "" and "About this person" not in system_prompt(openai_env)


def test_the_bound_is_an_upper_bound_of_the_real_count():
    from learnflow import tokens

    texts = [
        "git revert -m 1 a1b2c3d",
        "grep -rni -F 'user.id' .",
        "Why does commit 3f9a2c1e8b7d6f5a4c3b2a1 fail on CI?",
        "数据库索引是什么，为什么查询慢？",
        "Ηλεκτρονικό ταχυδρομείο και κωδικοί πρόσβασης",
        'curl -H "Authorization: Bearer [REDACTED:bearer-token]" https://api.example.com/v1/x?id=123&y=456',
        "- git: mastery 0.35, 80% interval 0.29-0.41, from 95.8 weighted pieces of evidence; target 0.80.",
    ]
    tokens.encoding.cache_clear()
    estimates = [tokens.upper_bound(t) for t in texts]
    assert all(not exact for _, exact in estimates)
    for text, (estimate, _) in zip(texts, estimates):
        assert estimate >= tokens.count(text), text
    assert tokens.upper_bound(texts[0]) == (tokens.count(texts[0]), True)  # exact once the encoding is loaded


def test_the_gap_line_ends_the_answer_when_the_main_skill_is_surely_below_its_goal(cli, openai_env):
    seed(git_right=2, git_wrong=8, goal=0.8)
    openai_env.script({"content": "Use `git reset --soft HEAD~1`.\n\n**Check:** Where do the changes go?"})
    result = cli("ask", QUESTION)
    assert result.stdout.rstrip().splitlines()[-1] == "Gap: git 0.25 of 0.80 target. Next: learnflow check --skill git -n 3"
    assert "Gap:" not in system_prompt(openai_env)  # learnflow's line, not the model's

    openai_env.script({"content": "Use `git reset --soft HEAD~1`."})
    out = json.loads(cli("ask", "--json", QUESTION).stdout)
    assert out["gap"]["line"].startswith("Gap: git 0.25 of 0.80") and out["gap"]["p_below"] > 0.99
    assert out["gap"]["goal"] == "goal" and "Gap:" not in out["answer"]

    shown = cli("show", str(out["id"]))
    assert shown.stdout.rstrip().endswith("Next: learnflow check --skill git -n 3")
    assert json.loads(cli("show", "--json", str(out["id"])).stdout)["gap"]["skill"] == "git"


def test_no_gap_line_above_target_with_thin_evidence_or_when_unsure(cli, openai_env):
    seed(git_right=9, git_wrong=1)  # 0.83 against the default 0.70
    assert "Gap:" not in cli("ask", QUESTION).stdout
    assert json.loads(cli("ask", "--json", QUESTION).stdout)["gap"] is None


def test_no_gap_line_with_too_little_evidence(cli, openai_env):
    seed(git_right=0, git_wrong=2, goal=0.9)  # 2 pieces < gaps_min_evidence 3
    out = json.loads(cli("ask", "--json", QUESTION).stdout)
    assert out["gap"] is None and out["learner"]["skills"][0]["mastery"] is None
    assert "too little evidence for a number yet (2.0 weighted pieces)" in system_prompt(openai_env)


def test_no_gap_line_when_below_target_on_average_but_not_surely(cli, openai_env):
    seed(git_right=2, git_wrong=1, goal=0.75)  # mean 0.6, P(below 0.75) ≈ 0.7 < 0.8
    assert json.loads(cli("ask", "--json", QUESTION).stdout)["gap"] is None


def test_the_offline_coach_shows_the_gap_line_too(cli):
    seed(git_right=1, git_wrong=9)
    result = cli("ask", "-m", "offline", QUESTION)
    assert result.stdout.rstrip().endswith("Gap: git 0.17 of 0.70 target. Next: learnflow check --skill git -n 3")


# -- reliance ---------------------------------------------------------------------


def log_asks(store, asks, *, days_ago: float, now: float):
    """asks: dicts with mode/attempt/repeat/flag; written `days_ago` days before `now`."""
    cid = store.new_conversation("t")
    for i, a in enumerate(asks):
        iid = store.begin_interaction(conversation_id=cid, question=f"q{i}", mode=a.get("mode", "teach"), attempt=a.get("attempt"))
        store.conn.execute(
            "UPDATE interactions SET created_at = ?, repeat_of = ? WHERE id = ?",
            [iso_ts(now - days_ago * 86400 - i), a.get("repeat"), iid],
        )
        for _ in range(a.get("flags", 0)):
            store.conn.execute(
                "INSERT INTO flags (interaction_id, created_at, verdict, reason) VALUES (?, ?, 'wrong', 'x')", [iid, iso_ts(now)]
            )
    store.conn.commit()


def test_reliance_shares_and_their_trend_on_a_hand_made_log(store):
    from learnflow.learner.reliance import build

    now = time.time()
    # Last 30 days: 10 asks, 6 --direct, 1 with an attempt, 3 repeats, 1 answer flagged twice.
    current = [{"mode": "direct"}] * 6 + [{"attempt": "I would use reset"}] + [{"repeat": 1}] * 2 + [{"repeat": 1, "flags": 2}]
    log_asks(store, current, days_ago=2, now=now)
    # The 30 days before: 4 asks, 1 --direct, none of the rest; older asks are out of both windows.
    log_asks(store, [{"mode": "direct"}, {}, {}, {}], days_ago=40, now=now)
    log_asks(store, [{"mode": "direct"}] * 5, days_ago=70, now=now)

    rel = build(store, now=now)
    assert (rel.asks, rel.asks_before) == (10, 4)
    by = {s.key: s for s in rel.signals}
    assert (by["direct"].count, by["direct"].share, by["direct"].before_share) == (6, 0.6, 0.25)
    assert abs(by["direct"].delta - 0.35) < 1e-9
    assert (by["attempt"].count, by["repeat"].count, by["flagged"].count) == (1, 3, 1)
    assert by["flagged"].before_share == 0.0 and by["repeat"].delta == 0.3
    assert "ask --try" in by["direct"].suggests and "ask --try" in by["attempt"].suggests
    assert "learnflow check" in by["repeat"].suggests


def test_flagged_answers_count_once_and_repeats_read_as_forgetting(store):
    from learnflow.learner.reliance import build

    now = time.time()
    log_asks(store, [{"flags": 3}, {"repeat": 1}, {"repeat": 1}, {}, {}, {}], days_ago=1, now=now)
    by = {s.key: s for s in build(store, now=now).signals}
    assert by["flagged"].count == 1 and abs(by["flagged"].share - 1 / 6) < 1e-9
    assert "catch wrong answers" in by["flagged"].suggests
    assert by["repeat"].share == 2 / 6 and "ask again" in by["repeat"].suggests
    assert by["direct"].before_share is None and by["direct"].delta is None


def test_an_empty_log_gives_a_message_not_a_division_by_zero(cli):
    result = cli("gaps", "--reliance")
    assert result.exit_code == 0 and "No asks in this window" in result.stdout
    data = json.loads(cli("gaps", "--json").stdout)["reliance"]
    assert data["asks"] == 0 and all(s["share"] is None for s in data["signals"])


def test_gaps_shows_the_reliance_view_in_text_and_json(cli, store):
    now = time.time()
    log_asks(store, [{"mode": "direct"}] * 5 + [{}] * 5, days_ago=1, now=now)
    text = cli("gaps").stdout
    assert "How you use the AI" in text and re.search(r"--direct asks +50% +5 · no asks before", text)
    assert "Only" not in text and "no asks before" in text
    only = cli("gaps", "--reliance", "--since", "7d").stdout
    assert only.startswith("How you use the AI · last week · 10 asks") and "Skill profile" not in only
    data = json.loads(cli("gaps", "--reliance", "--json").stdout)
    assert list(data) == ["reliance"] and data["reliance"]["signals"][0]["share"] == 0.5
