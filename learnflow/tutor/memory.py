"""What the model is told about the learner: level, recent misses and the open action item.

For the question's tagged skills: the measured level of each (posterior mean, 80%
interval, how much evidence, target), up to three recently missed check questions (never
their answers) and the open action item. Text from the log is redacted again (it may
predate a redaction pattern) and the whole block is kept within `memory_tokens`, dropping
the lowest-value lines first. The block is a prompt template (`prompts/learner.md`),
overridable like the others. The same posterior gives the gap line (learner/gapline.py).

Cost on every ask: one indexed read of the daily evidence table per skill, one of
check_results per skill, one of goals and one of action_items; no tokenizer load
(tokens.upper_bound).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from string import Template
from typing import TYPE_CHECKING

from learnflow import prompts, tokens
from learnflow.db import memory as memory_db
from learnflow.learner import profile
from learnflow.learner.gapline import GapLine, gap_line
from learnflow.redact import redact

if TYPE_CHECKING:
    from learnflow.config import Config
    from learnflow.db.store import Store

MISSED_PER_SKILL = 3
# One stored item (a check question, the action item) is clipped before budgeting, so a
# single long one cannot push every other line out.
ITEM_CHARS = 240
CREDIBLE_MASS = 0.8


@dataclass
class SkillMemory:
    skill: str
    name: str
    mastery: float | None  # None: not enough evidence for a number (gaps_min_evidence)
    low: float | None  # 80% credible interval
    high: float | None
    evidence: float  # weighted, decayed direct evidence
    target: float
    missed: list[str] = field(default_factory=list)  # check questions answered wrong, newest first


@dataclass
class LearnerMemory:
    skills: list[SkillMemory]
    action: str | None  # the open action item
    text: str  # the block added to the system prompt ("" when nothing fits or memory_tokens is 0)
    tokens: int  # its size against the budget
    exact: bool  # tokens counted with the encoding (else an upper bound, tokens.upper_bound)
    budget: int
    dropped: int  # lines left out to fit the budget
    redacted: dict = field(default_factory=dict)
    gap: GapLine | None = None

    def to_dict(self) -> dict:
        """For `ask --json` (`learner`); the gap line has its own key there (`gap`)."""
        d = asdict(self)
        d.pop("gap")
        return d


def _posterior(store: Store, skill: str, when: float, params: profile.Params) -> profile.Posterior:
    """One skill's posterior at `when`: one read of its daily rows (as profile.mastery_for)."""
    periods = profile.read_periods(store, params, since=when - params.horizon(), daily_from=when - 7 * profile.DAY, skill=skill)
    return profile.posteriors_at(periods.get(skill, []), [when], params)[0]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ITEM_CHARS else text[: ITEM_CHARS - 1].rstrip() + "…"


def _level_line(s: SkillMemory) -> str:
    # The skill id only: the system prompt already names the skills in full.
    if s.mastery is not None:
        return (f"- {s.skill}: mastery {s.mastery:.2f}, 80% interval {s.low:.2f}-{s.high:.2f}, "
                f"from {s.evidence:.1f} weighted pieces of evidence; target {s.target:.2f}.")  # fmt: skip
    if s.evidence > 0:
        return f"- {s.skill}: too little evidence for a number yet ({s.evidence:.1f} weighted pieces); target {s.target:.2f}."
    return f"- {s.skill}: no evidence yet; target {s.target:.2f}."


def build(store: Store, skills: list[str], *, config: Config, now: float | None = None) -> LearnerMemory:
    """The learner's memory for these skills (the first is the question's main skill)."""
    from learnflow.learner.skills import taxonomy

    now = time.time() if now is None else now
    params = profile.Params.from_config(config)
    budget = int(config.get("memory_tokens"))
    targets = memory_db.goal_targets(store, skills)
    names = taxonomy()
    found: dict = {}
    out: list[SkillMemory] = []
    gap = None
    for i, skill in enumerate(skills):
        post = _posterior(store, skill, now, params)
        target = targets.get(skill, params.default_target)
        enough = post.enough(params)
        low, high = post.interval(CREDIBLE_MASS) if enough else (None, None)
        missed = []
        for question in memory_db.missed_checks(store, skill, MISSED_PER_SKILL):
            cleaned = redact(question)
            found.update({k: found.get(k, 0) + n for k, n in cleaned.counts.items()})
            missed.append(_clip(cleaned.text))
        out.append(SkillMemory(skill, names[skill].name if skill in names else skill, post.mean if enough else None,
                               low, high, post.evidence, target, missed))  # fmt: skip
        if i == 0:
            gap = gap_line(skill, post, target, params, goal="goal" if skill in targets else "default")
    action = memory_db.open_action_text(store)
    if action:
        cleaned = redact(action)
        found.update({k: found.get(k, 0) + n for k, n in cleaned.counts.items()})
        action = _clip(cleaned.text)
    text, size, exact, dropped = _fit(out, action, budget)
    return LearnerMemory(out, action, text, size, exact, budget, dropped, found, gap)


def _lines(skills: list[SkillMemory], action: str | None) -> list[tuple[tuple[int, int, int], str, str]]:
    """(value rank, slot, text): the lower the rank, the more the line is worth keeping.

    The main skill's level first, then the open action item, the main skill's latest miss,
    the other skills' levels, the main skill's older misses, the other skills' misses.
    """
    lines = []
    for i, s in enumerate(skills):
        lines.append(((0 if i == 0 else 3, i, 0), "skills", _level_line(s)))
        for j, q in enumerate(s.missed):
            rank = (2 if j == 0 else 4) if i == 0 else 5
            lines.append(((rank, i, j + 1), "skills", f'  - missed check on {s.skill}: "{q}"'))
    if action:
        lines.append(((1, 0, 0), "action", f'Open action item (from a reflection): "{action}"'))
    return lines


def _render(template: str, lines) -> str:
    # Keep the template's order: each skill's level line, then its misses.
    kept = sorted(lines, key=lambda ln: (ln[0][1], ln[0][2]) if ln[1] == "skills" else (0, 0))
    skills = "\n".join(t for _, slot, t in kept if slot == "skills")
    action = "\n".join(t for _, slot, t in kept if slot == "action")
    return Template(template).safe_substitute(skills=skills, action=action).strip()


def _fit(skills: list[SkillMemory], action: str | None, budget: int) -> tuple[str, int, bool, int]:
    """The rendered block within `budget` tokens: (text, tokens, exact, lines dropped)."""
    lines = sorted(_lines(skills, action), key=lambda ln: ln[0])
    total = len(lines)
    if budget <= 0 or not lines:
        return "", 0, True, total
    template = prompts.text("learner")  # read once: the loop may render several times
    while lines:
        text = _render(template, lines)
        size, exact = tokens.upper_bound(text)
        if size <= budget:
            return text, size, exact, total - len(lines)
        lines.pop()  # the least valuable line left
    return "", 0, True, total


def gap_of_interaction(store: Store, row: dict, *, config: Config | None = None) -> GapLine | None:
    """The gap line of a logged ask (for `show`), recomputed from the log as it stood when it was asked.

    Nothing extra is stored: the posterior at the ask's time comes from the same evidence
    (the model reads evidence up to a moment), against today's target for the skill. The
    main skill is the ask's most relevant tag; a --direct ask never had a gap line.
    """
    from learnflow.config import Config
    from learnflow.timespec import parse_iso

    if (row.get("mode") or "teach") == "direct" or not row.get("skills"):
        return None
    config = config or Config()
    params = profile.Params.from_config(config)
    skill = row["skills"][0]["skill"]
    when = parse_iso(row["created_at"]).timestamp()
    post = _posterior(store, skill, when, params)
    targets = memory_db.goal_targets(store, [skill])
    return gap_line(skill, post, targets.get(skill, params.default_target), params, goal="goal" if skill in targets else "default")
