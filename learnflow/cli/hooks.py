"""`learnflow hook EVENT` (an agent's hook; `__main__` runs it before typer is even imported),
`learnflow hooks install|uninstall claude|gemini|codex`, and `learnflow mcp` (the MCP server an agent starts)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

AgentArg = Annotated[str, typer.Argument(help="claude, gemini or codex.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the change; write nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before writing.")]

hooks_app = typer.Typer(help="Connect a coding agent's hooks to learnflow (Claude Code, Gemini CLI).", no_args_is_help=True)


def hook(
    event: Annotated[
        str, typer.Argument(help="The hook event: UserPromptSubmit, PostToolUse, SessionStart… (Gemini: BeforeAgent, AfterTool).")
    ],
    agent: Annotated[str, typer.Option("--agent", help="claude or gemini.")] = "claude",
) -> None:
    """Log an agent hook's event (its JSON on stdin). Always exits 0; errors go to hook.log."""
    from learnflow.sources.hook import main

    raise typer.Exit(main([event, "--agent", agent]))


def mcp() -> None:
    """Serve learnflow to a coding agent over MCP (stdio): its tools read your level, log lessons, ask and grade checks.

    \b
    Started by the agent, not by you, e.g.:
      claude mcp add learnflow -- learnflow mcp
    Needs the optional MCP SDK: pip install 'learnflow[mcp]'  (docs/agents.md)
    """
    from learnflow.sources.mcp import serve

    serve()


def _change(agent: str, install: bool, dry_run: bool, yes: bool) -> None:
    from learnflow.sources import install as inst
    from learnflow.ui import render

    inst.check_agent(agent)
    change = inst.plan(agent, install=install, home=None)
    if not change.changed:
        if install:
            render.notice(f"{change.path}: nothing to install (learnflow's hooks are already there).")
        else:
            why = "learnflow's hooks are not there" if change.path.exists() else "the file does not exist; nothing was created"
            render.notice(f"{change.path}: nothing to remove ({why}).")
        return
    sys.stderr.write(change.diff)
    if dry_run:
        render.notice("Dry run: nothing was written.")
        return
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Write {change.path}?", default=True, err=True):
        render.notice("Nothing was written.")
        return
    inst.apply(change)
    kept = f" (the file as it was: {change.backup})" if change.backup else ""
    render.notice(f"{'Installed' if install else 'Removed'} learnflow's {agent} hooks in {change.path}{kept}.")


@hooks_app.command("install")
def install(agent: AgentArg, dry_run: DryRunOpt = False, yes: YesOpt = False) -> None:
    """Add learnflow's hooks to the agent's settings (shown first; a backup is kept)."""
    _change(agent, True, dry_run, yes)


@hooks_app.command("uninstall")
def uninstall(agent: AgentArg, dry_run: DryRunOpt = False, yes: YesOpt = False) -> None:
    """Remove learnflow's hooks from the agent's settings (everything else is left as it is)."""
    _change(agent, False, dry_run, yes)


def register(app: typer.Typer) -> None:
    app.command("hook")(hook)
    app.command("mcp")(mcp)
    app.add_typer(hooks_app, name="hooks")
