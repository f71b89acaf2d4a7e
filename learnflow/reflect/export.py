"""Markdown export of reflections: plain CommonMark a journaling user can paste anywhere
(Obsidian, a wiki, a notes app), one level-2 section per reflection."""

from __future__ import annotations

from learnflow.practice.scheduling import RATING_NAMES
from learnflow.reflect.session import STEPS
from learnflow.timespec import parse_iso


def _local(stamp: str | None, fmt: str) -> str:
    return parse_iso(stamp).astimezone().strftime(fmt) if stamp else ""


def to_markdown(r: dict) -> str:
    """One reflection (as `reflect.load` returns it) as Markdown, without secrets (rows written
    before answers were redacted may still hold some)."""
    from learnflow.redact import redact

    return redact(_markdown(r)).text


def _markdown(r: dict) -> str:
    summary = r.get("summary") or {}
    lines = [f"## Reflection #{r['id']} — {_local(r['created_at'], '%A %d %B %Y, %H:%M')}", ""]
    skills = ", ".join(f"{s['name']} ({s['count']})" for s in summary.get("skills", [])[:5])
    meta = [f"{_local(r['period_start'], '%d %b %H:%M')} → {_local(r['period_end'], '%d %b %H:%M')}",
            f"{summary.get('questions', 0)} question(s)", skills and f"skills: {skills}",
            r["status"] != "done" and f"status: {r['status']}"]  # fmt: skip
    lines += ["_" + " · ".join(m for m in meta if m) + "_", ""]
    if r.get("narrative"):
        lines += ["### What happened", "", r["narrative"].strip(), ""]
    for step, label in STEPS.items():
        answers = [a for a in r.get("answers", []) if a["step"] == step]
        if answers:
            lines += [f"### {label}", ""]
            for a in answers:
                lines += [f"**{a['question']}**", "", a["answer"].strip(), ""]
    if r.get("checks"):
        lines += ["### Retrieval practice", ""]
        for c in r["checks"]:
            mark = "✓" if c["correct"] else "✗"
            conf = f"confidence {c['confidence']}/5, " if c["confidence"] else ""
            rating = RATING_NAMES.get(c["rating"], "?")
            lines.append(f"- {mark} {c['question']}")
            lines.append(f"  - You: {' '.join((c['answer'] or '(no answer)').split())} ({conf}{rating})")
            if c.get("expected"):
                lines.append(f"  - Expected: {' '.join(c['expected'].split())}")
            if c.get("feedback"):
                lines.append(f"  - Feedback: {' '.join(c['feedback'].split())}")
        lines.append("")
    if r.get("ratings"):
        lines += ["### Self-ratings", "", " · ".join(f"{x['skill']} {x['rating']}/5" for x in r["ratings"]), ""]
    if r.get("actions"):
        lines += ["### Next step", ""]
        lines += [f"- [{'x' if a['status'] == 'done' else ' '}] {a['text']}" for a in r["actions"]]
        lines.append("")
    if r.get("feedback"):
        method = "the model" if r.get("feedback_method") == "model" else "the offline coach"
        lines += [f"### Feedback ({method})", "", r["feedback"].strip(), ""]
    return "\n".join(lines)


def journal(reflections: list[dict]) -> str:
    """Several reflections, oldest first, as one Markdown document."""
    return "\n".join(to_markdown(r) for r in sorted(reflections, key=lambda r: r["id"]))
