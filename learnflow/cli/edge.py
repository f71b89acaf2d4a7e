"""The one edge where failures become messages and exit codes.

Every expected failure reaches `LearnflowGroup.invoke` as an exception: a domain
error (`LearnflowError`: its message, hint and code), a Ctrl-C or a closed input
(`interruptible` turns them into an `Interrupted` that says what was kept), or a
closed pipe. Nothing else in the CLI prints an error and exits.
"""

import sys
from contextlib import contextmanager

import typer
from typer.core import TyperGroup

from learnflow.errors import ExitCode, LearnflowError


class Interrupted(LearnflowError):
    """Ctrl-C, SIGTERM/SIGHUP (exit 130) or input that ran out (exit 3): the session ended early."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: ExitCode = ExitCode.INTERRUPTED):
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


class LearnflowGroup(TyperGroup):
    """Turns every expected failure into a one-line message and its exit code: the one place."""

    def invoke(self, ctx):
        from learnflow.ui import render

        try:
            return super().invoke(ctx)
        except LearnflowError as exc:
            from learnflow.redact import scrub

            # A message may quote what the person typed or a server sent back: no secret in either.
            render.error(scrub(exc.message) or "", scrub(exc.hint))
            raise typer.Exit(int(exc.exit_code)) from None
        except OverflowError:
            # Only a number from the command line can get here (SQLite integers stop at 2^63 - 1).
            render.error("A number given is too large.", "Ids and counts go up to 9223372036854775807.")
            raise typer.Exit(int(ExitCode.BAD_INPUT)) from None
        except KeyboardInterrupt:
            render.error("Interrupted.")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            # Output piped into `head` and closed early: exit as a shell reports SIGPIPE.
            sys.stderr.close()
            raise typer.Exit(141) from None
        except Exception as exc:
            from learnflow.db.store import as_database_error

            # A damaged page or a disk error met in the middle of a query: the log's fault,
            # said as one, with what to do (exit 7), never a traceback. Anything else is a bug.
            mapped = as_database_error(exc)
            if mapped is None:
                raise
            render.error(mapped.message, mapped.hint)
            raise typer.Exit(int(mapped.exit_code)) from None


class interrupts_as_keyboard:
    """SIGTERM/SIGHUP (closed terminal, `kill`) end a command like Ctrl-C: the log is finished.

    `signalled` remembers which of them came, so `chat` (where a Ctrl-C only cancels one answer)
    still ends on a `kill`."""

    signalled: int | None = None

    def __enter__(self):
        import signal

        self._old = {}
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                try:
                    self._old[sig] = signal.signal(sig, self._raise)
                except ValueError:  # not the main thread (e.g. some test runners)
                    pass
        return self

    @staticmethod
    def _raise(signum, frame):
        interrupts_as_keyboard.signalled = signum
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        import signal

        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        return False


@contextmanager
def interruptible(kept, *, command: str = "", ended: str = "", partial=None):
    """Ctrl-C (or SIGTERM/SIGHUP) and input that runs out end the block with an `Interrupted`
    that says what was kept (`kept()`); with --json, `partial()` (what was kept, as data) still
    goes to stdout for the script. `command` names the command whose --answers file would help."""
    from learnflow.ui import render

    with interrupts_as_keyboard():
        try:
            yield
        except (KeyboardInterrupt, EOFError) as exc:
            if partial is not None:
                render.print_json(partial())
            if isinstance(exc, KeyboardInterrupt):
                raise Interrupted(f"Interrupted. {kept()}") from None
            raise Interrupted(
                f"The input ended{' ' + ended if ended else ''}. {kept()}",
                hint=f"Without a terminal, give the answers in a file: learnflow {command} --answers answers.toml" if command else None,
                exit_code=ExitCode.BAD_INPUT,
            ) from None
