"""`learnflow content list|validate`: the content packs (learner/content.py, docs/content.md)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from learnflow.cli.options import JsonOpt

content_app = typer.Typer(help="Content packs: your team's skills, roles and guides (docs/content.md).", no_args_is_help=True)


@content_app.command("list")
def content_list(json_: JsonOpt = False) -> None:
    """What content is loaded and from where: bundled, then each pack (later ones win)."""
    from learnflow.learner import content
    from learnflow.ui import content as ui

    data = content.summary()
    if json_:
        from learnflow.ui import render

        render.print_json(data)
    else:
        ui.listing(data)


@content_app.command("validate")
def content_validate(
    folder: Annotated[Optional[Path], typer.Argument(help="The pack folder (default: every pack learnflow loads).")] = None,
    no_commands: Annotated[bool, typer.Option("--no-commands", help="Skip checking that each command parses.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check a pack: schema, unique ids, known skills, commands that parse. Problems as file:line."""
    from learnflow.errors import BadInput
    from learnflow.learner import content
    from learnflow.ui import content as ui

    folders = [folder] if folder is not None else [p.path for p in content.packs()]
    results = {str(f): content.validate(f, commands=not no_commands) for f in folders}
    if json_:
        from dataclasses import asdict

        from learnflow.ui import render

        render.print_json({f: [asdict(p) for p in problems] for f, problems in results.items()})
    else:
        ui.problems(results)
    bad = sum(len(p) for p in results.values())
    if bad:
        raise BadInput(
            f"{bad} problem{'s' if bad != 1 else ''} in {sum(1 for p in results.values() if p)} pack(s).",
            hint="Fix each file:line above; see docs/content.md for the format.",
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(content_app, name="content", rich_help_panel="Setup")
