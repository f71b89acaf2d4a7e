"""The one line an answer ends with when its main skill is below target: the gap and the next step.

Decided here, by learnflow, from the learner model; never left to the model. Shown only
when the model is fairly sure: enough evidence for `gaps` to show a number
(`gaps_min_evidence`), a mean below the target and P(mastery < target) >= GAP_CONFIDENCE.
A line on every answer for a skill the log barely knows would be noise, and people learn
to skip a line that is always there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learnflow.learner.profile import Params, Posterior

# 4 chances in 5 that the skill is short of its target: the level `gaps` colours red.
GAP_CONFIDENCE = 0.8


@dataclass
class GapLine:
    skill: str
    mastery: float  # posterior mean
    target: float
    goal: str  # "goal" (learnflow goals) or "default" (gaps_default_target)
    p_below: float  # P(true mastery < target)
    evidence: float  # weighted, decayed direct evidence behind the number
    next: str  # the next step: a command
    line: str  # what is shown: "Gap: git 0.42 of 0.70 target. Next: learnflow check --skill git -n 3"


def measure_command(skill: str) -> str:
    """The next step that measures and practises one skill (also `gaps`' "Measure" line)."""
    return f"learnflow check --skill {skill} -n 3"


def gap_line(skill: str, post: Posterior, target: float, params: Params, *, goal: str = "default") -> GapLine | None:
    """The gap line for `skill`, or None when it is not (surely enough) below target."""
    if not post.enough(params) or post.mean >= target:
        return None
    p_below = post.p_below(target)
    if p_below < GAP_CONFIDENCE:
        return None
    step = measure_command(skill)
    line = f"Gap: {skill} {post.mean:.2f} of {target:.2f} target. Next: {step}"
    return GapLine(skill, round(post.mean, 4), target, goal, round(p_below, 4), round(post.evidence, 4), step, line)
