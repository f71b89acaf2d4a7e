"""Statements back into the log (`learnflow import`): parsing, the evidence they carry, and adding them.

Import is idempotent: a statement id seen before, or one this install issues itself,
adds nothing. Every imported statement is kept whole in `xapi_imported`, so a later
export or sync passes it on unchanged (same id: an LRS stores it once).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from learnflow.db import xapi as xapi_db
from learnflow.db.store import Store
from learnflow.errors import BadInput
from learnflow.interop.xapi import EXT, VERBS, actor_key, own_ids, parse_time, skill_of_iri
from learnflow.timespec import now_iso


def parse_statements(text: str, *, origin: str = "the input") -> list[dict]:
    """Statements from a JSON array, an LRS answer `{"statements": [...]}`, one statement, or JSON lines."""
    text = text.strip()
    if not text:
        raise BadInput(f"{origin} is empty.", hint="Give a file written by `learnflow export --format xapi`.")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            raise BadInput(f"{origin} is not JSON: {exc.msg} (line {exc.lineno}).") from None
    if isinstance(data, dict):
        data = data.get("statements", [data]) if "statements" in data or "actor" in data else None
    if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
        raise BadInput(
            f"{origin} does not hold xAPI statements.",
            hint='Expected a JSON array of statements, {"statements": [...]} as an LRS returns, or one statement per line.',
        )
    return data


def evidence_of(statement: dict) -> list[dict]:
    """Evidence rows (ts, skill, kind, value) a statement stands for.

    learnflow's own statements carry their rows; a `progressed` snapshot is derived, so none;
    another tool's statement with a score or success on one of our skill activities becomes
    kind "imported" with that value.
    """
    result = statement.get("result") or {}
    ext = (result.get("extensions") or {}) if isinstance(result, dict) else {}
    rows = ext.get(EXT["evidence"])
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
    found = [(statement.get("object") or {}).get("id")]
    ctx = ((statement.get("context") or {}).get("contextActivities")) or {}
    for key in ("other", "category", "grouping", "parent"):
        acts = ctx.get(key) or []
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
    invalid: int = 0  # not statements (no actor, verb or object)
    people: int = 0  # distinct actors among the statements added


# An LRS adds these; they are its own, and sending them back to an LRS may be refused.
_LRS_FIELDS = ("stored", "authority", "version")


def import_statements(store: Store, statements: list[dict], *, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Add statements not seen before, and their evidence (source "xapi"). Idempotent.

    `progress(done, total)` is told how far reading the fresh statements has got (every 1,000)."""
    res = ImportResult()
    own = own_ids(store)
    known = xapi_db.imported_ids(store)
    fresh = []
    for st in statements:
        if not all(isinstance(st.get(k), dict) for k in ("actor", "verb", "object")):
            res.invalid += 1
            continue
        sid = statement_id(st)
        if sid in own:
            res.own += 1
        elif sid in known:
            res.known += 1
        else:
            known.add(sid)
            fresh.append((sid, {k: v for k, v in st.items() if k not in _LRS_FIELDS}))
    kept = []
    for n, (sid, st) in enumerate(fresh, 1):
        if progress is not None and (n % 1000 == 0 or n == len(fresh)):
            progress(n, len(fresh))
        st["id"] = sid
        evidence = [(r["ts"], r["skill"], r["kind"], r["value"]) for r in evidence_of(st)]
        kept.append((sid, st.get("timestamp"), json.dumps(st, ensure_ascii=False, separators=(",", ":")), evidence))
    res.evidence = xapi_db.add_imported(store, kept, now_iso())
    res.added = len(fresh)
    res.people = len({actor_key(st["actor"]) for _, st in fresh})
    return res
