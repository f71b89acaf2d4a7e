"""Answers grounded in the learner's own documents: `ask --docs`, the `docs` setting, `learnflow docs`.

The index is a real SQLite file in the cache folder; the model is the real loopback server."""

import json
import os
import re
from pathlib import Path

import pytest

from learnflow import paths
from learnflow.tutor import documents

TAGGING = "Classify the user's question"
SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"

GIT = """# Git at our team

We never force-push to main.

## Squashing before review

Squash your branch with `git rebase -i origin/main`, mark the commits `fixup`,
then push with `--force-with-lease` to your own branch only.
"""

DEPLOY = f"""Deploying
=========

The release job reads its token from the vault.
deploy_token = "{SECRET}"
Run `make release` from a clean tree.
"""


@pytest.fixture
def notes(tmp_path, monkeypatch):
    """A folder of documents; the current folder is its parent, so citations read `notes/…`."""
    folder = tmp_path / "notes"
    (folder / "ops").mkdir(parents=True)
    (folder / "git.md").write_text(GIT, encoding="utf-8")
    (folder / "ops" / "deploy.rst").write_text(DEPLOY, encoding="utf-8")
    (folder / "todo.txt").write_text("Buy milk.\n", encoding="utf-8")
    (folder / "picture.png").write_bytes(b"\x89PNG not a document")
    monkeypatch.chdir(tmp_path)
    return folder


def answered(server):
    return [r for r in server.chat_requests if TAGGING not in r["body"]]


def index_bytes() -> bytes:
    """Every byte of the index file and its write-ahead log: what is stored, whatever SQLite buffered."""
    base = documents.index_path()
    return b"".join(p.read_bytes() for p in (base, base.with_name(base.name + "-wal")) if p.exists())


# -- ask against the model ---------------------------------------------------------------------


def test_the_model_receives_the_best_passage_fenced_under_its_file_and_line_and_is_asked_to_cite_it(cli, notes, openai_env):
    openai_env.script({"content": "Use `git rebase -i origin/main` (notes/git.md:5).\n\n**Check:** Why fixup?"})
    result = cli("ask", "--docs", str(notes), "how do I squash my branch before review?")
    assert result.exit_code == 0, result.output
    [sent] = answered(openai_env)
    system, user = sent["json"]["messages"][0]["content"], sent["json"]["messages"][-1]["content"]
    fence = re.search(r"<(context-[0-9a-f]{16}) source=\"notes/git\.md:5\">", user)
    assert fence, user
    block = user[fence.start() : user.index(f"</{fence.group(1)}>")]
    assert "git rebase -i origin/main" in block and "We never force-push" not in block  # the passage, not the whole file
    assert user.rstrip().endswith("how do I squash my branch before review?")
    assert fence.group(1) in system and "cite each passage you use" in system
    row = json.loads(cli("show", "--json").stdout)
    assert "documents: notes/git.md:5" in row["context_summary"]


def test_a_secret_in_a_document_is_redacted_in_the_index_and_in_the_request(cli, notes, openai_env):
    result = cli("ask", "--docs", str(notes), "where does the release job read its deploy token?")
    assert result.exit_code == 0, result.output
    [sent] = answered(openai_env)
    assert SECRET not in sent["body"]
    assert "[REDACTED:" in sent["body"] and "notes/ops/deploy.rst:1" in sent["body"]
    assert SECRET.encode() not in index_bytes()
    assert documents.search("deploy token release", [notes.resolve()])[0].text.count("[REDACTED:") == 1


def test_when_no_document_matches_the_model_is_told_to_say_so_and_so_is_the_learner(cli, notes, openai_env):
    result = cli("ask", "--docs", str(notes), "what is a kubernetes ingress?")
    assert result.exit_code == 0, result.output
    [sent] = answered(openai_env)
    system, user = sent["json"]["messages"][0]["content"], sent["json"]["messages"][-1]["content"]
    assert "no passage of them matched" in system
    assert "source=" not in user
    assert "No document matched this question in" in result.stderr


# -- the offline coach -------------------------------------------------------------------------


def test_the_offline_coach_quotes_the_best_passage_with_its_file_and_line(cli, notes):
    result = cli("ask", "--docs", str(notes), "how do I squash my branch before review?")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "**From your documents** (`notes/git.md:5`)" in out
    assert "> Squash your branch with `git rebase -i origin/main`" in out
    assert out.index("From your documents") < out.index("**Check:**")


def test_the_offline_coach_says_when_no_document_matched(cli, notes):
    result = cli("ask", "--docs", str(notes), "what is a kubernetes ingress?")
    assert result.exit_code == 0, result.output
    assert "**No document matched** this question in your documents" in result.stdout
    assert "From your documents" not in result.stdout


def test_an_ask_without_docs_searches_nothing_and_says_nothing_about_documents(cli, notes):
    result = cli("ask", "how do I squash my branch before review?")
    assert "document" not in result.stdout.lower()
    assert not documents.index_path().exists()


def test_the_docs_setting_grounds_every_ask_and_needs_no_content_pack(cli, notes, monkeypatch):
    monkeypatch.delenv("LEARNFLOW_CONTENT", raising=False)
    from learnflow.learner import content

    assert content.packs() == []  # documents are a folder of the learner's, not part of a pack
    assert cli("config", "set", "docs", str(notes)).exit_code == 0
    result = cli("ask", "how do I squash my branch before review?")
    assert "`notes/git.md:5`" in result.stdout
    assert cli("docs", "index").exit_code == 0  # no folder given: the setting's


# -- `learnflow docs index|search` -------------------------------------------------------------


def test_index_then_search_gives_file_line_and_a_snippet(cli, notes):
    result = cli("docs", "index", str(notes), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["files"], report["indexed"], report["redacted"]) == (3, 3, 1)
    assert result.stderr == ""  # no progress bar off a terminal  # the .png is not a document
    hits = json.loads(cli("docs", "search", "force", "with", "lease", "--json", "-n", "1").stdout)
    assert [(h["cite"], h["line"]) for h in hits] == [("notes/git.md:5", 5)]
    assert "force-with-lease" in hits[0]["snippet"]
    plain = cli("docs", "search", "make release")
    assert "notes/ops/deploy.rst:1" in plain.stdout


def test_a_reindex_reads_only_what_changed_and_drops_what_disappeared(notes):
    folders = documents.folders_from([str(notes)])
    first = documents.index(folders)
    assert (first.indexed, first.unchanged, first.removed) == (3, 0, 0)

    again = documents.index(folders)
    assert (again.indexed, again.unchanged, again.removed) == (0, 3, 0)

    git = notes / "git.md"
    git.write_text(GIT.replace("fixup", "squash-merge"), encoding="utf-8")
    os.utime(git, ns=(git.stat().st_atime_ns, git.stat().st_mtime_ns + 10**9))
    (notes / "todo.txt").unlink()
    (notes / "ops" / "review.md").write_text("Code review needs two approvals.\n", encoding="utf-8")
    changed = documents.index(folders)
    assert (changed.indexed, changed.unchanged, changed.removed) == (2, 1, 1)
    assert documents.search("milk", folders) == []
    assert documents.search("fixup", folders) == []  # the old text of a changed file is gone
    assert [p.cite for p in documents.search("approvals", folders)] == ["notes/ops/review.md:1"]


def test_indexing_a_subfolder_shares_the_parents_rows(notes):
    documents.index(documents.folders_from([str(notes)]))
    sub = documents.index(documents.folders_from([str(notes / "ops")]))
    assert (sub.indexed, sub.unchanged) == (0, 1)
    assert [p.cite for p in documents.search("make release", documents.folders_from([str(notes / "ops")]))] == ["notes/ops/deploy.rst:1"]
    assert documents.search("force-with-lease", documents.folders_from([str(notes / "ops")])) == []


def test_the_index_is_a_cache_file_beside_the_log_not_in_it(cli, notes):
    assert cli("docs", "index", str(notes)).exit_code == 0
    assert documents.index_path().parent == paths.cache_dir()
    assert documents.index_path().exists() and documents.index_path() != paths.db_path()
    documents.index_path().unlink()  # deleting it loses nothing: the next index rebuilds it
    assert json.loads(cli("docs", "index", str(notes), "--json").stdout)["indexed"] == 3


# -- bad input ---------------------------------------------------------------------------------


def test_a_missing_folder_is_a_clear_error(cli, notes):
    result = cli("ask", "--docs", "no-such-folder", "anything")
    assert result.exit_code == 3
    assert "Documents folder not found: no-such-folder (from --docs)" in result.output
    assert "Traceback" not in result.output
    result = cli("docs", "index", str(notes / "git.md"))
    assert result.exit_code == 3 and "is a file, not a folder" in result.output


def test_with_no_folder_given_or_set_docs_index_says_how_to_give_one(cli):
    result = cli("docs", "index")
    assert result.exit_code == 3 and "learnflow config set docs" in result.output


def test_unreadable_and_non_utf8_files_are_skipped_counted_and_named(cli, notes):
    (notes / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    locked = notes / "locked.md"
    locked.write_text("secret plans\n", encoding="utf-8")
    locked.chmod(0)
    try:
        readable_anyway = os.access(locked, os.R_OK)  # root reads everything
        result = cli("docs", "index", str(notes))
        assert result.exit_code == 0, result.output
        assert "latin1.txt: not UTF-8" in result.stderr
        report = json.loads(cli("docs", "index", str(notes), "--json").stdout)
        expected = {"not UTF-8": 1} if readable_anyway else {"not UTF-8": 1, "unreadable": 1}
        assert report["skipped"] == expected
        asked = cli("ask", "--docs", str(notes), "how do I squash my branch?")
        assert asked.exit_code == 0 and "skipped" not in asked.stderr  # named by `docs index` already, unchanged since
    finally:
        locked.chmod(0o600)


def test_a_file_gone_between_the_walk_and_the_read_is_skipped_as_unreadable(notes):
    assert documents._read(str(notes / "gone.md")) == (None, "unreadable")


def test_a_file_that_became_unreadable_is_no_longer_cited(notes):
    folders = documents.folders_from([str(notes)])
    documents.index(folders)
    (notes / "todo.txt").write_bytes(b"Buy \xff milk.\n")
    report = documents.index(folders)
    assert report.skipped == {"not UTF-8": 1}
    assert documents.search("milk", folders) == []


# -- splitting ---------------------------------------------------------------------------------


def test_passages_are_bounded_start_at_headings_and_keep_their_first_line():
    text = "# One\n\nalpha\n\n# Two\n\n" + "\n".join(f"line {i} " + "x" * 50 for i in range(60)) + "\n\n" + "y" * 3000
    passages = documents.split(text, max_chars=1200)
    assert passages[0] == (1, "# One\n\nalpha")
    assert passages[1][0] == 5 and passages[1][1].startswith("# Two")
    assert all(len(body) <= 1200 for _, body in passages)
    lines = text.splitlines()
    for start, body in passages:
        assert lines[start - 1].startswith(body.splitlines()[0][:50])


def test_a_redacted_key_block_does_not_shift_the_lines_cited_after_it(notes):
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(["MIIEowIBAAKCAQEA" + "x" * 48] * 6) + "\n-----END RSA PRIVATE KEY-----"
    (notes / "keys.md").write_text(f"# Keys\n\n{key}\n\n# Rotation\n\nRotate keys every ninety days.\n", encoding="utf-8")
    folders = documents.folders_from([str(notes)])
    documents.index(folders)
    [hit] = documents.search("rotate ninety days", folders)
    assert hit.cite == "notes/keys.md:12"
    assert (notes / "keys.md").read_text().splitlines()[11] == "# Rotation"
    assert b"MIIEowIBAAKCAQEA" not in index_bytes()


def test_the_docs_setting_takes_several_folders_and_rejects_a_bad_value(cli, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    assert cli("config", "set", "docs", f"{a}{os.pathsep}{b}").exit_code == 0
    from learnflow.config import Config

    assert Config().get("docs") == [str(a), str(b)]
    paths.config_path().write_text("docs = 3\n", encoding="utf-8")
    result = cli("ask", "anything")
    assert result.exit_code != 0 and "needs a list of folders" in result.output


def test_folders_from_prefers_the_given_folders(tmp_path):
    (tmp_path / "x").mkdir()
    assert documents.folders_from([str(tmp_path / "x")], ["/nowhere"]) == [Path(tmp_path / "x").resolve()]
    assert documents.folders_from(None, None) == []


def test_the_docs_setting_reads_back_as_it_was_set(cli, tmp_path):
    a, b = tmp_path / "wiki", tmp_path / "notes"
    a.mkdir()
    b.mkdir()
    joined = f"{a}{os.pathsep}{b}"
    done = cli("config", "set", "docs", joined)
    assert done.exit_code == 0 and f'docs = ["{a}", "{b}"]' in done.stderr
    assert cli("config", "get", "docs").stdout.strip() == joined


# -- folders that went away (review #12, #13) ----------------------------------------------------


def test_a_folder_indexed_then_deleted_leaves_docs_search(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gone = tmp_path / "docs2"
    gone.mkdir()
    (gone / "oncall.md").write_text("# Oncall\nPage via pagerduty.\n", encoding="utf-8")
    assert cli("docs", "index", str(gone)).exit_code == 0
    assert "docs2/oncall.md:1" in cli("docs", "search", "pagerduty").stdout
    for p in gone.iterdir():
        p.unlink()
    gone.rmdir()
    result = cli("docs", "search", "pagerduty", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert f"Dropped from the index, as they no longer exist: {gone}" in result.stderr
    assert b"pagerduty" not in index_bytes()  # gone from the file, not only from the results


def test_a_folder_moved_away_is_dropped_by_the_next_index_of_any_folder(notes, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    documents.index(documents.folders_from([str(notes)]))
    notes.rename(tmp_path / "moved")
    report = documents.index(documents.folders_from([str(other)]))
    assert report.dropped == [str(notes.resolve())]
    assert documents.search("force-with-lease") == []


def test_a_file_deleted_since_it_was_indexed_is_never_shown_by_docs_search(cli, notes):
    assert cli("docs", "index", str(notes)).exit_code == 0
    (notes / "git.md").unlink()
    hits = json.loads(cli("docs", "search", "force", "with", "lease", "--json").stdout)
    assert hits == []


def test_config_set_docs_stores_an_absolute_folder_and_refuses_a_missing_one(cli, tmp_path, monkeypatch):
    from learnflow.config import Config

    (tmp_path / "wiki").mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli("config", "set", "docs", "wiki").exit_code == 0
    assert Config().get("docs") == [str(tmp_path / "wiki")]  # not "wiki": the current folder no longer matters
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli("config", "set", "docs", "~/wiki").exit_code == 0
    assert Config().get("docs") == [str(tmp_path / "wiki")]
    result = cli("config", "set", "docs", str(tmp_path / "nonexistent"))
    assert result.exit_code == 3 and "does not exist" in result.output
    assert Config().get("docs") == [str(tmp_path / "wiki")]  # nothing was changed


def test_a_docs_setting_folder_that_went_missing_is_skipped_with_one_notice(cli, notes, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    assert cli("config", "set", "docs", f"{share}{os.pathsep}{notes}").exit_code == 0
    share.rmdir()  # an unmounted share
    result = cli("ask", "how do I squash my branch before review?")
    assert result.exit_code == 0, result.output
    assert "`notes/git.md:5`" in result.stdout  # the folder still there still grounds the answer
    assert result.stderr.count("not found, skipped") == 1 and str(share) in result.stderr
    (notes / "git.md").unlink()
    for p in sorted(notes.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    notes.rmdir()
    alone = cli("ask", "--json", "how do I squash my branch?")  # every folder gone: an answer without documents
    assert alone.exit_code == 0 and json.loads(alone.stdout)["answer"]
    assert "not found, skipped" in alone.stderr


def test_an_explicit_docs_folder_that_is_missing_stays_an_error(cli, tmp_path):
    (tmp_path / "wiki").mkdir()
    assert cli("config", "set", "docs", str(tmp_path / "wiki")).exit_code == 0
    result = cli("ask", "--docs", str(tmp_path / "gone"), "anything")
    assert result.exit_code == 3 and "Documents folder not found" in result.output


def test_docs_index_names_its_own_argument_as_where_a_missing_folder_came_from(cli):
    result = cli("docs", "index", "nope")
    assert result.exit_code == 3
    assert "Documents folder not found: nope (from `docs index DIR`)" in result.output
    assert "--docs" not in result.output


# -- symlinks (review #19) -----------------------------------------------------------------------


def test_a_symlinked_subfolder_is_followed_and_a_link_loop_ends(notes, tmp_path):
    lnk = tmp_path / "lnk"
    lnk.mkdir()
    (lnk / "wiki").symlink_to(notes, target_is_directory=True)
    (lnk / "wiki-again").symlink_to(notes, target_is_directory=True)  # the same real folder: walked once
    (lnk / "up").symlink_to(lnk, target_is_directory=True)  # a loop
    (lnk / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    report = documents.index(documents.folders_from([str(lnk)]))
    assert report.files == 3  # git.md, ops/deploy.rst, todo.txt: once each
    assert report.skipped == {"link to a folder above": 1, "broken link": 1}
    hit = documents.search("force-with-lease", documents.folders_from([str(lnk)]), limit=1)[0]
    assert hit.cite == "lnk/wiki/git.md:5" or hit.cite == "lnk/wiki-again/git.md:5"
    assert hit.path.startswith(str(lnk.resolve()) + os.sep)  # cited under the link, inside the folder indexed


# -- skipped files are remembered (review #20) -------------------------------------------------


def test_a_skipped_file_is_not_read_again_until_it_changes(cli, notes, monkeypatch):
    (notes / "blob.md").write_bytes(b"\x00\x01 not text")
    (notes / "latin1.txt").write_bytes("Caf\xe9".encode("latin-1"))
    first = cli("ask", "--docs", str(notes), "how do I squash my branch?")
    assert "2 files skipped (binary: 1, not UTF-8: 1)" in first.stderr
    read = []
    real = documents._read
    monkeypatch.setattr(documents, "_read", lambda path: read.append(path) or real(path))
    again = cli("ask", "--docs", str(notes), "how do I squash my branch?")
    assert again.exit_code == 0 and "skipped" not in again.stderr
    assert read == []
    report = json.loads(cli("docs", "index", str(notes), "--json").stdout)
    assert report["skipped"] == {"binary": 1, "not UTF-8": 1} and report["skipped_now"] == {}  # still listed by docs index
    assert sorted(os.path.basename(f["path"]) for f in report["skipped_files"]) == ["blob.md", "latin1.txt"]
    (notes / "latin1.txt").write_text("Café au lait, now in UTF-8.\n", encoding="utf-8")
    fixed = documents.index(documents.folders_from([str(notes)]))
    assert read == [str(notes.resolve() / "latin1.txt")] and fixed.skipped == {"binary": 1}
    assert [p.cite for p in documents.search("café lait", documents.folders_from([str(notes)]))] == ["notes/latin1.txt:1"]


def test_a_file_over_4_mb_is_skipped_without_being_read(notes, monkeypatch):
    (notes / "huge.md").write_bytes(b"word " * (documents.MAX_FILE_BYTES // 5 + 10))
    read = []
    real = documents._read
    monkeypatch.setattr(documents, "_read", lambda path: read.append(path) or real(path))
    report = documents.index(documents.folders_from([str(notes)]))
    assert report.skipped == {"too large": 1} and len(read) == 3
    assert str(notes.resolve() / "huge.md") not in read


def test_the_4_mb_limit_symlinks_and_pruning_are_in_docs_index_help(cli):
    out = cli("docs", "index", "--help").stdout
    assert "4 MB" in out and "Symlinked folders" in out and "no longer exists" in out


# -- empty names and queries (review #22), examples (review #23) --------------------------------


def test_an_empty_search_is_a_clear_error(cli):
    for query in ("", "   "):
        result = cli("docs", "search", query)
        assert result.exit_code == 3 and "The query is empty" in result.output


def test_an_empty_docs_folder_name_is_a_clear_error(cli, notes):
    result = cli("ask", "--docs", "", "how do I squash my branch?")
    assert result.exit_code == 3 and "An empty folder name was given to --docs" in result.output
    assert "No document matched" not in result.output


@pytest.mark.parametrize("command", ["index", "search"])
def test_docs_help_has_examples(cli, command):
    out = cli("docs", command, "--help").stdout
    assert "Examples:" in out and f"learnflow docs {command} " in out
