"""Content packs (issue 16): a team's skills, roles and guides, loaded beside the bundled ones.

The example pack in examples/content-pack (a `gdpr` skill, a `privacy-engineer` role, two guides)
is the pack under test: what docs/content.md shows is what works.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "content-pack"


def _fresh():
    """Forget what this process loaded, as a new process would."""
    from learnflow.backends import coach
    from learnflow.learner import cards, goals, repeats, skills

    for fn in (skills.taxonomy, goals.roles, cards.load_cards, coach._index, coach._vocab, repeats.topic_words):
        fn.cache_clear()


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv("LEARNFLOW_CONTENT", raising=False)
    _fresh()
    yield
    _fresh()


@pytest.fixture
def pack(tmp_path, monkeypatch):
    """A copy of the example pack, named in LEARNFLOW_CONTENT."""
    dest = tmp_path / "team-pack"
    shutil.copytree(EXAMPLE, dest)
    monkeypatch.setenv("LEARNFLOW_CONTENT", str(dest))
    _fresh()
    return dest


def _card(skill: str, cid: str, title: str, question: str = "What is it?", answer: str = "It is the thing.") -> str:
    return f'''
[[cards]]
id = "{cid}"
skill = "{skill}"
title = "{title}"
keywords = ["{cid.replace("-", " ")}"]
concept = "A concept."
lang = "text"
commands = [{{ cmd = "do the thing", what = "Does it." }}]
pitfalls = ["Not doing it."]
check_question = "{question}"
check_answer = "{answer}"
check_keywords = ["thing"]
docs = []
'''


# --------------------------------------------------------------------------------------
# Loading: every part of learnflow sees pack content
# --------------------------------------------------------------------------------------


def test_the_example_pack_is_valid_and_documented():
    from learnflow.learner import content

    assert content.validate(EXAMPLE) == []
    doc = (EXAMPLE.parents[1] / "docs" / "content.md").read_text(encoding="utf-8")
    assert "examples/content-pack" in doc and "LEARNFLOW_CONTENT" in doc and "content_paths" in doc


def test_a_pack_skill_is_in_the_taxonomy_and_tags_questions(pack):
    from learnflow.learner.skills import tag_offline, taxonomy

    assert taxonomy()["gdpr"].name == "GDPR and personal data"
    assert "git" in taxonomy()  # added to, not replacing, the bundled skills
    tags = tag_offline("how do we handle a right to erasure request under gdpr?")
    assert tags[0].skill == "gdpr"


def test_without_the_pack_the_skill_is_unknown():
    from learnflow.learner.skills import tag_offline, taxonomy

    assert "gdpr" not in taxonomy()
    assert all(t.skill != "gdpr" for t in tag_offline("how do we handle a right to erasure request under gdpr?"))


def test_goals_role_takes_a_pack_role(pack, cli):
    result = cli("goals", "role", "privacy-engineer")
    assert result.exit_code == 0, result.output
    goals = json.loads(cli("goals", "list", "--json").stdout)
    assert {(g["skill"], g["target"], g["source"]) for g in goals} == {
        ("gdpr", 0.8, "role:privacy-engineer"),
        ("sql", 0.7, "role:privacy-engineer"),
        ("security", 0.7, "role:privacy-engineer"),
    }


def test_check_on_a_pack_skill_asks_a_pack_guide(pack, cli):
    out = json.loads(
        cli("check", "--skill", "gdpr", "-n", "1", "--answers", "-", "--json", input='[[checks]]\nanswer = "no idea"\n').stdout
    )
    assert out["answered"] == 1
    questions = {
        "What must you do, besides deleting the main row, to honour a right-to-erasure request?",
        "What do you need to decide before you start storing a new kind of personal data?",
    }
    assert out["checks"][0]["skill"] == "gdpr" and out["checks"][0]["question"] in questions


def test_the_offline_coach_answers_from_a_pack_guide(pack, cli):
    result = cli("ask", "--model", "offline", "how do I handle a right to erasure request for personal data?")
    assert result.exit_code == 0, result.output
    assert "Honour a right-to-erasure request" in result.stdout
    assert "DELETE FROM users WHERE id = :user_id;" in result.stdout


def test_a_pack_card_replaces_the_bundled_card_of_the_same_id(pack):
    from learnflow.learner.cards import cards_for, load_cards

    bundled = next(c for c in load_cards() if c.id == "git-undo-last-commit")
    (pack / "cards" / "git.toml").write_text(_card("git", "git-undo-last-commit", "Our way to undo a commit"), encoding="utf-8")
    _fresh()
    cards = load_cards()
    ours = [c for c in cards if c.id == "git-undo-last-commit"]
    assert [c.title for c in ours] == ["Our way to undo a commit"] and bundled.title != "Our way to undo a commit"
    assert "Our way to undo a commit" in [c.title for c in cards_for("git")]  # the gaps next step sees it too


def test_precedence_bundled_then_config_folder_then_content_paths_then_environment(home, tmp_path, monkeypatch, cli):
    """Later wins: each layer's card of one id replaces the one below it."""
    from learnflow.learner import content
    from learnflow.learner.cards import load_cards

    def pack_at(folder: Path, title: str) -> Path:
        (folder / "cards").mkdir(parents=True)
        (folder / "cards" / "git.toml").write_text(_card("git", "git-undo-last-commit", title), encoding="utf-8")
        return folder

    def title() -> str:
        _fresh()
        return next(c.title for c in load_cards() if c.id == "git-undo-last-commit")

    bundled = title()
    pack_at(home / "content", "from the config folder")
    assert title() == "from the config folder"
    setting = pack_at(tmp_path / "setting-pack", "from content_paths")
    assert cli("config", "set", "content_paths", str(setting)).exit_code == 0
    assert title() == "from content_paths"
    env = pack_at(tmp_path / "env-pack", "from LEARNFLOW_CONTENT")
    monkeypatch.setenv("LEARNFLOW_CONTENT", str(env))
    assert title() == "from LEARNFLOW_CONTENT"
    assert [p.origin for p in content.packs()] == ["config folder", "content_paths", "LEARNFLOW_CONTENT"]
    monkeypatch.setenv("LEARNFLOW_CONTENT", "")
    assert cli("config", "unset", "content_paths").exit_code == 0
    shutil.rmtree(home / "content")
    assert title() == bundled


def test_content_paths_holds_several_folders_relative_to_the_config_folder(home, tmp_path, cli):
    import os

    from learnflow.learner import content

    (home / "a").mkdir(parents=True)
    (home / "b").mkdir()
    assert cli("config", "set", "content_paths", os.pathsep.join(["a", "b"])).exit_code == 0
    assert [p.path for p in content.packs()] == [home / "a", home / "b"]


def test_an_edited_pack_is_read_again(pack):
    """The caches are keyed on the pack's files: an edit shows at the next process."""
    from learnflow.learner.skills import taxonomy

    assert taxonomy()["gdpr"].name == "GDPR and personal data"
    text = (pack / "skills.toml").read_text(encoding="utf-8").replace('"GDPR and personal data"', '"Data protection (GDPR)"')
    (pack / "skills.toml").write_text(text + "\n", encoding="utf-8")
    _fresh()
    assert taxonomy()["gdpr"].name == "Data protection (GDPR)"


# --------------------------------------------------------------------------------------
# A broken pack: skipped with one warning, nothing else breaks; validate points at file:line
# --------------------------------------------------------------------------------------


def test_a_broken_pack_is_skipped_with_a_one_line_warning_and_the_rest_loads(pack, tmp_path, monkeypatch, cli, capsys):
    import os

    from learnflow.learner import content
    from learnflow.learner.skills import taxonomy

    broken = tmp_path / "broken"
    (broken / "cards").mkdir(parents=True)
    (broken / "skills.toml").write_text('[skills.oops]\nname = "Oops"\n', encoding="utf-8")
    (broken / "cards" / "oops.toml").write_text('[[cards]]\nid = "oops-one\n', encoding="utf-8")
    monkeypatch.setenv("LEARNFLOW_CONTENT", os.pathsep.join([str(pack), str(broken)]))
    content._warned.clear()
    _fresh()
    skills = taxonomy()
    assert "gdpr" in skills and "git" in skills and "oops" not in skills  # the whole broken pack, none of its parts
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"skipped content pack {broken}" in err and "oops.toml:2" in err
    taxonomy.cache_clear()
    taxonomy()
    assert capsys.readouterr().err == ""  # once a process, not once a loader
    assert cli("goals", "role", "privacy-engineer").exit_code == 0
    listed = json.loads(cli("content", "list", "--json").stdout)
    assert [bool(p["skipped"]) for p in listed["packs"]] == [False, True]


def test_validate_points_at_file_and_line(tmp_path, cli):
    bad = tmp_path / "bad"
    (bad / "cards").mkdir(parents=True)
    (bad / "roles.toml").write_text('[roles.tester]\nname = "Tester"\n[roles.tester.skills]\nnope = { target = 0.5 }\n', encoding="utf-8")
    text = _card("git", "git-one", "One") + _card("git", "git-one", "Again") + _card("nosuch", "nosuch-x", "X")
    text = text.replace('lang = "text"\ncommands = [{ cmd = "do the thing"', 'lang = "bash"\ncommands = [{ cmd = "if then fi"', 1)
    (bad / "cards" / "git.toml").write_text(text, encoding="utf-8")
    result = cli("content", "validate", str(bad))
    assert result.exit_code == 3  # bad input, as docs/content.md says
    out = result.stdout
    assert f"{bad / 'roles.toml'}:4: role tester: unknown skill 'nope'" in out
    lines = (bad / "cards" / "git.toml").read_text(encoding="utf-8").splitlines()
    second = [i + 1 for i, line in enumerate(lines) if line == "[[cards]]"][1]
    assert f"{bad / 'cards' / 'git.toml'}:{second}: card git-one: duplicate id" in out
    assert "card nosuch-x: unknown skill 'nosuch'" in out
    if shutil.which("bash"):
        cmd_line = next(i + 1 for i, line in enumerate(lines) if "if then fi" in line)
        assert f"git.toml:{cmd_line}: card git-one: bash does not parse it" in out


def test_validate_names_a_toml_error_at_its_line(tmp_path):
    from learnflow.learner import content

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "skills.toml").write_text('[skills.a]\nname = "A"\n\n[skills.b\n', encoding="utf-8")
    [problem] = content.validate(bad)
    assert (problem.file, problem.line) == (str(bad / "skills.toml"), 4) and "not valid TOML" in problem.message


def test_validate_json_and_a_good_pack(cli):
    result = cli("content", "validate", str(EXAMPLE), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {str(EXAMPLE): []}


def test_content_list_shows_the_packs_with_their_counts_and_overrides(pack, cli):
    (pack / "cards" / "git.toml").write_text(_card("git", "git-undo-last-commit", "Ours"), encoding="utf-8")
    data = json.loads(cli("content", "list", "--json").stdout)
    assert data["bundled"]["skills"] >= 20 and data["bundled"]["cards"] >= 200
    [p] = data["packs"]
    assert (p["path"], p["origin"], p["skills"], p["roles"], p["cards"]) == (str(pack), "LEARNFLOW_CONTENT", 1, 1, 3)
    assert p["overrides"] == ["card git-undo-last-commit (bundled)"]
    assert data["total"]["skills"] == data["bundled"]["skills"] + 1
    text = cli("content", "list").stdout
    assert str(pack) in text and "LEARNFLOW_CONTENT" in text


def test_a_pack_skill_flows_through_ask_gaps_and_the_xapi_export(pack, cli):
    """Asked about, answered wrong, then measured: gaps points at a pack guide, xAPI names the skill."""
    assert cli("ask", "--model", "offline", "what is our lawful basis for storing personal data under gdpr?").exit_code == 0
    assert cli("goals", "set", "gdpr", "0.8").exit_code == 0
    answers = '[[checks]]\nanswer = "no idea"\n' * 2
    assert cli("check", "--skill", "gdpr", "-n", "2", "--answers", "-", input=answers).exit_code == 0
    gaps = json.loads(cli("gaps", "--json").stdout)
    gdpr = next(s for s in gaps["skills"] if s["skill"] == "gdpr")
    assert gdpr["next_step"]["card_id"] in {"gdpr-erase-a-user", "gdpr-lawful-basis"}
    statements = json.loads(cli("export").stdout)
    skill = {
        a["id"]: a["definition"]["name"]["en"]
        for s in statements
        for a in s.get("context", {}).get("contextActivities", {}).get("other", [])
        if a["id"].endswith("/skills/gdpr")
    }
    assert skill == {"https://learnflow.dev/xapi/skills/gdpr": "GDPR and personal data"}


def test_a_pack_naming_a_skill_nobody_defines_is_skipped_and_goals_role_still_works(pack, tmp_path, monkeypatch, cli, capsys):
    import os

    from learnflow.learner.goals import roles

    orphan = tmp_path / "orphan"
    orphan.mkdir()
    (orphan / "roles.toml").write_text(
        '[roles.auditor]\nname = "Auditor"\n[roles.auditor.skills]\nsox = { target = 0.7 }\n', encoding="utf-8"
    )
    monkeypatch.setenv("LEARNFLOW_CONTENT", os.pathsep.join([str(pack), str(orphan)]))
    _fresh()
    assert "auditor" not in roles() and "privacy-engineer" in roles()
    assert f"{orphan / 'roles.toml'}:4: role auditor: unknown skill 'sox'" in capsys.readouterr().err
    # Defined by a later pack, the skill makes the role usable.
    later = tmp_path / "later"
    later.mkdir()
    (later / "skills.toml").write_text('[skills.sox]\nname = "Sarbanes-Oxley controls"\n', encoding="utf-8")
    monkeypatch.setenv("LEARNFLOW_CONTENT", os.pathsep.join([str(pack), str(orphan), str(later)]))
    _fresh()
    assert "auditor" in roles()
    assert cli("goals", "role", "auditor").exit_code == 0
