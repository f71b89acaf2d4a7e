"""`reflect`: the day's-end loop. What happened → What? So what? Now what? → retrieval
practice → self-ratings → feedback.

The session drives the order and writes each step (through db/reflections.py);
what happened comes from period.py, the retrieval practice step is the check
loop of practice/ (`ask_checks`), the feedback is feedback.py. An `Answers`
provider supplies what the person says (the interactive terminal, or an answers
file) and is told what to show.
Everything is written the moment it is given, so Ctrl-C or a closed terminal
keeps what was answered and the reflection is marked `interrupted`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from learnflow import prompts
from learnflow.db import reflections
from learnflow.db.store import Store
from learnflow.errors import ConfigError, NotFound
from learnflow.practice import checks as practice
from learnflow.practice import judging, review
from learnflow.practice.calibration import Calibration, calibration
from learnflow.practice.checks import CheckResult, ask_checks
from learnflow.practice.judging import Judgement
from learnflow.practice.review import Check
from learnflow.redact import redact
from learnflow.reflect import feedback as reflect_feedback
from learnflow.reflect.actions import Action, open_actions, resolve_action
from learnflow.reflect.period import Summary, default_start, facts, since_label, summarize
from learnflow.timespec import iso

STEPS = {"what": "What?", "so_what": "So what?", "now_what": "Now what?"}
MAX_RATED_SKILLS = 5


# -- questions from prompts/reflect-questions.md -----------------------------------


@dataclass
class Question:
    key: str
    step: str  # what | so_what | now_what
    text: str
    hint: str = ""
    when: str = "always"

    @property
    def step_label(self) -> str:
        return STEPS[self.step]


CONDITIONS = {
    "always": lambda s: True,
    "failures": lambda s: s.had_failures,
    "no_failures": lambda s: not s.had_failures,
    "questions": lambda s: s.questions > 0,
    "no_questions": lambda s: s.questions == 0,
}
_HEADING = re.compile(r"^##\s+(\S+)\s*$", re.M)
_FIELD = re.compile(r"^(step|when|hint):\s*(.*)$")


def load_questions() -> list[Question]:
    """Every question block of the (possibly user-overridden) questions file, in order."""
    source = prompts.find("reflect-questions").path
    text = prompts.text("reflect-questions")
    parts = _HEADING.split(text)[1:]  # [key, body, key, body, …]; the preamble is documentation
    out = []
    for key, body in zip(parts[0::2], parts[1::2]):
        fields, lines = {"step": "what", "when": "always", "hint": ""}, body.strip().splitlines()
        while lines and (m := _FIELD.match(lines[0].strip())):
            fields[m.group(1)] = m.group(2).strip()
            lines.pop(0)
        question = " ".join(ln.strip() for ln in lines if ln.strip())
        if fields["step"] not in STEPS or fields["when"] not in CONDITIONS or not question:
            raise ConfigError(
                f"Question {key!r} in {source} is malformed (step {fields['step']!r}, when {fields['when']!r}).",
                hint=f"step is one of {', '.join(STEPS)}; when is one of {', '.join(CONDITIONS)}; the question text follows.",
            )
        out.append(Question(key, fields["step"], question, fields["hint"], fields["when"]))
    if not out:
        raise ConfigError(f"No questions found in {source}.", hint="Each question starts with a `## key` heading.")
    return out


def questions_for(summary: Summary) -> list[Question]:
    """One question per key (the first whose `when` fits), with the period's facts filled in."""
    from string import Template

    values = {
        "top_skill": summary.skills[0]["name"] if summary.skills else "your work",
        "skills": ", ".join(s["name"] for s in summary.skills[:3]) or "your work",
        "questions": summary.questions,
        "failed_command": summary.failed_commands[0]["command"] if summary.failed_commands else "A command",
        "period": summary.label,
    }
    chosen: dict[str, Question] = {}
    for q in load_questions():
        if q.key not in chosen and CONDITIONS[q.when](summary):
            text = Template(q.text).safe_substitute({k: str(v) for k, v in values.items()})
            chosen[q.key] = Question(q.key, q.step, text, q.hint, q.when)
    return list(chosen.values())


# -- the answers provider ------------------------------------------------------------


@dataclass
class Attempt:
    """An answer to a check: confidence (1-5) asked before it, and how long it took."""

    answer: str
    confidence: int | None
    seconds: float | None = None


class Answers:
    """What the person says; None skips. The answers file subclasses it; the terminal
    (ui/prompter.py's TerminalAnswers) implements the same methods."""

    def show(self, event: str, data) -> None:
        """Display a step: start (the Session), narrative (Markdown), judged (a CheckResult),
        feedback (a Feedback), calibration (a Calibration)."""

    def action_status(self, action: Action) -> str | None:
        """'done', 'dropped', or None (still open)."""
        return None

    def reflection(self, question: Question) -> str | None:
        return None

    def attempt(self, check: Check, index: int, total: int) -> Attempt | None:
        return None

    def self_grade(self, check: Check, judgement: Judgement | None) -> bool | None:
        """Right or wrong, judged by the person against the expected answer (None: cannot say)."""
        return None

    def skill_rating(self, skill: dict) -> int | None:
        return None

    def extra_skills(self) -> list[str]:
        """Skills to rate beyond the period's own."""
        return []


# -- the session -------------------------------------------------------------------------


class Session:
    """One reflection: created (status in_progress) by the constructor, each step written at once."""

    def __init__(self, store: Store, *, model, since: datetime | None = None, now: datetime | None = None):
        now = now or datetime.now(UTC)
        if since is None:
            start, label = default_start(store, now)
        else:
            start, label = since, since_label(since, now)
        self._begin(store, model, now, summarize(store, start, now, label))
        row = {
            "created_at": iso(self.now),
            "period_start": self.summary.start,
            "period_end": self.summary.end,
            "summary": json.dumps(asdict(self.summary)),
            "backend": model.choice.backend,
            "model": model.choice.model,
            "status": "in_progress",
        }
        # A reflection still in progress belongs to a process that is gone: `start` closes it.
        self.id = reflections.start(store, row, iso(self.now))

    def _begin(self, store: Store, model, now: datetime, summary: Summary) -> None:
        """What a new and a resumed reflection both start from (a resumed one then fills in what was kept)."""
        self.store, self.model, self.now, self.summary = store, model, now, summary
        self.questions = questions_for(summary)  # a broken questions file fails before anything is written
        self.results: list[CheckResult] = []
        self.answers: dict[str, str] = {}
        self.resolved: list[dict] = []
        self.feedback: reflect_feedback.Feedback | None = None
        self.calibration: Calibration | None = None
        self.told: str | None = None  # a narrative already written (a resumed reflection)
        self.rated: set[str] = set()
        self.checked = 0  # checks answered before an interruption
        self.discarded = False  # interrupted before anything was answered: the reflection was deleted

    @classmethod
    def resume(cls, store: Store, *, model) -> Session:
        """Go on with the latest interrupted reflection: its period and facts, what was answered kept."""
        row = reflections.latest_unfinished(store)
        if row is None:
            raise NotFound("No interrupted reflection to resume.", hint="`learnflow reflect` starts a new one.")
        self = cls.__new__(cls)
        self._begin(store, model, datetime.now(UTC), Summary(**json.loads(row["summary"])))
        self.id, self.told = row["id"], row["narrative"]
        self.answers = reflections.answers_of(store, self.id)
        self.rated = reflections.rated_skills(store, self.id)
        self.checked = reflections.checks_answered(store, self.id)
        reflections.reopen(store, self.id, iso(self.now))
        return self

    def _update(self, **fields) -> None:
        reflections.update(self.store, self.id, **fields)

    def narrative(self) -> str:
        if self.told:
            return self.told
        listed = facts(self.summary)
        told = None
        if self.summary.questions or self.summary.commands:  # an empty day needs no storyteller
            told = self.model.text("reflect-narrative", facts=listed, period=self.summary.label)
        text = redact(told or listed).text  # facts quote commands and questions, from before redaction existed too
        self._update(narrative=text)
        return text

    def answer(self, question: Question, text: str | None) -> None:
        text = redact((text or "").strip()).text  # before it is stored, and so before feedback sends it
        if not text:
            return
        self.answers[question.key] = text
        answer = {
            "reflection_id": self.id,
            "created_at": iso(datetime.now(UTC)),
            "step": question.step,
            "key": question.key,
            "question": question.text,
            "answer": text,
        }
        action = None
        if question.key == "action":
            action = {"reflection_id": self.id, "created_at": iso(datetime.now(UTC)), "text": text, "status": "open"}
        reflections.add_answer(self.store, answer, action)

    def checks(self) -> list[Check]:
        left = review.MAX_CHECKS - self.checked  # a resumed reflection: the checks already answered count
        if left <= 0:
            return []
        cards = review.collect_cards(self.store, self.summary.start, self.summary.end, self.now)
        return review.pick_checks(self.store, cards, self.now, limit=left)

    def judge(self, check: Check, answer: str) -> Judgement | None:
        return judging.judge_answer(check, answer, self.model)

    def record(self, check: Check, attempt: Attempt, judgement: Judgement) -> CheckResult:
        result = practice.record(
            self.store, reflection_id=self.id, check=check, answer=attempt.answer, confidence=attempt.confidence,
            judgement=judgement, seconds=attempt.seconds, now=datetime.now(UTC), source="reflect",
        )  # fmt: skip
        self.results.append(result)
        return result

    def rate(self, skill: str, rating: int) -> None:
        reflections.add_skill_rating(
            self.store,
            {"created_at": iso(datetime.now(UTC)), "reflection_id": self.id, "skill": skill, "rating": rating},
            {"ts": time.time(), "skill": skill, "kind": "self_rating", "value": round((rating - 1) / 4, 3)},
        )

    def finish(self, status: str = "done") -> None:
        self._update(status=status, finished_at=iso(datetime.now(UTC)))


def run(session: Session, provider: Answers) -> dict:
    """Walk the whole loop with `provider`; return the stored reflection (see `load`).

    KeyboardInterrupt and EOFError (Ctrl-C, a closed terminal, input that ran
    out), or any failure, mark the reflection interrupted and propagate: what
    was answered stays.
    """
    try:
        provider.show("start", session)
        for action in open_actions(session.store, now=session.now):
            if action.reflection_id == session.id:
                continue  # a resumed reflection's own plan: made minutes ago, not something to report on
            status = provider.action_status(action)
            if status in ("done", "dropped"):
                session.resolved.append(resolve_action(session.store, action.id, status))
        provider.show("narrative", session.narrative())
        for question in session.questions:
            if question.key not in session.answers:  # answered before an interruption: kept
                session.answer(question, provider.reflection(question))
        ask_checks(session, provider)
        for skill in _skills_to_rate(session, provider):
            if skill["skill"] in session.rated:
                continue
            rating = provider.skill_rating(skill)
            if rating is not None:
                session.rate(skill["skill"], rating)
        session.feedback = reflect_feedback.feedback(session)
        session._update(feedback=session.feedback.text, feedback_method=session.feedback.method)
        provider.show("feedback", session.feedback)
        session.calibration = calibration(session.store, session.id)
        provider.show("calibration", session.calibration)
    except BaseException:
        try:
            session.finish("interrupted")
            # Ended before the first answer (Ctrl-C at once, `reflect </dev/null`): nothing to resume, so no
            # empty "interrupted" reflection is left behind. Action items resolved are kept in their own rows.
            session.discarded = reflections.discard_if_empty(session.store, session.id)
        except Exception:  # the log itself failing: its own error is the one worth showing
            pass
        raise
    session.finish("done")
    return result(session)


def _skills_to_rate(session: Session, provider: Answers) -> list[dict]:
    from learnflow.learner.skills import FALLBACK_SKILL, taxonomy

    # "general" is where untagged questions land: not a skill anyone can rate.
    skills = [s for s in session.summary.skills if s["skill"] != FALLBACK_SKILL][:MAX_RATED_SKILLS]
    names = taxonomy()
    for sid in provider.extra_skills():
        if sid not in {s["skill"] for s in skills}:
            skills.append({"skill": sid, "name": names[sid].name if sid in names else sid, "count": 0, "primary": 0})
    return skills


def result(session: Session) -> dict:
    """The stored reflection plus what only the live session knows (feedback items, calibration)."""
    out = load(session.store, session.id)
    out["resolved_actions"] = session.resolved
    out["feedback_items"] = [asdict(i) for i in session.feedback.items] if session.feedback else []
    out["calibration"] = asdict(session.calibration) if session.calibration else None
    out["check_details"] = [asdict(r) for r in session.results]
    out["warnings"] = list(session.model.warnings)
    return out


# -- reading reflections back ---------------------------------------------------------


def load(store: Store, reflection_id: int) -> dict:
    """One reflection with its answers, checks, ratings and action item."""
    out = reflections.reflection(store, reflection_id)
    if out is None:
        raise NotFound(f"No reflection with id {reflection_id}.", hint="`learnflow reflections` lists them.")
    out["summary"] = json.loads(out["summary"] or "{}")
    return out


def list_reflections(store: Store, *, limit: int = 20) -> list[dict]:
    """Newest first, with counts."""
    return reflections.newest(store, limit)
