"""Writing a file the user named (reports, exports): one place for the errors they can hit."""

from __future__ import annotations

import os
from pathlib import Path

from learnflow.errors import BadInput


def write_user_file(path: Path | str, text: str | bytes, *, example: str = "report.html") -> Path:
    """Write `text` (UTF-8 text, or bytes such as an Anki package) to `path`, readable by its owner
    only (0600); a folder or an unwritable path is bad input with a hint.

    Every such file holds someone's learning record (exports, gaps and team reports), so
    it is 0600 whatever the umask, also when it replaces an older file that was 0644: the
    text goes to a private temporary file that then takes the name. A full disk or a
    failed write leaves the old file as it was, never half a new one. A path that is not
    a regular file (/dev/stdout, a pipe) is written through as it is.
    """
    path = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        if path.is_dir():
            raise IsADirectoryError
        if path.exists() and not path.is_file():
            with open(path, "wb") as fh:
                fh.write(data)
            return path
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder.", hint=f"Give a file name, e.g. {example}.") from None
    except OSError as exc:
        import errno

        full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        raise BadInput(
            f"Cannot write {path}: {exc.strerror or exc}." + (" Nothing was written." if full else ""),
            hint="Free some disk space, or write somewhere else with -o." if full else "Check that the folder exists and is writable.",
        ) from None
    return path
