"""llm (simonw/llm): its SQLite log, `logs.db` in llm's user folder (`llm logs path`).

Both layouts are read (queries in db/agents.py): `responses` (one row per prompt, `prompt`,
`conversation_id`, `datetime_utc`; llm up to the message store) and the message store
(`threads`, `turns`, `messages`, `parts`: a turn's user text is the user-role text parts between
its parent and tip messages). The last row read of each table is remembered, so importing again
reads only newer rows. Tool calls in llm run Python functions, not shell commands: prompts only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def default_path() -> Path:
    """Where `llm logs path` points: $LLM_USER_PATH, else click's app folder for `io.datasette.llm`."""
    env = os.environ.get("LLM_USER_PATH")
    if env:
        return Path(env).expanduser() / "logs.db"
    if sys.platform == "darwin":
        base = Path("~/Library/Application Support").expanduser()
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path("~").expanduser())
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path("~/.config").expanduser())
    return base / "io.datasette.llm" / "logs.db"
