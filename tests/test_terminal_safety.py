"""Logged text and model output cannot drive the reader's terminal or spreadsheet; files
with someone's learning record are theirs alone (issue 14)."""

import csv
import io
import os
import stat

import pytest

from learnflow.controls import csv_cell, strip_controls

CLEAR_SCREEN = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
LINK = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
HIDDEN = "\x1b[8mhidden\x1b[0m"
OVERWRITE = "rm -rf /\rls -la"
BIDI = "access\u202e level"
HOSTILE = [CLEAR_SCREEN, TITLE, LINK, HIDDEN, OVERWRITE, BIDI, "\x9b31mred", "\x1bcreset"]


@pytest.mark.parametrize("seq", HOSTILE, ids=["clear", "title", "osc8", "hidden", "cr", "bidi", "c1-csi", "ris"])
def test_control_sequences_are_removed_and_their_tails_do_not_linger(seq):
    out = strip_controls(f"before {seq} after")
    assert not any(ord(c) < 32 and c not in "\n\t" for c in out)
    assert not any(0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E for c in out)
    assert out.startswith("before ") and out.endswith(" after")
    assert "]0;" not in out and "[2J" not in out and "8;;" not in out


def test_ordinary_text_is_untouched():
    text = "line 1\n\tindented — naïve café 日本語 `code` [link](http://x)\nline 3"
    assert strip_controls(text) == text
    assert strip_controls("a\r\nb") == "a\nb"


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)", "\t=1"])
def test_csv_cells_that_would_run_as_formulas_become_text(value):
    assert csv_cell(value).startswith("'")
    assert csv_cell("plain words") == "plain words" and csv_cell(3) == 3


def question_with_escapes():
    return f"why {CLEAR_SCREEN}does {TITLE}git {LINK} fail {HIDDEN}{OVERWRITE}"


def assert_inert(text: str):
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text, repr(text)


def test_ask_show_history_and_search_replay_no_escape_sequences(cli):
    asked = cli("ask", question_with_escapes())
    assert asked.exit_code == 0
    assert_inert(asked.stdout + asked.stderr)
    for args in (["show", "1"], ["history"], ["history", "-q", "git"]):
        result = cli(*args)
        assert result.exit_code == 0 and "why" in result.stdout
        assert_inert(result.stdout)


def test_a_model_answer_with_escapes_is_shown_inert_but_kept_as_sent(cli, openai_env):
    openai_env.set_default({"content": f"Try this {CLEAR_SCREEN}{TITLE}now{OVERWRITE}"})
    result = cli("ask", "how do I undo a commit")
    assert result.exit_code == 0 and "Try this" in result.stdout
    assert_inert(result.stdout)


def test_csv_export_has_no_escapes_and_no_formulas(cli, tmp_path):
    cli("ask", '=HYPERLINK("http://evil.example") ' + question_with_escapes())
    out = tmp_path / "log.csv"
    assert cli("export", "--format", "csv", "--include-text", "-o", str(out)).exit_code == 0
    text = out.read_text()
    assert_inert(text)
    for row in csv.reader(io.StringIO(text)):
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)


@pytest.mark.parametrize("args", [["export", "--include-text", "-o"], ["gaps", "--html"]], ids=["export", "gaps-html"])
def test_files_with_a_learning_record_are_0600_even_over_a_0644_file_and_under_umask_000(cli, tmp_path, args):
    cli("ask", "how do I undo a commit")
    target = tmp_path / "out.file"
    target.write_text("old")
    target.chmod(0o644)
    old_umask = os.umask(0)
    try:
        result = cli(*args, str(target))
    finally:
        os.umask(old_umask)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() != "old"
    assert not list(tmp_path.glob(".out.file*"))  # no temporary file left behind
