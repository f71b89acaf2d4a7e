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

    __slots__ = ("argv", "cwd", "exit_code", "duration_ms", "stdout_tail", "stderr_tail", "why", "killed_by")

    def __init__(
        self,
        argv: list[str],
        cwd: str,
        exit_code: int,
        duration_ms: int,
        stdout_tail: str,
        stderr_tail: str,
        why: str | None = None,
        killed_by: int | None = None,
    ) -> None:
        self.argv, self.cwd, self.exit_code, self.duration_ms = argv, cwd, exit_code, duration_ms
        self.stdout_tail, self.stderr_tail = stdout_tail, stderr_tail
        self.why = why  # the command could not be started: why, in one line (its code is then 126 or 127)
        self.killed_by = killed_by  # the signal that ended the command, if one did (its code is then 128 + it)

    @property
    def interrupted(self) -> bool:
        """Ctrl-C ended it: the person stopped it, nothing to explain (and `lf` then dies of SIGINT too)."""
        return self.killed_by == signal.SIGINT

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
    # A stream closed by the shell (`lf cmd >&-`) stays closed for the command: Python gave us None for it.
    ours = [fd for fd, stream in ((1, sys.stdout), (2, sys.stderr)) if stream is not None]
    if use_tty is None:
        use_tty = ours == [1, 2] and os.isatty(1) and os.isatty(2)
    start = time.perf_counter()
    tails = {1: _Tail(), 2: _Tail()}
    why = None
    child = _Child()
    # Like a shell, let Ctrl-C (and Ctrl-\) reach the command (same process group) but not kill us: we
    # still have to record how it ended. A signal ignored when we started (`cmd &` from a script) stays
    # ignored for the command, as it would be bare.
    quiet = (signal.SIGINT, signal.SIGQUIT)
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in quiet}
    defaults = [sig for sig in (*quiet, signal.SIGPIPE, signal.SIGXFSZ) if old.get(sig) != signal.SIG_IGN]
    # SIGTERM or SIGHUP sent to us alone (a supervisor, a CI runner, `kill`) is meant for the command: pass it on.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            old[sig] = signal.signal(sig, child.forward)
    try:
        if use_tty:
            code = _run_tty(argv, tails, child, defaults)
        else:
            code = _run_pipes(argv, tails, child, defaults, ours)
    except OSError as exc:
        # The command never started: exit as a shell would (127 not found, 126 cannot execute),
        # say why in one line, and keep that line as the task's stderr for `learnflow explain`.
        code, why = _not_started(argv[0], exc)
        tails[2].add(f"learnflow: {why}\n".encode())
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return Outcome(
        argv=list(argv),
        cwd=os.getcwd(),
        exit_code=code,
        duration_ms=int((time.perf_counter() - start) * 1000),
        stdout_tail=tails[1].text(),
        stderr_tail=tails[2].text(),
        why=why,
        killed_by=child.signal,
    )


class _Child:
    """The running command: its pid while it may receive a signal, and the signal that ended it."""

    def __init__(self) -> None:
        self.pid = 0
        self.signal: int | None = None

    def forward(self, signum: int, _frame: object) -> None:
        if self.pid:  # reaped: the pid may be someone else's now
            os.kill(self.pid, signum)


def _not_started(name: str, exc: OSError) -> tuple[int, str]:
    """A shell's exit code and message for a command that could not be started."""
    if isinstance(exc, FileNotFoundError):
        found = _which(name)
        if found:  # the file is there: what is missing is the interpreter its #! line names
            return 127, f"{name}: bad interpreter {_interpreter(found) or '(unknown)'} (not found)"
        if os.sep in name:
            return 127, f"{name}: no such file"
        return 127, f"{name}: command not found (not on PATH)"
    if isinstance(exc, (PermissionError, IsADirectoryError)):
        what = "is a directory" if os.path.isdir(name) else "permission denied (not executable)"
        return 126, f"{name}: {what}"
    return 126, f"{name}: cannot execute ({exc.strerror or exc})"


def _which(name: str) -> str | None:
    """The executable file `name` runs (as execvp finds it), or None."""
    places = [name] if os.sep in name else [os.path.join(d or ".", name) for d in os.environ.get("PATH", os.defpath).split(os.pathsep)]
    return next((p for p in places if os.path.isfile(p) and os.access(p, os.X_OK)), None) if name else None


def _interpreter(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            first = f.readline(256)
    except OSError:
        return None
    parts = first[2:].split() if first.startswith(b"#!") else []
    return os.fsdecode(parts[0]) if parts else None


def _exit_code(returncode: int) -> int:
    # A command killed by signal N exits 128+N in a shell; mirror that.
    return 128 - returncode if returncode < 0 else returncode


def _child_env() -> dict[str, str] | os._Environ[str]:
    """Our environment as we were given it. Under a C locale Python sets LC_CTYPE=C.UTF-8 in its own (PEP 538);
    the command must not inherit that, so it is dropped unless it was there when we started."""
    if os.environ.get("LC_CTYPE") not in ("C.UTF-8", "C.utf8", "UTF-8"):
        return os.environ
    try:
        with open("/proc/self/environ", "rb") as f:  # the environment as exec gave it (Linux)
            given = f.read().split(b"\0")
    except OSError:
        return os.environ
    if any(entry.startswith(b"LC_CTYPE=") for entry in given):
        return os.environ
    return {k: v for k, v in os.environ.items() if k != "LC_CTYPE"}


def _spawn(
    argv: list[str], out: int | None, err: int | None, defaults: tuple | list = (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ)
) -> int:
    """Start `argv` with `out` and `err` as its stdout and stderr (None: as ours; stdin and every other
    inherited descriptor as ours, so it runs as it would from the shell), the signals `defaults` at their
    default action; its pid, or OSError as exec gave it.

    posix_spawn rather than subprocess: subprocess's import (threading, locale, …) and its
    fork-then-Python-callback cost ~5 ms of every `lf`, and a vfork-based spawn is quicker to start.
    """
    low = [fd for fd in (out, err) if fd is not None and fd < 3]
    if low:  # our own stdout or stderr was closed, so a new descriptor took its number: move it up first
        import fcntl

        moved = {fd: fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in low}
        try:
            return _spawn(argv, moved.get(out, out), moved.get(err, err), defaults)  # type: ignore[arg-type]
        finally:
            for fd in moved.values():
                os.close(fd)
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for fd, target in ((out, 1), (err, 2)) if fd is not None]
    env = _child_env()
    try:
        return os.posix_spawnp(argv[0], argv, env, file_actions=actions, setsigdef=defaults)
    except OSError as exc:
        import errno

        found = _which(argv[0]) if exc.errno == errno.ENOEXEC else None
        if not found:
            raise
        # An executable file with no #! line: a shell (and execvp) runs it with sh; posix_spawnp does not.
        return os.posix_spawn("/bin/sh", ["sh", found, *argv[1:]], env, file_actions=actions, setsigdef=defaults)


def _wait(pid: int, flags: int = 0) -> tuple[int, int | None] | None:
    """The exit code of `pid` (128 + N when signal N ended it) and that signal; None if it still runs (WNOHANG)."""
    done, status = os.waitpid(pid, flags)
    if not done:
        return None
    code = os.waitstatus_to_exitcode(status)
    return _exit_code(code), (-code if code < 0 else None)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:  # a terminal or pipe someone made non-blocking: wait until it takes more
            import select

            select.select([], [fd], [])


def _copy(sel: selectors.BaseSelector, key: selectors.SelectorKey, tails: dict[int, _Tail], broken: set[int]) -> None:
    """One read from the command's output: into the tail and out to ours."""
    try:
        data = os.read(key.fd, 65536)
    except OSError:  # EIO: the pty's other end closed
        data = b""
    which = key.data
    if data:
        tails[which].add(data)
        if which not in broken:
            try:
                _write_all(which, data)
                return
            except OSError:  # EPIPE: the reader left; EIO: our terminal hung up
                broken.add(which)
    # End of output, or our reader went away (`| head`): stop reading, so that the command's next write
    # fails with SIGPIPE as it would have bare (draining it instead kept `yes` running for ever).
    sel.unregister(key.fd)
    os.close(key.fd)


def _pump(outputs: dict[int, int], tails: dict[int, _Tail], child: _Child) -> int:
    """Copy the command's outputs (read end → 1 or 2) until it exits; its exit code."""
    sel = selectors.DefaultSelector()
    for fd, which in outputs.items():
        sel.register(fd, selectors.EVENT_READ, which)
    try:
        pidfd = os.pidfd_open(child.pid)  # readable once the command exits (Linux ≥ 5.3)
        sel.register(pidfd, selectors.EVENT_READ, 0)
    except (AttributeError, OSError):
        pidfd = -1
    broken: set[int] = set()
    ended = None
    try:
        while ended is None and len(sel.get_map()) > (pidfd >= 0):
            for key, _ in sel.select(None if pidfd >= 0 else 0.05):
                if key.data:
                    _copy(sel, key, tails, broken)
            ended = _wait(child.pid, os.WNOHANG)
        if ended is None:  # all its output closed: it is exiting or has
            ended = _wait(child.pid)
        else:  # what it wrote before exiting is in the pipes: take it (a bounded number of reads: something
            # it left running may write on)
            for _ in range(64):
                ready = [key for key, _ in sel.select(0) if key.data]
                if not ready:
                    break
                for key in ready:
                    _copy(sel, key, tails, broken)
        child.pid = 0
        if pidfd >= 0:
            sel.unregister(pidfd)
            os.close(pidfd)
        left = [key.fd for key in sel.get_map().values()]
        if left:
            # Something it started (`server &`) still holds its output: bare, that would write on to the
            # terminal after the prompt. Keep copying in the background instead of waiting for it.
            _copy_on_in_background(sel, tails, broken)
            for fd in left:
                os.close(fd)
    finally:
        sel.close()
    assert ended is not None  # a blocking waitpid always reports
    code, child.signal = ended
    return code


def _copy_on_in_background(sel: selectors.BaseSelector, tails: dict[int, _Tail], broken: set[int]) -> None:
    if os.fork():
        return
    try:  # the copier: until whatever holds the output closes it
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        while sel.get_map():
            for key, _ in sel.select():
                _copy(sel, key, tails, broken)
    finally:
        os._exit(0)


def _run_pipes(argv: list[str], tails: dict[int, _Tail], child: _Child, defaults: list, ours: list[int]) -> int:
    pipes = {which: os.pipe() for which in ours}
    try:
        child.pid = _spawn(argv, pipes[1][1] if 1 in pipes else None, pipes[2][1] if 2 in pipes else None, defaults)
    except OSError:
        for r, _ in pipes.values():
            os.close(r)
        raise
    finally:
        for _, w in pipes.values():  # the child holds its own copies: EOF comes when it exits
            os.close(w)
    return _pump({r: which for which, (r, _) in pipes.items()}, tails, child)


def _run_tty(argv: list[str], tails: dict[int, _Tail], child: _Child, defaults: list) -> int:
    import fcntl
    import pty
    import termios

    masters, slaves = [], []
    for _ in range(2):
        m, s = pty.openpty()
        try:  # same window size as ours, so the command lays out its output the same way
            size = fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(s, termios.TIOCSWINSZ, size)
        except OSError:
            pass
        masters.append(m)
        slaves.append(s)
    try:
        child.pid = _spawn(argv, slaves[0], slaves[1], defaults)
    except OSError:
        for m in masters:
            os.close(m)
        raise
    finally:
        for s in slaves:
            os.close(s)
    return _pump({masters[0]: 1, masters[1]: 2}, tails, child)


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
