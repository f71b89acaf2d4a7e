"""Domain errors. Each carries a fix-it hint and maps to one exit code.

The CLI turns these into a one-line message and an exit status in one place
(`cli.main`); the core only raises them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (see README, "Exit codes")."""

    OK = 0
    FAILURE = 1  # unexpected failure (a bug): please report it
    USAGE = 2  # bad flags or arguments (typer/click's own code)
    BAD_INPUT = 3  # empty question, unreadable -f file, invalid value
    CONFIG = 4  # config file, prompt file or keys file problem
    BACKEND = 5  # the model backend failed (connection, a missing or rejected key, rate limit, server, garbage)
    NOT_FOUND = 6  # `show 42` when 42 does not exist, unknown model, provider (`-m nosuch/model`) or backend
    DATABASE = 7  # the log cannot be opened or written
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), like a shell
    # Not raised here, listed for the README: `run` exits 126/127 when its command cannot start
    # (as a shell does), and 141 when the output pipe closes before everything was written.


class LearnflowError(Exception):
    """Base of every expected failure: a message, a hint, an exit code."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class BadInput(LearnflowError):
    exit_code = ExitCode.BAD_INPUT


class ConfigError(LearnflowError):
    exit_code = ExitCode.CONFIG


class NotFound(LearnflowError):
    exit_code = ExitCode.NOT_FOUND


class DatabaseError(LearnflowError):
    exit_code = ExitCode.DATABASE


class BackendError(LearnflowError):
    """The backend failed. `kind` names the failure for logs and tests."""

    exit_code = ExitCode.BACKEND

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        kind: str = "error",
        partial: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, hint=hint)
        # connection | timeout | auth | not_found | rate_limit | server | bad_request | bad_response | stream_cut | error
        self.kind = kind
        self.partial = partial
        self.status = status
        self.retry_after = retry_after  # seconds, from the server's Retry-After header

    @property
    def retryable(self) -> bool:
        """Worth another try: the server may answer next time (never after a key was rejected)."""
        return self.kind in ("connection", "rate_limit", "server", "timeout")
