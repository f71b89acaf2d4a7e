"""`learnflow run -- CMD …`: run a command unchanged, keep the tail of its output.

The command must behave exactly as if run directly: same stdin, same
environment, output live, colours kept, same exit code. On a terminal the
child gets pseudo-terminals for stdout and stderr (so it still sees a TTY and
keeps its colours) and we copy what it writes through to ours; when our output
is not a terminal, plain pipes, as the child would have had anyway.
"""

from __future__ import annotations

import os
import selectors
import signal
import sys
import time

from learnflow.errors import BadInput

TAIL_BYTES = 16 * 1024
TAIL_LINES = 80


class Outcome:
    """How a wrapped command went. A plain class, not a dataclass: `lf` pays for every import
    (cli/quickrun.py says why)."""

    __slots__ = ("argv", "cwd", "exit_code", "duration_ms", "stdout_tail", "stderr_tail", "why")

    def __init__(
        self, argv: list[str], cwd: str, exit_code: int, duration_ms: int, stdout_tail: str, stderr_tail: str, why: str | None = None
    ) -> None:
        self.argv, self.cwd, self.exit_code, self.duration_ms = argv, cwd, exit_code, duration_ms
        self.stdout_tail, self.stderr_tail = stdout_tail, stderr_tail
        self.why = why  # the command could not be started: why, in one line (its code is then 126 or 127)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outcome) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return "Outcome(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"

    @property
    def failed(self) -> bool:
        return self.exit_code != 0


class _Tail:
    """The last TAIL_BYTES of a stream, without holding the whole output."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def add(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > 2 * TAIL_BYTES:
            del self.buf[: len(self.buf) - TAIL_BYTES]

    def text(self) -> str:
        text = bytes(self.buf[-TAIL_BYTES:]).decode("utf-8", "replace").replace("\r\n", "\n")
        text = _strip_ansi(text)
        return "\n".join(text.splitlines()[-TAIL_LINES:])


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07", "", text)


def run(argv: list[str], *, use_tty: bool | None = None) -> Outcome:
    """Run `argv`, streaming its output through; return how it went."""
    if not argv:
        raise BadInput("No command to run.", hint="Usage: learnflow run -- pytest -x")
    if use_tty is None:
        use_tty = sys.stdout.isatty() and sys.stderr.isatty()
    start = time.perf_counter()
    tails = {1: _Tail(), 2: _Tail()}
    why = None
    # Like a shell, let Ctrl-C reach the command (same process group) but not kill us:
    # we still have to record how it ended.
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = _run_tty(argv, tails) if use_tty else _run_pipes(argv, tails)
    except OSError as exc:
        # The command never started: exit as a shell would (127 not found, 126 cannot execute),
        # say why in one line, and keep that line as the task's stderr for `learnflow explain`.
        code, why = _not_started(argv[0], exc)
        tails[2].add(f"learnflow: {why}\n".encode())
    finally:
        signal.signal(signal.SIGINT, old_int)
    return Outcome(
        argv=list(argv),
        cwd=os.getcwd(),
        exit_code=code,
        duration_ms=int((time.perf_counter() - start) * 1000),
        stdout_tail=tails[1].text(),
        stderr_tail=tails[2].text(),
        why=why,
    )


def _not_started(name: str, exc: OSError) -> tuple[int, str]:
    """A shell's exit code and message for a command that could not be started."""
    if isinstance(exc, FileNotFoundError):
        if os.sep in name:
            return 127, f"{name}: no such file"
        return 127, f"{name}: command not found (not on PATH)"
    if isinstance(exc, (PermissionError, IsADirectoryError)):
        what = "is a directory" if os.path.isdir(name) else "permission denied (not executable)"
        return 126, f"{name}: {what}"
    return 126, f"{name}: cannot execute ({exc.strerror or exc})"


def _exit_code(returncode: int) -> int:
    # A command killed by signal N exits 128+N in a shell; mirror that.
    return 128 - returncode if returncode < 0 else returncode


# The child starts with these signals at their default action, as from a shell: SIGINT (we ignore
# it while the command runs, see `run`), SIGPIPE and SIGXFSZ (Python ignores them at startup;
# subprocess's restore_signals puts them back the same way).
_DEFAULT_SIGNALS = (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)


def _spawn(argv: list[str], out: int, err: int) -> int:
    """Start `argv` with `out` and `err` as its stdout and stderr (stdin and every other inherited
    descriptor as ours, so it runs as it would from the shell); its pid, or OSError as exec gave it.

    posix_spawn rather than subprocess: subprocess's import (threading, locale, …) and its
    fork-then-Python-callback cost ~5 ms of every `lf`, and a vfork-based spawn is quicker to start.
    """
    low = [fd for fd in (out, err) if fd < 3]
    if low:  # our own stdout or stderr was closed, so a new descriptor took its number: move it up first
        import fcntl

        moved = {fd: fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in low}
        try:
            return _spawn(argv, moved.get(out, out), moved.get(err, err))
        finally:
            for fd in moved.values():
                os.close(fd)
    actions = [(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err, 2)]
    return os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsigdef=_DEFAULT_SIGNALS)


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return _exit_code(os.waitstatus_to_exitcode(status))


def _pump(sel: selectors.BaseSelector, tails: dict[int, _Tail]) -> None:
    outs = {1: sys.stdout.buffer, 2: sys.stderr.buffer}
    while sel.get_map():
        for key, _ in sel.select():
            try:
                data = os.read(key.fd, 65536)
            except OSError:  # EIO: the pty's other end closed
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                continue
            which = key.data
            tails[which].add(data)
            if outs[which] is None:
                continue  # the reader went away (`| head`): keep draining so the command is not blocked
            try:
                outs[which].write(data)
                outs[which].flush()
            except BrokenPipeError:
                outs[which] = None


def _run_pipes(argv: list[str], tails: dict[int, _Tail]) -> int:
    (out_r, out_w), (err_r, err_w) = os.pipe(), os.pipe()
    try:
        pid = _spawn(argv, out_w, err_w)
    except OSError:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        for fd in (out_w, err_w):  # the child holds its own copies: EOF comes when it exits
            os.close(fd)
    sel = selectors.DefaultSelector()
    sel.register(out_r, selectors.EVENT_READ, 1)
    sel.register(err_r, selectors.EVENT_READ, 2)
    try:
        _pump(sel, tails)
    finally:
        for fd in (out_r, err_r):
            os.close(fd)
    return _wait(pid)


def _run_tty(argv: list[str], tails: dict[int, _Tail]) -> int:
    import fcntl
    import pty
    import termios

    masters, slaves = [], []
    for _ in range(2):
        m, s = pty.openpty()
        try:  # same window size as ours, so the command lays out its output the same way
            size = fcntl.ioctl(sys.stdout.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(s, termios.TIOCSWINSZ, size)
        except OSError:
            pass
        masters.append(m)
        slaves.append(s)
    try:
        pid = _spawn(argv, slaves[0], slaves[1])
    except OSError:
        for m in masters:
            os.close(m)
        raise
    finally:
        for s in slaves:
            os.close(s)
    sel = selectors.DefaultSelector()
    sel.register(masters[0], selectors.EVENT_READ, 1)
    sel.register(masters[1], selectors.EVENT_READ, 2)
    try:
        _pump(sel, tails)
    finally:
        for m in masters:
            os.close(m)
    return _wait(pid)


def failure_question(outcome: Outcome) -> str:
    cmd = " ".join(outcome.argv)
    return f"The command `{cmd}` failed with exit code {outcome.exit_code}. Why did it fail, and how do I fix it?"


SHELL_SNIPPETS = {
    "bash": r"""# learnflow shell integration (bash). Add to ~/.bashrc:  eval "$(learnflow shell-init bash)"
# lf CMD…   run CMD through learnflow: output unchanged; on failure you are offered an explanation
lf() { learnflow run -- "$@"; }
# lf?       explain the last command that failed under lf (no re-run)
alias 'lf?'='learnflow explain'
# Alt-? (Esc then ?) explains the last failure; the line you are typing stays as it was
_learnflow_explain() { learnflow explain; }
bind -x '"\e?": _learnflow_explain' 2>/dev/null
""",
    "zsh": r"""# learnflow shell integration (zsh). Add to ~/.zshrc:  eval "$(learnflow shell-init zsh)"
# lf CMD…   run CMD through learnflow: output unchanged; on failure you are offered an explanation
lf() { learnflow run -- "$@"; }
# lf?       explain the last command that failed under lf (no re-run)
alias 'lf?'='learnflow explain'
# Alt-? explains the last failure; the line you are typing is put aside and comes back at the next prompt
_learnflow_explain() { zle push-line; BUFFER="learnflow explain"; zle accept-line; }
zle -N _learnflow_explain
bindkey '\e?' _learnflow_explain
""",
    "fish": r"""# learnflow shell integration (fish). Add to ~/.config/fish/config.fish:  learnflow shell-init fish | source
# lf CMD…   run CMD through learnflow: output unchanged; on failure you are offered an explanation
function lf --description 'run a command through learnflow'
    learnflow run -- $argv
end
# (fish reads ? as a wildcard, so there is no `lf?` here: use Alt-? or `learnflow explain`)
# Alt-? explains the last failure; the line you are typing stays as it was
function _learnflow_explain
    echo
    learnflow explain
    commandline -f repaint
end
bind \e\? _learnflow_explain
""",
}
