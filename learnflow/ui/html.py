"""The HTML reports (`gaps --html`, `team --html`): self-contained pages with charts, readable offline.

Pages are Jinja2 templates in learnflow/ui/templates/ with autoescaping on: every
value from the log (skill names, people's names, card text) is escaped by the
template engine, and the data a page's script reads goes through `tojson`, which
also escapes `<`, `>` and `&` so it cannot end its <script> element. Both reports
extend base.html (page shell, styles, Chart.js, the drawn-pixel check).

This module is imported only when --html is given, so jinja2 stays off every
other path (`--help`, `ask`, plain `gaps`).

Charts are drawn by Chart.js 4.6.1 (MIT; learnflow/data/chartjs/, the npm
package's dist/chart.umd.min.js with its LICENSE), inlined into the page.
Why Chart.js: 210 KB, no dependencies, canvas output, actively maintained, and
it has every chart these pages need (bars with floating intervals, target
markers, lines with gaps). plotly's Python package would add ~15 MB to the
install and a ~4.5 MB page; uPlot is smaller but has no bar/interval charts
without plugins; ECharts is ~1 MB. Nothing on the page loads from the network.

After drawing, the page counts the coloured pixels inside each chart's plot
area and writes them on <body data-charts-drawn data-chart-ink>, so a headless
browser test can tell a drawn chart from an empty frame.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from learnflow import paths
from learnflow.learner.gaps import GapReport, percent

if TYPE_CHECKING:
    from learnflow.interop.team import TeamReport

CHART_JS = "chartjs/chart.umd.min.js"


def chart_js() -> Markup:
    """Chart.js, to inline in a <script> element as it is (it is our own vendored file, not user data)."""
    text = (paths.package_dir() / "data" / CHART_JS).read_text(encoding="utf-8")
    # The source map is not shipped; a browser's devtools would try to fetch it.
    return Markup("\n".join(line for line in text.splitlines() if not line.startswith("//# sourceMappingURL")))


def _num(value: float | None, fmt: str = ".2f") -> str:
    return "—" if value is None else format(value, fmt)


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("learnflow.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        # None prints as nothing (an unranked skill's rank), never as "None".
        finalize=lambda value: "" if value is None else value,
    )
    env.filters.update(num=_num, percent=percent)
    env.globals["chart_js"] = chart_js
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}
    return env


def page(template: str, **context: Any) -> str:
    """Render one report template (autoescaped) to a string."""
    return _env().get_template(template).render(**context)


def render(report: GapReport) -> str:
    """The gaps page as a string."""
    return page("gaps.html", report=report, data=report.to_dict(), data_id="gaps-data")


def write_html(report: GapReport, path: Path) -> Path:
    """Write the gaps page; a folder or an unwritable path is bad input with a hint."""
    from learnflow.files import write_user_file

    return write_user_file(path, render(report), example="--html gaps.html")


def render_team(report: TeamReport) -> str:
    """The team page as a string: a chart of mastery per skill and person, the matrix, gaps and pairs."""
    data = {
        "skills": report.skills,
        "target": report.target,
        "people": [{"label": p.label, "mastery": [report.cells[s][p.key].mastery for s in report.skills]} for p in report.people],
    }
    return page("team.html", report=report, data=data, data_id="team-data")


def write_team_html(report: TeamReport, path: Path) -> Path:
    """Write the team page; a folder or an unwritable path is bad input with a hint."""
    from learnflow.files import write_user_file

    return write_user_file(path, render_team(report), example="--html team.html")
