"""`reflect`: the day's-end loop. What happened → What? So what? Now what? → retrieval
practice → self-ratings → feedback.

The session drives the order; an `Answers` provider supplies what the person
says (the interactive terminal, or an answers file) and is told what to show.
Everything is written the moment it is given, so Ctrl-C or a closed terminal
keeps what was answered and the reflection is marked `interrupted`.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from learnflow import prompts
from learnflow.db.store import Store
from learnflow.errors import ConfigError, NotFound
from learnflow.practice import review
from learnflow.practice.checks import ask_checks
from learnflow.reflect.actions import Action, open_actions, resolve_action
from learnflow.timespec import iso, local_midnight, parse_iso

STEPS = {"what": "What?", "so_what": "So what?", "now_what": "Now what?"}
MAX_LOOKBACK = timedelta(days=7)  # the default period never reaches further back than this
MAX_RATED_SKILLS = 5


# -- what happened ---------------------------------------------------------------


@dataclass
class Summary:
    """What the log shows for the period, computed in SQL."""

    start: str
    end: str
    label: str  # "today", "since your last reflection (Mon 17:02)", …
    questions: int = 0
    answered: int = 0
    skills: list[dict] = field(default_factory=list)  # {skill, name, count, primary}
    recent: list[dict] = field(default_factory=list)  # {id, question, status}
    errors: list[dict] = field(default_factory=list)  # asks that ended in error / interrupted
    commands: int = 0
    failed_commands: list[dict] = field(default_factory=list)  # {id, command, exit_code, explained_in}

    @property
    def had_failures(self) -> bool:
        return bool(self.failed_commands or self.errors)


def default_start(store: Store, now: datetime) -> tuple[datetime, str]:
    """Since the last finished reflection (within a week), else since local midnight."""
    row = store.db.execute("SELECT max(period_end) FROM reflections WHERE status = 'done'").fetchone()
    if row and row[0]:
        last = parse_iso(row[0])
        if timedelta(0) <= now - last <= MAX_LOOKBACK:
            return last, f"since your last reflection ({last.astimezone():%a %H:%M})"
    return local_midnight(now), "today"


def summarize(store: Store, start: datetime, end: datetime, label: str) -> Summary:
    from learnflow.learner.skills import taxonomy

    s, e = iso(start), iso(end)
    out = Summary(start=s, end=e, label=label)
    out.questions, answered = store.db.execute(
        "SELECT count(*), coalesce(sum(status = 'ok'), 0) FROM interactions WHERE created_at >= ? AND created_at <= ?", [s, e]
    ).fetchone()
    out.answered = int(answered)
    names = taxonomy()
    # A question tagged git+shell touches both, but it is "about" its top tag: rank by that.
    for row in store.db.query(
        "WITH ranked AS (SELECT t.skill, row_number() OVER (PARTITION BY t.interaction_id "
        "ORDER BY t.relevance DESC, t.rowid) AS rk FROM interaction_skills t "
        "JOIN interactions i ON i.id = t.interaction_id WHERE i.created_at >= ? AND i.created_at <= ?) "
        "SELECT skill, count(*) AS count, sum(rk = 1) AS primary_count FROM ranked "
        "GROUP BY skill ORDER BY primary_count DESC, count DESC, skill",
        [s, e],
    ):
        name = names[row["skill"]].name if row["skill"] in names else row["skill"]
        out.skills.append({"skill": row["skill"], "name": name, "count": row["count"], "primary": row["primary_count"]})
    out.recent = list(
        store.db.query(
            "SELECT id, question, status FROM interactions WHERE created_at >= ? AND created_at <= ? ORDER BY id DESC LIMIT 5",
            [s, e],
        )
    )
    out.errors = list(
        store.db.query(
            "SELECT id, question, status, error FROM interactions WHERE created_at >= ? AND created_at <= ? "
            "AND status IN ('error', 'interrupted') ORDER BY id",
            [s, e],
        )
    )
    tasks = list(store.db.query("SELECT * FROM tasks WHERE created_at >= ? AND created_at <= ? ORDER BY id", [s, e]))
    out.commands = len(tasks)
    out.failed_commands = [
        {"id": t["id"], "command": _command(t["command"]), "exit_code": t["exit_code"], "explained_in": t["interaction_id"]}
        for t in tasks
        if t["exit_code"]
    ]
    return out


def _command(raw: str | None) -> str:
    try:
        text = shlex.join(json.loads(raw or "[]"))
    except (ValueError, TypeError):
        text = raw or ""
    return text if len(text) <= 60 else text[:59] + "…"


def facts(summary: Summary) -> str:
    """The period as a Markdown list: the offline "what happened", and the model's input."""
    if not summary.questions and not summary.commands:
        return "- Nothing was logged in this period. Reflect on the work itself: what did you do without asking?"
    lines = []
    if summary.questions:
        skills = ", ".join(f"{s['name']} ({s['count']})" for s in summary.skills[:5])
        lines.append(f"- {summary.questions} question(s) asked, {summary.answered} answered" + (f"; skills: {skills}." if skills else "."))
        for row in summary.recent[:3]:
            lines.append(f"  - #{row['id']}: {_short(row['question'])}")
    if summary.commands:
        lines.append(f"- {summary.commands} command(s) run under `learnflow run`, {len(summary.failed_commands)} failed.")
        for t in summary.failed_commands[:3]:
            how = f"explained in #{t['explained_in']}" if t["explained_in"] else "not explained"
            lines.append(f"  - `{t['command']}` exited {t['exit_code']} ({how})")
    for row in summary.errors[:3]:
        lines.append(f"- #{row['id']} ended {row['status']}: {_short(row['question'])}")
    return "\n".join(lines)


def _short(text: str, n: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


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
    (cli_reflect.TerminalAnswers) implements the same methods."""

    def show(self, event: str, data) -> None:
        """Display a step: start (the Session), narrative (Markdown), judged (a CheckResult),
        feedback (a Feedback), calibration (a Calibration)."""

    def action_status(self, action: Action) -> str | None:
        """'done', 'dropped', or None (still open)."""
        return None

    def reflection(self, question: Question) -> str | None:
        return None

    def attempt(self, check: review.Check, index: int, total: int) -> Attempt | None:
        return None

    def self_grade(self, check: review.Check, judgement: review.Judgement | None) -> bool | None:
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
            start, label = since, _label(since, now)
        self._begin(store, model, now, summarize(store, start, now, label))
        stamp = iso(self.now)

        def write():
            # A reflection still in progress belongs to a process that is gone.
            store.db.execute("UPDATE reflections SET status = 'interrupted', finished_at = ? WHERE status = 'in_progress'", [stamp])
            return (
                store.db["reflections"]
                .insert(
                    {
                        "created_at": stamp,
                        "period_start": self.summary.start,
                        "period_end": self.summary.end,
                        "summary": json.dumps(asdict(self.summary)),
                        "backend": model.choice.backend,
                        "model": model.choice.model,
                        "status": "in_progress",
                    }  # fmt: skip
                )
                .last_pk
            )

        self.id = store._write(write)

    def _begin(self, store: Store, model, now: datetime, summary: Summary) -> None:
        """What a new and a resumed reflection both start from (a resumed one then fills in what was kept)."""
        self.store, self.model, self.now, self.summary = store, model, now, summary
        self.questions = questions_for(summary)  # a broken questions file fails before anything is written
        self.results: list[review.CheckResult] = []
        self.answers: dict[str, str] = {}
        self.resolved: list[dict] = []
        self.feedback = None
        self.calibration = None
        self.told: str | None = None  # a narrative already written (a resumed reflection)
        self.rated: set[str] = set()
        self.checked = 0  # checks answered before an interruption

    @classmethod
    def resume(cls, store: Store, *, model) -> Session:
        """Go on with the latest interrupted reflection: its period and facts, what was answered kept."""
        row = store.db.execute(
            "SELECT id, summary, narrative FROM reflections WHERE status IN ('interrupted', 'in_progress') ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise NotFound("No interrupted reflection to resume.", hint="`learnflow reflect` starts a new one.")
        self = cls.__new__(cls)
        self._begin(store, model, datetime.now(UTC), Summary(**json.loads(row[1])))
        self.id, self.told = row[0], row[2]
        self.answers = dict(store.db.execute("SELECT key, answer FROM reflection_answers WHERE reflection_id = ?", [self.id]).fetchall())
        self.rated = {r for (r,) in store.db.execute("SELECT skill FROM skill_ratings WHERE reflection_id = ?", [self.id])}
        self.checked = store.db.execute("SELECT count(*) FROM check_results WHERE reflection_id = ?", [self.id]).fetchone()[0]
        stamp = iso(self.now)

        def reopen():
            store.db.execute(
                "UPDATE reflections SET status = 'interrupted', finished_at = ? WHERE status = 'in_progress' AND id != ?", [stamp, self.id]
            )
            store.db.execute("UPDATE reflections SET status = 'in_progress', finished_at = NULL WHERE id = ?", [self.id])

        store._write(reopen)
        return self

    def _update(self, **fields) -> None:
        self.store._write(lambda: self.store.db["reflections"].update(self.id, fields))

    def narrative(self) -> str:
        if self.told:
            return self.told
        listed = facts(self.summary)
        told = None
        if self.summary.questions or self.summary.commands:  # an empty day needs no storyteller
            told = self.model.text("reflect-narrative", facts=listed, period=self.summary.label)
        text = told or listed
        self._update(narrative=text)
        return text

    def answer(self, question: Question, text: str | None) -> None:
        text = (text or "").strip()
        if not text:
            return
        self.answers[question.key] = text

        def write():
            self.store.db["reflection_answers"].insert(
                {
                    "reflection_id": self.id,
                    "created_at": iso(datetime.now(UTC)),
                    "step": question.step,
                    "key": question.key,
                    "question": question.text,
                    "answer": text,
                }  # fmt: skip
            )
            if question.key == "action":
                self.store.db["action_items"].insert(
                    {"reflection_id": self.id, "created_at": iso(datetime.now(UTC)), "text": text, "status": "open"}
                )

        self.store._write(write)

    def checks(self) -> list[review.Check]:
        left = review.MAX_CHECKS - self.checked  # a resumed reflection: the checks already answered count
        if left <= 0:
            return []
        cards = review.collect_cards(self.store, self.summary.start, self.summary.end, self.now)
        return review.pick_checks(self.store, cards, self.now, limit=left)

    def judge(self, check: review.Check, answer: str) -> review.Judgement | None:
        return review.judge_answer(check, answer, self.model)

    def record(self, check: review.Check, attempt: Attempt, judgement: review.Judgement) -> review.CheckResult:
        result = review.record(
            self.store, reflection_id=self.id, check=check, answer=attempt.answer, confidence=attempt.confidence,
            judgement=judgement, seconds=attempt.seconds, now=datetime.now(UTC),
        )  # fmt: skip
        self.results.append(result)
        return result

    def rate(self, skill: str, rating: int) -> None:
        def write():
            rid = (
                self.store.db["skill_ratings"]
                .insert({"created_at": iso(datetime.now(UTC)), "reflection_id": self.id, "skill": skill, "rating": rating})
                .last_pk
            )
            self.store.db["evidence"].insert(
                {
                    "ts": time.time(),
                    "skill": skill,
                    "kind": "self_rating",
                    "value": round((rating - 1) / 4, 3),
                    "source": "skill_ratings",
                    "source_id": rid,
                }  # fmt: skip
            )

        self.store._write(write)

    def finish(self, status: str = "done") -> None:
        self._update(status=status, finished_at=iso(datetime.now(UTC)))


def _label(since: datetime, now: datetime) -> str:
    if since == local_midnight(now):
        return "today"
    return f"since {since.astimezone():%a %d %b %H:%M}"


def run(session: Session, provider: Answers) -> dict:
    """Walk the whole loop with `provider`; return the stored reflection (see `load`).

    KeyboardInterrupt and EOFError (Ctrl-C, a closed terminal, input that ran
    out), or any failure, mark the reflection interrupted and propagate: what
    was answered stays.
    """
    from learnflow.reflect import feedback as reflect_feedback

    try:
        provider.show("start", session)
        for action in open_actions(session.store, now=session.now):
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
        session.calibration = review.calibration(session.store, session.id)
        provider.show("calibration", session.calibration)
    except BaseException:
        try:
            session.finish("interrupted")
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

    def rows(sql: str) -> list[dict]:
        return list(store.db.query(sql, [reflection_id]))

    found = rows("SELECT * FROM reflections WHERE id = ?")
    if not found:
        raise NotFound(f"No reflection with id {reflection_id}.", hint="`learnflow reflections` lists them.")
    out = found[0]
    out["summary"] = json.loads(out["summary"] or "{}")
    out["answers"] = rows("SELECT step, key, question, answer, created_at FROM reflection_answers WHERE reflection_id = ? ORDER BY id")
    out["checks"] = rows(
        "SELECT c.id, c.skill, c.question, c.answer, c.confidence, c.correct, c.score, c.rating, c.judge_method, "
        "c.feedback, r.answer AS expected, r.due AS next_due FROM check_results c "
        "LEFT JOIN review_cards r ON r.id = c.review_card_id WHERE c.reflection_id = ? ORDER BY c.id"
    )
    out["ratings"] = rows("SELECT skill, rating FROM skill_ratings WHERE reflection_id = ? ORDER BY id")
    out["actions"] = rows("SELECT id, text, status, resolved_at FROM action_items WHERE reflection_id = ? ORDER BY id")
    return out


def list_reflections(store: Store, *, limit: int = 20) -> list[dict]:
    """Newest first, with counts."""
    return list(
        store.db.query(
            "SELECT r.id, r.created_at, r.period_start, r.period_end, r.status, "
            "(SELECT count(*) FROM reflection_answers a WHERE a.reflection_id = r.id) AS answers, "
            "(SELECT count(*) FROM check_results c WHERE c.reflection_id = r.id) AS checks, "
            "(SELECT coalesce(sum(correct), 0) FROM check_results c WHERE c.reflection_id = r.id) AS checks_right, "
            "(SELECT text FROM action_items i WHERE i.reflection_id = r.id ORDER BY id DESC LIMIT 1) AS action "
            "FROM reflections r ORDER BY r.id DESC LIMIT ?",
            [limit],
        )
    )
