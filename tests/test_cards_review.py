"""The review of issues 16-17 on cards and `check --skill` (notes/review16-17.md H2, H4, H5, M7, L1, L7, L9).

`cards edit` in $EDITOR fails cleanly when the editor does; `cards export` to a terminal makes the
control sequences in model-written text inert and writes its files 0600; `check --skill S` on a skill
without a guide ends cleanly when the input ends and falls back to the offline way (guidance and a
self-rating) when the model server cannot be reached, as `ask` does; `cards edit` says what is wrong
with keywords and with moving a card to another skill.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys

import pytest
from conftest import free_port
from logdb import rows
from terminal import Terminal
from test_generated_cards import CARDS, generate, soc2  # noqa: F401  (soc2: the autouse pack with a guide-less skill)

DECK = "# soc2\n\n## Who performs a SOC 2 audit?\n\nAn independent CPA firm.\n\nKeywords: independent, cpa\n"


def imported(cli, tmp_path, text: str = DECK) -> int:
    deck = tmp_path / "deck.md"
    deck.write_text(text)
    result = cli("cards", "import", str(deck), "--json")
    assert result.exit_code == 0, result.stderr
    [card_id] = json.loads(result.stdout)["added"]
    return card_id


def card(card_id: int) -> dict:
    [row] = rows("SELECT question, answer, keywords, edited_at FROM generated_cards WHERE id = ?", card_id)
    return row


def editor_script(tmp_path, body: str) -> str:
    """A real editor process: a Python script that rewrites the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(f"import sys, pathlib\np = pathlib.Path(sys.argv[1])\n{body}\n")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


# -- H2: the editor fails, is missing, or there is no terminal -------------------------------------------


@pytest.mark.parametrize("editor", ["false", "/nonexistent/editor"])
def test_an_editor_that_fails_or_is_missing_is_a_clear_error_and_nothing_changes(cli, tmp_path, monkeypatch, editor):
    card_id = imported(cli, tmp_path)
    before = card(card_id)
    monkeypatch.setenv("EDITOR", editor)
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("cards", "edit", str(card_id))
    assert result.exit_code == 3, result.stderr
    [error, hint] = result.stderr.strip().splitlines()
    assert error.startswith(f"Error: Card #{card_id} not changed: the editor ({editor}) ") and "Traceback" not in result.stderr
    assert "--question" in hint and "--answer" in hint and "--keywords" in hint and "$EDITOR" in hint
    assert card(card_id) == before


def test_without_a_terminal_and_no_editor_set_no_editor_is_started(cli, tmp_path, monkeypatch):
    card_id = imported(cli, tmp_path)
    # What click would fall back to (sensible-editor, vim, nano), each leaving a mark when it runs.
    bin_dir, mark = tmp_path / "bin", tmp_path / "editor-ran"
    bin_dir.mkdir()
    for name in ("sensible-editor", "vim", "nano", "vi"):
        (bin_dir / name).write_text(f"#!/bin/sh\ntouch {shlex.quote(str(mark))}\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("cards", "edit", str(card_id), input="")
    assert result.exit_code == 3 and "not changed" in result.stderr and "terminal" in result.stderr
    assert "--answer" in result.stderr and "Traceback" not in result.stderr
    assert not mark.exists()


# -- L9: moving a card to another skill in the editor ------------------------------------------------------


def test_moving_a_card_to_another_skill_in_the_editor_says_why_it_is_refused(cli, tmp_path, monkeypatch):
    card_id = imported(cli, tmp_path)
    before = card(card_id)
    monkeypatch.setenv("EDITOR", editor_script(tmp_path, "p.write_text(p.read_text().replace('# soc2', '# git'))"))
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("cards", "edit", str(card_id))
    assert result.exit_code == 3
    assert f"Card #{card_id} not changed: a card stays on its skill (soc2); the edit moved it to git." in result.stderr
    assert f"cards retire {card_id}" in result.stderr and "cards import" in result.stderr
    assert card(card_id) == before


def test_a_broken_card_in_the_editor_is_not_called_an_import(cli, tmp_path, monkeypatch):
    card_id = imported(cli, tmp_path)
    monkeypatch.setenv("EDITOR", editor_script(tmp_path, "p.write_text(p.read_text().replace('# soc2', '# nosuchskill'))"))
    monkeypatch.delenv("VISUAL", raising=False)
    result = cli("cards", "edit", str(card_id))
    assert result.exit_code == 3 and f"Card #{card_id} not changed" in result.stderr and "unknown skill 'nosuchskill'" in result.stderr
    assert "imported" not in result.stderr


# -- L7: keywords not in the reference answer ------------------------------------------------------------


def test_a_keyword_not_in_the_answer_is_kept_with_a_warning_as_on_import(cli, tmp_path):
    card_id = imported(cli, tmp_path)
    result = cli("cards", "edit", str(card_id), "--keywords", "independent, zzz notinanswer")
    assert result.exit_code == 0, result.stderr
    assert json.loads(card(card_id)["keywords"]) == ["independent", "zzz notinanswer"]
    assert "'zzz notinanswer' is not in the reference answer" in result.stderr
    data = json.loads(cli("cards", "edit", str(card_id), "--keywords", "independent, zzz notinanswer", "--json").stdout)
    assert data["warnings"] == [
        "keyword 'zzz notinanswer' is not in the reference answer: the offline judge looks for it, so an answer like the reference misses it"
    ]
    # The same words from a Markdown import: kept, and the same warning, at file:line.
    deck = tmp_path / "other.md"
    deck.write_text("# soc2\n\n## What does SOC 2 cover?\n\nSecurity controls.\n\nKeywords: security, availability\n")
    result = cli("cards", "import", str(deck))
    assert result.exit_code == 0 and f"{deck}:3: keyword 'availability' is not in the reference answer" in result.stderr


def test_emptying_the_keywords_says_what_that_means(cli, tmp_path):
    card_id = imported(cli, tmp_path)
    result = cli("cards", "edit", str(card_id), "--keywords", "")
    assert result.exit_code == 0 and json.loads(card(card_id)["keywords"]) == []
    assert "no keywords" in result.stderr and "you grade" in result.stderr
    # Keywords that are all there: no warning.
    quiet = cli("cards", "edit", str(card_id), "--keywords", "cpa")
    assert quiet.exit_code == 0 and "keyword" not in quiet.stderr.lower()


# -- H4: control sequences reach a terminal inert ----------------------------------------------------------

ESCAPES = "# soc2\n\n## What does \x1b]0;pwned\x07 SOC 2 \x1b[2J cover?\n\nSecurity, \x1b[31mred\x1b[0m controls.\n\nKeywords: security\n"


def test_markdown_export_to_a_terminal_makes_control_sequences_inert(cli, tmp_path):
    imported(cli, tmp_path, ESCAPES)
    term = Terminal.learnflow("cards", "export", "--format", "markdown")
    term.expect("Wrote 1 card(s)")
    assert term.finish() == 0
    assert b"SOC 2" in term.seen and b"controls." in term.seen
    assert b"\x1b]0;pwned" not in term.seen and b"\x1b[2J" not in term.seen and b"\x1b[31mred" not in term.seen


def test_markdown_export_to_a_file_or_pipe_keeps_the_text_as_it_is(cli, tmp_path):
    imported(cli, tmp_path, ESCAPES)
    out = tmp_path / "deck.md"
    assert cli("cards", "export", "--format", "markdown", "-o", str(out)).exit_code == 0
    piped = cli("cards", "export", "--format", "markdown").stdout
    # What `cards import` reads back exactly, as `> deck.md` and `-o deck.md` both write it.
    assert out.read_text() == piped and "\x1b]0;pwned\x07" in piped and "\x1b[31mred\x1b[0m" in piped


# -- L1: exports are 0600 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, name", [("markdown", "deck.md"), ("anki", "deck.apkg")])
def test_cards_export_files_are_readable_by_their_owner_only(cli, tmp_path, fmt, name):
    imported(cli, tmp_path)
    out = tmp_path / name
    out.write_text("an older export")
    out.chmod(0o644)
    result = cli("cards", "export", "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_bytes() != b"an older export"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{name}")] == []  # no temporary file left
    if fmt == "anki":
        import zipfile

        assert "collection.anki2" in zipfile.ZipFile(out).namelist()
    missing = cli("cards", "export", "--format", fmt, "-o", str(tmp_path / "no" / "such" / name))
    assert missing.exit_code == 3 and "Cannot write" in missing.stderr


# -- H5: the input ends at the self-rating ---------------------------------------------------------------------


def test_check_on_a_guide_less_skill_whose_input_ends_is_a_clean_error(cli):
    result = cli("check", "--skill", "soc2", "--json", input="")
    assert result.exit_code == 3 and "Aborted" not in result.stderr
    assert "The input ended" in result.stderr and "--answers answers.toml" in result.stderr
    assert json.loads(result.stdout)["checks"] == []  # --json: what there is, as for a skill with guides
    assert rows("SELECT * FROM skill_ratings") == []
    plain = cli("check", "--skill", "soc2", input="")
    assert plain.exit_code == 3 and "The input ended before the self-rating. Nothing was stored." in plain.stderr


def test_a_skill_with_guides_ends_the_same_way(cli):
    result = cli("check", "--skill", "git", "-n", "1", "--json", input="")
    assert result.exit_code == 3 and "The input ended" in result.stderr and "--answers answers.toml" in result.stderr


# -- M7: the model server cannot be reached -----------------------------------------------------------------------


def unreachable(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    monkeypatch.setenv("LEARNFLOW_MODEL", "openai/my-model")


def test_an_unreachable_server_falls_back_to_guidance_and_a_self_rating(cli, monkeypatch):
    unreachable(monkeypatch)
    result = cli("check", "--skill", "soc2", "--answers", "-", "--json", input="[ratings]\nsoc2 = 3\n")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["self_rating"] == 3 and out["generated"] == [] and "connection refused" in out["fallback"]
    fell_back = [line for line in result.stderr.splitlines() if "fallback off" in line]
    assert len(fell_back) == 1 and "The model could not be reached to write a question on soc2" in fell_back[0]
    assert "The model could not help with" not in result.stderr  # said once, not again as a side job's warning
    assert "no guide" in result.stderr and "docs/content.md" in result.stderr
    assert rows("SELECT skill, kind, value FROM evidence") == [{"skill": "soc2", "kind": "self_rating", "value": 0.5}]
    assert rows("SELECT * FROM generated_cards") == []


def test_with_the_fallback_off_an_unreachable_server_is_an_error(cli, monkeypatch):
    unreachable(monkeypatch)
    cli("config", "set", "fallback", "off")
    result = cli("check", "--skill", "soc2", "--answers", "-", input="[ratings]\nsoc2 = 3\n")
    assert result.exit_code == 5 and "connection refused" in result.stderr
    assert rows("SELECT * FROM evidence") == [] and rows("SELECT * FROM skill_ratings") == []


def test_a_server_that_answers_with_an_error_is_still_an_error(cli, openai_env):
    # Not a connection failure: the server is there and refused (500), so nothing falls back.
    openai_env.rule("retrieval-practice question(s)", {"status": 500})
    result = cli("check", "--skill", "soc2", "--answers", "-", input="[ratings]\nsoc2 = 3\n")
    assert result.exit_code == 5 and rows("SELECT * FROM skill_ratings") == []


def test_generated_cards_are_unchanged_by_the_fallback(cli, openai_env):
    out = generate(cli, openai_env)
    assert out["fallback"] is None and len(out["generated"]) == 2 and out["answered"] == 2
    assert CARDS[0]["question"] in {c["question"] for c in out["checks"]}
