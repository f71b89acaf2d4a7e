"""Data derived from files (bundled TOML, the user's overrides), kept as JSON in the cache folder.

Parsing TOML and building indexes from it costs 2-30 ms in every process that needs it (the
skill tagger on each `ask`, the command table on each `lf`); reading the JSON back costs ~1 ms.
The cache is keyed on each source file's size and modification time (and a format version the
caller bumps when what it builds changes), so an edit to any source rebuilds it. It is written
atomically (two processes may rebuild at once) and a cache folder that cannot be written only
costs speed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from learnflow import paths
from learnflow.errors import LearnflowError

TYPE_CHECKING = False  # typing is not imported at run time: `lf` reads its command table through here
if TYPE_CHECKING:
    from typing import Any


def stamp(path: Path) -> list:
    """[path, size, mtime in ns], or [path] for a file that does not exist."""
    try:
        st = path.stat()
    except OSError:
        return [str(path)]
    return [str(path), st.st_size, st.st_mtime_ns]


def cached(name: str, sources: Iterable[Path], build: Callable[[], Any], *, version: int = 1) -> Any:
    """`build()`'s JSON-able value, from `<cache>/<name>.json` while `sources` are unchanged."""
    key = [version, [stamp(Path(s)) for s in sources]]
    cache = paths.cache_dir() / f"{name}.json"
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("key") == key:
            return data["value"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    value = build()
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    try:
        paths.ensure_private_dir(cache.parent)
        tmp.write_text(json.dumps({"key": key, "value": value}), encoding="utf-8")
        tmp.replace(cache)
    except (OSError, LearnflowError):  # a read-only, full or misplaced cache folder only costs speed
        try:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half-written cache behind
        except OSError:
            pass  # a read-only folder: there is none
    return value
