"""The HTML report in a real browser: headless Chromium opens the file offline and the charts are drawn.

The page counts the coloured pixels of each chart canvas after drawing and
writes them on <body data-chart-ink data-charts-drawn>; `--dump-dom` shows them.
CI installs Chromium from Debian (`apt-get install -y chromium`); without it
the browser tests are skipped, saying so.
"""

import re
import shutil
import subprocess
import time

import pytest

from learnflow.learner.profile import DAY

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)")
# A skill name that would run if the page pasted it in unescaped, in the HTML or in the chart data.
HOSTILE = "<script>document.body.dataset.pwned='yes'</script>"


def chromium(tmp_path, *args, timeout=90):
    profile = tmp_path / "chromium-profile"
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        # Nothing may load from the network: every host name fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000", *args,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def body_tag(tmp_path, page) -> str:
    proc = chromium(tmp_path, "--dump-dom", page.as_uri())
    body = re.search(r"<body[^>]*>", proc.stdout)
    assert body, f"no DOM from Chromium: {proc.stderr[-2000:]}"
    return body.group(0)


def drawn_and_ink(tmp_path, page):
    body = body_tag(tmp_path, page)
    drawn = re.search(r'data-charts-drawn="(\d+)"', body)
    ink = re.search(r'data-chart-ink="([\d,]*)"', body)
    assert drawn and ink, f"the page's script did not finish: {body}"
    return int(drawn.group(1)), [int(x) for x in ink.group(1).split(",") if x]


@needs_chromium
def test_charts_are_drawn_in_headless_chromium(cli, store, tmp_path):
    now = time.time()
    rows = []
    for day in range(60):
        ts = now - day * DAY - 3600
        rows += [{"ts": ts, "skill": "sql", "kind": "check", "value": float(day % 3 == 0)},
                 {"ts": ts, "skill": "git", "kind": "check", "value": float(day % 5 != 0)},
                 {"ts": ts, "skill": "python", "kind": "check", "value": float(day % 2 == 0)}]  # fmt: skip
    store.add_evidence(rows)
    cli("goals", "role", "backend-developer")
    page = tmp_path / "report.html"
    assert cli("gaps", "--html", str(page)).exit_code == 0

    drawn, ink = drawn_and_ink(tmp_path, page)
    assert drawn == 3 and all(n > 1000 for n in ink), ink

    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000  # a blank page is a few kB


@needs_chromium
def test_the_pixel_check_sees_an_empty_chart(store, tmp_path):
    """Control: a chart frame with no data in it counts as not drawn (the check can fail)."""
    from learnflow.learner.gaps import build_report
    from learnflow.ui.html import render

    store.add_evidence(checks("sql", [0.0, 1.0]))
    page = tmp_path / "empty.html"
    # The same page with its data emptied just before the charts read it: frames, axes, no bars.
    html = render(build_report(store)).replace(
        "const ranked = data.skills.filter(",
        "data.skills.forEach(s => { s.low = s.high = s.mastery = s.target = s.priority = s.shortfall = null; s.history = []; });\n  const ranked = data.skills.filter(",
    )
    page.write_text(html.replace("s => s.mastery !== null", "s => s.skill"))
    drawn, ink = drawn_and_ink(tmp_path, page)
    assert drawn == 0 and len(ink) == 2 and max(ink) < 100


@needs_chromium
def test_nothing_measured_draws_no_empty_frames(cli, tmp_path):
    page = tmp_path / "nothing.html"
    assert cli("gaps", "--html", str(page)).exit_code == 0
    assert "No skill is measured yet" in page.read_text() and "<canvas" not in page.read_text()
    assert drawn_and_ink(tmp_path, page) == (0, [])


@needs_chromium
def test_after_a_placement_every_chart_is_drawn(cli, store, tmp_path):
    """One answer per role skill, all of them uncertain: still three drawn charts, never an empty one."""
    from learnflow.learner.goals import roles

    cli("goals", "role", "backend-developer")
    skills = sorted(roles()["backend-developer"].skills)
    store.add_evidence([{"skill": s, "kind": "check", "value": float(i % 2)} for i, s in enumerate(skills)])
    page = tmp_path / "placement.html"
    assert cli("gaps", "--html", str(page)).exit_code == 0
    text = page.read_text()
    assert text.count('class="uncertain"') == len(skills) and text.count('class="ibar unsure"') == len(skills)
    drawn, ink = drawn_and_ink(tmp_path, page)
    assert drawn == 3 and all(n > 100 for n in ink), ink


def checks(skill: str, right: list[float]) -> list[dict]:
    now = time.time()
    return [{"ts": now - i * DAY, "skill": skill, "kind": "check", "value": v} for i, v in enumerate(right)]


def test_a_hostile_skill_name_is_text_in_the_page_and_data_in_the_script(store):
    import json

    from learnflow.learner.gaps import build_report
    from learnflow.ui.html import render

    store.add_evidence(checks(HOSTILE, [0.0, 1.0] * 6))
    page = render(build_report(store))
    assert HOSTILE not in page and "<script>document" not in page
    assert "<td>&lt;script&gt;document.body.dataset.pwned=&#39;yes&#39;&lt;/script&gt;</td>" in page
    data = json.loads(page.split('<script type="application/json" id="gaps-data">')[1].split("</script>")[0])
    assert data["skills"][0]["skill"] == HOSTILE  # the chart still gets the name, as data


@needs_chromium
def test_a_hostile_skill_name_does_not_run_in_the_browser(cli, store, tmp_path):
    store.add_evidence(checks(HOSTILE, [0.0, 1.0] * 6) + checks("sql", [1.0, 0.0, 0.0] * 4))
    page = tmp_path / "report.html"
    assert cli("gaps", "--html", str(page)).exit_code == 0
    body = body_tag(tmp_path, page)
    assert "pwned" not in body  # the name never ran as a script
    assert 'data-charts-drawn="' in body and "data-chart-ink" in body  # and the page's own script still did


def test_only_html_output_imports_jinja2(cli, store):
    """The template engine is for --html only: plain `gaps` and `team` never import it."""
    import subprocess
    import sys

    store.add_evidence(checks("sql", [1.0, 0.0] * 4))
    code = ("import sys\nfrom learnflow.cli.app import main\nsys.argv = ['learnflow', 'gaps']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('jinja2' in sys.modules, file=sys.stderr)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "sql" in done.stdout and done.stderr.strip().endswith("False")
