"""`learnflow mcp`: an MCP server over stdio, so a coding agent can adapt to the person's measured level,
log what it taught, and quiz them at the end of a task.

Tools (each a plain function here, returning JSON-able data; `serve` wraps them for the SDK):
- `level(skill)`: the skill's row of `gaps` (learner/gaps.py): level, mastery with its 80% interval,
  the evidence behind it, and how to pitch an explanation.
- `log_lesson(skill, summary)`: what the agent explained, as an interaction from source 'mcp' (redacted,
  tagged with the skill) with `question_how`/`question_why` evidence, like an ask: being taught says the
  person needed it, not that they know it.
- `check(skill)`: a retrieval check on the skill, picked like `learnflow check --skill` (a due review,
  else a probe from the bundled cards, else the soonest card early). Its id is the review card's id.
- `grade(check_id, answer)`: judged like `learnflow answer` (the model when one is connected, else the
  card's keywords); recorded by practice/checks.record with source 'mcp' (check + review evidence, FSRS
  rescheduled). Nobody is there to grade it themselves, so an answer no judge can decide is kept without a
  verdict and adds no evidence, as `answer` does from a script.
- resource `learnflow://profile`: what `learnflow gaps --json` prints.

The SDK (the optional extra `learnflow[mcp]`) is imported only in `serve`. The SDK runs plain functions in
worker threads, so each call opens its own Store (one SQLite connection per call, closed after it).
A learnflow error (an unknown skill, an empty answer, a missing check) becomes a tool error with its hint;
the server keeps serving.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from learnflow.db import reviews
from learnflow.db.store import SkillTag, Store
from learnflow.errors import BadInput, ConfigError, LearnflowError, NotFound

SOURCE = "mcp"
INSTALL_HINT = "pip install 'learnflow[mcp]'"
PROFILE_URI = "learnflow://profile"
T = TypeVar("T")

INSTRUCTIONS = (
    "learnflow keeps a measured skill profile of the person you work with. Before explaining something, call "
    "learnflow_level(skill) and pitch the explanation at the level it gives; after you taught something worth "
    "remembering, call learnflow_log_lesson(skill, summary). At the end of a task, if the person has a minute, "
    "call learnflow_check(skill), ask them the question in their words, and pass their answer, unedited, to "
    "learnflow_grade(check_id, answer). Skill ids are learnflow's (git, sql, python, docker, …)."
)

# How an agent should pitch an explanation, by gaps' level (learner/profile.LEVEL_CUTS).
PITCH = {
    "novice": "Explain step by step, define terms, show one worked example.",
    "intermediate": "Skip the basics; explain the why and the trade-offs.",
    "expert": "Be brief and precise; point at edge cases and references.",
    None: "Not measured yet: ask what they already know before explaining.",
}


@contextmanager
def opened() -> Iterator[Store]:
    """One SQLite connection for one tool call (the SDK runs each call in a worker thread)."""
    store = Store()
    try:
        yield store
    finally:
        store.close()


def known_skill(skill: str) -> str:
    from learnflow.learner.goals import validate

    skill = (skill or "").strip()
    if not skill:
        raise BadInput("The skill is empty.", hint="A learnflow skill id, e.g. git, sql, python.")
    validate(skill, 0.5, 1.0)  # BadInput with "did you mean" for an unknown skill
    return skill


# -- tools ---------------------------------------------------------------------------------------


def level(skill: str) -> dict:
    """The person's measured level on `skill`, with its uncertainty and the evidence behind it."""
    from learnflow.learner.gaps import CREDIBLE_MASS, build_report

    skill = known_skill(skill)
    with opened() as store:
        report = build_report(store, skill=skill)
    [gap] = [s for s in report.skills if s.skill == skill]
    s = gap.summary
    return {
        "skill": skill,
        "name": gap.name,
        "status": gap.status,  # ok | uncertain | not measured
        "level": gap.level,  # novice | intermediate | expert | None (not measured)
        "mastery": _r(gap.mastery),
        "interval": [_r(gap.low), _r(gap.high)] if gap.low is not None else None,
        "interval_mass": CREDIBLE_MASS,
        "uncertain": gap.uncertain,
        "evidence_weight": _r(gap.evidence),  # weighted, decayed direct evidence
        "evidence_count": s.direct,  # pieces of direct evidence in the last 30 days
        "questions": s.questions_how + s.questions_why,
        "target": _r(gap.target),
        "evidence": gap.evidence_text,
        "pitch": pitch(gap.level, gap.uncertain),
    }


def pitch(level_: str | None, uncertain: bool) -> str:
    if level_ is None:
        return PITCH[None]
    return PITCH[level_] + (" The measure is uncertain: check what they know first." if uncertain else "")


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 3)


class Lessons:
    """Lessons of one server process go into one conversation (started with the first lesson)."""

    def __init__(self) -> None:
        self._conversation: int | None = None
        self._lock = threading.Lock()

    def log(self, skill: str, summary: str) -> dict:
        from learnflow.practice.inline import clean_text
        from learnflow.timespec import now_iso
        from learnflow.tutor.ask import question_kind

        skill = known_skill(skill)
        text, secrets = clean_text(summary, "lesson summary", example="learnflow_log_lesson('git', 'rebase vs merge: …')")
        row = {"question": text, "status": "ok", "backend": SOURCE, "source": SOURCE, "finished_at": now_iso()}
        with opened() as store, self._lock:
            iid = None
            if self._conversation is not None:
                try:
                    iid = store.begin_interaction(conversation_id=self._conversation, **row)
                except NotFound:  # its conversation was forgotten meanwhile: start another
                    iid = None
            if iid is None:
                self._conversation, iid = store.begin_conversation(f"{SOURCE} lessons: {text[:60]}", **row)
            store.set_skills(iid, [SkillTag(skill, 1.0, SOURCE)])
            kind = question_kind(text)
            store.replace_evidence("interactions", iid, [{"skill": skill, "kind": kind, "value": 1.0}])
        return {"id": iid, "skill": skill, "kind": kind, "redacted": secrets, "stored": text}


def check(skill: str) -> dict:
    """A retrieval check on `skill`: a due review card, else a probe, else the soonest card early."""
    from learnflow.practice import review

    skill = known_skill(skill)
    with opened() as store:
        picked = review.pick_checks(store, [], datetime.now(UTC), limit=1, skill=skill, rounds=1)
    if not picked:
        raise NotFound(
            f"No check on {skill} to ask: nothing is due and its bundled cards are all in review.",
            hint="learnflow_level shows what is known; `learnflow check` later asks what becomes due.",
        )
    c = picked[0]
    return {
        "check_id": c.card_id,
        "skill": c.skill,
        "kind": "review" if c.kind == "review" else "probe",
        "question": c.question,
        "how": "Ask the person this question in their own words; pass their answer, unedited, to learnflow_grade.",
    }


def grade(check_id: int, answer: str, *, model=None) -> dict:
    """Judge and record the person's answer to check `check_id` (see the module doc)."""
    from learnflow.practice import checks, judging, review
    from learnflow.practice.inline import clean_text
    from learnflow.timespec import iso

    clean, secrets = clean_text(answer, "answer", example="learnflow_grade(check_id, 'the answer in their words')")
    with opened() as store:
        if not reviews.cards(store, [check_id]):
            raise NotFound(f"No check with id {check_id}.", hint="learnflow_check(skill) gives a check and its id.")
        c = review.card_check(store, check_id, "mcp")
        if model is None:
            from learnflow.tutor.modelcall import ModelCall

            model = ModelCall.from_config()
        review.add_answer_key(store, c, model)
        judgement = judging.judge_answer(c, clean, model) or judging.judge_keywords(c, clean)
        now = datetime.now(UTC)
        if judgement is None or not judgement.certain:
            feedback = (
                "Not judged: the answer could not be judged for sure (no model connected, or the key words could not tell). "
                "Kept without a verdict; `learnflow check` asks it again."
            )
            rid = reviews.insert_result(store, {
                "created_at": iso(now), "review_card_id": c.card_id, "skill": c.skill, "question": c.question,
                "answer": clean, "judge_method": "none", "feedback": feedback, "source": SOURCE,
            })  # fmt: skip
            return {"result_id": rid, "check_id": check_id, "skill": c.skill, "correct": None, "score": None, "method": "none",
                    "feedback": feedback, "expected": c.expected, "next_due": None, "redacted": secrets}  # fmt: skip
        result = checks.record(
            store, reflection_id=None, check=c, answer=clean, confidence=None, judgement=judgement, seconds=None, now=now, source=SOURCE,
        )  # fmt: skip
    return {
        "result_id": result.id, "check_id": check_id, "skill": result.skill, "correct": result.correct, "score": result.score,
        "method": result.method, "feedback": result.feedback, "expected": result.expected, "rating": result.rating_name,
        "next_due": result.next_due, "interval_days": result.interval_days, "redacted": secrets,
    }  # fmt: skip


def profile() -> dict:
    """`learnflow gaps --json`: every skill's number, interval, evidence, the top gaps, and the reliance view."""
    import time

    from learnflow.learner import reliance
    from learnflow.learner.gaps import build_report, parse_since

    now = time.time()
    with opened() as store:
        start = parse_since("30d", now)
        return {**build_report(store, since=start, now=now).to_dict(), "reliance": reliance.build(store, since=start, now=now).to_dict()}


# -- the server -----------------------------------------------------------------------------------


def as_tool_error(exc: BaseException) -> str | None:
    """The message an expected failure gives the agent (its hint included); None for a bug."""
    from learnflow.db.store import as_database_error
    from learnflow.redact import scrub

    if isinstance(exc, LearnflowError):
        err: LearnflowError = exc
    elif (mapped := as_database_error(exc)) is not None:
        err = mapped
    else:
        return None
    return " ".join(filter(None, [scrub(err.message), scrub(err.hint)]))


def guarded(fn: Callable[..., T], error: type[Exception]) -> Callable[..., T]:
    """`fn` with expected failures turned into the SDK's tool error (its text goes to the agent)."""
    import functools

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            message = as_tool_error(exc)
            if message is None:
                raise  # a bug: the SDK logs it and answers "Error executing tool …"; the server goes on
            raise error(message) from None

    return call


def build_server():
    """The MCPServer with learnflow's tools and resource (imports the SDK: ConfigError when it is missing)."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ResourceError, ToolError
    except ImportError:
        raise ConfigError("`learnflow mcp` needs the MCP SDK, which is not installed.", hint=INSTALL_HINT) from None
    from learnflow import __version__

    server: Any = MCPServer("learnflow", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    lessons = Lessons()

    def learnflow_level(skill: str) -> dict:
        """The person's measured level on a skill: level (novice/intermediate/expert, or null when not measured),
        mastery 0..1 with its 80% interval, how much evidence stands behind it, and how to pitch an explanation."""
        return level(skill)

    def learnflow_log_lesson(skill: str, summary: str) -> dict:
        """Log what you just explained to the person on a skill (a sentence or two; secrets are removed before it is stored)."""
        return lessons.log(skill, summary)

    def learnflow_check(skill: str) -> dict:
        """A retrieval question on a skill (a due review, or a probe of what they know), with its check_id."""
        return check(skill)

    def learnflow_grade(check_id: int, answer: str) -> dict:
        """Judge the person's own answer to a check from learnflow_check, record it and schedule the next review."""
        return grade(check_id, answer)

    for fn in (learnflow_level, learnflow_log_lesson, learnflow_check, learnflow_grade):
        server.add_tool(guarded(fn, ToolError))

    @server.resource(PROFILE_URI, name="profile", mime_type="application/json",
                     description="The person's skill profile: what `learnflow gaps --json` prints.")  # fmt: skip
    def read_profile() -> str:
        import json

        return json.dumps(guarded(profile, ResourceError)(), ensure_ascii=False)

    return server


def serve() -> None:
    """Serve over stdio until the client closes stdin."""
    build_server().run("stdio")
