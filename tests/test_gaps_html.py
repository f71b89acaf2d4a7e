"""The HTML report in a real browser: headless Chromium opens the file offline and the charts are drawn.

The page counts the coloured pixels of each chart canvas after drawing and
writes them on <body data-chart-ink data-charts-drawn>; `--dump-dom` shows them.
CI installs Chromium from Debian (`apt-get install -y chromium`); without it
this test is skipped, saying so.
"""

import re
import shutil
import subprocess
import time

import pytest

from learnflow.learner.profile import DAY

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)")


def chromium(tmp_path, *args, timeout=90):
    profile = tmp_path / "chromium-profile"
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        # Nothing may load from the network: every host name fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=10000", *args,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def drawn_and_ink(tmp_path, page):
    proc = chromium(tmp_path, "--dump-dom", page.as_uri())
    body = re.search(r"<body[^>]*>", proc.stdout)
    assert body, f"no DOM from Chromium: {proc.stderr[-2000:]}"
    drawn = re.search(r'data-charts-drawn="(\d+)"', body.group(0))
    ink = re.search(r'data-chart-ink="([\d,]+)"', body.group(0))
    assert drawn and ink, f"the page's script did not finish: {body.group(0)}"
    return int(drawn.group(1)), [int(x) for x in ink.group(1).split(",")]


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


def test_the_pixel_check_sees_an_empty_chart(cli, tmp_path):
    """Control: with nothing logged the frames are there but no data is drawn, and the check says so."""
    page = tmp_path / "empty.html"
    assert cli("gaps", "--html", str(page)).exit_code == 0
    drawn, ink = drawn_and_ink(tmp_path, page)
    assert drawn == 0 and ink == [0, 0, 0]
