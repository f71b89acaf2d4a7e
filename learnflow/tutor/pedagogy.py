"""Turning a question into a teaching prompt, and reading the answer back.

The teaching itself lives in prompt files (prompts/*.md); this module picks the
level and assembles the messages.
"""

from __future__ import annotations

import re

from learnflow import prompts
from learnflow.config import LEVELS, Config
from learnflow.learner.skills import taxonomy


def level_for(skill: str, config: Config, override: str | None = None, store=None) -> tuple[str, str]:
    """(level, why) for the main skill of a question.

    Order: --level flag, `levels.<skill>` in config, the learner model's
    mastery when it has enough evidence (the same model `gaps` reports), then
    `default_level`. Guidance fades as mastery grows (expertise reversal).
    """
    if override:
        return override, "--level"
    configured = config.level_for(skill)
    if configured:
        return configured, f"config levels.{skill}"
    if store is not None:
        from learnflow.learner import profile

        params = profile.Params.from_config(config)
        mastery = profile.mastery_for(store, skill, params=params)
        level = profile.teaching_level(mastery, params)
        if level:
            return level, f"mastery {mastery.mean:.2f} on {skill}"
    default = config.get("default_level")
    return (default if default in LEVELS else "novice"), "default_level"


def system_prompt(*, level: str, skills: list[str], mode: str, hint_step: int | None = None) -> str:
    if mode == "direct":
        return prompts.text("direct")
    names = taxonomy()
    skill_names = ", ".join(names[s].name if s in names else s for s in skills) or "general problem solving"
    level_block = prompts.text(f"level-{level}")
    if hint_step is not None:  # try first: the hint ladder, with the level's teaching kept for the full answer
        level_block = prompts.render("try-first", level=level, step=hint_step, level_block=level_block)
    return prompts.render(
        "system",
        level=level,
        skills=skill_names,
        level_block=level_block,
    )


def build_messages(
    *,
    question: str,
    context_text: str,
    turns: list[dict],
    level: str,
    skills: list[str],
    mode: str,
    attempt: str = "",
    hint_step: int | None = None,
    learner: str = "",
) -> list[dict]:
    """System prompt (and what learnflow knows of the learner), earlier turns of the conversation,
    then this question (after its attempt, if any)."""
    from learnflow.tutor.context import fence

    system = system_prompt(level=level, skills=skills, mode=mode, hint_step=hint_step)
    if learner and mode != "direct":
        system = f"{system}\n\n{learner}"
    messages = [{"role": "system", "content": system}]
    for turn in turns:
        # An earlier attempt stays in the conversation: the next rung of the ladder builds on it.
        earlier = turn.get("attempt")
        messages.append({"role": "user", "content": f"{fence('attempt', earlier)}\n\n{turn['question']}" if earlier else turn["question"]})
        messages.append({"role": "assistant", "content": turn["answer"]})
    if attempt:
        question = f"{fence('attempt', attempt)}\n\n{question}"
    user = question if not context_text else f"{context_text}\n\n{question}"
    messages.append({"role": "user", "content": user})
    return messages


_CHECK = re.compile(r"^\s*(?:[-*>]\s*)?(?:\*\*|__)?check(?: question)?:?(?:\*\*|__)?:?\s*(.+?)\s*$", re.I | re.M)


def extract_check(answer: str) -> str | None:
    """The answer's closing check question, if it has one."""
    found = _CHECK.findall(answer or "")
    return found[-1].strip("* _") if found else None
