"""Practice during work: the learner's own moves on an answer, right after it.

`answer` answers the check question that ended an answer (`learnflow answer`, and `ask`'s offer
on a terminal). It is judged like a reflect check (judging.py: the model when one is connected,
else the bundled card's keywords, else the person at a terminal), recorded by checks.record with
source "inline" (evidence kinds check + review, an FSRS-scheduled review card made or reused).
When nothing can judge it and no person is there to (a script, a pipe, a model-made card with no
model now), the answer is kept as a check result without a verdict and adds no evidence; its card
stays due, so the next `learnflow check` or reflection asks it again with a judge.

`flag` marks an answer wrong or unverified: evidence (kind `flag`, value 1) on
`evaluating-ai-output` when a model wrote the answer, and the coach never offers it again.

`appeal` overrules a check verdict of "wrong" (by the model or by keywords), once. The new verdict is
right with score 0.8, the same as overruling the keyword judge at a terminal (judging.self_judgement):
the learner's word counts, but a verdict no judge confirmed is never a complete, Easy answer. The
old verdict is kept in `appeals`, and the result's evidence is replaced. The card keeps the sooner
review the wrong verdict gave it: FSRS cannot replay a review without the state before it (not kept),
and one early review costs little.

Text from the learner (answers, reasons) is checked for size and redacted before it is judged or stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from learnflow.db import flags as flags_db
from learnflow.db import reviews
from learnflow.db.store import Store
from learnflow.errors import BadInput, NotFound
from learnflow.practice import checks, judging, review
from learnflow.practice.judging import Judgement
from learnflow.practice.review import Check
from learnflow.practice.scheduling import rating_for
from learnflow.redact import redact
from learnflow.timespec import iso, parse_iso

# A check answer is a sentence or a few; reasons too. 4,000 characters is about a page:
# anything longer is pasted output or a file, which belongs in `ask -f` instead.
MAX_TEXT = 4000
FLAG_SKILL = "evaluating-ai-output"
FLAG_VERDICTS = ("wrong", "unverified")
APPEAL_SCORE = judging.self_judgement(True, overruled=True).score  # 0.8: right, not complete

SelfGrade = Callable[[Check, Judgement | None], "bool | None"]


@dataclass
class InlineResult:
    id: int  # the check result's id (what `learnflow appeal` takes)
    interaction_id: int
    skill: str
    question: str
    correct: bool | None  # None: nothing could judge it (kept; asked again by check/reflect)
    score: float | None
    method: str  # model | card | self | none
    feedback: str
    expected: str | None
    next_due: str | None
    interval_days: float | None
    rating_name: str | None
    redacted: int  # secrets replaced in the answer before judging and storing

    def to_json(self) -> dict:
        return {
            "id": self.id, "interaction_id": self.interaction_id, "skill": self.skill, "correct": self.correct,
            "score": self.score, "method": self.method, "feedback": self.feedback, "next_due": self.next_due,
        }  # fmt: skip


@dataclass
class FlagResult:
    id: int
    interaction_id: int
    verdict: str  # wrong | unverified
    reason: str
    created_at: str
    evidence: bool  # counted for evaluating-ai-output (a model wrote the answer)


@dataclass
class AppealResult:
    id: int
    check_result_id: int
    skill: str
    question: str
    reason: str
    old_correct: bool
    old_score: float
    old_method: str
    new_correct: bool
    new_score: float
    new_method: str


def clean_text(text: str | None, what: str, *, example: str) -> tuple[str, int]:
    """The learner's text, stripped and redacted, with the number of secrets replaced; BadInput when
    it is empty or longer than MAX_TEXT (nothing is stored either way)."""
    text = (text or "").strip()
    if not text:
        raise BadInput(f"The {what} is empty.", hint=example)
    if len(text) > MAX_TEXT:
        raise BadInput(
            f"The {what} is {len(text):,} characters; at most {MAX_TEXT:,} are kept, and nothing was stored.",
            hint='A sentence or two is enough. For a file or pasted output, ask about it: learnflow ask -f FILE "…"',
        )
    found = redact(text)
    return found.text, found.total


# -- answering a check right away ------------------------------------------------------


def target(store: Store, interaction_id: int | None = None) -> dict:
    """The answer whose check is answered: `interaction_id`, or the newest answer with a check question,
    which must belong to the latest conversation (else the learner probably means something else)."""
    if interaction_id is not None:
        row = reviews.answer_check(store, interaction_id)
        if row is None:
            raise NotFound(f"No answer with id {interaction_id}.", hint="`learnflow history` lists the ids.")
        if row["status"] != "ok" or not row["check_question"]:
            raise BadInput(
                f"Answer #{interaction_id} has no check question to answer (a --direct answer, or one that did not finish).",
                hint="`learnflow history` lists the answers; teaching answers end with a check question.",
            )
    else:
        row = reviews.latest_answer_check(store)
        latest = store.last_conversation_id()
        if row is None:
            raise NotFound(
                "Nothing to answer yet: no logged answer ends with a check question.",
                hint='Ask first, e.g. learnflow ask "how do I undo my last commit?"; its answer ends with one.',
            )
        if row["conversation_id"] != latest:
            raise BadInput(
                f"Your latest conversation (#{latest}) has no check question to answer; the newest one is answer "
                f"#{row['id']} in conversation #{row['conversation_id']}.",
                hint=f'To answer that one anyway: learnflow answer --id {row["id"]} "…"',
            )
    if row["answered_by"] is not None:
        raise BadInput(
            f"The check of answer #{row['id']} is already answered (check result #{row['answered_by']}).",
            hint=f'If its verdict was wrong: learnflow appeal {row["answered_by"]} "why it is right"',
        )
    return row


def answer(
    store: Store, text: str | None, *, interaction_id: int | None = None, model, self_grade: SelfGrade | None = None,
    now: datetime | None = None,
) -> InlineResult:  # fmt: skip
    """Judge and record an answer to an answer's check question (see the module doc).
    `model` is a tutor.modelcall.ModelCall; `self_grade` asks the person (a terminal) when the
    keywords say wrong or nothing can judge, like `learnflow check` does."""
    clean, secrets = clean_text(text, "answer", example='learnflow answer "they stay staged"  (or pipe it: echo … | learnflow answer)')
    row = target(store, interaction_id)
    now = now or datetime.now(UTC)
    card_id = review.card_for_answer(store, row, now)
    if card_id is None:
        raise BadInput(
            f"The check of answer #{row['id']} is the offline coach's general closing question: there is nothing to judge it against.",
            hint="Think it through yourself; `learnflow check` asks questions it can judge.",
        )
    check = review.card_check(store, card_id, "inline")
    review.add_answer_key(store, check, model)  # a model-made card gets its key, kept for offline reviews
    judgement = judging.judge_answer(check, clean, model) or judging.judge_keywords(check, clean)
    # As in the check loop (checks.ask_checks): the person decides when nothing can judge or the keyword
    # judge cannot tell, and may overrule its "wrong" (keywords miss some paraphrases). Without a
    # terminal an undecided verdict is no evidence: the answer is kept unjudged and the card stays due.
    unsure = judgement is None or not judgement.certain
    if self_grade is not None and (unsure or (judgement is not None and judgement.method == "card" and not judgement.correct)):
        graded = self_grade(check, judgement)
        if graded is not None:
            judgement = judging.self_judgement(graded, overruled=not unsure)
            unsure = False
    if judgement is None or unsure:
        return _keep_unjudged(store, row, check, clean, secrets, now, undecided=judgement is not None)
    result = checks.record(
        store, reflection_id=None, check=check, answer=clean, confidence=None, judgement=judgement, seconds=None, now=now,
        source="inline", interaction_id=row["id"],
    )  # fmt: skip
    return InlineResult(
        id=result.id, interaction_id=row["id"], skill=result.skill, question=result.question, correct=result.correct,
        score=result.score, method=result.method, feedback=result.feedback, expected=result.expected, next_due=result.next_due,
        interval_days=result.interval_days, rating_name=result.rating_name, redacted=secrets,
    )  # fmt: skip


def _keep_unjudged(
    store: Store, row: dict, check: Check, clean: str, secrets: int, now: datetime, *, undecided: bool = False
) -> InlineResult:
    if undecided:
        feedback = (
            "Not judged: the keywords could not tell whether this is right. Compare it with the expected answer; "
            "`learnflow check` asks it again, and on a terminal `answer` lets you grade it yourself."
        )
    else:
        feedback = (
            "Not judged: no model is connected and this question has no answer key. Kept; `learnflow check` asks it again with a judge."
        )
    rid = reviews.insert_result(store, {
        "created_at": iso(now), "review_card_id": check.card_id, "skill": check.skill, "question": check.question,
        "answer": clean, "judge_method": "none", "feedback": feedback, "source": "inline", "interaction_id": row["id"],
    })  # fmt: skip
    return InlineResult(
        id=rid, interaction_id=row["id"], skill=check.skill, question=check.question, correct=None, score=None, method="none",
        feedback=feedback, expected=check.expected, next_due=None, interval_days=None, rating_name=None, redacted=secrets,
    )  # fmt: skip


# -- flags -------------------------------------------------------------------------------


def flag(store: Store, reason: str | None, *, interaction_id: int | None = None, verdict: str = "wrong",
         now: datetime | None = None) -> FlagResult:  # fmt: skip
    """Mark an answer (default: the newest) wrong or unverified; once per answer."""
    if verdict not in FLAG_VERDICTS:
        raise BadInput(f"A flag says {' or '.join(FLAG_VERDICTS)}, not {verdict!r}.")
    clean, _ = clean_text(reason, "reason", example='learnflow flag 12 "--force-with-lease is not a git pull option"')
    if interaction_id is None:
        interaction_id = flags_db.latest_answer(store)
        if interaction_id is None:
            raise NotFound("Nothing to flag yet: no answer is logged.", hint='learnflow ask "…" first.')
    row = flags_db.interaction(store, interaction_id)
    if row is None:
        raise NotFound(f"No answer with id {interaction_id}.", hint="`learnflow history` lists the ids.")
    if not row["answer"]:
        raise BadInput(f"#{interaction_id} has no answer to flag (it did not finish).", hint="`learnflow history` lists the answers.")
    earlier = flags_db.flag_of(store, interaction_id)
    if earlier is not None:
        raise BadInput(f"Answer #{interaction_id} is already flagged {earlier['verdict']} (flag #{earlier['id']}): {earlier['reason']}")
    now = now or datetime.now(UTC)
    # Catching a model's mistake is evidence of evaluating AI output; the offline coach's bundled text is not AI output.
    counts = row["backend"] != "offline"
    evidence = [{"skill": FLAG_SKILL, "kind": "flag", "value": 1.0}] if counts else []
    created = iso(now)
    fid = flags_db.add_flag(store, {"interaction_id": interaction_id, "created_at": created, "verdict": verdict, "reason": clean},
                            evidence, now.timestamp())  # fmt: skip
    return FlagResult(fid, interaction_id, verdict, clean, created, counts)


# -- appeals -----------------------------------------------------------------------------


def appeal(store: Store, reason: str | None, *, result_id: int | None = None, now: datetime | None = None) -> AppealResult:
    """Overrule a check verdict of "wrong" (default: the newest check result), once (see the module doc)."""
    clean, _ = clean_text(reason, "reason", example='learnflow appeal 7 "I said the index, which is the staging area"')
    result = reviews.check_result(store, result_id)
    if result is None:
        if result_id is None:
            raise NotFound("No check answered yet: nothing to appeal.", hint='`learnflow answer "…"` or `learnflow check` answers one.')
        raise NotFound(
            f"No check result with id {result_id}.", hint="`learnflow check --json` and `learnflow answer --json` print the ids."
        )
    rid = result["id"]
    if result["correct"] is None:
        raise BadInput(
            f"Check result #{rid} was not judged: there is no verdict to appeal.", hint="`learnflow check` asks it again with a judge."
        )
    if result["appealed"] is not None:
        raise BadInput(f"Check result #{rid} was appealed already (appeal #{result['appealed']}); a verdict is appealed once.")
    if result["correct"]:
        raise BadInput(f"Check result #{rid} was judged right already: there is nothing to appeal.")
    now = now or datetime.now(UTC)
    rating = rating_for(True, APPEAL_SCORE, result["confidence"])
    verdict = {"correct": 1, "score": APPEAL_SCORE, "rating": rating, "judge_method": "appeal"}
    # The evidence keeps the time of the answer: the skill was shown then, not when the appeal was made.
    ts = parse_iso(result["created_at"]).timestamp()
    evidence = [{**e, "ts": ts} for e in checks.evidence_rows(result["skill"], APPEAL_SCORE, rating)]
    appeal_row = {
        "check_result_id": rid, "created_at": iso(now), "reason": clean,
        "old_correct": result["correct"], "old_score": result["score"], "old_method": result["judge_method"],
        "new_correct": 1, "new_score": APPEAL_SCORE, "new_method": "appeal",
    }  # fmt: skip
    aid = reviews.record_appeal(store, appeal_row, verdict, evidence)
    return AppealResult(
        id=aid, check_result_id=rid, skill=result["skill"], question=result["question"], reason=clean,
        old_correct=bool(result["correct"]), old_score=result["score"], old_method=result["judge_method"],
        new_correct=True, new_score=APPEAL_SCORE, new_method="appeal",
    )  # fmt: skip


def offered(backend: str, check_question: str | None) -> bool:
    """Whether an answer's check can be answered inline: a model's check question always; the offline
    coach's only when it is a bundled card's (its general closing question has nothing to judge against)."""
    if not check_question:
        return False
    if backend != "offline":
        return True
    from learnflow.learner.cards import load_cards

    return any(c.check_question == check_question for c in load_cards())
