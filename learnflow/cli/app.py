"""The typer app: the root options, and every command group registered in one place.

The command modules are thin: parse, call the core, render (learnflow.ui). Imports
stay light at module level (typer only): `learnflow --help` must be fast, and each
command imports the core it needs when it runs.
"""

from typing import Annotated, Optional

import typer

from learnflow import __version__
from learnflow.cli import ask, cards, chat, content, gaps, hooks, interop, learn, reflect, run, setup
from learnflow.cli.edge import LearnflowGroup

app = typer.Typer(
    cls=LearnflowGroup,
    name="learnflow",
    help=(
        "A terminal copilot for learning in the flow of work.\n\n"
        "Ask while you work (learnflow ask), reflect at day's end, see your skill gaps.\n"
        "Works offline out of the box; connect any model with -m or `learnflow config set model`."
    ),
    no_args_is_help=True,
    # Plain tracebacks for bugs (never with local variables, which could hold an API key);
    # and click's plain help formatter: rich's costs ~0.1 s on every `--help`.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"learnflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """A terminal copilot for learning in the flow of work."""


for group in (ask, chat, run, reflect, learn, cards, gaps, interop, setup, hooks, content):
    group.register(app)


def main() -> None:
    app(prog_name="learnflow")
