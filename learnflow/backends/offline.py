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

# Below this BM25 score a card is too weak a match to put first (try-first's judging still uses it;
# the answer itself is decided by the fit, coach.best_fit).
MIN_CARD_SCORE = 1.0
# With no guide matched, the nearest one is still named (as not the answer) from this fit up.
NEAREST_FIT = 0.4


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
    """The whole offline answer as Markdown: a guide when one fits the question, otherwise an
    honest answer from what is on this machine, saying that no guide matched."""
    skill_ids = [t.skill for t in request.skills]
    question = request.topic or request.question
    fit = coach.best_fit(coach.retrieval_text(question, request.context), skill_ids)
    card = fit.card
    errors = coach.explain_errors(request.context) if request.context else []
    if not errors and not card:
        # A pasted error line as the question ("KeyError: 'APP_CONFIG'"): explain it when we can.
        errors = [(line, why) for line, why in coach.explain_errors(request.question) if why]
    if request.hint_step is not None and request.hint_step < 2 and request.mode != "direct" and (card or errors):
        return _ladder(request, card, skill_ids, errors)
    own_docs = coach.document_section(request.documents, request.documents_searched)
    if card is None:
        return _no_guide(request, fit, skill_ids, errors, own_docs)
    parts: list[str] = [own_docs] if own_docs else []

    if errors:
        parts.append(_errors_section(errors))

    parts.append(_card_section(card, request.level, request.mode))

    if request.related:
        parts.append(_related_section(request.related))

    sources = ([card.commands[0]["cmd"]] if card.lang == "bash" and card.commands else []) + [request.question]
    helped = coach.local_help(sources, request.question + " " + " ".join(_flags(card))) if coach.local_help_enabled() else None
    if helped:
        cmd, text = helped
        parts.append(f"**On this machine** (`{cmd}`):\n\n```text\n{text}\n```")

    if request.mode != "direct":
        guiding = _guiding(skill_ids, card, request.level)
        if guiding:
            parts.append(guiding)

    if fit.others:
        parts.append("**See also:** " + "; ".join(c.title for c in fit.others[:2]) + ".")

    if request.mode != "direct":
        parts.append(f"**Check:** {_check_question(card, skill_ids)}")
    parts.append(prompts.text("offline"))
    return "\n\n".join(parts) + "\n"


NO_GUIDE = "**No built-in guide matches this question**, so none is shown as the answer. Here is what this machine can tell you offline."


def _no_guide(request: Request, fit: coach.Fit, skill_ids: list[str], errors: list[tuple[str, str]], own_docs: str | None = None) -> str:
    """Below the fit threshold: say so, then what is local and true whatever the question is: the
    error lines explained, the tool's own help, Python's own docs, the learner's log, questions to
    think with, and the nearest guides named as such (not as the answer). The learner's own
    documents come first: a passage of theirs is the best answer this machine has."""
    parts = [own_docs, NO_GUIDE] if own_docs else [NO_GUIDE]
    if errors:
        parts.append(_errors_section(errors))
    if request.related:
        parts.append(_related_section(request.related))
    text = request.question + "\n" + request.context
    if coach.local_help_enabled():
        helped = coach.local_help([request.question], request.question)
        if helped:
            cmd, out = helped
            parts.append(f"**On this machine** (`{cmd}`):\n\n```text\n{out}\n```")
    documented = coach.python_doc(text)
    if documented:
        name, doc = documented
        parts.append(f"**Python's own documentation** (`pydoc {name}`):\n\n```text\n{doc}\n```")
    if request.mode != "direct":
        guiding = _guiding(skill_ids, None, request.level)
        if guiding:
            parts.append(guiding)
    # The nearest guide, when it is near at all, named for what it is: not the answer.
    if fit.best is not None and fit.rival is not None and fit.score >= NEAREST_FIT:
        parts.append(
            f"**See also** (two guides come equally close, so neither is given as the answer): {fit.best.title}; {fit.rival.title}."
        )
    elif fit.best is not None and fit.score >= NEAREST_FIT:
        parts.append(f"**See also** (the nearest guide; it did not match closely enough to be the answer): {fit.best.title}.")
    if request.mode != "direct":
        parts.append("**Check:** In one sentence: what will you do next, and how will you know it worked?")
    parts.append(prompts.text("offline"))
    return "\n\n".join(parts) + "\n"


def _errors_section(errors: list[tuple[str, str]]) -> str:
    lines = ["**What the output says**"]
    for line, explanation in errors:
        lines.append(f"- {_inline(line)}" + (f" — {explanation}" if explanation else ""))
    return "\n".join(lines)


def _inline(text: str) -> str:
    """`text` as inline code: its first line only (a multi-line snippet belongs in a fenced block),
    with enough backticks around it that a backtick inside does not end it."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    more = " …" if "\n" in text.strip() else ""
    ticks = "``" if "`" in first else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{first}{more}{pad}{ticks}"


def _fenced(code: str, lang: str, indent: str = "") -> str:
    """A fenced code block, copyable line for line; indented to sit inside a list item."""
    fence = "````" if "```" in code else "```"
    lines = [f"{fence}{lang}", *code.splitlines(), fence]
    return "\n".join(indent + ln if ln else ln for ln in lines)


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
        lines += [f"- {_inline(line)}" + (f" — {why}" if why and step >= 1 else "") for line, why in errors]
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
    cmds = [c["cmd"] for c in card.commands]
    # One command per line; a blank line between them as soon as one spans several lines, so
    # where one ends and the next begins stays visible.
    joiner = "\n\n" if any("\n" in c for c in cmds) else "\n"
    block = _fenced(joiner.join(cmds), fence)
    if with_notes:
        notes = "\n".join(f"- {_inline(c['cmd'])} — {c.get('what', '')}" for c in card.commands if c.get("what"))
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
        steps = "\n".join(_step(i, c, card.lang) for i, c in enumerate(card.commands, 1))
        body = [
            head,
            card.concept,
            f"**Worked example**\n\n{steps}" if steps else "",
            f"**Common mistakes**\n{pitfalls}" if pitfalls else "",
            f"Docs: {docs}" if docs else "",
        ]
    return "\n\n".join(b for b in body if b)


def _step(i: int, command: dict, lang: str) -> str:
    """One worked-example step: a one-liner inline, a multi-line snippet as a fenced block inside
    the list item (inline code would squash its lines into one that no longer runs when copied)."""
    cmd, what = command["cmd"], command.get("what", "")
    if "\n" not in cmd.strip():
        return f"{i}. {_inline(cmd)} — {what}"
    return f"{i}. {what}\n\n" + _fenced(cmd.strip("\n"), lang if lang != "text" else "text", indent="   ") + "\n"


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
    # The guide's own skill first: the tagger can be wrong where the guide matched on the question.
    for sid in dict.fromkeys([card.skill, *skill_ids] if card else skill_ids):
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
