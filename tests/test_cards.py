"""The offline coach's skill cards (learnflow/data/cards/*.toml).

Three layers of checks:

1. Schema: every card has the documented keys and types, belongs to a skill
   from the bundled taxonomy, and every skill has enough cards.
2. Syntax: every command in every card parses in the language the card says
   it is written in (bash, python, sql, javascript; text must be non-empty).
3. Behaviour: a handful of harmless commands are actually run, to prove they
   do what their card says. Commands are looked up in the cards, never copied,
   so editing a card without keeping it true fails here.

Standard library and pytest only; no network.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sqlite3
import subprocess
import tomllib
from pathlib import Path

import pytest

from learnflow.learner import content

DATA_DIR = Path(__file__).resolve().parents[1] / "learnflow" / "data"
CARDS_DIR = DATA_DIR / "cards"
TAXONOMY = tomllib.loads((DATA_DIR / "skills.toml").read_text(encoding="utf-8"))["skills"]

# Skills people ask about most get more cards.
CORE_SKILLS = {"git", "shell", "python", "sql", "debugging", "testing", "containers", "http-apis"}
CORE_RANGE = (4, 40)
OTHER_RANGE = (2, 12)

# Cards may only link official documentation.
OFFICIAL_DOCS = (
    "https://git-scm.com/",
    "https://docs.python.org/",
    "https://packaging.python.org/",
    "https://pip.pypa.io/",
    "https://peps.python.org/",
    "https://docs.pytest.org/",
    "https://www.postgresql.org/docs/",
    "https://www.sqlite.org/",
    "https://docs.docker.com/",
    "https://kubernetes.io/docs/",
    "https://developer.mozilla.org/",
    "https://www.gnu.org/software/",
    "https://man7.org/linux/man-pages/",
    "https://www.freedesktop.org/software/systemd/man/",
    "https://curl.se/docs/",
    "https://www.rfc-editor.org/rfc/",
    "https://jqlang.github.io/jq/",
    "https://docs.npmjs.com/",
    "https://nodejs.org/api/",
    "https://docs.openssl.org/",
    "https://requests.readthedocs.io/",
    "https://cheatsheetseries.owasp.org/",
    "https://docs.github.com/",
    "https://docs.aws.amazon.com/",
    "https://developer.hashicorp.com/terraform/",
    "https://pandas.pydata.org/docs/",
    "https://docs.djangoproject.com/",
    "https://docs.sqlalchemy.org/",
    "https://google.github.io/eng-practices/",
    "https://keepachangelog.com/",
    "https://semver.org/",
    "https://docs.anthropic.com/",
    "https://platform.openai.com/docs/",
    "https://www.nist.gov/itl/ai-risk-management-framework",
)


def _load() -> list[tuple[Path, dict]]:
    out = []
    for path in sorted(CARDS_DIR.glob("*.toml")):
        for card in tomllib.loads(path.read_text(encoding="utf-8")).get("cards", []):
            out.append((path, card))
    return out


LOADED = _load()
CARDS = [card for _, card in LOADED]
BY_ID = {card["id"]: card for card in CARDS if isinstance(card.get("id"), str)}


def _commands(lang: str) -> list:
    """(card id, index, cmd) for every command of every card in `lang`, as pytest params."""
    return [
        pytest.param(card["id"], i, c["cmd"], id=f"{card['id']}[{i}]")
        for card in CARDS
        if card.get("lang") == lang
        for i, c in enumerate(card.get("commands", []))
    ]


def command(card_id: str, prefix: str) -> str:
    """The one command of `card_id` that starts with `prefix`, exactly as the card has it."""
    found = [c["cmd"] for c in BY_ID[card_id]["commands"] if c["cmd"].startswith(prefix)]
    assert len(found) == 1, f"{card_id}: expected one command starting {prefix!r}, found {found}"
    return found[0]


# --------------------------------------------------------------------------------------
# 1. Schema
# --------------------------------------------------------------------------------------


def test_cards_exist():
    assert CARDS_DIR.is_dir()
    assert len(CARDS) >= 200  # issue 15: the questions people ask most


def test_one_cards_file_per_taxonomy_skill():
    files = {p.stem for p in CARDS_DIR.glob("*.toml")}
    assert files == set(TAXONOMY), f"missing: {sorted(set(TAXONOMY) - files)}; unknown: {sorted(files - set(TAXONOMY))}"


@pytest.mark.parametrize("skill", sorted(TAXONOMY))
def test_every_skill_has_enough_cards(skill):
    n = sum(1 for card in CARDS if card.get("skill") == skill)
    low, high = CORE_RANGE if skill in CORE_SKILLS else OTHER_RANGE
    assert low <= n <= high, f"{skill} has {n} cards, expected {low}-{high}"


def test_bundled_content_passes_the_pack_validator():
    """The checks every pack passes (learner/content.py `validate`): schema, kebab-case ids namespaced
    by their skill, unique ids, known skills, lower-case keywords, check keywords found in the answer,
    roles over known skills. Commands are checked one by one below, for a report per command."""
    problems = content.validate(DATA_DIR, commands=False, known_skills=TAXONOMY)
    assert [str(p) for p in problems] == []


@pytest.mark.parametrize(("path", "card"), LOADED, ids=[c.get("id", "?") for _, c in LOADED])
def test_bundled_card_rules(path, card):
    """Rules of the bundled guides only (a pack may file and link its own as it likes)."""
    assert path.stem == card["skill"], f"card lives in {path.name}, not {card['skill']}.toml"
    for url in card["docs"]:
        assert url.startswith(OFFICIAL_DOCS), f"not an official docs link: {url}"


def test_the_validator_catches_what_the_schema_forbids(tmp_path):
    """Guards the test above: a card breaking the rules it relies on is reported."""
    pack = tmp_path / "pack"
    (pack / "cards").mkdir(parents=True)
    card = dict(BY_ID["git-undo-last-commit"], id="Git_Undo", keywords=["Undo"], check_keywords=["nowhere in the answer"])
    del card["pitfalls"]
    lines = ["[[cards]]"] + [f"{k} = {_toml(v)}" for k, v in card.items()]
    (pack / "cards" / "git.toml").write_text("\n".join(lines * 2) + "\n", encoding="utf-8")
    found = " | ".join(str(p) for p in content.validate(pack, commands=False, known_skills=TAXONOMY))
    assert "missing keys pitfalls" in found and "duplicate id" in found


def _toml(value) -> str:
    """A card's value as TOML: JSON strings and arrays are TOML too; a command is an inline table."""
    import json

    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def test_flagship_card_undo_last_commit():
    card = BY_ID["git-undo-last-commit"]
    assert card["skill"] == "git"
    whats = {c["cmd"]: c["what"].lower() for c in card["commands"]}
    assert "staged" in whats["git reset --soft HEAD~1"]
    assert "destroys" in whats["git reset --hard HEAD~1"]
    assert "unstaged" in whats["git reset --mixed HEAD~1"]
    assert any("git revert HEAD" in p for p in card["pitfalls"])
    question = "how do i undo my last git commit but keep the changes?"
    hits = {k for k in card["keywords"] if k in question}
    assert {"undo", "last git commit", "keep the changes"} <= hits


# --------------------------------------------------------------------------------------
# 2. Every command parses
# --------------------------------------------------------------------------------------

BASH = shutil.which("bash")
NODE = shutil.which("node")


@pytest.mark.skipif(BASH is None, reason="bash is not installed, so shell commands cannot be syntax-checked")
@pytest.mark.parametrize(("card_id", "index", "cmd"), _commands("bash"))
def test_bash_command_parses(card_id, index, cmd):
    assert content.command_problem("bash", cmd) is None


@pytest.mark.parametrize(("card_id", "index", "cmd"), _commands("python"))
def test_python_command_compiles(card_id, index, cmd):
    assert content.command_problem("python", cmd) is None


@pytest.mark.parametrize(("card_id", "index", "cmd"), _commands("sql"))
def test_sql_command_is_complete(card_id, index, cmd):
    assert content.command_problem("sql", cmd) is None


@pytest.mark.skipif(NODE is None, reason="node is not installed, so JavaScript cannot be syntax-checked")
@pytest.mark.parametrize(("card_id", "index", "cmd"), _commands("javascript"))
def test_javascript_command_parses(card_id, index, cmd):
    assert content.command_problem("javascript", cmd) is None


@pytest.mark.parametrize(("card_id", "index", "cmd"), _commands("text"))
def test_text_command_is_not_empty(card_id, index, cmd):
    assert content.command_problem("text", cmd) is None


def test_the_command_checker_rejects_what_does_not_parse():
    assert content.command_problem("python", "def f(:") is not None
    assert content.command_problem("sql", "SELECT 'unclosed") is not None
    assert content.command_problem("text", "  ") is not None
    if BASH:
        assert content.command_problem("bash", "if then") is not None


# Cards whose SQL is plain SQLite and runs, in order, against the tiny schema below.
# Value: the minimum SQLite version the card's SQL needs.
SQLITE_EXECUTABLE = {
    "sql-left-join-keep-unmatched": (3, 0, 0),
    "sql-group-by-aggregate": (3, 0, 0),
    "sql-find-duplicates": (3, 0, 0),
    "sql-null-handling": (3, 39, 0),  # IS DISTINCT FROM
    "sql-transactions": (3, 0, 0),
    "performance-n-plus-one-queries": (3, 0, 0),
}

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, country TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                     total REAL NOT NULL, status TEXT, created_at TEXT);
CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
INSERT INTO customers VALUES
  (1, 'Ana', 'ana@example.com', 'PT'),
  (2, 'Bo', 'bo@example.com', 'SE'),
  (3, 'Cy', NULL, 'SE'),
  (4, 'Ana (again)', 'ana@example.com', 'PT'),
  (5, 'Dee', NULL, 'US');
INSERT INTO orders VALUES
  (1, 1, 120.0, 'paid', '2024-01-03'),
  (2, 1, 30.0, 'cancelled', '2024-01-04'),
  (3, 2, 80.0, 'paid', '2024-01-05'),
  (4, 2, 15.0, NULL, '2024-01-06'),
  (5, 4, 10.0, 'test', '2024-01-07');
INSERT INTO accounts VALUES (1, 500), (2, 100);
"""


@pytest.fixture
def db():
    conn = sqlite3.connect(":memory:")
    conn.executescript(SCHEMA)
    yield conn
    conn.close()


@pytest.mark.parametrize("card_id", sorted(SQLITE_EXECUTABLE))
def test_sqlite_compatible_card_runs(card_id, db):
    card = BY_ID[card_id]
    assert card["lang"] == "sql"
    if sqlite3.sqlite_version_info < SQLITE_EXECUTABLE[card_id]:
        pytest.skip(f"needs SQLite {SQLITE_EXECUTABLE[card_id]}, have {sqlite3.sqlite_version}")
    for c in card["commands"]:
        db.executescript(c["cmd"])


# --------------------------------------------------------------------------------------
# 3. Behaviour: run harmless commands and check they do what the card says
# --------------------------------------------------------------------------------------

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def sh(cmd: str, cwd: Path, env: dict | None = None) -> str:
    """Run `cmd` with bash in `cwd`; fail the test on a non-zero exit; return stdout."""
    proc = subprocess.run([BASH, "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, f"{cmd!r} exited {proc.returncode}: {proc.stderr}"
    return proc.stdout


class Repo:
    """A throwaway git repository; calling it runs a shell command inside it."""

    def __init__(self, path: Path):
        self.path = path
        # Isolated from the user's and system git configuration.
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_EDITOR": "true",
            "GIT_TERMINAL_PROMPT": "0",
        }

    def __call__(self, cmd: str) -> str:
        return sh(cmd, self.path, self.env)

    def head(self) -> str:
        return self("git rev-parse HEAD").strip()


@pytest.fixture
def repo(tmp_path):
    """A git repository with two commits: notes.txt says 'one', then 'two'."""
    repo = Repo(tmp_path / "repo")
    repo.path.mkdir()
    repo("git init -q")
    repo("git config user.name 'Card Test'")
    repo("git config user.email 'card-test@example.invalid'")
    repo("git config commit.gpgsign false")
    (repo.path / "notes.txt").write_text("one\n")
    repo("git add notes.txt && git commit -q -m first")
    (repo.path / "notes.txt").write_text("two\n")
    repo("git commit -q -am second")
    repo.first = repo("git rev-parse HEAD~1").strip()
    repo.second = repo.head()
    return repo


@needs_git
@needs_bash
def test_reset_soft_moves_head_back_and_keeps_the_change_staged(repo):
    repo(command("git-undo-last-commit", "git reset --soft"))

    assert repo.head() == repo.first
    assert repo("git diff --cached --name-only").split() == ["notes.txt"]
    assert repo("git diff --name-only") == ""  # nothing left unstaged
    assert (repo.path / "notes.txt").read_text() == "two\n"


@needs_git
@needs_bash
def test_reset_mixed_keeps_the_change_but_unstages_it(repo):
    repo(command("git-undo-last-commit", "git reset --mixed"))

    assert repo.head() == repo.first
    assert repo("git diff --cached --name-only") == ""
    assert repo("git diff --name-only").split() == ["notes.txt"]
    assert (repo.path / "notes.txt").read_text() == "two\n"


@needs_git
@needs_bash
def test_reset_hard_destroys_the_change(repo):
    repo(command("git-undo-last-commit", "git reset --hard"))

    assert repo.head() == repo.first
    assert repo("git status --porcelain") == ""
    assert (repo.path / "notes.txt").read_text() == "one\n"


@needs_git
@needs_bash
def test_reflog_brings_back_a_commit_lost_to_reset_hard(repo):
    repo("git reset --hard HEAD~1")
    assert repo.head() == repo.first
    assert repo.second[:7] in repo(command("git-recover-with-reflog", "git reflog"))  # abbreviated hash

    repo(command("git-recover-with-reflog", "git reset --hard HEAD@{1}"))

    assert repo.head() == repo.second
    assert (repo.path / "notes.txt").read_text() == "two\n"


@needs_git
@needs_bash
def test_stash_sets_tracked_changes_aside_but_not_untracked_files(repo):
    (repo.path / "notes.txt").write_text("work in progress\n")
    (repo.path / "new.md").write_text("untracked\n")

    repo(command("git-stash-work-in-progress", "git stash push -m"))

    assert (repo.path / "notes.txt").read_text() == "two\n"  # tracked change is put aside
    assert repo("git status --porcelain").splitlines() == ["?? new.md"]  # untracked stays
    assert "half-done login form" in repo(command("git-stash-work-in-progress", "git stash list"))

    repo(command("git-stash-work-in-progress", "git stash pop"))

    assert (repo.path / "notes.txt").read_text() == "work in progress\n"
    assert repo("git stash list") == ""  # pop removes the entry


@needs_bash
def test_grep_and_sed_commands_find_and_replace_text(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("import requests\n# TODO: retry\nx = 1\n")
    (src / "notes.txt").write_text("import requests\nnothing to do\n")
    (tmp_path / "config.ini").write_text("host = localhost\nreplica = localhost localhost\n")

    # grep -rn: file, line number, line.
    out = sh(command("shell-search-text-in-files", "grep -rn 'TODO'"), tmp_path)
    assert out.splitlines() == ["src/app.py:2:# TODO: retry"]

    # --include limits the search to .py files; -l prints only names.
    out = sh(command("shell-search-text-in-files", "grep -rl --include"), tmp_path)
    assert out.splitlines() == ["./src/app.py"]

    # Without -i, sed prints the result and leaves the file alone.
    out = sh(command("shell-replace-text-with-sed", "sed 's/localhost"), tmp_path)
    assert out == "host = db.internal\nreplica = db.internal db.internal\n"
    assert "localhost" in (tmp_path / "config.ini").read_text()

    # -i.bak edits in place, replaces every match on a line (g), and keeps a backup.
    sh(command("shell-replace-text-with-sed", "sed -i.bak"), tmp_path)
    assert (tmp_path / "config.ini").read_text() == "host = db.internal\nreplica = db.internal db.internal\n"
    assert (tmp_path / "config.ini.bak").read_text() == "host = localhost\nreplica = localhost localhost\n"


# Python snippets whose printed output the card's `what` states.
PYTHON_OUTPUTS = [
    ("python-keyerror-and-dict-access", "from collections import Counter", "[('a', 2)]"),
    ("python-mutable-default-argument", "def bad(", "[1, 2]"),
    ("regex-search-match-fullmatch", "import re\nprint(bool(re.search", "True"),
    ("regex-search-match-fullmatch", "import re\nprint(bool(re.match", "False"),
    ("regex-search-match-fullmatch", "import re\nprint(bool(re.fullmatch", "False"),
    ("regex-search-match-fullmatch", "import re\nprint(re.findall", "['ana@ex.com', 'bo@ex.org']"),
    ("regex-capture-groups-and-replace", "import re\nm = re.search", "2024 05"),
    ("regex-capture-groups-and-replace", "import re\nprint(re.sub(r'(", "due 17.05.2024"),
    ("regex-capture-groups-and-replace", "import re\nprint(re.sub(r'\\d+'", "a2 b40"),
    ("regex-capture-groups-and-replace", "import re\nprint(re.findall", "[('a', '1'), ('b', '2')]"),
    ("regex-greedy-vs-lazy", "import re\nprint(re.findall(r'\"(.*)\"'", "['hi\" and \"bye']"),
    ("regex-greedy-vs-lazy", "import re\nprint(re.findall(r'\"(.*?)\"'", "['hi', 'bye']"),
    ("regex-greedy-vs-lazy", 'import re\nprint(re.findall(r\'"([^"]*)"\'', "['hi', 'bye']"),
]


@pytest.mark.parametrize(("card_id", "prefix", "expected"), PYTHON_OUTPUTS)
def test_python_snippet_prints_what_the_card_says(card_id, prefix, expected):
    code = command(card_id, prefix)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"<{card_id}>", "exec"), {})
    assert out.getvalue().strip() == expected
    what = next(c["what"] for c in BY_ID[card_id]["commands"] if c["cmd"] == code)
    assert expected in what, "the card's description should state this very output"


def test_sql_anti_join_finds_customers_without_orders(db):
    left_join = command("sql-left-join-keep-unmatched", "SELECT c.name FROM customers c LEFT JOIN")
    not_exists = command("sql-left-join-keep-unmatched", "SELECT c.name FROM customers c WHERE NOT EXISTS")
    assert {r[0] for r in db.execute(left_join)} == {"Cy", "Dee"}
    assert {r[0] for r in db.execute(not_exists)} == {"Cy", "Dee"}

    # The filter in ON keeps every customer; the same filter in WHERE would drop the unmatched ones.
    in_on = command("sql-left-join-keep-unmatched", "SELECT c.name, o.total")
    assert {r[0] for r in db.execute(in_on)} == {"Ana", "Bo", "Cy", "Ana (again)", "Dee"}
    in_where = in_on.replace(" AND o.status = 'paid';", " WHERE o.status = 'paid';")
    assert {r[0] for r in db.execute(in_where)} == {"Ana", "Bo"}


def test_sql_duplicates_are_found_then_removed_keeping_the_lowest_id(db):
    find = command("sql-find-duplicates", "SELECT email, COUNT(*)")
    assert db.execute(find).fetchall() == [("ana@example.com", 2)]  # the two NULL emails are not listed

    db.execute(command("sql-find-duplicates", "DELETE FROM customers"))

    ids = [r[0] for r in db.execute("SELECT id FROM customers ORDER BY id")]
    assert ids == [1, 2, 3, 5]  # 4 was the later duplicate; NULL emails are left alone
    db.execute(command("sql-find-duplicates", "CREATE UNIQUE INDEX"))  # now succeeds


def test_sql_transaction_commits_together_and_rollback_undoes(db):
    db.executescript(command("sql-transactions", "BEGIN;\nUPDATE accounts"))
    assert db.execute("SELECT balance FROM accounts ORDER BY id").fetchall() == [(400,), (200,)]

    db.executescript(command("sql-transactions", "BEGIN;\nDELETE"))
    assert db.execute("SELECT COUNT(*) FROM orders WHERE status = 'test'").fetchone() == (1,)

    db.executescript(command("sql-transactions", "BEGIN;\nSAVEPOINT"))
    assert db.execute("SELECT COUNT(*) FROM orders WHERE status = 'test'").fetchone() == (1,)


@pytest.mark.skipif(sqlite3.sqlite_version_info < (3, 39, 0), reason="IS DISTINCT FROM needs SQLite 3.39+")
def test_sql_is_distinct_from_keeps_null_rows_that_not_equal_drops(db):
    distinct = command("sql-null-handling", "SELECT * FROM orders WHERE status IS DISTINCT FROM")
    assert sorted(r[0] for r in db.execute(distinct)) == [1, 3, 4, 5]  # 4 has a NULL status
    not_equal = "SELECT * FROM orders WHERE status <> 'cancelled';"  # the pitfall
    assert sorted(r[0] for r in db.execute(not_equal)) == [1, 3, 5]


# Every other Python snippet whose description ends "prints X." prints exactly X: the cards state
# their output, so a card edited out of truth fails here (PYTHON_OUTPUTS above pins older phrasings).
PRINTS = re.compile(r"prints (.+?)\.$")
STATED_OUTPUTS = [
    pytest.param(card["id"], c["cmd"], PRINTS.search(c["what"]).group(1), id=f"{card['id']}[{i}]")
    for card in CARDS
    if card.get("lang") == "python" and card["id"] not in {cid for cid, _, _ in PYTHON_OUTPUTS}
    for i, c in enumerate(card.get("commands", []))
    if PRINTS.search(c["what"])
]


def test_many_python_snippets_state_their_output():
    assert len(STATED_OUTPUTS) >= 50


@pytest.mark.parametrize(("card_id", "code", "expected"), STATED_OUTPUTS)
def test_python_snippet_prints_its_stated_output(card_id, code, expected, tmp_path, monkeypatch):
    if "import pandas" in code:
        pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)  # snippets that write files write them here
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"<{card_id}>", "exec"), {"__name__": "__main__"})
    assert out.getvalue().strip() == expected


@needs_bash
def test_tar_creates_lists_and_extracts_into_a_folder(tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "README.md").write_text("hi\n")
    sh(command("shell-tar-archives", "tar -czf"), tmp_path)
    assert "project/README.md" in sh(command("shell-tar-archives", "tar -tzf"), tmp_path).split()
    sh(command("shell-tar-archives", "mkdir -p restore"), tmp_path)
    assert (tmp_path / "restore" / "project" / "README.md").read_text() == "hi\n"


@needs_bash
def test_find_print0_loop_handles_names_with_spaces(tmp_path):
    (tmp_path / "a b.log").write_text("x\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c  d.log").write_text("y\n")
    sh(command("shell-loop-over-files", "find . -name '*.log' -print0"), tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*.gz")) == ["a b.log.gz", "c  d.log.gz"]


@needs_bash
def test_glob_loop_skips_the_literal_pattern_when_nothing_matches(tmp_path):
    assert sh(command("shell-loop-over-files", "for f in *.txt"), tmp_path) == ""
    (tmp_path / "my notes.txt").write_text("")
    assert sh(command("shell-loop-over-files", "for f in *.txt"), tmp_path) == "processing my notes.txt\n"


@needs_bash
def test_quoted_variable_keeps_a_name_with_spaces_whole(tmp_path):
    (tmp_path / "my notes.txt").write_text("kept whole\n")
    assert sh(command("shell-quoting-variables", "file='my notes.txt'"), tmp_path) == "kept whole\n"
    assert sh(command("shell-quoting-variables", "echo 'cost"), tmp_path) == "cost: $5\n"


@needs_bash
def test_sort_uniq_counts_most_frequent_first(tmp_path):
    (tmp_path / "access.log").write_text("b\na\nb\nc\nb\na\n")
    lines = [ln.split() for ln in sh(command("shell-count-sort-uniq", "sort access.log"), tmp_path).splitlines()]
    assert lines[:2] == [["3", "b"], ["2", "a"]]


@needs_bash
def test_read_loop_keeps_spaces_and_backslashes(tmp_path):
    (tmp_path / "hosts.txt").write_text("  indented \\n literal\n")
    assert sh(command("shell-read-lines", "while IFS= read -r line"), tmp_path) == "  indented \\n literal\n"


@needs_bash
def test_array_keeps_an_element_with_spaces(tmp_path):
    out = sh(command("shell-arrays", "args=("), tmp_path)
    assert out.splitlines() == ["[--verbose]", "[--output]", "[my file.txt]", "[--force]"]


@needs_git
@needs_bash
def test_cherry_pick_copies_one_commit_with_a_new_id(repo):
    repo("git switch -q -c feature && echo extra > extra.txt && git add extra.txt && git commit -qm extra")
    picked = repo.head()
    repo("git switch -q - && echo three > notes.txt && git commit -qam third")  # the target branch moved on
    repo(command("git-cherry-pick", "git cherry-pick a1b2c3d").replace("a1b2c3d", picked))
    assert (repo.path / "extra.txt").read_text() == "extra\n"
    assert repo.head() != picked  # same change, new parent, new commit
    assert (repo.path / "notes.txt").read_text() == "three\n"


@needs_git
@needs_bash
def test_rebase_skip_drops_the_conflicting_commit(repo):
    repo("git switch -q -c feature && echo mine > notes.txt && git commit -qam mine")
    repo("git switch -q - && echo theirs > notes.txt && git commit -qam theirs && git switch -q feature")
    proc = subprocess.run([BASH, "-c", "git rebase -q main || git rebase -q master"], cwd=repo.path, env=repo.env, capture_output=True)
    assert proc.returncode != 0  # stopped on the conflict
    repo(command("git-rebase-stuck-continue-skip-abort", "git rebase --skip"))
    assert (repo.path / "notes.txt").read_text() == "theirs\n"  # our commit's change is gone
    assert "mine" not in repo("git log --format=%s")


@needs_git
@needs_bash
def test_rm_cached_stops_tracking_but_keeps_the_file(repo):
    (repo.path / ".env").write_text("SECRET=1\n")
    repo("git add .env && git commit -qm 'oops'")
    repo(command("git-ignore-tracked-file", "echo '.env'"))
    repo(command("git-ignore-tracked-file", "git rm --cached"))
    repo(command("git-ignore-tracked-file", "git commit -m"))
    assert (repo.path / ".env").read_text() == "SECRET=1\n"
    assert ".env" not in repo("git ls-files").split()
    assert repo("git status --porcelain") == "?? .gitignore\n"


def test_a_skills_cards_are_the_same_from_its_file_and_from_the_warm_cache(monkeypatch):
    """`gaps` asks cards_for for three skills: from the cards' JSON cache once another command built it,
    else from the skill's own TOML file; both give the same cards."""
    from learnflow import paths
    from learnflow.learner import cards

    cache = paths.cache_dir() / f"{cards.cache_name('cards')}.json"
    assert not cache.exists()  # a fresh home
    cold = cards.cards_for("git")
    cards.load_cards.cache_clear()
    cards.load_cards()  # builds the cache, as check or reflect do
    assert cache.is_file()
    monkeypatch.setattr(cards.tomllib, "loads", lambda *_a, **_k: pytest.fail("parsed TOML although the cache is warm"))
    warm = cards.cards_for("git")
    assert warm == cold and warm and all(c.skill == "git" for c in warm)
