"""Writing a file the user named (reports, exports): one place for the errors they can hit."""

from __future__ import annotations

import os
from pathlib import Path

from learnflow.errors import BadInput


def write_user_file(path: Path | str, text: str, *, private: bool = False, example: str = "report.html") -> Path:
    """Write `text` to `path`; a folder or an unwritable path is bad input with a hint.

    `private` files (exports of someone's learning record) are created 0600.
    """
    path = Path(path)
    try:
        if private:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            path.write_text(text, encoding="utf-8")
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder.", hint=f"Give a file name, e.g. {example}.") from None
    except OSError as exc:
        raise BadInput(f"Cannot write {path}: {exc.strerror}.", hint="Check that the folder exists and is writable.") from None
    return path
