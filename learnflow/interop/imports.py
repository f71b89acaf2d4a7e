"""Statements back into the log (`learnflow import`): parsing, the evidence they carry, and adding them.

Import is idempotent: a statement id seen before, or one this install issues itself,
adds nothing. Every imported statement is kept whole in `xapi_imported`, so a later
export or sync passes it on unchanged (same id: an LRS stores it once).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from learnflow.db import xapi as xapi_db
from learnflow.db.store import Store
from learnflow.errors import BadInput
from learnflow.interop.xapi import EXT, VERBS, actor_key, own_ids, parse_time, skill_of_iri
from learnflow.timespec import now_iso

_SHAPES_HINT = 'Expected a JSON array of statements, {"statements": [...]} as an LRS returns, or one statement per line.'
_TOO_DEEP = "nested too deeply"


def _loads(text: str | bytes) -> Any:
    """json.loads, with nesting deeper than Python's recursion limit a JSONDecodeError like any other bad JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError(_TOO_DEEP, "", 0) from None


def _unwrap(data: Any, origin: str) -> list:
    if isinstance(data, dict):
        data = data.get("statements", [data]) if "statements" in data or "actor" in data else None
    if not isinstance(data, list):
        raise BadInput(f"{origin} does not hold xAPI statements.", hint=_SHAPES_HINT)
    return data


def parse_statements(text: str, *, origin: str = "the input") -> list:
    """Statements from a JSON array, an LRS answer `{"statements": [...]}`, one statement, or JSON lines.

    Items that are not objects are passed on: `import_statements` counts them as invalid."""
    text = text.strip()
    if not text:
        raise BadInput(f"{origin} is empty.", hint="Give a file written by `learnflow export --format xapi`.")
    try:
        data: Any = _loads(text)
    except json.JSONDecodeError as exc:
        try:
            data = [_loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            raise BadInput(f"{origin} is not JSON: {exc.msg} (line {exc.lineno}).") from None
    return _unwrap(data, origin)


def read_statements(stream: BinaryIO, *, origin: str = "the input") -> Iterator[Any]:
    """Statements from a binary stream, one at a time: memory stays bounded whatever the file's size.

    A JSON array (what `export` writes) is decoded one element at a time (`_array_items`); JSON
    lines are read line by line; an LRS answer or a single pretty-printed statement is one
    document and is read whole. A parse error part way raises BadInput saying how far it got:
    what came before it is already imported.
    """
    import io

    buffered: Any = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)  # type: ignore[type-var,unused-ignore]
    first = _first_byte(buffered)
    if first is None:
        raise BadInput(f"{origin} is empty.", hint="Give a file written by `learnflow export --format xapi`.")
    if first == b"[":
        yield from _array_items(buffered, origin)
        return
    if first != b"{":
        raise BadInput(f"{origin} is not JSON.", hint=_SHAPES_HINT)
    line = buffered.readline()
    try:
        data = _loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if data is None:  # not one statement per line: one document, read whole
        rest = line + buffered.read()
        try:
            yield from _unwrap(_loads(rest), origin)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadInput(f"{origin} is not JSON: {exc}.") from None
        return
    yield from _unwrap(data, origin)
    for number, line in enumerate(buffered, 2):
        if not line.strip():
            continue
        try:
            yield _loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield _Unreadable(f"line {number}: {getattr(exc, 'msg', exc)}")


CHUNK = 1 << 20  # characters read at a time
MAX_ITEM = 16 << 20  # one statement larger than this is not a statement
_BETWEEN = re.compile(r"[\s,]*")


def _array_items(stream, origin: str) -> Iterator[Any]:
    """The elements of a JSON array, decoded one at a time by the standard library's C decoder.

    Memory holds one chunk and one element, whatever the file's size. Why not a streaming
    parser such as ijson: its events carry the element's path, which grows with nesting, so a
    hostile 100,000-deep array took gigabytes (measured: killed at 2 GB); the C decoder stops
    such nesting with a RecursionError instead, and is as fast.
    """
    import codecs

    decoder = json.JSONDecoder()
    text = codecs.getincrementaldecoder("utf-8")()
    buf, pos, eof, count = "", 0, False, 0

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        data = stream.read(CHUNK)
        try:
            piece = text.decode(data, final=not data)
        except UnicodeDecodeError:
            raise BadInput(f"{origin} is not UTF-8 text (after {count:,} statements).") from None
        eof = not data
        buf, pos = buf[pos:] + piece, 0
        if len(buf) > MAX_ITEM + CHUNK:
            raise BadInput(f"{origin}: statement {count + 1:,} is larger than {MAX_ITEM >> 20} MB, or the JSON is broken there.")
        return True

    more()
    pos = buf.index("[") + 1
    while True:
        pos = _BETWEEN.match(buf, pos).end()  # type: ignore[union-attr]  # the pattern matches the empty string
        if pos >= len(buf):
            if more():
                continue
            raise BadInput(f"{origin} ends before its array does (after {count:,} statements).")
        if buf[pos] == "]":
            return
        try:
            item, end = decoder.raw_decode(buf, pos)
        except RecursionError:
            raise BadInput(f"{origin}: statement {count + 1:,} is nested too deeply to be a statement.") from None
        except json.JSONDecodeError as exc:
            if more():  # most likely cut at the chunk's end: read on and try again
                continue
            raise BadInput(f"{origin} stops being valid JSON after {count:,} statements: {exc.msg}.") from None
        if end >= len(buf) and more():  # a number at the very end may go on in the next chunk
            continue
        pos = end
        count += 1
        yield item


def _first_byte(stream) -> bytes | None:
    """The first byte that is not white space or a UTF-8 byte order mark, left unread."""
    while True:
        head = stream.peek(64)[:64]
        if not head:
            return None
        stripped = head.lstrip(b" \t\r\n")
        if stripped.startswith(b"\xef\xbb\xbf"):
            stream.read(len(head) - len(stripped) + 3)
            continue
        if stripped:
            stream.read(len(head) - len(stripped))
            return stripped[:1]
        stream.read(len(head))


@dataclass
class _Unreadable:
    """A line of a JSON-lines file that is not JSON: counted as invalid, the rest goes on."""

    reason: str


# -- validation: nothing is stored that would break a report later ----------------------------

# Evidence older than the first xAPI statement or more than a day ahead is a broken clock or a
# hostile file: a timestamp of 1e308 once broke `gaps`, `export` and `team` until `forget --all`.
_EARLIEST = 946684800.0  # 2000-01-01


def _latest() -> float:
    import time

    return time.time() + 86400


def _finite(value: Any) -> bool:
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def problem_of(statement: Any) -> str | None:
    """Why a statement cannot be imported, or None. Reasons are short, for a count per reason."""
    if isinstance(statement, _Unreadable):
        return "not JSON"
    if not isinstance(statement, dict):
        return "not a JSON object"
    if not all(isinstance(statement.get(k), dict) for k in ("actor", "verb", "object")):
        return "no actor, verb or object"
    sid = statement.get("id")
    if sid is not None:
        if not isinstance(sid, str):
            return "id is not a UUID"
        try:
            uuid.UUID(sid)
        except ValueError:
            return "id is not a UUID"
    for key in ("timestamp", "stored"):
        value = statement.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{key} is not an ISO 8601 text"
        try:
            when = parse_time(value).timestamp()
        except (ValueError, OverflowError):
            return f"{key} is not an ISO 8601 time"
        if key == "timestamp" and not _EARLIEST <= when <= _latest():
            return "timestamp out of range"
    result = statement.get("result")
    if result is not None:
        if not isinstance(result, dict):
            return "result is not an object"
        score = result.get("score")
        if score is not None:
            if not isinstance(score, dict):
                return "score is not an object"
            scaled = score.get("scaled")
            if scaled is not None and not (_finite(scaled) and -1 <= scaled <= 1):
                return "score.scaled outside -1..1"
            for key in ("raw", "min", "max"):
                if score.get(key) is not None and not _finite(score[key]):
                    return f"score.{key} is not a number"
        rows = (result.get("extensions") or {}).get(EXT["evidence"]) if isinstance(result.get("extensions"), dict) else None
        if rows is not None:
            return _evidence_problem(rows)
    return None


def _evidence_problem(rows: Any) -> str | None:
    from learnflow.learner.profile import DIRECT_KINDS, QUESTION_KINDS
    from learnflow.learner.skills import taxonomy

    if not isinstance(rows, list):
        return "evidence is not a list"
    known, kinds = taxonomy(), {*DIRECT_KINDS, *QUESTION_KINDS}
    for row in rows:
        if not isinstance(row, dict):
            return "evidence row is not an object"
        if row.get("skill") not in known:
            return "unknown skill"
        if row.get("kind") not in kinds:
            return "unknown evidence kind"
        value, ts = row.get("value"), row.get("ts")
        if value is not None and not (_finite(value) and 0 <= value <= 1):
            return "evidence value outside 0..1"
        if ts is not None and not (_finite(ts) and _EARLIEST <= ts <= _latest()):
            return "evidence time out of range"
    return None


def evidence_of(statement: dict) -> list[dict]:
    """Evidence rows (ts, skill, kind, value) a statement stands for.

    learnflow's own statements carry their rows; a `progressed` snapshot is derived, so none;
    another tool's statement with a score or success on one of our skill activities becomes
    kind "imported" with that value.
    """
    result = statement.get("result") or {}
    ext = result.get("extensions") if isinstance(result, dict) else None
    rows = ext.get(EXT["evidence"]) if isinstance(ext, dict) else None
    if isinstance(rows, list):
        out = []
        for r in rows:
            if isinstance(r, dict) and isinstance(r.get("skill"), str) and isinstance(r.get("kind"), str):
                value = r.get("value")
                ts = r.get("ts")
                out.append({
                    "ts": float(ts) if isinstance(ts, (int, float)) else _stamp(statement),
                    "skill": r["skill"], "kind": r["kind"],
                    "value": float(value) if isinstance(value, (int, float)) else None,
                })  # fmt: skip
        return out
    if (statement.get("verb") or {}).get("id") == VERBS["progressed"] or not isinstance(result, dict):
        return []
    score = (result.get("score") or {}).get("scaled")
    value = float(score) if isinstance(score, (int, float)) else None
    if value is None and isinstance(result.get("success"), bool):
        value = 1.0 if result["success"] else 0.0
    if value is None:
        return []
    return [{"ts": _stamp(statement), "skill": s, "kind": "imported", "value": min(max(value, 0.0), 1.0)} for s in skills_of(statement)]


def skills_of(statement: dict) -> list[str]:
    """Skills named by learnflow skill activities in the object or the context."""
    # Imported statements are kept whole, so any part may be any JSON value (a list for a context…).
    obj, context = statement.get("object"), statement.get("context")
    found = [obj.get("id") if isinstance(obj, dict) else None]
    ctx = context.get("contextActivities") if isinstance(context, dict) else None
    for key in ("other", "category", "grouping", "parent"):
        acts = (ctx.get(key) if isinstance(ctx, dict) else None) or []
        for a in acts if isinstance(acts, list) else [acts]:
            if isinstance(a, dict):
                found.append(a.get("id"))
    return list(dict.fromkeys(s for s in map(skill_of_iri, found) if s))


def _stamp(statement: dict) -> float:
    try:
        return parse_time(str(statement.get("timestamp") or statement.get("stored"))).timestamp()
    except ValueError:
        import time

        return time.time()


def statement_id(statement: dict) -> str:
    """The statement's id; one derived from its content when it has none (so re-imports match)."""
    sid = statement.get("id")
    if isinstance(sid, str) and sid:
        return sid.lower()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(statement, sort_keys=True)))


@dataclass
class ImportResult:
    added: int = 0  # statements new to this log
    evidence: int = 0  # evidence rows recreated from them
    known: int = 0  # imported before: skipped
    own: int = 0  # this install's own statements: skipped (their evidence is already here)
    invalid: int = 0  # quarantined: not statements, or values that would break a report (see `problems`)
    people: int = 0  # distinct actors among the statements added
    problems: dict[str, int] = field(default_factory=dict)  # why statements were quarantined, with counts
    examples: list[str] = field(default_factory=list)  # the first few: "#12 (id …): score.scaled outside -1..1"


# An LRS adds these; they are its own, and sending them back to an LRS may be refused.
_LRS_FIELDS = ("stored", "authority", "version")


BATCH = 2000  # statements per transaction: bounded memory, and an interrupted import keeps whole batches
MAX_EXAMPLES = 5


def import_statements(store: Store, statements: Iterable[Any], *, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Add the valid statements not seen before, and their evidence (source "xapi"). Idempotent.

    Works through `statements` (a list, or `read_statements`' stream) in batches, so a file of a
    million statements never sits in memory; which ids are known is asked of the database per
    batch. Invalid statements are quarantined, counted by reason, never stored.
    `progress(done, total)` is told how far it got (total None when streaming)."""
    res = ImportResult()
    own = own_ids(store)
    people: set[str] = set()
    total = len(statements) if isinstance(statements, list) else None
    batch: dict[str, dict] = {}
    seen = 0
    for seen, st in enumerate(statements, 1):
        problem = problem_of(st)
        if problem is not None:
            res.invalid += 1
            res.problems[problem] = res.problems.get(problem, 0) + 1
            if len(res.examples) < MAX_EXAMPLES:
                sid = st.get("id") if isinstance(st, dict) else None
                res.examples.append(f"#{seen}" + (f" (id {str(sid)[:40]})" if sid else "") + f": {problem}")
            continue
        sid = statement_id(st)
        if sid in own:
            res.own += 1
        elif sid in batch:
            res.known += 1
        else:
            batch[sid] = {k: v for k, v in st.items() if k not in _LRS_FIELDS}
        if len(batch) >= BATCH:
            _store_batch(store, batch, res, people)
            batch = {}
        if progress is not None and seen % 1000 == 0:
            progress(seen, total or 0)  # 0: not known yet (a stream)
    _store_batch(store, batch, res, people)
    if progress is not None:
        progress(seen, total if total is not None else seen)
    res.people = len(people)
    return res


def _store_batch(store: Store, batch: dict[str, dict], res: ImportResult, people: set[str]) -> None:
    if not batch:
        return
    known = xapi_db.known_ids(store, list(batch))
    res.known += len(known)
    kept = []
    for sid, st in batch.items():
        if sid in known:
            continue
        st["id"] = sid
        evidence = [(r["ts"], r["skill"], r["kind"], r["value"]) for r in evidence_of(st)]
        kept.append((sid, st.get("timestamp"), json.dumps(st, ensure_ascii=False, separators=(",", ":")), evidence))
        people.add(actor_key(st["actor"]))
    res.evidence += xapi_db.add_imported(store, kept, now_iso())
    res.added += len(kept)
