"""`learnflow team` on the terminal: the skill matrix as plain lines (the HTML page is in html.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learnflow.interop.team import TeamReport


def team_text(report: TeamReport, width: int = 80) -> list[str]:
    """The matrix as plain lines that fit `width` columns: the same on a terminal and in a pipe."""
    marks = {"strong": "+", "gap": "!", "ok": " ", "thin": "", "none": ""}
    skill_w = 18
    cell_w = 7
    fit = max(1, (width - skill_w) // cell_w)
    shown = report.people[:fit]
    lines = [
        f"Team of {len(report.people)} · mastery 0..1 · target {report.target:.2f} · strong from {max(report.strong, report.target):.2f}",
        "+ strong   ! below target   ? too little evidence   - no evidence",
        "",
        "Skill".ljust(skill_w) + "".join(p.label[: cell_w - 1].rjust(cell_w) for p in shown),
    ]
    for s in report.skills:
        cells = []
        for p in shown:
            c = report.cells[s][p.key]
            text = f"{c.mastery:.2f}{marks[c.status]}" if c.mastery is not None else ("?" if c.status == "thin" else "-")
            cells.append(text.rjust(cell_w))
        lines.append(s[: skill_w - 1].ljust(skill_w) + "".join(cells))
    if len(report.people) > fit:
        lines.append(f"… and {len(report.people) - fit} more people: see --json or --html.")
    lines.append("")
    if report.shared_gaps:
        lines.append("Shared gaps (everyone measured is below target):")
        lines += [f"  {g.skill}: {g.below} of {g.measured} below, mean {g.mean:.2f}" for g in report.shared_gaps]
    else:
        lines.append(f"Shared gaps: {report.shared_note}")
    if report.pairs:
        lines.append("Could pair (strong with below target, same skill):")
        lines += [
            f"  {p.mentor} ({p.mentor_mastery:.2f}) with {p.learner} ({p.learner_mastery:.2f}) on {p.skill}" for p in report.pairs[:10]
        ]
        if len(report.pairs) > 10:
            lines.append(f"  … {len(report.pairs) - 10} more in --json.")
    return [line[:width] for line in lines]
