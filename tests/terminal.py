"""A command under a real pseudo-terminal, as a person would use it: shared by the terminal tests."""

from __future__ import annotations

import os
import select
import sys
import time

CTRL_C, CTRL_D = b"\x03", b"\x04"


class Terminal:
    """A command under a real pty: read until a text shows up, type keys."""

    def __init__(self, *argv: str):
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], list(argv), os.environ)
        self.seen = b""

    @classmethod
    def learnflow(cls, *args: str) -> Terminal:
        return cls(sys.executable, "-m", "learnflow", *args)

    @classmethod
    def chat(cls, *args: str) -> Terminal:
        return cls.learnflow("chat", *args)

    def expect(self, text: str, timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while text.encode() not in self.seen:
            if not self._read(end - time.monotonic()):
                raise AssertionError(f"{text!r} never appeared in:\n{self.seen.decode(errors='replace')}")

    def prompt(self) -> None:
        """Wait until the chat waits at its prompt."""
        end = time.monotonic() + 20
        while not self.seen.endswith(b"> "):
            if not self._read(end - time.monotonic()):
                raise AssertionError(f"no prompt in:\n{self.seen.decode(errors='replace')}")

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def key(self, raw: bytes) -> None:
        if raw in (CTRL_C, CTRL_D):
            # At human speed: readline draws the prompt before it takes the terminal, and a ^D (or a
            # ^C, which Python's readline sees only while it waits in select) typed in between is lost.
            time.sleep(0.3)
        os.write(self.fd, raw)

    def finish(self, timeout: float = 20) -> int:
        end = time.monotonic() + timeout
        while self._read(end - time.monotonic()):
            pass
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    def _read(self, left: float) -> bool:
        if left <= 0 or not select.select([self.fd], [], [], left)[0]:
            return False
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # the child closed the terminal
            return False
        self.seen += chunk
        return bool(chunk)
