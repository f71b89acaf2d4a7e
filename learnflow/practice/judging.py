"""Is an answer right? Judging a check's answer: the model, the card's keywords, or the person.

The check loop (checks.py) tries them in that order: a connected model judges
against the expected answer (or the answer the question came from); offline, a
card with keywords is judged by keyword overlap; when neither can judge, or the
keywords say "wrong" (they miss paraphrases), the person's own verdict counts
(`self_judgement`). A `Judgement` is what `checks.record` turns into an FSRS rating.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from learnflow.practice.review import Check


@dataclass
class Judgement:
    correct: bool
    score: float  # 0..1
    feedback: str
    method: str  # model | card | self


_WORD = re.compile(r"[\w+#./-]+")
_DONT_KNOW = re.compile(r"^\s*(?:i\s+)?(?:don'?t|do not)\s+know\b|^\s*(?:no idea|\?+|idk|pass|skip)\s*[.!]*\s*$", re.I)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _mentions(tokens: list[str], keyword: str) -> bool:
    """Every word of the keyword appears in the answer, allowing plural/past/-ing forms."""
    return all(any(t == k or t.startswith(_stem(k)) for t in tokens) for k in _WORD.findall(keyword.lower()))


def blank(answer: str | None) -> bool:
    """No attempt: empty, "I don't know", "?"."""
    return not (answer or "").strip() or bool(_DONT_KNOW.search(answer or ""))


def judge_keywords(check: Check, answer: str) -> Judgement | None:
    """Offline judging by keyword overlap with the card; None when the card has no keywords."""
    if not check.keywords:
        return None
    tokens = _WORD.findall(answer.lower())
    hits = [k for k in check.keywords if _mentions(tokens, k)]
    score = round(len(hits) / len(check.keywords), 2)
    missing = [k for k in check.keywords if k not in hits]
    correct = score >= 0.5
    if correct and not missing:
        feedback = "You named the key ideas."
    elif correct:
        feedback = f"Right idea; a complete answer also mentions: {', '.join(missing)}."
    else:
        feedback = f"Not quite: the answer turns on {', '.join(check.keywords)}."
    return Judgement(correct, score, feedback, "card")


def judge_answer(check: Check, answer: str, model) -> Judgement | None:
    """A blank answer is wrong; otherwise the model judges when one is connected (None: judge offline)."""
    if blank(answer):
        return Judgement(False, 0.0, f"No answer given. Expected: {check.expected or 'see the original answer'}", "self")
    return judge_model(check, answer, model) if model.available else None


def judge_model(check: Check, answer: str, model) -> Judgement | None:
    """The model judges against the expected answer (or the original answer); None if it cannot."""
    data = model.json(
        "reflect-judge",
        question=check.question,
        expected=check.expected or "(no reference answer: judge from the source below)",
        source=check.source_answer or "(not kept)",
        answer=answer,
    )
    if data is None or "correct" not in data:
        return None
    correct = data["correct"] in (True, 1, "true", "yes", "True")
    try:
        score = min(1.0, max(0.0, float(data.get("score", 1.0 if correct else 0.0))))
    except (TypeError, ValueError):
        score = 1.0 if correct else 0.0
    return Judgement(correct, score, str(data.get("feedback") or "").strip(), "model")


def self_judgement(correct: bool, *, overruled: bool = False) -> Judgement:
    """The person's own verdict. Overruling the keyword judge counts as right but not complete
    (Good at best, never Easy): the words the card looks for were missing."""
    score = (0.8 if overruled else 1.0) if correct else 0.0
    return Judgement(correct, score, "Self-assessed against the expected answer.", "self")


def mentioned(terms: list[str], text: str) -> list[str]:
    """The terms `text` mentions (every word of a term, plural/past/-ing forms allowed)."""
    tokens = _WORD.findall((text or "").lower())
    return [t for t in terms if _mentions(tokens, t)]


def judge_attempt(commands: list[str], keywords: list[str], attempt: str) -> Judgement | None:
    """Judge a try-first attempt against a skill card, offline: how much of the card's closest
    command (its words and flags) and of its check keywords the attempt names. The score is the
    better of the two overlaps, so naming the right command, or explaining the right idea,
    each counts. None when the card gives nothing to compare with."""
    if blank(attempt):
        return Judgement(False, 0.0, "No attempt given.", "blank")
    best = 0.0
    for cmd in commands:
        words = list(dict.fromkeys(w for w in cmd.split() if len(w.strip("-")) > 1 or w.startswith("-")))
        if words:
            best = max(best, len(mentioned(words, attempt)) / len(words))
    if keywords:
        best = max(best, len(mentioned(keywords, attempt)) / len(keywords))
    if not commands and not keywords:
        return None
    score = round(best, 2)
    return Judgement(score >= 0.5, score, "", "card")
