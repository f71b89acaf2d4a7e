"""`learnflow team`: three simulated people's exports -> strengths, the shared gap, pairs."""

import json
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lrs"))

from testkit import lrs_available, simulate_log, start_lrs  # noqa: E402

# True mastery per skill: everyone is weak at sql (the shared gap); each has one strength.
PEOPLE = {
    "ada": {"git": 0.95, "sql": 0.15, "python": 0.55, "testing": 0.5},
    "bob": {"git": 0.3, "sql": 0.2, "python": 0.95, "testing": 0.6},
    "cy": {"git": 0.5, "sql": 0.1, "python": 0.3, "testing": 0.95},
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Each person's own home and export, made the way they would make it."""
    import os

    from typer.testing import CliRunner

    from learnflow.cli.app import app
    from learnflow.db.store import Store

    folder = tmp_path_factory.mktemp("team")
    files, old = [], os.environ.get("LEARNFLOW_HOME")
    try:
        for i, (name, mastery) in enumerate(PEOPLE.items()):
            os.environ["LEARNFLOW_HOME"] = str(folder / f"home-{name}")
            store = Store()
            simulate_log(store, asks=30, checks=80, ratings=8, reflections=4, mastery=mastery, seed=i)
            store.close()
            out = folder / f"{name}.json"
            result = CliRunner().invoke(app, ["export", "--actor-mbox", f"{name}@example.com", "-o", str(out)])
            assert result.exit_code == 0, result.output
            files.append(str(out))
    finally:
        if old is None:
            os.environ.pop("LEARNFLOW_HOME", None)
        else:
            os.environ["LEARNFLOW_HOME"] = old
    return files


def test_the_shared_gap_strengths_and_pairs_from_three_exports(cli, exports):
    data = json.loads(cli("team", *exports, "--json").stdout)
    assert [p["label"] for p in data["people"]] == ["ada", "bob", "cy"]
    assert [g["skill"] for g in data["shared_gaps"]] == ["sql"]
    assert data["shared_gaps"][0]["below"] == data["shared_gaps"][0]["measured"] == 3
    strong = {p["label"]: p["strong"] for p in data["people"]}
    assert strong == {"ada": ["git"], "bob": ["python"], "cy": ["testing"]}
    pairs = {(p["mentor"], p["learner"], p["skill"]) for p in data["pairs"]}
    assert ("ada", "bob", "git") in pairs and ("bob", "cy", "python") in pairs
    assert not any(p["skill"] == "sql" for p in data["pairs"])  # nobody to learn sql from
    assert data["skills"][0]["skill"] == "sql"  # the shared gap comes first


def test_the_terminal_table_fits_80_columns_and_says_it_in_words(cli, exports, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("team", *exports).stdout
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    header = next(line for line in lines if line.startswith("Skill"))
    assert header.split() == ["Skill", "ada", "bob", "cy"]
    sql = next(line for line in lines if line.startswith("sql"))
    assert sql.count("!") == 3
    assert "Shared gaps (everyone measured is below target):" in out and "  sql: 3 of 3 below" in out
    assert "ada (0." in out and ") with bob (0." in out


def test_one_person_in_two_files_counts_once(cli, exports, tmp_path):
    ada = json.loads(Path(exports[0]).read_text())
    half = tmp_path / "ada-half.json"
    half.write_text(json.dumps(ada[: len(ada) // 2]))
    data = json.loads(cli("team", exports[0], str(half), exports[1], "--json").stdout)
    assert [p["label"] for p in data["people"]] == ["ada", "bob"]
    assert data["people"][0]["statements"] == len(ada)


def test_the_html_report_has_the_matrix_the_gap_and_a_chart(cli, exports, tmp_path):
    page = tmp_path / "team.html"
    result = cli("team", *exports, "--html", str(page))
    assert result.exit_code == 0 and f"Wrote {page}" in result.stderr
    html = page.read_text()
    assert '<canvas id="chart-team">' in html and "new Chart(" in html
    assert "<b>sql</b>: 3 of 3 measured below" in html
    assert html.count('<td class="gap"') >= 3 and 'class="strong"' in html
    assert 'src="http' not in html and "<link" not in html  # nothing loaded from the network


def test_team_needs_some_input(cli, tmp_path):
    assert cli("team").exit_code == 3
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    result = cli("team", str(empty))
    assert result.exit_code == 3 and "nobody to show" in result.stderr


def progressed(who, skill, scaled, name=None):
    """Another tool's statement: `who` is at `scaled` on `skill`."""
    from urllib.parse import quote

    actor = {"mbox": f"mailto:{who}@example.com", **({"name": name} if name else {})}
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{who}/{skill}")),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"},
        "object": {"id": f"https://learnflow.dev/xapi/skills/{quote(skill, safe='')}"},
        "result": {"score": {"scaled": scaled}},
        "timestamp": "2026-01-01T00:00:00Z",
    }


def test_other_tools_progress_counts_where_learnflow_has_no_evidence(tmp_path):
    from learnflow.interop.team import team_report

    report = team_report([progressed("eve", "sql", 0.9), progressed("fay", "sql", 0.2)])
    cells = report.cells["sql"]
    assert [c.status for c in cells.values()] == ["strong", "gap"]
    assert [(p.mentor, p.learner) for p in report.pairs] == [("eve", "fay")]


# A name and a skill that would run if the page pasted them in unescaped (HTML or chart data).
HOSTILE = "<script>document.body.dataset.pwned='yes'</script>"


@pytest.fixture
def hostile_page(cli, tmp_path):
    """A team page where a person's name and a skill are both a script tag."""
    file = tmp_path / "hostile.json"
    file.write_text(json.dumps([progressed("eve", HOSTILE, 0.9, name=HOSTILE), progressed("fay", HOSTILE, 0.2)]))
    page = tmp_path / "team.html"
    assert cli("team", str(file), "--html", str(page)).exit_code == 0
    return page


def test_a_hostile_name_and_skill_are_text_in_the_page_and_data_in_the_script(hostile_page):
    html = hostile_page.read_text()
    assert HOSTILE not in html and "<script>document" not in html
    escaped = "&lt;script&gt;document.body.dataset.pwned=&#39;yes&#39;&lt;/script&gt;"
    assert f"<th>{escaped}</th>" in html  # the person's column
    assert f"<b>{escaped}</b> (0.90) with <b>fay</b>" in html  # the pair
    data = json.loads(html.split('<script type="application/json" id="team-data">')[1].split("</script>")[0])
    assert data["skills"] == [HOSTILE] and data["people"][0]["label"] == HOSTILE  # the chart gets them as data


# -- from a real LRS -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def team_lrs(tmp_path_factory):
    reason = lrs_available()
    if reason:
        pytest.skip(reason)
    server = start_lrs(tmp_path_factory.mktemp("team-lrs"))
    yield server
    server.stop()


def test_team_pulls_everyone_from_the_lrs(cli, exports, team_lrs, monkeypatch):
    from learnflow.interop import lrs as sync
    from learnflow.interop.imports import parse_statements

    target = sync.Lrs(team_lrs.url, team_lrs.user, team_lrs.password)
    client = sync.Client(target)
    for f in exports:
        client.post_statements(parse_statements(Path(f).read_text()))
    client.close()
    monkeypatch.setenv("LEARNFLOW_LRS_USER", team_lrs.user)
    monkeypatch.setenv("LEARNFLOW_LRS_PASSWORD", team_lrs.password)
    data = json.loads(cli("team", "--lrs", team_lrs.url, "--json").stdout)
    assert [p["label"] for p in data["people"]] == ["ada", "bob", "cy"]
    assert [g["skill"] for g in data["shared_gaps"]] == ["sql"]


def body_tag(tmp_path, page) -> str:
    """The <body> tag of `page` once headless Chromium has run its scripts (offline)."""
    import re
    import shutil
    import subprocess

    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if browser is None:
        pytest.skip("headless Chromium not installed (apt-get install -y chromium)")
    argv = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
    body = re.search(r"<body[^>]*>", proc.stdout)
    assert body, proc.stderr[-2000:]
    return body.group(0)


def test_the_html_chart_is_drawn_in_headless_chromium(cli, exports, tmp_path):
    """Like the gaps report: the page counts the coloured pixels of its chart once drawn."""
    import re

    page = tmp_path / "team.html"
    cli("team", *exports, "--html", str(page))
    body = body_tag(tmp_path, page)
    assert 'data-charts-drawn="1"' in body, body
    assert int(re.search(r'data-chart-ink="(\d+)"', body).group(1)) > 1000


def test_a_hostile_name_does_not_run_in_the_browser(hostile_page, tmp_path):
    body = body_tag(tmp_path, hostile_page)
    assert "pwned" not in body  # neither the name nor the skill ran as a script
    assert 'data-charts-drawn="1"' in body  # and the page's own script still drew the chart
