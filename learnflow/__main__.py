"""The entry point (`learnflow` and `python -m learnflow`).

It imports the CLI inside a guard: Ctrl-C in the first ~100 ms lands while typer and
the commands are still being imported, before the command's own edge (cli/edge.py) is
in place, and would otherwise print a raw KeyboardInterrupt traceback.
"""

import sys


def main() -> None:
    try:
        from learnflow.cli.app import main as run_app

        run_app()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
