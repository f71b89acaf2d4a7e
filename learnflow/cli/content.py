"""Your organisation's knowledge: `learnflow content list|validate` (the content packs: learner/content.py,
docs/content.md) and `learnflow docs index|search`, the index of your own documents that `ask --docs` grounds
answers in (tutor/documents.py; the index is a cache file, rebuilt from the documents, not part of the log)."""

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


docs_app = typer.Typer(help="Your own documents: index and search what `ask --docs` cites.", no_args_is_help=True)


@docs_app.command("index")
def docs_index(
    folders: Annotated[
        Optional[list[str]], typer.Argument(metavar="[DIR]...", help="Folders to index (default: the docs setting).", show_default=False)
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Index Markdown, text and reStructuredText under DIR: only new and changed files are read,
    files that disappeared are dropped, secrets are redacted before anything is stored.

    \b
    Examples:
      learnflow docs index ~/team-wiki
      learnflow docs index ~/team-wiki ~/notes --json
      learnflow docs index                  # the folders of the docs setting

    Hidden files and folders, node_modules and virtual environments are left out. Symlinked folders
    are followed, each real folder once (a link to a folder above is not: no loop). Files over 4 MB,
    binary files and files that are not UTF-8 are skipped and listed; they are not read again until
    they change. A folder indexed before that no longer exists (deleted, moved) is dropped from the
    index, here and at every `docs search`.
    """
    from learnflow.config import Config
    from learnflow.errors import BadInput
    from learnflow.tutor import documents
    from learnflow.ui import documents as ui
    from learnflow.ui import render

    missing: list[str] = []
    dirs = documents.folders_from(folders, Config().get("docs"), source="`docs index DIR`", missing=missing)
    if missing:
        render.notice(ui.missing_note(missing))
    if not dirs:
        if missing:
            documents.prune()  # nothing left to index, but what is gone still leaves the index
        raise BadInput(
            "No folder to index.", hint="Give one (`learnflow docs index ~/notes`) or set it: `learnflow config set docs ~/notes`."
        )
    if json_:
        from dataclasses import asdict

        render.print_json(asdict(documents.index(dirs)))
        return
    with render.progress("Indexing your documents") as tick:
        report = documents.index(dirs, progress=tick)
    ui.index_summary(report)


@docs_app.command("search")
def docs_search(
    query: Annotated[list[str], typer.Argument(metavar="QUERY", help="What to look for (quotes optional).")],
    n: Annotated[int, typer.Option("-n", "--limit", metavar="N", min=1, max=100, help="How many passages to show.")] = 10,
    json_: JsonOpt = False,
) -> None:
    """The passages that best match QUERY in everything indexed, as file:line and a snippet.

    \b
    Examples:
      learnflow docs search release checklist
      learnflow docs search "force push" -n 3
      learnflow docs search deploy token --json

    Any word of QUERY may match (common words left out); the best passages come first. Folders
    that no longer exist are dropped from the index first, and a file deleted since it was indexed
    is never shown.
    """
    from learnflow.errors import BadInput
    from learnflow.tutor import documents
    from learnflow.ui import documents as ui
    from learnflow.ui import render

    text = " ".join(query)
    if not text.strip():
        raise BadInput("The query is empty.", hint='Say what to look for, e.g. `learnflow docs search "release checklist"`.')
    dropped = documents.prune()
    if dropped:
        render.notice(f"Dropped from the index, as they no longer exist: {', '.join(dropped)}.")
    passages = documents.search(text, None, limit=n)
    if json_:
        render.print_json(
            [{"file": p.shown, "path": p.path, "line": p.line, "cite": p.cite, "score": p.score, "snippet": p.snippet} for p in passages]
        )
        return
    ui.search_results(passages, text)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(content_app, name="content", rich_help_panel="Setup")
    app.add_typer(docs_app, name="docs", rich_help_panel="Setup")
