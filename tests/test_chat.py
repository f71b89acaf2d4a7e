"""`learnflow chat`: many turns in one logged conversation, driven by a script (stdin lines) or by a
person at a real terminal (a pty), against the loopback server and offline."""

from __future__ import annotations

import os
import signal
import sys

import pytest
from terminal import CTRL_C, CTRL_D, Terminal

from learnflow.db.store import Store

QUESTION = "How do I undo my last git commit but keep the changes?"
SECRET = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
FAILING = "!python3 -c \"import sys; sys.exit('KeyError: APP_CONFIG is not set')\""


def rows(sql, *params):
    store = Store()
    try:
        return list(store.query(sql, list(params)))
    finally:
        store.close()


def interactions():
    return rows("SELECT id, conversation_id, question, answer, status, level, context_summary FROM interactions ORDER BY id")


def user_texts(request) -> str:
    return "\n".join(str(m.get("content")) for m in request["json"]["messages"])


@pytest.fixture
def openai_env(openai_env, cli):
    """The loopback server, with skill tagging offline: the scripted replies all go to the answers."""
    cli("config", "set", "tagging", "offline")
    return openai_env


def chat_requests(server):
    """The answers' requests (the skill tagger's JSON-mode calls left out)."""
    return [r for r in server.requests if r["path"].endswith("/chat/completions") and not r["json"].get("response_format")]


# -- a script drives the chat: one turn per line, no prompts ------------------------------------


def test_a_script_asks_several_turns_in_one_conversation_that_history_sees(cli):
    result = cli("chat", "--backend", "offline", input=f"{QUESTION}\n\n   \nand if I already pushed it?\n")
    assert result.exit_code == 0, result.output
    turns = interactions()
    assert [t["question"] for t in turns] == [QUESTION, "and if I already pushed it?"]  # blank lines are no turns
    assert {t["conversation_id"] for t in turns} == {1} and {t["status"] for t in turns} == {"ok"}
    assert result.stdout.startswith("### Undo") and "Type /help" not in result.stderr  # no prompt, no banner for a script
    assert "Chat ended: 2 questions — conversation 1, #1–#2" in result.stderr
    assert "and if I already pushed it?" in cli("history").stdout


def test_multi_line_input_is_one_turn_as_in_llm_chat(cli):
    script = "!multi\nwhy does this fail?\n  File app.py, line 3\n!end\n!multi EOT\nkeep this line:\n!end\n!end EOT\n"
    assert cli("chat", "--backend", "offline", input=script).exit_code == 0
    assert [t["question"] for t in interactions()] == ["why does this fail?\n  File app.py, line 3", "keep this line:\n!end"]


def test_a_block_left_open_at_the_end_of_the_input_is_still_sent(cli):
    assert cli("chat", "--backend", "offline", input="!multi\nwhat is a rebase?\n").exit_code == 0
    assert [t["question"] for t in interactions()] == ["what is a rebase?"]


def test_level_and_exit_commands(cli):
    script = f"/level expert\n{QUESTION}\n/level\n/exit\nnever asked\n"
    result = cli("chat", "--backend", "offline", "--level", "novice", input=script)
    assert result.exit_code == 0 and "Level expert from now on." in result.stderr
    assert [(t["question"], t["level"]) for t in interactions()] == [(QUESTION, "expert")]


@pytest.mark.parametrize(
    "line, message, hint",
    [
        ("/level wizard", "Unknown level 'wizard'", "novice, intermediate, expert"),
        ("/frobnicate", "Unknown chat command /frobnicate", "/help lists them"),
        ('!echo "unclosed', "Cannot split that command", "Close the quotes"),
        ("/file /no/such/file.txt", "File not found", None),
        ("/try how do I squash?", "/try needs a terminal", None),
        ("/try on", "/try needs a terminal", None),
        ("x" * 25_000, "25,000 characters long (at most 20,000)", "/file PATH"),
    ],
)
def test_bad_input_is_said_clearly_and_the_chat_goes_on(cli, line, message, hint):
    result = cli("chat", "--backend", "offline", input=f"{line}\n{QUESTION}\n")
    assert result.exit_code == 3  # a script learns that a turn was refused
    assert message in result.stderr and (hint is None or hint in result.stderr)
    assert [t["question"] for t in interactions()] == [QUESTION]


def test_a_huge_paste_in_a_block_is_refused_whole_with_a_hint(cli):
    block = "!multi\n" + "\n".join("y" * 99 for _ in range(300)) + "\n!end\n"
    result = cli("chat", "--backend", "offline", input=block)
    assert result.exit_code == 3 and "30,000 characters long" in result.stderr and "/file PATH" in result.stderr
    assert interactions() == []


def test_continue_adds_to_the_last_conversation(cli):
    assert cli("ask", "--backend", "offline", QUESTION).exit_code == 0
    assert cli("chat", "--backend", "offline", "-c", input="and if I already pushed it?\n").exit_code == 0
    assert cli("chat", "--backend", "offline", input="what is a rebase?\n").exit_code == 0
    assert [t["conversation_id"] for t in interactions()] == [1, 1, 2]
    result = cli("chat", "--cid", "9", input="x\n")
    assert result.exit_code == 6 and "No conversation with id 9" in result.stderr


def test_a_path_is_a_question_not_a_command(cli):
    assert cli("chat", "--backend", "offline", input="/etc/hosts: what is this file for?\n").exit_code == 0
    assert [t["question"] for t in interactions()] == ["/etc/hosts: what is this file for?"]


def test_file_attached_at_start_goes_with_the_first_question_only(cli, openai_env, tmp_path):
    conf = tmp_path / "config.py"
    conf.write_text("DEBUG = True  # MARKER-42\n")
    result = cli("chat", "-f", str(conf), input="is this config idiomatic?\nand in production?\n")
    assert result.exit_code == 0, result.output
    first, second = interactions()
    assert "config.py" in first["context_summary"] and not second["context_summary"]
    answers = chat_requests(openai_env)
    assert "MARKER-42" in user_texts(answers[0])
    # The second turn still sees it, as `ask -c` does: through the conversation's history.
    assert "is this config idiomatic?" in user_texts(answers[1])


# -- commands: `!cmd` is recorded like `learnflow run`, its output is the next turn's context ------


def test_a_failing_command_is_recorded_and_its_output_reaches_the_next_question(cli, openai_env):
    result = cli("chat", input=f"{FAILING}\nwhy did that fail?\nand now?\n")
    assert result.exit_code == 0, result.output
    assert "failed (exit 1); its output goes with your next question" in result.stderr
    [task] = rows("SELECT id, exit_code, stderr_tail, interaction_id FROM tasks")
    assert task["exit_code"] == 1 and "APP_CONFIG" in task["stderr_tail"]
    why, later = chat_requests(openai_env)
    assert "APP_CONFIG is not set" in user_texts(why) and "exited 1" in user_texts(why)
    assert task["interaction_id"] == interactions()[0]["id"]  # `show` and `explain` find the discussion
    assert "stderr (tail)" in interactions()[0]["context_summary"] and not interactions()[1]["context_summary"]
    assert "1 command run (1 failed)" in result.stderr


def test_secrets_typed_are_redacted_before_sending_and_storing(cli, openai_env):
    result = cli("chat", input=f"my token {SECRET} is refused, why?\n!echo {SECRET}\nwhat did echo print?\n")
    assert result.exit_code == 0, result.output
    assert "Redacted 1 secret" in result.stderr
    for request in openai_env.requests:
        assert SECRET not in request["body"]
    assert SECRET not in str(rows("SELECT * FROM interactions")) + str(rows("SELECT * FROM tasks"))
    assert "[REDACTED" in interactions()[0]["question"]


def test_a_backend_failure_is_said_and_the_next_turn_is_answered(cli, openai_env):
    openai_env.script([{"status": 400}, {"content": "Second answer.\n\n**Check:** ok?"}])
    result = cli("chat", input="first?\nsecond?\n")
    assert result.exit_code != 0 and "Error:" in result.stderr  # a script learns of the failure
    assert [t["status"] for t in interactions()] == ["error", "ok"]
    assert "Second answer." in result.stdout


# -- a person at a terminal ---------------------------------------------------------------------


def test_at_a_terminal_several_turns_then_ctrl_d_ends_with_a_summary(openai_env):
    openai_env.script({"content": "Use git reset --soft HEAD~1.\n\n**Check:** Where do the changes go?"})
    openai_env.script({"content": "Then prefer git revert.\n\n**Check:** Why not reset?"})
    term = Terminal.chat()
    term.expect("Chatting with openai/my-model")
    term.type(QUESTION)
    term.expect("git reset --soft")
    term.expect("Enter skips")  # the inline check is offered, as after `ask`
    term.type("")
    term.prompt()
    term.type("!multi")
    term.type("and if I")
    term.type("already pushed it?")
    term.type("!end")
    term.expect("prefer git revert")
    term.expect("Enter skips")
    term.type("")
    term.prompt()
    term.key(CTRL_D)
    term.expect("Chat ended: 2 questions")
    assert term.finish() == 0
    assert [t["question"] for t in interactions()] == [QUESTION, "and if I\nalready pushed it?"]
    assert rows("SELECT count(*) AS n FROM check_results")[0]["n"] == 0  # skipped
    second = chat_requests(openai_env)[1]
    assert "git reset --soft HEAD~1" in user_texts(second)  # the first turn is history for the second


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "rich"])
def test_ctrl_c_cancels_the_answer_only_and_the_partial_answer_is_logged(openai_env, monkeypatch, colour):
    if colour:  # the answer is drawn live as Markdown by rich
        monkeypatch.delenv("NO_COLOR")
        monkeypatch.setenv("TERM", "xterm-256color")
    openai_env.script({"chunks": ["First part of the answer. ", *[f"more {i} " for i in range(40)]], "chunk_delay": 0.25})
    openai_env.script({"content": "A short second answer.\n\n**Check:** ok?"})
    term = Terminal.chat()
    term.prompt()
    term.type("explain rebasing in depth")
    term.expect("First part of the answer.")
    term.key(CTRL_C)
    term.expect("The chat goes on.")
    term.prompt()
    term.type("a shorter one?")
    term.expect("A short second answer.")
    term.expect("Enter skips")
    term.type("")
    term.prompt()
    term.key(CTRL_D)
    term.expect("Chat ended: 2 questions (1 interrupted)")
    assert term.finish() == 0
    first, second = interactions()
    assert first["status"] == "interrupted" and first["answer"].startswith("First part of the answer.")
    assert "more 39" not in first["answer"]
    assert second["status"] == "ok" and second["conversation_id"] == first["conversation_id"]


def test_ctrl_c_at_the_prompt_clears_the_line(home):
    term = Terminal.chat("--backend", "offline")
    term.prompt()
    term.key(b"half a thought")
    term.expect("half a thought")
    term.key(CTRL_C)
    term.prompt()
    term.type("/level expert")
    term.expect("Level expert from now on.")
    term.key(CTRL_D)
    term.expect("Chat ended: nothing asked.")
    assert term.finish() == 0
    assert interactions() == []


def test_a_failed_command_at_the_terminal_then_a_question_about_it(openai_env):
    term = Terminal.chat()
    term.prompt()
    term.type(FAILING)
    term.expect("its output goes with your next question")
    term.prompt()
    term.type("why?")
    term.expect("Loopback answer to:")
    term.expect("Enter skips")
    term.type("")
    term.prompt()
    term.key(CTRL_D)
    assert term.finish() == 0
    assert "KeyError: APP_CONFIG is not set" in user_texts(chat_requests(openai_env)[0])


def test_piped_input_at_a_terminal_is_context_and_the_turns_come_from_the_terminal(openai_env):
    term = Terminal("/bin/sh", "-c", f"printf 'Traceback: KeyError: MARKER_CFG\\n' | {sys.executable} -m learnflow chat")
    term.expect("With your first question: stdin.")
    term.type("what does this mean?")
    term.expect("Loopback answer to:")
    term.expect("Enter skips")
    term.type("")
    term.prompt()
    term.key(CTRL_D)
    assert term.finish() == 0
    assert "MARKER_CFG" in user_texts(chat_requests(openai_env)[0])


def test_a_kill_during_an_answer_ends_the_chat(openai_env):
    openai_env.script({"chunks": ["Slow start. ", *["more " for _ in range(40)]], "chunk_delay": 0.25})
    term = Terminal.chat()
    term.prompt()
    term.type("a slow one")
    term.expect("Slow start.")
    os.kill(term.pid, signal.SIGTERM)
    assert term.finish() == 130
    assert interactions()[0]["status"] == "interrupted"


def test_try_first_asks_for_an_attempt_before_the_answer(home):
    term = Terminal.chat("--backend", "offline")
    term.prompt()
    term.type("/try how do I squash my last three commits?")
    term.expect("Try first: your attempt")
    term.type("git rebase -i HEAD~3")
    term.prompt()
    term.type("/try on")
    term.expect("Try first on.")
    term.prompt()
    term.key(CTRL_D)
    assert term.finish() == 0
    [turn] = rows("SELECT question, attempt, hint_step FROM interactions")
    assert turn["attempt"] == "git rebase -i HEAD~3" and turn["hint_step"] == 0


def test_ctrl_d_at_the_offered_check_ends_the_chat(home):
    term = Terminal.chat("--backend", "offline")
    term.prompt()
    term.type(QUESTION)
    term.expect("Enter skips")
    term.key(CTRL_D)
    term.expect("Chat ended: 1 question")
    assert term.finish() == 0
    assert rows("SELECT status FROM interactions")[0]["status"] == "ok"
