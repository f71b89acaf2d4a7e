"""`learnflow gaps` and `learnflow goals`: parse, call the core, render.

Everything heavy (the model, rich, the HTML report) is imported inside the
commands, so `learnflow --help` and `ask` never pay for it.
"""

from typing import Annotated, Optional

import typer

from learnflow.cli.options import HtmlOpt, JsonOpt, open_store

goals_app = typer.Typer(
    help="Target levels per skill, set by hand or from a role profile; `learnflow gaps` measures against them.",
    no_args_is_help=True,
)


def gaps(
    since: Annotated[
        str, typer.Option("--since", metavar="WHEN", help="Window for the trend and the evidence counts: 30d, 2w, 2024-06-01.")
    ] = "30d",
    skill: Annotated[
        Optional[str], typer.Option("--skill", metavar="SKILL", help="Only this skill, with its weekly history.", show_default=False)
    ] = None,
    reliance: Annotated[
        bool, typer.Option("--reliance", help="Only how you use the AI: --direct asks, attempts, repeats, flags, and their trend.")
    ] = False,
    as_of: Annotated[
        Optional[str],
        typer.Option(
            "--as-of",
            metavar="WHEN",
            help="The report as it was then (3d, yesterday, 2026-05-01T14:00); later evidence is ignored.",
            show_default=False,
        ),
    ] = None,
    json_: JsonOpt = False,
    html: HtmlOpt = None,
) -> None:
    """Your skill profile: where you are strong, where the gaps are, whether they close, what next.

    \b
    Examples:
      learnflow gaps                      # top gaps first, with next steps
      learnflow gaps --since 2w --skill git
      learnflow gaps --json | jq '.top'
      learnflow gaps --html report.html   # charts; works offline
      learnflow gaps --reliance           # how you use the AI, and its trend
      learnflow gaps --as-of 2026-05-01   # the report as it was on that day (targets are today's)

    Mastery per skill comes from your checks, reviews and self-ratings in `learnflow reflect`
    and (weakly) from the questions you ask; old evidence fades (docs/learner-model.md).
    """
    import time

    from learnflow.learner import reliance as reliance_view
    from learnflow.learner.gaps import build_report, parse_as_of, parse_since
    from learnflow.ui import render

    now = time.time()
    when = parse_as_of(as_of, now)
    if when is not None:
        now = when  # --since and the reliance window count back from that moment
    store = open_store()
    start = parse_since(since, now)
    rel = reliance_view.build(store, since=start, now=now)
    if reliance:
        if json_:
            render.print_json({"reliance": rel.to_dict()})
        else:
            from learnflow.ui import gaps as render_gaps

            render_gaps.print_reliance(rel)
        return
    report = build_report(store, since=start, skill=skill, now=now, as_of=when)
    if html is not None:
        from learnflow.ui.html import write_html

        write_html(report, html)
        render.notice(f"Wrote {html}")
    if json_:
        render.print_json({**report.to_dict(), "reliance": rel.to_dict()})
        return
    from learnflow.ui import gaps as render_gaps

    if skill:
        render_gaps.print_skill(report)
    else:
        render_gaps.print_report(report)
        render_gaps.print_reliance(rel, spaced=True)


@goals_app.command("set")
def goals_set(
    skill: Annotated[str, typer.Argument(help="Skill id, e.g. sql, git, prompting (see learnflow/data/skills.toml).")],
    target: Annotated[float, typer.Argument(help="Target mastery from 0 to 1: 0.8 = right on ~8 checks in 10.")],
    importance: Annotated[
        float, typer.Option("--importance", metavar="N", help="Weight in the ranking: 1 normal, 2 twice as important.")
    ] = 1.0,
    json_: JsonOpt = False,
) -> None:
    """Set your target for one skill, e.g. `learnflow goals set sql 0.8 --importance 2`."""
    from learnflow.learner.goals import set_goal
    from learnflow.ui import render

    goal = set_goal(open_store(), skill, target, importance)
    if json_:
        render.print_json(goal.__dict__)
        return
    render.notice(f"{goal.skill}: target {goal.target:g}, importance {goal.importance:g}")


@goals_app.command("unset")
def goals_unset(skill: Annotated[str, typer.Argument(help="Skill id.")], json_: JsonOpt = False) -> None:
    """Remove the goal of one skill; it falls back to the default target (gaps_default_target)."""
    from learnflow.learner.goals import unset_goal
    from learnflow.ui import render

    removed = unset_goal(open_store(), skill)
    if json_:
        render.print_json({"skill": skill, "removed": removed})
        return
    render.notice(f"{skill}: goal removed." if removed else f"{skill} had no goal.")


@goals_app.command("role")
def goals_role(
    role: Annotated[
        Optional[str], typer.Argument(help="Role profile, e.g. backend-developer; omit to list them.", show_default=False)
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Take the targets of a bundled role profile; targets you set yourself are kept.

    Roles: backend-developer, frontend-developer, data-analyst, devops-engineer,
    ai-augmented-engineer, tech-lead. Without ROLE, lists them.
    """
    from learnflow.learner.goals import apply_role, roles
    from learnflow.ui import render

    if role is None:
        rows = [{"role": r.id, "name": r.name, "skills": len(r.skills), "description": r.description} for r in roles().values()]
        if json_:
            render.print_json(rows)
        else:
            render.table(rows, [("role", "Role"), ("skills", "Skills"), ("description", "What it is")])
        return

    done = apply_role(open_store(), role)
    if json_:
        render.print_json({"role": done.role.id, "applied": [g.__dict__ for g in done.applied], "kept": [g.__dict__ for g in done.kept]})
        return
    render.notice(f"{done.role.name}: set {len(done.applied)} targets.")
    for g in done.kept:
        render.notice(f"Kept your own target for {g.skill} ({g.target:g}).")
    n = len(done.role.skills)
    render.notice(f"Measure where you stand: `learnflow check -n {n}` asks one question per skill.")


@goals_app.command("list")
def goals_list(json_: JsonOpt = False) -> None:
    """Your goals: target, importance, and where each came from (you or a role)."""
    from learnflow.learner.goals import goals
    from learnflow.ui import render

    rows = [g.__dict__ for g in goals(open_store()).values()]
    if json_:
        render.print_json(rows)
        return
    from learnflow.ui import gaps as render_gaps

    render_gaps.print_goals(rows)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("gaps", rich_help_panel="Learn")(gaps)
    app.add_typer(goals_app, name="goals", rich_help_panel="Learn")
