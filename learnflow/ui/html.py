"""`learnflow gaps --html FILE`: one self-contained page with charts, readable offline.

Charts are drawn by Chart.js 4.6.1 (MIT; learnflow/data/chartjs/, the npm
package's dist/chart.umd.min.js with its LICENSE), inlined into the page.
Why Chart.js: 210 KB, no dependencies, canvas output, actively maintained, and
it has every chart this page needs (bars with floating intervals, target
markers, lines with gaps). plotly's Python package would add ~15 MB to the
install and a ~4.5 MB page; uPlot is smaller but has no bar/interval charts
without plugins; ECharts is ~1 MB. Nothing on the page loads from the network.

After drawing, the page counts the coloured pixels inside each chart's plot
area and writes them on <body data-charts-drawn data-chart-ink>, so a headless
browser test can tell a drawn chart from an empty frame.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from learnflow import paths
from learnflow.learner.gaps import GapReport, percent

CHART_JS = "chartjs/chart.umd.min.js"


def chart_js() -> str:
    text = (paths.package_dir() / "data" / CHART_JS).read_text(encoding="utf-8")
    # The source map is not shipped; a browser's devtools would try to fetch it.
    return "\n".join(line for line in text.splitlines() if not line.startswith("//# sourceMappingURL"))


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _num(value, fmt: str = ".2f") -> str:
    return "—" if value is None else format(value, fmt)


def _json_for_script(data: dict) -> str:
    # Inside <script>, "</" could end the element and "<!--" changes parsing: escape both.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def _rows(report: GapReport) -> str:
    out = []
    for s in report.skills:
        if s.enough:
            cells = [s.rank, s.skill, f"{s.mastery:.2f} ± {s.sd:.2f}", f"{s.low:.2f}–{s.high:.2f}", _num(s.target),
                     f"{s.gap:+.2f}", percent(s.p_below), _num(s.delta, "+.2f"), s.evidence_text]  # fmt: skip
        else:
            cells = ["", s.skill, "not enough evidence", "", _num(s.target), "", "", "", s.evidence_text]
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return "\n".join(out)


def _next_steps(report: GapReport) -> str:
    items = []
    for s in report.top:
        n = s.next_step
        docs = " · ".join(f'<a href="{_e(d["url"])}">{_e(d["title"])}</a>' for d in n.docs)
        items.append(
            f"<li><h3>{_e(s.skill)} <small>teach me at {_e(n.level)} level</small></h3>"
            f"<p class=why>{_e(s.evidence_text)}</p><dl>"
            + (f"<dt>Card</dt><dd>{_e(n.card_title)}</dd>" if n.card_title else "")
            + (f"<dt>Check</dt><dd>{_e(n.check_question)}</dd>" if n.check_question else "")
            + f"<dt>Practice</dt><dd>{_e(n.practice)}</dd>"
            + (f"<dt>Docs</dt><dd>{docs}</dd>" if docs else "")
            + (f"<dt>Try</dt><dd><code>{_e(n.command)}</code></dd>" if n.command else "")
            + (f"<dt>Measure</dt><dd><code>{_e(n.measure)}</code></dd>" if n.measure else "")
            + "</dl></li>"
        )
    return "<ol class=steps>" + "\n".join(items) + "</ol>" if items else "<p>No gap below target right now.</p>"


def render(report: GapReport) -> str:
    """The page as a string."""
    data = report.to_dict()
    days = round(report.since_days)
    return _PAGE.format(
        title=_e(f"learnflow skill gaps · {report.now[:10]}"),
        now=_e(report.now[:16].replace("T", " ")),
        days=days,
        half_life=_e(f"{report.params['half_life_days']:g}"),
        rows=_rows(report),
        steps=_next_steps(report),
        data=_json_for_script(data),
        chartjs=chart_js(),
        app=_APP_JS,
    )


def write_html(report: GapReport, path: Path) -> Path:
    """Write the page; a folder or an unwritable path is bad input with a hint."""
    from learnflow.files import write_user_file

    return write_user_file(path, render(report), example="--html gaps.html")


_APP_JS = r"""
(function () {
  const data = JSON.parse(document.getElementById('gaps-data').textContent);
  const ranked = data.skills.filter(s => s.status === 'ok');
  const blue = 'rgb(37,99,235)', blueLight = 'rgba(37,99,235,0.22)', red = 'rgb(220,38,38)';
  const palette = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, Segoe UI, sans-serif';
  const unit = {min: 0, max: 1, title: {display: true, text: 'mastery (chance of a right check)'}};
  const charts = [];

  charts.push(new Chart(document.getElementById('chart-profile'), {
    data: {
      labels: ranked.map(s => s.skill),
      datasets: [
        {type: 'bar', label: '80% credible interval', data: ranked.map(s => [s.low, s.high]),
         backgroundColor: blueLight, grouped: false, barPercentage: 0.7, order: 3},
        {type: 'bar', label: 'mastery (mean)', data: ranked.map(s => s.mastery),
         backgroundColor: blue, grouped: false, barPercentage: 0.25, order: 2},
        {type: 'line', label: 'target', data: ranked.map(s => s.target), showLine: false,
         pointStyle: 'line', pointRadius: 16, pointBorderWidth: 4, borderColor: red, backgroundColor: red, order: 1},
      ],
    },
    options: {scales: {y: unit}, plugins: {title: {display: true, text: 'Profile vs targets'}}},
  }));

  const trendSkills = ranked.slice(0, 8);
  charts.push(new Chart(document.getElementById('chart-trend'), {
    type: 'line',
    data: {
      labels: data.weeks,
      datasets: trendSkills.map((s, i) => ({
        label: s.skill, data: s.history, borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length], spanGaps: false, tension: 0.25, pointRadius: 2, borderWidth: 2,
      })),
    },
    options: {scales: {y: unit}, plugins: {title: {display: true, text: 'Weekly mastery (top gaps first)'}}},
  }));

  const gaps = ranked.filter(s => s.gap > 0).slice(0, 8);
  charts.push(new Chart(document.getElementById('chart-gaps'), {
    type: 'bar',
    data: {
      labels: gaps.map(s => s.skill),
      datasets: [
        {label: 'priority = importance × expected shortfall × need', data: gaps.map(s => s.priority), backgroundColor: red},
        {label: 'expected shortfall', data: gaps.map(s => s.shortfall), backgroundColor: 'rgb(249,115,22)'},
      ],
    },
    options: {indexAxis: 'y', plugins: {title: {display: true, text: 'Top gaps'}}},
  }));

  // Count coloured (saturated) pixels inside each plot area: axes, grid and text are grey and
  // legends lie outside it, so only drawn data counts.
  function ink(chart) {
    const a = chart.chartArea, r = chart.currentDevicePixelRatio || 1;
    if (!a || a.right <= a.left || a.bottom <= a.top) return 0;
    const px = chart.ctx.getImageData(a.left * r, a.top * r, (a.right - a.left) * r, (a.bottom - a.top) * r).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const hi = Math.max(px[i], px[i + 1], px[i + 2]), lo = Math.min(px[i], px[i + 1], px[i + 2]);
      if (px[i + 3] > 0 && hi - lo > 60) n++;
    }
    return n;
  }
  requestAnimationFrame(() => setTimeout(() => {
    const counts = charts.map(ink);
    document.body.dataset.chartInk = counts.join(',');
    document.body.dataset.chartsDrawn = String(counts.filter(n => n > 100).length);
  }, 0));
})();
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px;
         padding: 1.5rem; color: #111827; background: #fff; }}
  h1 {{ font-size: 1.5rem; margin-bottom: 0.2rem; }}
  .meta {{ color: #6b7280; margin-top: 0; }}
  .charts {{ display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }}
  .chart {{ position: relative; height: 340px; border: 1px solid #e5e7eb; border-radius: 8px; padding: 0.5rem; }}
  .chart.wide {{ grid-column: 1 / -1; }}
  table {{ border-collapse: collapse; width: 100%; font-size: 0.9rem; margin-top: 1rem; }}
  th, td {{ text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }}
  th {{ background: #f9fafb; }}
  .steps h3 {{ margin-bottom: 0.2rem; }} .steps small {{ color: #6b7280; font-weight: normal; }}
  .why {{ color: #374151; margin-top: 0; }}
  dl {{ display: grid; grid-template-columns: 6rem 1fr; gap: 0.2rem 0.8rem; }} dt {{ color: #6b7280; }} dd {{ margin: 0; }}
  footer {{ color: #6b7280; font-size: 0.8rem; margin-top: 2rem; }}
  @media (max-width: 800px) {{ .charts {{ grid-template-columns: 1fr; }} }}
</style>
</head>
<body>
<h1>Skill gaps</h1>
<p class="meta">{now} UTC · evidence and trend over the last {days} days · evidence counts half after {half_life} days</p>
<div class="charts">
  <div class="chart wide"><canvas id="chart-profile" role="img" aria-label="Mastery per skill against targets"></canvas></div>
  <div class="chart"><canvas id="chart-trend" role="img" aria-label="Weekly mastery per skill"></canvas></div>
  <div class="chart"><canvas id="chart-gaps" role="img" aria-label="Top gaps by priority"></canvas></div>
</div>
<h2>Profile</h2>
<table>
<thead><tr><th>#</th><th>Skill</th><th>Mastery</th><th>80% interval</th><th>Target</th><th>Gap</th>
<th>P(below target)</th><th>Change, {days} d</th><th>Evidence</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>What next</h2>
{steps}
<footer>Made by learnflow gaps. Mastery is the chance of answering a check question on the skill right, from a
Beta posterior over your checks, reviews, self-ratings and questions, with older evidence fading.
Charts: Chart.js 4.6.1 (MIT licence), included in this file.</footer>
<script type="application/json" id="gaps-data">{data}</script>
<script>{chartjs}</script>
<script>{app}</script>
</body>
</html>
"""
