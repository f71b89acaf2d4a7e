"""The entry point (`learnflow` and `python -m learnflow`).

It imports the CLI inside a guard: Ctrl-C in the first ~100 ms lands while typer and
the commands are still being imported, before the command's own edge (cli/edge.py) is
in place, and would otherwise print a raw KeyboardInterrupt traceback.
"""

import sys


def _readable_argv(argv: list[str]) -> list[str]:
    """Arguments that are not valid UTF-8 (Python keeps them as lone surrogates, which SQLite and
    every encoder refuse) get U+FFFD for the bad bytes. After `run`'s `--` comes a wrapped
    command's own argv (`learnflow run -- …`), passed through untouched; any other command's
    `--` only ends its options (`goals unset -- X`), so what follows is cleaned too."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--" and out[1:2] == ["run"]:
            return out + argv[i:]
        out.append(arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    return out


def main() -> None:
    try:
        # A terminal or pipe that cannot show a character (PYTHONIOENCODING=ascii, a C locale) gets
        # a replacement character instead of an UnicodeEncodeError in the middle of an answer.
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="replace")
        sys.argv = _readable_argv(sys.argv)
        if sys.argv[1:2] == ["hook"]:  # an agent's hook: quick, and never the CLI (sources/hook.py)
            from learnflow.sources.hook import main as hook

            sys.exit(hook(sys.argv[2:]))
        if sys.argv[1:2] == ["run"]:
            # `lf` wraps every command typed: skip loading the command-line framework (cli/quickrun.py).
            from learnflow.cli.quickrun import main as quick_run

            done = quick_run(sys.argv[2:])
            if isinstance(done, int):
                sys.exit(done)
            if done is not None:  # a failure to offer an explanation for: the full CLI's prompt and model
                from learnflow.cli.run import finish

                p = done.parsed
                sys.exit(finish(done.outcome, p.command, explain=p.explain, no_offer=p.no_offer, model=p.model))
        from learnflow.cli.app import main as run_app

        run_app()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
