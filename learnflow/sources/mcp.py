"""`learnflow mcp`: an MCP server over stdio, so a coding agent can adapt to the person's measured level,
log what it taught, and quiz them at the end of a task.

Tools (each a plain function here, returning JSON-able data; `serve` wraps them for the SDK):
- `level(skill)`: the skill's row of `gaps` (learner/gaps.py): level, mastery with its 80% interval,
  the evidence behind it, and how to pitch an explanation.
- `log_lesson(skill, summary)`: what the agent explained, as an interaction from source 'mcp' (redacted,
  tagged with the skill) with `question_how`/`question_why` evidence, like an ask: being taught says the
  person needed it, not that they know it.
- `check(skill)`: a retrieval check on the skill, picked like `learnflow check --skill` (a due review,
  else a probe from the bundled cards, else the soonest card early). Its id is the review card's id,
  recorded as handed out (db/agents.hand_out_check, in agent_items).
- `grade(check_id, answer)`: judged like `learnflow answer` (the model when one is connected, else the
  card's keywords); recorded by practice/checks.record with source 'mcp' (check + review evidence, FSRS
  rescheduled). Nobody is there to grade it themselves, so an answer no judge can decide is kept without a
  verdict and adds no evidence, as `answer` does from a script. Only a check `check` handed out and not
  yet answered is graded, once; a retired card never.
- resource `learnflow://profile`: what `learnflow gaps --json` prints.

The SDK (the optional extra `learnflow[mcp]`) is imported only in `serve`. The SDK runs plain functions in
worker threads, so each call opens its own Store (one SQLite connection per call, closed after it).
Every failure becomes a tool error with a one-line reason and hint (as_tool_error), an unknown skill, an
empty answer, a missing check, an unusable LEARNFLOW_HOME or a bug alike; the server keeps serving.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from learnflow.db import agents, reviews
from learnflow.db.store import SkillTag, Store
from learnflow.errors import BadInput, ConfigError, LearnflowError, NotFound

SOURCE = "mcp"
INSTALL_HINT = "pip install 'learnflow[mcp]'"
PROFILE_URI = "learnflow://profile"
MAX_ID = 2**63 - 1  # the largest id SQLite stores
T = TypeVar("T")


def instructions() -> str:
    """What the agent is told once, on connecting: how to use the tools, and the skill ids that exist
    (from the taxonomy, packs included: an id the agent guesses, like "docker", is refused)."""
    from learnflow.learner.skills import taxonomy

    try:
        known = taxonomy()
    except (LearnflowError, OSError):  # an unusable LEARNFLOW_HOME: the server still starts, and each tool says why
        known = {}
    ids = "; ".join(f"{sid} ({s.name})" if s.name.lower() != sid else sid for sid, s in sorted(known.items()))
    return (
        "learnflow keeps a measured skill profile of the person you work with. Before explaining something, call "
        "learnflow_level(skill) and pitch the explanation at the level it gives; after you taught something worth "
        "remembering, call learnflow_log_lesson(skill, summary). At the end of a task, if the person has a minute, "
        "call learnflow_check(skill), ask them the question in their words, and pass their answer, unedited, to "
        "learnflow_grade(check_id, answer): each check is graded once. "
        + (f"The skill argument is one of these ids (lower case, exactly): {ids}." if ids else "")
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
    """A retrieval check on `skill`: a due review card, else a probe, else the soonest card early.
    Its id is recorded as handed out (db/agents.hand_out_check): `grade` takes one answer to it."""
    from learnflow.practice import review

    skill = known_skill(skill)
    with opened() as store:
        picked = review.pick_checks(store, [], datetime.now(UTC), limit=1, skill=skill, rounds=1)
        if picked:
            # A probe is a bundled card this call brought into review: `forget --source mcp` takes it back.
            agents.hand_out_check(store, picked[0].card_id, made=picked[0].kind == "probe")
    if not picked:
        # pick_checks finds nothing only when the skill has no guide (no bundled card) and no card of its own left.
        raise NotFound(
            f"No check on {skill}: it has no guide (skill card) and no cards of its own (none written or imported, or all retired).",
            hint=f"`learnflow check --skill {skill}` with a model connected writes some; or add a guide for {skill} to a content "
            "pack (docs/content.md), or import cards with `learnflow cards import`. Meanwhile learnflow_level shows what is known.",
        )
    c = picked[0]
    return {
        "check_id": c.card_id,
        "skill": c.skill,
        "kind": "review" if c.kind == "review" else "probe",
        "question": c.question,
        "how": "Ask the person this question in their own words; pass their answer, unedited, to learnflow_grade (once).",
    }


def grade(check_id: int, answer: str, *, model=None) -> dict:
    """Judge and record the person's answer to check `check_id` (see the module doc)."""
    from learnflow.practice import checks, judging, review
    from learnflow.practice.inline import clean_text
    from learnflow.timespec import iso

    clean, secrets = clean_text(answer, "answer", example="learnflow_grade(check_id, 'the answer in their words')")
    again = "learnflow_check(skill) gives a check and its id."
    if not 0 < check_id <= MAX_ID:  # SQLite integers stop at 2^63 - 1; ids start at 1
        raise NotFound(f"No check with id {check_id}.", hint=again)
    with opened() as store:
        if not reviews.cards(store, [check_id]):
            raise NotFound(f"No check with id {check_id}.", hint=again)
        if reviews.retired(store, check_id):
            raise BadInput(f"Check {check_id} is a retired card: it is never asked again, so it is not graded.", hint=again)
        state = agents.check_state(store, check_id)
        if state is None:
            raise BadInput(f"Check {check_id} was not handed out by learnflow_check, so there is no question to grade.", hint=again)
        if state == "graded":
            raise BadInput(f"Check {check_id} was already graded: each check takes one answer.", hint=f"For another question: {again}")
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
            row = {
                "created_at": iso(now), "review_card_id": c.card_id, "skill": c.skill, "question": c.question,
                "answer": clean, "judge_method": "none", "feedback": feedback, "source": SOURCE,
            }  # fmt: skip
            rid = answered_once(store, check_id, lambda: reviews.insert_result(store, row))
            return {"result_id": rid, "check_id": check_id, "skill": c.skill, "correct": None, "score": None, "method": "none",
                    "feedback": feedback, "expected": c.expected, "next_due": None, "redacted": secrets}  # fmt: skip
        result = answered_once(store, check_id, lambda: checks.record(
            store, reflection_id=None, check=c, answer=clean, confidence=None, judgement=judgement, seconds=None, now=now, source=SOURCE,
        ))  # fmt: skip
    return {
        "result_id": result.id, "check_id": check_id, "skill": result.skill, "correct": result.correct, "score": result.score,
        "method": result.method, "feedback": result.feedback, "expected": result.expected, "rating": result.rating_name,
        "next_due": result.next_due, "interval_days": result.interval_days, "redacted": secrets,
    }  # fmt: skip


def answered_once(store: Store, check_id: int, write: Callable[[], T]) -> T:
    """`write()` (the answer's rows) and the check marked answered, in one transaction: a second answer
    judged at the same time by another call is refused here, and nothing of it is kept."""

    def both() -> T:
        if not agents.take_check(store, check_id):
            raise BadInput(
                f"Check {check_id} was already graded: each check takes one answer.", hint="learnflow_check(skill) gives another."
            )
        return write()

    return agents.in_transaction(store, both)


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


def as_tool_error(exc: BaseException) -> str:
    """The one-line reason and hint the agent gets for any failure (scrubbed: no secret in it).

    Every failure is a tool error with a reason: an expected one with learnflow's message and hint, an
    unusable folder or file with the OS's words, a bug named as one. Without this the SDK would answer a
    bare "Error executing tool …" and write a traceback to stderr (the agent's log)."""
    from learnflow.db.store import as_database_error
    from learnflow.redact import scrub

    if isinstance(exc, LearnflowError):
        message, hint = exc.message, exc.hint
    elif (mapped := as_database_error(exc)) is not None:
        message, hint = mapped.message, mapped.hint
    elif isinstance(exc, OverflowError):  # a number past SQLite's integers
        message, hint = "A number given is too large.", f"Ids go up to {MAX_ID}."
    elif isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        message = f"learnflow cannot use its files: {exc.strerror or exc}{where}."
        hint = "Point LEARNFLOW_HOME (or XDG_DATA_HOME / XDG_CONFIG_HOME) at a folder learnflow can write to; `learnflow doctor` checks."
    else:
        message = f"learnflow failed unexpectedly ({type(exc).__name__}: {exc})."
        hint = "A bug in learnflow: nothing was stored by this call; please report it (`learnflow doctor` shows the version)."
    return " ".join(filter(None, [scrub(" ".join(str(message).split())), scrub(hint)]))


def guarded(fn: Callable[..., T], error: type[Exception]) -> Callable[..., T]:
    """`fn` with every failure turned into the SDK's tool error, its reason for the agent (as_tool_error)."""
    import functools

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> T:
        try:
            usable_home()
            return fn(*args, **kwargs)
        except Exception as exc:
            raise error(as_tool_error(exc)) from None

    return call


def usable_home() -> None:
    """ConfigError (with its hint) when LEARNFLOW_HOME, or the folder the log lives in, cannot be a folder:
    said before a tool reads anything there (the taxonomy, the config), not as an OS error halfway."""
    from learnflow import paths

    paths.ensure_private_dir(paths.data_dir())  # what Store() does first anyway
    config = paths.config_dir()
    if config.exists() and not config.is_dir():
        paths.ensure_private_dir(config)  # the same ConfigError; a missing config folder is fine (defaults)


def build_server():
    """The MCPServer with learnflow's tools and resource (imports the SDK: ConfigError when it is missing)."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ResourceError, ToolError
    except ImportError:
        raise ConfigError("`learnflow mcp` needs the MCP SDK, which is not installed.", hint=INSTALL_HINT) from None
    from learnflow import __version__

    server: Any = MCPServer("learnflow", version=__version__, instructions=instructions(), log_level="WARNING")
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
