"""`reflect --answers FILE`: a reflection answered from a TOML file (scripts, tests, a
journal written elsewhere). Every section is optional; what is missing is skipped.

    [actions]                 # earlier action items, by id (`learnflow reflections` shows them)
    done = [3]                # or `done = true` for every open item
    dropped = [2]

    [reflection]              # one answer per question key (`learnflow prompts reflect-questions`)
    trying = "Ship the login fix before the release"
    worked = "Reading the failing test's output before touching code"
    surprised = "pytest ran the old build: the package was not installed in editable mode"
    rule = "When a fix seems to change nothing, check which copy of the code actually runs."
    action = "Tomorrow morning I will run `pip install -e .` in the new checkout before testing."

    [[checks]]                # retrieval practice, in the order the checks come
    skill = "git"             # optional: this entry waits for a check on that skill
    confidence = 4            # 1-5, how sure you were before answering
    answer = "They stay staged, in the index."
    self_grade = true         # optional: your own verdict, used when nothing else can judge,
                              # when the offline keyword judge cannot tell (without self_grade
                              # such an answer is not recorded: the check stays due), or to
                              # overrule the keyword judge's "wrong"

    [ratings]                 # how you rate yourself per skill, 1-5
    git = 3
"""

from __future__ import annotations

import tomllib

from learnflow.errors import BadInput
from learnflow.practice.judging import Judgement
from learnflow.practice.review import Check
from learnflow.reflect.actions import Action
from learnflow.reflect.session import Answers, Attempt, Question, load_questions

SECTIONS = ("actions", "reflection", "checks", "ratings")
CHECK_FIELDS = ("skill", "confidence", "answer", "self_grade")


def _bad(source: str, message: str) -> BadInput:
    return BadInput(f"{source}: {message}", hint="`learnflow reflect --help` shows the answers-file format.")


def _one_to_five(value, source: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise _bad(source, f"{where} must be a whole number from 1 to 5, not {value!r}.")
    return value


def _ids(value, source: str, where: str) -> list[int] | bool:
    if value is True:
        return True
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _bad(source, f"{where} must be a list of action ids (e.g. [3]) or true.")
    return value


def load_answers(text: str, source: str = "answers file", *, command: str = "reflect") -> FileAnswers:
    """Parse and validate an answers file before anything is written. Raises BadInput.
    `learnflow check` takes only [[checks]] and [ratings]: other sections would be dropped without a word."""
    # `check` takes a self-rating too: asked when a skill has no guide and no model can write a question.
    sections = SECTIONS if command == "reflect" else ("checks", "ratings")
    try:
        return _load(text, source, sections)
    except BadInput as exc:
        exc.hint = f"`learnflow {command} --help` shows the answers-file format."
        raise


def _load(text: str, source: str, sections: tuple[str, ...]) -> FileAnswers:
    from learnflow.learner.skills import taxonomy

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(source, f"not valid TOML: {exc}.") from None
    unknown = set(data) - set(sections)
    if unknown:
        raise _bad(source, f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(sections)}.")

    reflection = data.get("reflection", {})
    keys = {q.key for q in load_questions()}
    if not isinstance(reflection, dict) or not all(isinstance(v, str) for v in reflection.values()):
        raise _bad(source, '[reflection] holds text answers: key = "answer".')
    if set(reflection) - keys:
        raise _bad(
            source, f"[reflection] has no question {', '.join(sorted(set(reflection) - keys))}; the keys are {', '.join(sorted(keys))}."
        )

    checks = data.get("checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
        raise _bad(source, "checks are [[checks]] tables.")
    for n, entry in enumerate(checks, 1):
        where = f"check {n}"
        extra = sorted(set(entry) - set(CHECK_FIELDS))
        if extra:
            raise _bad(source, f"{where} has unknown field(s) {', '.join(extra)}; known: {', '.join(CHECK_FIELDS)}.")
        if not isinstance(entry.get("answer"), str):
            raise _bad(source, f'{where} needs answer = "…" (an empty string if you had no idea).')
        if "confidence" in entry:
            _one_to_five(entry["confidence"], source, f"{where} confidence")
        if "self_grade" in entry and not isinstance(entry["self_grade"], bool):
            raise _bad(source, f"{where} self_grade must be true or false.")

    ratings = data.get("ratings", {})
    if not isinstance(ratings, dict):
        raise _bad(source, "[ratings] maps a skill to 1-5, e.g. git = 3.")
    for skill, value in ratings.items():
        if skill not in taxonomy():
            raise _bad(source, f"[ratings] names an unknown skill {skill!r}; `learnflow gaps` and skills.toml list them.")
        _one_to_five(value, source, f"rating for {skill}")

    actions = data.get("actions", {})
    if not isinstance(actions, dict) or set(actions) - {"done", "dropped"}:
        raise _bad(source, "[actions] takes done = [ids] and dropped = [ids].")
    done = _ids(actions.get("done", []), source, "[actions] done")
    dropped = _ids(actions.get("dropped", []), source, "[actions] dropped")
    return FileAnswers(reflection, checks, ratings, done, dropped)


class FileAnswers(Answers):
    """Answers from a parsed file; checks are matched in order (or by skill)."""

    def __init__(self, reflection: dict, checks: list[dict], ratings: dict, done, dropped):
        self.answers = reflection
        self.checks = list(checks)
        self.ratings = ratings
        self.done = done
        self.dropped = dropped
        self._current: dict | None = None

    def action_status(self, action: Action) -> str | None:
        if self.done is True or action.id in self.done:
            return "done"
        if self.dropped is True or action.id in self.dropped:
            return "dropped"
        return None

    def reflection(self, question: Question) -> str | None:
        return self.answers.get(question.key)

    def attempt(self, check: Check, index: int, total: int) -> Attempt | None:
        entry = next((c for c in self.checks if c.get("skill") == check.skill), None)
        entry = entry or next((c for c in self.checks if "skill" not in c), None)
        self._current = entry
        if entry is None:
            return None
        self.checks.remove(entry)
        return Attempt(entry["answer"], entry.get("confidence"))

    def self_grade(self, check: Check, judgement: Judgement | None) -> bool | None:
        return (self._current or {}).get("self_grade")

    def skill_rating(self, skill: dict) -> int | None:
        return self.ratings.get(skill["skill"])

    def extra_skills(self) -> list[str]:
        return list(self.ratings)
