"""Drawing `learnflow content list|validate`."""

from __future__ import annotations

import sys

from learnflow.ui import render


def listing(data: dict) -> None:
    b = data["bundled"]
    rows = [{"source": "bundled", "from": b["path"], "skills": b["skills"], "roles": b["roles"], "cards": b["cards"], "overrides": ""}]
    if data.get("user_skills"):
        u = data["user_skills"]
        rows.append(
            {"source": "your skills.toml", "from": u["path"], "skills": u["skills"], "roles": 0, "cards": 0, "overrides": u["overrides"]}
        )
    for p in data["packs"]:
        rows.append(
            {
                "source": p["origin"] + (" (SKIPPED)" if p["skipped"] else ""),
                "from": p["path"],
                "skills": p["skills"],
                "roles": p["roles"],
                "cards": p["cards"],
                "overrides": p["overrides"] or "",
            }
        )
    cols = [
        ("source", "Source"),
        ("from", "Folder"),
        ("skills", "Skills"),
        ("roles", "Roles"),
        ("cards", "Cards"),
        ("overrides", "Replaces"),
    ]
    t = data["total"]
    render.table(rows, cols, title=f"Content, later rows win: {t['skills']} skills, {t['roles']} roles, {t['cards']} cards")
    for p in data["packs"]:
        for line in p["skipped"]:
            render.notice(f"skipped {p['path']}: {line}")
    if not data["packs"]:
        render.notice("No content packs: put one in <config folder>/content/, LEARNFLOW_CONTENT or `content_paths` (docs/content.md).")


def problems(results: dict) -> None:
    if not results:
        render.notice("No content packs are loaded; name one: `learnflow content validate DIR`.")
    for folder, found in results.items():
        for p in found:
            sys.stdout.write(f"{p}\n")
        if not found:
            render.notice(f"{folder}: OK")
