"""Targets per skill (`learnflow goals`): set by hand or from a bundled role profile.

A goal is (target mastery 0..1, importance). Targets a person typed themselves
(`source = user`) are never overwritten by a role: the role fills in the rest.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from learnflow import paths
from learnflow.db import goals as goals_db
from learnflow.errors import BadInput, ConfigError, NotFound
from learnflow.timespec import now_iso

if TYPE_CHECKING:
    from learnflow.db.store import Store

MAX_IMPORTANCE = 5.0


@dataclass(frozen=True)
class Goal:
    skill: str
    target: float
    importance: float
    source: str  # user | role:<name>
    updated_at: str


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    description: str
    skills: dict[str, tuple[float, float]]  # skill -> (target, importance)


@lru_cache(maxsize=1)
def roles() -> dict[str, Role]:
    """Bundled role profiles (learnflow/data/roles.toml), then the content packs' (a pack's role replaces
    a bundled one of the same id)."""
    from learnflow.learner import content

    path = paths.package_dir() / "data" / "roles.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("roles", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Role file {path} cannot be read: {exc}.") from None
    for pack in content.pack_roles():
        raw.update(pack)
    out = {}
    for rid, entry in raw.items():
        skills = {s: (float(v["target"]), float(v.get("importance", 1.0))) for s, v in entry.get("skills", {}).items()}
        out[rid] = Role(rid, entry.get("name", rid), entry.get("description", ""), skills)
    return out


def _check_skill(skill: str) -> str:
    from learnflow.learner.skills import taxonomy

    known = taxonomy()
    if skill in known:
        return skill
    # Ids are lower case: "GIT" means git. A tool's name ("docker") points at the skill it belongs to.
    lowered = {k.lower(): k for k in known}
    close = [lowered[c] for c in difflib.get_close_matches(skill.lower(), list(lowered), n=3)]
    close = close or [k for k, s in known.items() if skill.lower() in s.strong][:3]
    hint = f"Did you mean {' or '.join(close)}?" if close else f"Known skills: {', '.join(sorted(known))}."
    raise BadInput(f"Unknown skill {skill!r}.", hint=hint)


def validate(skill: str, target: float, importance: float) -> None:
    """BadInput (with a hint) for an unknown skill, a target outside 0..1 or an odd importance."""
    _check_skill(skill)
    if not 0.0 <= target <= 1.0:
        raise BadInput(f"Target {target:g} is not between 0 and 1.", hint="0.8 means: right on about 8 checks in 10.")
    if not 0.0 <= importance <= MAX_IMPORTANCE:
        raise BadInput(f"Importance {importance:g} is not between 0 and {MAX_IMPORTANCE:g}.", hint="1 is normal, 2 twice as important.")


def goals(store: Store) -> dict[str, Goal]:
    """All goals, by skill."""
    rows = goals_db.all_goals(store)
    return {r[0]: Goal(r[0], float(r[1]), float(r[2] if r[2] is not None else 1.0), r[3] or "user", r[4] or "") for r in rows}


def set_goal(store: Store, skill: str, target: float, importance: float = 1.0, *, source: str = "user") -> Goal:
    """Create or replace the goal for one skill."""
    validate(skill, target, importance)
    goal = Goal(skill, round(target, 4), round(importance, 4), source, now_iso())
    goals_db.upsert_goals(store, [goal.__dict__])
    return goal


def unset_goal(store: Store, skill: str) -> bool:
    """Remove a goal; the skill falls back to `gaps_default_target`. False when there was none."""
    return goals_db.delete_goal(store, skill)


@dataclass
class RoleApplied:
    role: Role
    applied: list[Goal]
    kept: list[Goal]  # goals you set yourself, left as they were


def apply_role(store: Store, role_id: str) -> RoleApplied:
    """Set the role's targets, keeping every goal whose source is `user`."""
    available = roles()
    role = available.get(role_id)
    if role is None:
        raise NotFound(f"No role profile {role_id!r}.", hint=f"Bundled roles: {', '.join(sorted(available))}.")
    current = goals(store)
    kept = [current[s] for s in role.skills if s in current and current[s].source == "user"]
    stamp = now_iso()
    applied = [
        Goal(s, t, imp, f"role:{role.id}", stamp)
        for s, (t, imp) in role.skills.items()
        if not (s in current and current[s].source == "user")
    ]
    for g in applied:
        validate(g.skill, g.target, g.importance)
    goals_db.upsert_goals(store, [g.__dict__ for g in applied])
    return RoleApplied(role, applied, kept)
