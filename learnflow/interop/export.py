"""Statements as flat records, one row per statement (`learnflow export --format json|csv`).

For spreadsheets: the verb's short name, the actor's label, the skills, the score. Text
columns stay empty unless the statements were built with text.
"""

from __future__ import annotations

from learnflow.interop.imports import evidence_of, skills_of
from learnflow.interop.xapi import EXT, VERB_NAMES, actor_label

RECORD_FIELDS = (
    "id", "timestamp", "verb", "actor", "object", "skills", "success", "score", "raw",
    "confidence", "evidence", "question", "response",
)  # fmt: skip


def records(statements: list[dict]) -> list[dict]:
    """One flat row per statement, for spreadsheets (text columns empty unless exported with text)."""
    out = []
    for st in statements:
        # Imported statements are kept whole: below the checked top level, any part may be any JSON.
        result = _obj(st.get("result"))
        score = _obj(result.get("score"))
        ext = _obj(result.get("extensions"))
        desc = _obj(_obj(_obj(st.get("object")).get("definition")).get("description"))
        verb = _obj(st.get("verb")).get("id")
        out.append({
            "id": st.get("id"),
            "timestamp": st.get("timestamp"),
            "verb": VERB_NAMES.get(verb, verb) if isinstance(verb, str) else verb,
            "actor": actor_label(st.get("actor") or {}),
            "object": _obj(st.get("object")).get("id"),
            "skills": ";".join(skills_of(st)),
            "success": result.get("success"),
            "score": score.get("scaled"),
            "raw": score.get("raw"),
            "confidence": ext.get(EXT["confidence"]),
            "evidence": len(evidence_of(st)),
            "question": next(iter(desc.values()), None),
            "response": result.get("response"),
        })  # fmt: skip
    return out


def _obj(value) -> dict:
    return value if isinstance(value, dict) else {}


def to_csv(rows: list[dict]) -> str:
    """`records` as CSV with a header row."""
    import csv
    import io

    from learnflow.controls import csv_cell

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return buf.getvalue()
