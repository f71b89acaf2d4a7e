"""Drawing a GapReport on the terminal: a table that fits 80 columns, then next steps.

The same layout on a terminal and in a pipe (rich drops colour when the output
is not a terminal or NO_COLOR is set), so `learnflow gaps | less` reads the same.
"""

from __future__ import annotations

import os
import sys

from learnflow.learner.gaps import GapReport, SkillGap, percent

BARS = "▁▂▃▄▅▆▇█"
MAX_WIDTH = 100


INTERVAL_CELLS = 11  # the interval bar: one cell per 1/11 of the 0..1 scale


def sparkline(values: list[float | None]) -> str:
    """One character per value on an absolute 0..1 scale; '·' where there was no direct evidence yet."""
    return "".join("·" if v is None else BARS[min(len(BARS) - 1, max(0, int(v * len(BARS))))] for v in values)


def interval_bar(low: float, high: float, mean: float, target: float, cells: int = INTERVAL_CELLS) -> str:
    """The 80% interval on a 0..1 scale: '━' inside it, '●' at the mean, '|' at the target, '·' elsewhere.

    E.g. `··━━●━━━|··`: mastery about 0.4, surely between 0.2 and 0.7, target 0.75.
    """
    cell = lambda x: min(cells - 1, max(0, int(x * cells)))  # noqa: E731
    out = ["━" if cell(low) <= i <= cell(high) else "·" for i in range(cells)]
    out[cell(target)] = "|"
    out[cell(mean)] = "●"
    return "".join(out)


def mastery_text(r: SkillGap) -> str:
    """ "0.42", or "0.42?" when the interval is wide (uncertain)."""
    return f"{r.mastery:.2f}{'?' if r.uncertain else ' '}"


def console(file=None, width: int | None = None):
    from rich.console import Console

    con = Console(file=file or sys.stdout, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)
    con.width = width or min(con.width, MAX_WIDTH)
    return con


def _signed(x: float | None) -> str:
    return "—" if x is None else f"{x:+.2f}"


def _style(row: SkillGap) -> str:
    if row.p_below is None:
        return ""
    return "red" if row.p_below >= 0.8 else ("yellow" if row.p_below >= 0.5 else "green")


def profile_table(report: GapReport, rows: list[SkillGap]):
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    days = round(report.since_days)
    # 2+16+7+11+6+5+12+5 columns and 7 gutters: 80 at most; the skill name gives way first.
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False, collapse_padding=True)
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column("Skill", no_wrap=True, overflow="ellipsis", max_width=16)
    t.add_column("Mastery", justify="right", no_wrap=True)
    t.add_column("80% sure", no_wrap=True)
    t.add_column("Target", justify="right", no_wrap=True)
    t.add_column("P<tgt", justify="right", no_wrap=True)
    t.add_column(f"{len(report.weeks)} weeks", no_wrap=True)
    t.add_column(f"Δ{days}d", justify="right", no_wrap=True)
    for r in rows:
        bar = interval_bar(r.low or 0.0, r.high or 1.0, r.mastery or 0.5, r.target)
        style = _style(r)
        t.add_row(
            str(r.rank),
            escape(r.skill),
            f"[{style}]{mastery_text(r)}[/]" if style else mastery_text(r),
            f"[dim]{bar}[/]" if r.uncertain else bar,
            f"{r.target:.2f}",
            percent(r.p_below),
            sparkline(r.history),
            _signed(r.delta),
        )
    return t


def print_report(report: GapReport, con=None) -> None:
    """The profile (ranked), the skills without enough evidence, then next steps for the top gaps."""
    from rich.markup import escape

    con = con or console()
    ranked = [r for r in report.skills if r.enough]
    if not report.skills:
        con.print("No evidence yet. Ask questions with `learnflow ask`, answer checks in `learnflow reflect`,")
        con.print("and set targets with `learnflow goals role NAME` or `learnflow goals set SKILL 0.8`.")
        return
    as_of = f"as of {report.now[:16].replace('T', ' ')} UTC" if report.as_of else report.now[:10]
    con.print(f"[bold]Skill profile[/] · {escape(as_of)} · {escape(_window(report))} · "
              f"evidence half-life {report.params['half_life_days']:g} days")  # fmt: skip
    if ranked:
        con.print(profile_table(report, ranked))
        say(con, "Mastery: chance of a right check. 80% sure: ● mastery, ━ where it is with 80% certainty, | target. "
                 "P<tgt: chance it is below target.", hang=0)  # fmt: skip
        unsure = [r.skill for r in ranked if r.uncertain]
        if unsure:
            names = "every skill so far" if len(unsure) == len(ranked) else ", ".join(unsure)
            say(con, f"? uncertain (wide interval, little evidence): {names}. "
                     "`learnflow check --skill SKILL` narrows it.", hang=0)  # fmt: skip
    if report.thin:
        con.print()
        con.print("[bold]Not measured yet[/] (questions only, or nothing: no check, review, rating or task)")
        never = [r.skill for r in report.thin if r.summary.last_seen is None]
        for r in report.thin:
            if r.summary.last_seen is not None:
                say(con, f"{r.skill}: {r.evidence_text}", indent=2, hang=2)
        if never:
            say(con, "No evidence yet: " + ", ".join(never), indent=2, hang=2)
        con.print("  [dim]`learnflow check --skill SKILL` asks a few questions to measure one.[/]")
    top = report.top
    if top:
        con.print()
        con.print("[bold]What next[/]")
        for r in top:
            print_next_step(con, r, number=r.rank)


def _window(report: GapReport) -> str:
    from learnflow.learner.gaps import period_text

    return period_text(report.since_days).replace("in the last", "last")


def say(con, text: str, *, indent: int = 0, hang: int = 0, label: str = "") -> None:
    """Print plain text wrapped to the console with a hanging indent (rich would wrap to column 0).

    `label` is drawn dim in the first `hang` columns; continuation lines are indented by `hang`.
    """
    import textwrap

    from rich.markup import escape

    room = max(20, con.width - indent - hang)
    lines = textwrap.wrap(text, room, break_on_hyphens=False) or [""]
    pad = " " * indent
    first = f"{pad}[dim]{escape(label.ljust(hang))}[/]" if label else pad
    con.print(first + escape(lines[0]), soft_wrap=True)
    for line in lines[1:]:
        con.print(pad + " " * hang + escape(line), soft_wrap=True)


def print_next_step(con, r: SkillGap, *, number: int | None = None) -> None:
    """One next step: labelled lines that wrap under their own text."""
    from rich.markup import escape

    s = r.next_step
    if s is None:
        return
    head = f"{number}. " if number else ""
    level = f" · teach me at {s.level} level" if r.enough else " · not measured yet"
    if r.enough and r.uncertain:
        level += " · uncertain"
    con.print(f"{head}[bold]{escape(r.skill)}[/]{level}", soft_wrap=True)
    if r.enough and r.uncertain:
        say(con, "Little evidence yet: measure it first (the Measure line).", indent=3)
    lines = [("Why", r.evidence_text), ("Card", s.card_title), ("Check", s.check_question), ("Practice", s.practice)]
    lines += [("Docs", d["url"]) for d in s.docs[:2]]
    lines += [("Try", s.command), ("Measure", s.measure)]
    for label, text in lines:
        if text:
            say(con, text, indent=3, hang=9, label=label)


def print_skill(report: GapReport, con=None) -> None:
    """`gaps --skill X`: the numbers, the weekly history, the evidence and the next step."""
    from rich.markup import escape

    con = con or console()
    r = report.skills[0]
    con.print(f"[bold]{escape(r.name)}[/] ({escape(r.skill)}) · {report.now[:10]}", soft_wrap=True)
    goal = {"user": "your goal", "default": "default target"}.get(r.goal, r.goal.replace("role:", "role "))
    if r.enough:
        unsure = " Uncertain: little evidence yet." if r.uncertain else ""
        say(con, f"Mastery {r.mastery:.2f}, 80% sure between {r.low:.2f} and {r.high:.2f}; "
                 f"target {r.target:.2f} ({goal}).{unsure}", indent=2, hang=2)  # fmt: skip
        con.print(f"  {interval_bar(r.low or 0.0, r.high or 1.0, r.mastery or 0.5, r.target, cells=41)}")
        say(con, f"Gap {r.gap:+.2f}; chance mastery is below target: {percent(r.p_below)}; "
                 f"rank {r.rank} of {report.ranked_count}.", indent=2, hang=2)  # fmt: skip
        if r.delta is not None:
            say(con, f"Change since {report.since[:10]}: {r.delta:+.2f} (from {r.then:.2f}).", indent=2, hang=2)
    else:
        say(con, f"Not measured yet (no check, review, rating or task); target {r.target:.2f} ({goal}).", indent=2, hang=2)
    say(con, f"Evidence: {r.evidence_text}.", indent=2, hang=2)
    con.print()
    con.print("[bold]Weekly history[/] (mastery at the end of each week)")
    # The weeks before the first with evidence say nothing each: one line for all of them.
    first = next((i for i, value in enumerate(r.history) if value is not None), len(r.history))
    if first:
        span = f"the {first} weeks to {report.weeks[first - 1]}" if first > 1 else f"the week to {report.weeks[0]}"
        con.print(f"  [dim]{'no evidence in any week yet' if first == len(r.history) else 'no evidence yet'} ({span})[/]")
    for day, value in list(zip(report.weeks, r.history))[first:]:
        if value is None:
            con.print(f"  {day}  [dim]—     no evidence yet[/]")
        else:
            con.print(f"  {day}  {value:.2f}  {'█' * round(value * 40)}")
    if r.next_step:
        con.print()
        con.print("[bold]What next[/]")
        print_next_step(con, r)


def print_goals(rows: list[dict], con=None) -> None:
    from rich import box
    from rich.table import Table

    con = con or console()
    if not rows:
        con.print("No goals yet: `learnflow goals role backend-developer` or `learnflow goals set sql 0.8`.")
        return
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, right in (("Skill", False), ("Target", True), ("Importance", True), ("Source", False), ("Set", False)):
        t.add_column(name, justify="right" if right else "left", no_wrap=True)
    for g in rows:
        t.add_row(g["skill"], f"{g['target']:.2f}", f"{g['importance']:g}", g["source"], (g["updated_at"] or "")[:10])
    con.print(t)


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def _trend(s) -> str:
    """ "↑ from 10%", "↓ from 40%", "= 25% before", or "no asks before"."""
    if s.before_share is None:
        return "no asks before"
    if s.delta is not None and abs(s.delta) >= 0.005:
        return f"{'↑' if s.delta > 0 else '↓'} from {_pct(s.before_share)}"
    return f"= {_pct(s.before_share)} before"


def print_reliance(rel, con=None, *, spaced: bool = False) -> None:
    """The reliance view: four shares of the window's asks, their trend, and what each suggests.

    `spaced`: a blank line first (below the profile)."""
    from rich.markup import escape

    from learnflow.learner.gaps import period_text

    con = con or console()
    if spaced:
        con.print()
    window = period_text(rel.days).replace("in the last", "last")
    before = f"{rel.asks_before} in the {round(rel.days)} days before"
    con.print(f"[bold]How you use the AI[/] · {escape(window)} · {rel.asks} ask{'' if rel.asks == 1 else 's'} ({before})",
              soft_wrap=True)  # fmt: skip
    if rel.message:
        say(con, rel.message, indent=2, hang=2)
    if not rel.asks:
        return
    for s in rel.signals:
        con.print(f"  {escape(s.label):<16} {_pct(s.share):>4}  [dim]{s.count:>4} · {escape(_trend(s))}[/]", soft_wrap=True)
        if s.suggests:
            say(con, s.suggests, indent=4)
