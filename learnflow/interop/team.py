"""`learnflow team`: a skill matrix over several people's xAPI statements.

Each person's statements are read into a throwaway log and measured with the same
learner model as `learnflow gaps` (so a person's column here is their own `gaps`
profile, with default targets). Statements from other tools that carry no
learnflow evidence still count through their `progressed` snapshots or scores.

Words used in the report:
- strong: enough evidence, mastery at or above STRONG (the learner model's "expert"
  cut) and the target;
- gap: enough evidence, mastery below the target;
- shared gap: a skill on which everyone measured is below target, measured on at
  least two people and at least half the team: nobody in the team to learn it from;
- pair: a strong person with a person who has a gap on the same skill.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from learnflow.interop.imports import skills_of
from learnflow.interop.xapi import EXT, VERBS, actor_key, actor_label
from learnflow.timespec import iso_ts

STRONG = 0.75


@dataclass
class Cell:
    mastery: float | None  # None: no confident number
    evidence: float  # weighted, decayed direct evidence (the learner model's unit)
    status: str  # strong | ok | gap | thin | none


@dataclass
class Person:
    key: str  # the actor's identifier (mbox, account…): one person across files and machines
    label: str
    statements: int


@dataclass
class SharedGap:
    skill: str
    name: str
    below: int  # people measured below target
    measured: int  # people with enough evidence
    mean: float  # their mean mastery


@dataclass
class Pair:
    skill: str
    mentor: str
    learner: str
    mentor_mastery: float
    learner_mastery: float


@dataclass
class TeamReport:
    now: str
    target: float
    strong: float
    people: list[Person]
    skills: list[str]  # shared gaps first, then by team mean mastery, weakest first
    names: dict[str, str]
    cells: dict[str, dict[str, Cell]]  # skill -> person key -> cell
    shared_gaps: list[SharedGap] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    shared_note: str = ""  # when there is no shared gap: what that does (and does not) mean

    def strengths(self, person: Person) -> list[str]:
        """The skills on which `person` is strong, in the report's order."""
        return [s for s in self.skills if self.cells[s][person.key].status == "strong"]

    def to_dict(self) -> dict:
        """The report as JSON-ready data, people named by their labels (`team --json`)."""
        people = {p.key: p.label for p in self.people}
        return {
            "now": self.now,
            "target": self.target,
            "strong": self.strong,
            "people": [{**asdict(p), "strong": self.strengths(p)} for p in self.people],
            "skills": [
                {
                    "skill": s,
                    "name": self.names.get(s, s),
                    "people": {people[k]: _round(asdict(c)) for k, c in self.cells[s].items()},
                }
                for s in self.skills
            ],
            "shared_gaps": [_round(asdict(g)) for g in self.shared_gaps],
            "shared_note": self.shared_note,
            "pairs": [_round(asdict(p)) for p in self.pairs],
        }


def _round(d: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def by_person(statements: list[dict]) -> dict[str, list[dict]]:
    """Statements grouped by actor; the same statement id twice (two files, an LRS and a file) counts once."""
    out: dict[str, dict[str, dict]] = {}
    for st in statements:
        actor = st.get("actor")
        if not isinstance(actor, dict):
            continue
        out.setdefault(actor_key(actor), {})[str(st.get("id") or id(st))] = st
    return {k: list(v.values()) for k, v in out.items()}


def _cells_for(statements: list[dict], *, now: float, params, target: float, strong: float) -> dict[str, Cell]:
    """One person's profile: the `gaps` learner model over their evidence, in a throwaway log."""
    from learnflow.db.store import Store
    from learnflow.interop.imports import import_statements
    from learnflow.learner.gaps import build_report

    with tempfile.TemporaryDirectory(prefix="learnflow-team-") as tmp:
        store = Store(Path(tmp) / "person.db")
        try:
            import_statements(store, statements)
            report = build_report(store, now=now, params=params)
        finally:
            store.close()
    cells = {}
    for g in report.skills:
        cells[g.skill] = _cell(g.mastery if g.enough else None, g.evidence, target, strong, seen=True)
    # Other tools' statements: their latest progressed score per skill, where the model saw nothing.
    snapshots: dict[str, tuple[str, float, bool]] = {}
    for st in statements:
        if (st.get("verb") or {}).get("id") != VERBS["progressed"]:
            continue
        scaled = ((st.get("result") or {}).get("score") or {}).get("scaled")
        if not isinstance(scaled, (int, float)):
            continue
        ext = (st.get("result") or {}).get("extensions")  # kept whole on import: any JSON value
        enough = ext.get(EXT["enough-evidence"], True) if isinstance(ext, dict) else True
        for skill in skills_of(st):
            when = str(st.get("timestamp") or "")
            if skill not in snapshots or when >= snapshots[skill][0]:
                snapshots[skill] = (when, float(scaled), bool(enough))
    for skill, (_, scaled, enough) in snapshots.items():
        if skill not in cells or cells[skill].status in ("none", "thin"):
            cells[skill] = _cell(scaled if enough else None, math.nan, target, strong, seen=True)
    return cells


def _cell(mastery: float | None, evidence: float, target: float, strong: float, *, seen: bool) -> Cell:
    if mastery is None:
        return Cell(None, evidence, "thin" if seen else "none")
    status = "strong" if mastery >= max(strong, target) else ("gap" if mastery < target else "ok")
    return Cell(mastery, evidence, status)


def team_report(
    statements: list[dict], *, now: float | None = None, target: float | None = None, strong: float = STRONG, params=None
) -> TeamReport:
    """The matrix, the shared gaps and the pairs for everyone in `statements`."""
    from learnflow.learner.profile import Params
    from learnflow.learner.skills import taxonomy

    params = params or Params.from_config()
    target = params.default_target if target is None else target
    now = time.time() if now is None else now
    groups = by_person(statements)
    people, per_person = [], {}
    labels: dict[str, int] = {}
    for key, sts in sorted(groups.items(), key=lambda kv: actor_label(kv[1][0]["actor"]).lower()):
        label = actor_label(sts[0]["actor"])
        labels[label] = labels.get(label, 0) + 1
        if labels[label] > 1:  # two people shown with the same name: tell them apart
            label = f"{label}#{labels[label]}"
        people.append(Person(key, label, len(sts)))
        per_person[key] = _cells_for(sts, now=now, params=params, target=target, strong=strong)
    skills = sorted({s for cells in per_person.values() for s in cells})
    cells = {s: {p.key: per_person[p.key].get(s, Cell(None, 0.0, "none")) for p in people} for s in skills}
    known = taxonomy()
    names = {s: known[s].name if s in known else s for s in skills}
    shared = _shared_gaps(cells, names, len(people))
    pairs = _pairs(cells, {p.key: p.label for p in people})
    first = {g.skill: i for i, g in enumerate(shared)}

    def order(skill: str):
        measured = [c.mastery for c in cells[skill].values() if c.mastery is not None]
        return (first.get(skill, len(first)), sum(measured) / len(measured) if measured else 2.0, skill)

    return TeamReport(
        now=iso_ts(now, timespec="seconds"),
        target=target, strong=strong, people=people, skills=sorted(skills, key=order), names=names,
        cells=cells, shared_gaps=shared, pairs=pairs, shared_note="" if shared else _no_shared_gap(cells, len(people)),
    )  # fmt: skip


def _shared_gaps(cells: dict[str, dict[str, Cell]], names: dict[str, str], team_size: int) -> list[SharedGap]:
    out = []
    need = max(min(2, team_size), math.ceil(team_size / 2))
    for skill, row in cells.items():
        measured = [(c.mastery, c.status) for c in row.values() if c.mastery is not None]
        below = sum(status == "gap" for _, status in measured)
        if measured and len(measured) >= need and below == len(measured):
            mean = sum(m for m, _ in measured) / len(measured)
            out.append(SharedGap(skill, names.get(skill, skill), below, len(measured), mean))
    return sorted(out, key=lambda g: (g.mean, g.skill))


def _no_shared_gap(cells: dict[str, dict[str, Cell]], team_size: int) -> str:
    """Why there is no shared gap, truthfully: "none" only means something for skills measured
    on enough people; with too little evidence everywhere, nothing is known yet."""
    need = max(min(2, team_size), math.ceil(team_size / 2))
    enough = [skill for skill, row in cells.items() if sum(c.mastery is not None for c in row.values()) >= need]
    people = "person" if need == 1 else "people"
    if not enough:
        return f"not known yet: no skill has enough evidence on {need} {people} (every cell is ? or -)."
    rest = len(cells) - len(enough)
    unknown = f"; {rest} other skill{'s' if rest != 1 else ''} too thinly measured to tell" if rest else ""
    return f"none among the {len(enough)} skill{'s' if len(enough) != 1 else ''} measured on {need}+ {people}: someone is at target on each{unknown}."


def _pairs(cells: dict[str, dict[str, Cell]], labels: dict[str, str]) -> list[Pair]:
    """Each person with a gap gets the strongest mentor on that skill, spreading the load across mentors."""
    out = []
    for skill, row in cells.items():
        # Strong and gap cells always carry a mastery; the None test is for the type checker.
        mentors = sorted((c.mastery, k) for k, c in row.items() if c.status == "strong" and c.mastery is not None)[::-1]
        learners = sorted((c.mastery, k) for k, c in row.items() if c.status == "gap" and c.mastery is not None)
        for i, (m, learner) in enumerate(learners):
            if not mentors:
                break
            top, mentor = mentors[i % len(mentors)]
            out.append(Pair(skill, labels[mentor], labels[learner], top, m))
    return sorted(out, key=lambda p: (-(p.mentor_mastery - p.learner_mastery), p.skill, p.learner))
