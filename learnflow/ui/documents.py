"""Drawing for the learner's documents: `learnflow docs index|search` and `ask --docs`'s notes."""

from __future__ import annotations

from learnflow.ui import render


def _skipped(skipped: dict[str, int]) -> str:
    n = sum(skipped.values())
    reasons = ", ".join(f"{why}: {k}" for why, k in sorted(skipped.items()))
    return f"{n:,} file{'s' if n != 1 else ''} skipped ({reasons})"


def missing_note(missing: list[str]) -> str:
    """One line for the folders of the docs setting that are gone (skipped, not an error)."""
    s = "s" if len(missing) != 1 else ""
    return (
        f"Documents folder{s} of the docs setting not found, skipped: {', '.join(missing)}. "
        "Fix it with `learnflow config set docs …` or `learnflow config unset docs`."
    )


def grounding_notes(grounding) -> list[str]:
    """The side remarks of `ask --docs` (stderr): no passage matched, files that could not be read
    now (a file skipped before and unchanged since is not read, nor warned about, again)."""
    notes = []
    if not grounding.matched:
        where = ", ".join(grounding.folders)
        indexed = grounding.report.indexed + grounding.report.unchanged
        notes.append(f"No document matched this question in {where} ({indexed:,} files indexed).")
    if grounding.report.skipped_now:
        notes.append(f"{_skipped(grounding.report.skipped_now)}; `learnflow docs index` lists them.")
    return notes


def index_summary(report) -> None:
    """`docs index`: what was read, kept, dropped and skipped."""
    r = report
    render.notice(
        f"{r.files:,} documents in {', '.join(r.folders)}: {r.indexed:,} indexed, {r.unchanged:,} unchanged, "
        f"{r.removed:,} removed; {r.passages:,} passages in {r.seconds:.2f} s."
    )
    if r.dropped:
        render.notice(f"Dropped from the index, as they no longer exist: {', '.join(r.dropped)}.")
    if r.redacted:
        render.notice(f"Redacted {r.redacted:,} secret{'s' if r.redacted != 1 else ''} before indexing.")
    if r.skipped:
        render.notice(_skipped(r.skipped) + ":")
        for item in r.skipped_files:
            render.notice(f"  {item['path']}: {item['reason']}")
        shown = len(r.skipped_files)
        if sum(r.skipped.values()) > shown:
            render.notice(f"  … and {sum(r.skipped.values()) - shown:,} more.")


def search_results(passages, query: str) -> None:
    """`docs search`: file:line and a snippet per passage, best first."""
    if not passages:
        render.notice(f"No document matched {query!r}.")
        return
    render.table(
        [{"where": p.cite, "snippet": p.snippet} for p in passages],
        [("where", "File:line"), ("snippet", "Passage")],
    )
