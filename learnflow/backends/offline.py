"""The offline coach: the default backend when no model is configured.

No model, no network, no litellm import, deterministic. It answers from the
bundled skill cards, the person's own past answers (full-text search over the
log), the local `--help` of a tool named in the question, and the pedagogy
scaffolding for their level. It says plainly that it is the offline coach.
"""

from __future__ import annotations

from collections.abc import Iterator

from learnflow import prompts
from learnflow.backends import Backend, ModelInfo, Request, Usage, coach
from learnflow.learner.skills import taxonomy

# Below this BM25 score a card is too weak a match to put first.
MIN_CARD_SCORE = 1.0


class OfflineBackend(Backend):
    name = "offline"
    description = "Built-in coach: skill cards, your own past answers, local --help. No model, no network."
    wants_related = True
    is_model = False

    def handles(self, model: str) -> bool:
        return model == "offline"

    def models(self) -> list[ModelInfo]:
        return [ModelInfo("offline", self.name, "always available; deterministic")]

    def stream(self, *, request: Request) -> Iterator[str | Usage]:
        yield compose(request)


def compose(request: Request) -> str:
    """The whole offline answer as Markdown."""
    skill_ids = [t.skill for t in request.skills]
    ranked = coach.rank_cards(request.topic or request.question, skill_ids)
    strong = [(c, s) for c, s in ranked if s >= MIN_CARD_SCORE]
    card = strong[0][0] if strong else None
    errors = coach.explain_errors(request.context) if request.context else []
    if request.hint_step is not None and request.hint_step < 2 and request.mode != "direct" and (card or errors):
        return _ladder(request, card, skill_ids, errors)
    parts: list[str] = []

    if errors:
        lines = ["**What the output says**"]
        for line, explanation in errors:
            lines.append(f"- `{line}`" + (f" — {explanation}" if explanation else ""))
        parts.append("\n".join(lines))

    if card:
        parts.append(_card_section(card, request.level, request.mode))
    else:
        parts.append("I have no built-in guide that matches this question closely. Here is how to work it out, and what your own log says.")

    if request.related:
        parts.append(_related_section(request.related))

    sources = ([card.commands[0]["cmd"]] if card and card.lang == "bash" and card.commands else []) + [request.question]
    helped = coach.local_help(sources, request.question + " " + " ".join(_flags(card)))
    if helped:
        cmd, text = helped
        parts.append(f"**On this machine** (`{cmd}`):\n\n```text\n{text}\n```")

    if request.mode != "direct":
        guiding = _guiding(skill_ids, card, request.level)
        if guiding:
            parts.append(guiding)

    if len(strong) > 1:
        parts.append("**See also:** " + "; ".join(c.title for c, _ in strong[1:3]) + ".")

    if request.mode != "direct":
        parts.append(f"**Check:** {_check_question(card, skill_ids)}")
    parts.append(prompts.text("offline"))
    return "\n\n".join(parts) + "\n"


def _ladder(request: Request, card, skill_ids: list[str], errors: list[tuple[str, str]]) -> str:
    """Try first, rungs 0 and 1 (rung 2, the full answer, is the usual answer): guiding questions
    and what the attempt already has right, then the card's commands. Shaped as the model's ladder
    is (prompts/try-first.md): an expert gets the critique alone at first, a novice the full answer
    next. A failure being explained (`explain`) climbs from the error lines to what they mean."""
    from learnflow.practice.judging import mentioned

    step, level = request.hint_step or 0, request.level
    parts = [f"### {card.title}"] if card and not errors else []
    if errors:
        lines = ["**What the output says**"]
        lines += [f"- `{line}`" + (f" — {why}" if why and step >= 1 else "") for line, why in errors]
        parts.append("\n".join(lines))
    if step == 0:
        if request.attempt and errors:
            parts.append("**Your guess:** does it account for the last error line above, word for word?")
        elif request.attempt and card:
            terms = list(dict.fromkeys([*card.check_keywords, *(w for c in card.commands for w in c.get("cmd", "").split()[1:3])]))
            hits = mentioned(terms, request.attempt)
            if hits:
                have = ", ".join(f"`{h}`" for h in hits)
                parts.append(f"**Your attempt** already has {have}: {len(hits)} of the guide's {len(terms)} key terms.")
            else:
                parts.append(f"**Your attempt** has none of the guide's {len(terms)} key terms yet: look again at what the task needs.")
        if level != "expert":
            guiding = _guiding(skill_ids, card, level)
            if guiding:
                parts.append(guiding)
            if card and not errors:
                parts.append(f"**Hint:** {' '.join(card.concept.split()).split('. ')[0].rstrip('.')}.")
    elif card and not errors:
        parts.append(
            "**A bigger hint:** one of these does it. Which one fits your case, and why?\n\n" + _commands_block(card, with_notes=False)
        )
    nxt = "the full answer" if step == 1 or level == "novice" else "a hint" if level == "expert" else "a bigger hint"
    parts.append(f"Try again, or run `learnflow hint` for {nxt}.")
    parts.append(prompts.text("offline"))
    return "\n\n".join(parts) + "\n"


def _flags(card) -> list[str]:
    if not card:
        return []
    return [tok for cmd in card.commands for tok in cmd.get("cmd", "").split() if tok.startswith("-")]


def _commands_block(card, *, with_notes: bool) -> str:
    if not card.commands:
        return ""
    fence = card.lang if card.lang != "text" else "text"
    lines = []
    for c in card.commands:
        lines.append(c["cmd"])
    block = f"```{fence}\n" + "\n".join(lines) + "\n```"
    if with_notes:
        notes = "\n".join(f"- `{c['cmd']}` — {c.get('what', '')}" for c in card.commands if c.get("what"))
        block += "\n\n" + notes
    return block


def _card_section(card, level: str, mode: str) -> str:
    head = f"### {card.title}"
    pitfalls = "\n".join(f"- {p}" for p in card.pitfalls)
    docs = " · ".join(card.docs)
    if mode == "direct":
        return "\n\n".join(filter(None, [head, _commands_block(card, with_notes=True), docs and f"Docs: {docs}"]))
    if level == "expert":
        # Expertise reversal: no worked example; ask for their approach, then edge cases.
        body = [
            head,
            "How would you approach it? Decide first, then compare with the reference below.",
            _commands_block(card, with_notes=False),
            f"**Edge cases and pitfalls**\n{pitfalls}" if pitfalls else "",
            f"Reference: {docs}" if docs else "",
        ]
    elif level == "intermediate":
        body = [
            head,
            f"**Key idea:** {card.concept}",
            "Try to name the command before reading on.",
            _commands_block(card, with_notes=True),
            f"**Watch out**\n{pitfalls}" if pitfalls else "",
            f"Docs: {docs}" if docs else "",
        ]
    else:
        # Novice: a worked example, step by step.
        steps = "\n".join(f"{i}. `{c['cmd']}` — {c.get('what', '')}" for i, c in enumerate(card.commands, 1))
        body = [
            head,
            card.concept,
            f"**Worked example**\n\n{steps}" if steps else "",
            f"**Common mistakes**\n{pitfalls}" if pitfalls else "",
            f"Docs: {docs}" if docs else "",
        ]
    return "\n\n".join(b for b in body if b)


def _related_section(related: list[dict]) -> str:
    lines = ["**From your own log**"]
    for row in related:
        answer = " ".join((row.get("answer") or "").split())
        snippet = answer[:220] + ("…" if len(answer) > 220 else "")
        lines.append(f"- #{row['id']} ({row['created_at'][:10]}) _{row['question'][:80]}_ — {snippet}")
    lines.append("`learnflow show ID` prints a whole answer.")
    return "\n".join(lines)


def _guiding(skill_ids: list[str], card, level: str) -> str:
    skills = taxonomy()
    questions: list[str] = []
    for sid in skill_ids:
        skill = skills.get(sid)
        if skill:
            questions.extend(skill.guiding)
    if not questions:
        questions = skills["general"].guiding if "general" in skills else []
    # Fewer prompts as skill grows (faded guidance): novices get two, others one.
    count = 2 if level == "novice" else 1
    picked = list(dict.fromkeys(questions))[:count]
    if not picked:
        return ""
    title = "**Think it through**" if level != "expert" else "**Before you act**"
    return title + "\n" + "\n".join(f"- {q}" for q in picked)


def _check_question(card, skill_ids: list[str]) -> str:
    if card and card.check_question:
        return card.check_question
    for sid in skill_ids:
        for c in coach.load_cards():
            if c.skill == sid and c.check_question:
                return c.check_question
    return "In one sentence: what will you do next, and how will you know it worked?"


def register(registry) -> None:
    registry.register(OfflineBackend())
