"""`history` and `show` tell what the learner did on an ask: a question asked again, a try-first
attempt and how it was judged, the rung of the hint ladder."""

import json

from learnflow.db.store import Store

QUESTION = "How do I undo my last git commit but keep the changes?"


def lines_of(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_history_marks_attempts_rungs_and_repeats(cli):
    cli("ask", "--attempt", "git reset --soft HEAD~1", "--level", "intermediate", QUESTION)
    cli("hint")
    cli("ask", "undo the last commit in git but keep my changes")
    cli("ask", "--attempt", "water them at noon", "how should I water my tomato plants?")  # no card fits: unjudged
    out = "\n".join(lines_of(cli("history")))
    assert "ok, attempt 1.00, hint rung 0" in out
    assert "ok, hint rung 1" in out
    assert "ok, repeat of #1" in out
    rows = {r["id"]: r for r in json.loads(cli("history", "--json").stdout)}
    assert (rows[1]["attempt_score"], rows[1]["hint_step"], rows[1]["hint_rung"]) == (1.0, 0, "critique of the attempt and a first hint")
    assert (rows[2]["attempt_score"], rows[2]["hint_rung"]) == (None, "a bigger hint")
    assert (rows[3]["repeat_of"], rows[3]["attempt_score"], rows[3]["hint_rung"]) == (1, None, None)
    assert rows[4]["attempt"] == "water them at noon" and rows[4]["attempt_score"] is None
    assert "attempt (unjudged)" in out


def test_show_gives_the_attempt_its_judgement_and_the_rung(cli):
    cli("ask", "--attempt", "delete the folder and clone again", "--level", "expert", QUESTION)
    text = "\n".join(lines_of(cli("show", "1")))
    assert "try first, rung 0: critique of the attempt" in text and "first hint" not in text  # an expert gets the critique alone
    assert "Your attempt (judged 0.00):" in text.replace("**", "") and "> delete the folder and clone again" in text
    shown = json.loads(cli("show", "1", "--json").stdout)
    assert shown["attempt"] == "delete the folder and clone again" and shown["attempt_score"] == 0.0
    assert shown["hint_rung"] == "critique of the attempt" and shown["repeat"] is None


def test_show_names_the_earlier_ask_a_question_repeats(cli):
    cli("ask", "How do I undo my last git commit?")
    cli("ask", "undo the last commit in git but keep my changes")
    text = "\n".join(lines_of(cli("show", "2")))
    assert "asked before as #1" in text and "“How do I undo my last git commit?”" in text
    shown = json.loads(cli("show", "2", "--json").stdout)
    assert shown["repeat"]["id"] == 1 and shown["repeat"]["question"] == "How do I undo my last git commit?"
    assert shown["attempt_score"] is None and shown["hint_rung"] is None
    plain = "\n".join(lines_of(cli("show", "1")))
    assert "asked before" not in plain and "try first" not in plain and "Your attempt" not in plain


def test_a_repeat_of_an_ask_no_longer_in_the_log_is_said_so(cli):
    """`forget` clears the link; a log repaired after damage may still hold one to a lost row."""
    cli("ask", "How do I undo my last git commit?")
    cli("ask", "undo the last commit in git but keep my changes")
    s = Store()
    s.conn.execute("UPDATE interactions SET repeat_of = 99 WHERE id = 2")
    s.conn.commit()
    assert "asked before as #99 (no longer in the log)" in "\n".join(lines_of(cli("show", "2")))
    assert json.loads(cli("show", "2", "--json").stdout)["repeat"] == {"id": 99, "created_at": None, "question": None}
