"""Feedback on a reflection: the model's (insightful / vague / one suggestion), or the
offline coach's rules when no model answers.

The rules look for what makes a reflection useful the next day: a plan with a
concrete next step (an action verb, something specific to act on, a time or a
trigger), a rule general enough to tell a colleague, answers longer than a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from learnflow.reflect.period import facts

VERBS = frozenset(
    "run write add read try use ask pair review check test replace refactor document automate configure install "
    "create fix commit rebase profile measure benchmark schedule book call email message practice rewrite delete "
    "remove rename move split merge deploy compare time log record draw sketch list make build open file push pull "
    "search grep set turn enable disable update upgrade pin revert reset watch explain teach share post send prepare "
    "block timebox note track tag label start finish ship debug trace print inspect verify validate alias script "
    "spend copy keep stop follow look do put go talk walk reproduce isolate bisect question apply".split()
)
# Intentions, not actions: "learn more about docker" names no step anyone could take tomorrow.
VAGUE_VERBS = frozenset("learn understand improve be get know study explore master focus remember think".split())
WHEN = re.compile(
    r"\b(tomorrow|today|tonight|morning|afternoon|evening|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"next|before|after|when|whenever|every|each|daily|weekly|standup|stand-up|first thing|this week|by \w+|at \d)\b"
    r"|\b\d{1,2}(:\d\d)?\s*(am|pm|h)\b",
    re.I,
)
GENERAL = re.compile(
    r"\b(always|never|whenever|when|if|before|after|prefer|avoid|don'?t|do not|instead|rather than|check|make sure|"
    r"every time|rule|usually|should)\b",
    re.I,
)
BECAUSE = re.compile(r"\b(because|so that|otherwise|since|which means|that way)\b", re.I)
_WORDS = re.compile(r"[\w'`./-]+")


@dataclass
class Item:
    kind: str  # good | vague | suggestion
    key: str | None  # the question it is about
    text: str


@dataclass
class Feedback:
    method: str  # model | rules
    items: list[Item] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Markdown, as stored and exported."""
        label = {"good": "What works", "vague": "What is vague", "suggestion": "One suggestion"}
        return "\n".join(f"- **{label[i.kind]}:** {i.text}" for i in self.items)


def feedback(session) -> Feedback:
    """The model's feedback when one answers and replies in shape; the rules otherwise."""
    if session.model.available and session.answers:
        got = model_feedback(session)
        if got is not None:
            return got
    return rules_feedback(session.answers, session.summary, session.results)


def model_feedback(session) -> Feedback | None:
    asked = {q.key: q.text for q in session.questions}
    answers = "\n\n".join(f"Q ({key}): {asked.get(key, key)}\nA: {text}" for key, text in session.answers.items())
    data = session.model.json("reflect-feedback", facts=facts(session.summary), answers=answers, period=session.summary.label)
    if not data:
        return None
    items = [Item(kind, None, str(data.get(name) or "").strip()) for kind, name in
             (("good", "insightful"), ("vague", "vague"), ("suggestion", "suggestion"))]  # fmt: skip
    items = [i for i in items if i.text]
    return Feedback("model", items) if items else None


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def action_gaps(action: str) -> list[str]:
    """What a plan lacks to be a concrete next step (empty: it is concrete)."""
    words = _words(action)
    # "I will", "I'll", "try to" carry no action: look at what follows them.
    content = [w for w in words if w not in {"i", "i'll", "will", "to", "going", "am", "i'm", "want", "plan", "would", "like"}]
    gaps = []
    if not any(w in VERBS for w in content):
        vague = next((w for w in content if w in VAGUE_VERBS), None)
        gaps.append(f"an action verb (“{vague}” is an intention, not a step)" if vague else "an action verb (run, write, ask…)")
    if len(content) < 4 and "`" not in action:
        gaps.append("what exactly you will act on")
    if not WHEN.search(action):
        gaps.append("a time or a trigger (tomorrow, before I push…)")
    return gaps


def rules_feedback(answers: dict[str, str], summary, results) -> Feedback:
    """The offline coach's feedback: deterministic, explainable rules."""
    items: list[Item] = []
    action = answers.get("action", "")
    if not action:
        items.append(Item("vague", "action", "No plan for tomorrow. One small, concrete step is what turns a reflection into practice."))
    else:
        gaps = action_gaps(action)
        if gaps:
            items.append(
                Item(
                    "vague",
                    "action",
                    f"Your plan “{_quote(action)}” has no concrete next step: it lacks {', '.join(gaps)}. "
                    "For example: “Tomorrow before pushing, I will run `git log -p` to review my commit.”",
                )  # fmt: skip
            )
        else:
            items.append(Item("good", "action", f"Your plan is concrete: “{_quote(action)}” says what you will do and when."))
    rule = answers.get("rule", "")
    if rule:
        if len(_words(rule)) >= 3 and GENERAL.search(rule):
            if BECAUSE.search(rule):
                items.append(Item("good", "rule", f"Your rule is general enough to pass on and says why: “{_quote(rule)}”."))
            else:
                items.append(Item("good", "rule", f"“{_quote(rule)}” is a rule a colleague can reuse; add *because …* and it will stick."))
        else:
            items.append(
                Item(
                    "vague",
                    "rule",
                    f"“{_quote(rule)}” reads like today's fix, not a rule. A rule names the situation and "
                    "the move: “When X, do Y, because Z.”",
                )  # fmt: skip
            )
    for key, text in answers.items():
        if key not in ("action", "rule") and len(_words(text)) < 3:
            items.append(Item("vague", key, f"“{_quote(text)}” is very short: one sentence on *why* makes it something you can reuse."))
    if summary.had_failures and answers.get("surprised") and BECAUSE.search(answers["surprised"]):
        items.append(Item("good", "surprised", "You traced a failure to its cause: that is the reflection that sticks."))
    items.append(Item("suggestion", None, _suggestion(answers, results)))
    return Feedback("rules", items)


def _suggestion(answers: dict[str, str], results) -> str:
    wrong = [r for r in results if not r.correct]
    if wrong:
        r = wrong[0]
        return f"Re-read the answer behind “{_quote(r.question, 60)}” tomorrow morning; it comes back for review the day after."
    if not answers.get("rule"):
        return "Next time, write the general rule down: it is what you will remember in a month."
    return "Tomorrow, apply your rule once on purpose and notice what happens: that closes the loop."


def _quote(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    if len(text) <= n:
        return text
    cut = text[: n - 1]
    return cut + ("`…" if cut.count("`") % 2 else "…")  # never leave a code span open
