"""`ask`: one question, answered and logged.

The order matters: validate → write the question (status `pending`) → call
the backend → write the answer with its status. Whatever happens after the
first write (backend error, Ctrl-C, a killed process) the question is in the
log, and the row says how far it got.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from learnflow.backends import Request, Usage
from learnflow.config import Config
from learnflow.db.store import SkillTag, Store
from learnflow.errors import BackendError, BadInput, DatabaseError, NotFound
from learnflow.learner import skills
from learnflow.redact import redact, scrub
from learnflow.tutor import context as ctxmod
from learnflow.tutor import memory, pedagogy
from learnflow.tutor.choose import Choice, choose, resolve_backend

if TYPE_CHECKING:
    from learnflow.tutor.tryfirst import VerdictFilter

MAX_QUESTION_CHARS = 20_000

# "Why / trade-off" questions show curiosity beyond the task: weaker evidence of a gap
# than "how do I" questions (see docs/learner-model.md).
_WHY = re.compile(r"\b(why|trade-?offs?|differences?|versus|vs\.?|compare|when should|pros and cons|better to)\b", re.I)


def backoff(exc: BackendError, attempt: int) -> float:
    """Seconds before retry number `attempt`: Retry-After when given, else 0.5 s doubling, jittered."""
    if exc.retry_after is not None:
        return exc.retry_after
    import random

    return 0.5 * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)


def question_kind(question: str) -> str:
    return "question_why" if _WHY.search(question) else "question_how"


@dataclass
class AskOptions:
    question: str
    parts: list[ctxmod.Part] = field(default_factory=list)
    model: str | None = None
    backend: str | None = None
    cid: int | None = None
    continue_last: bool = False
    direct: bool = False
    level: str | None = None
    redact: bool = True  # secrets never leave the machine unless the user says so
    # Try first (tutor/tryfirst.py): `--attempt` text; `--try`; how to ask for an attempt at a
    # terminal (None: no terminal, never wait); a rung and its topic given by `learnflow hint`.
    attempt: str | None = None
    try_first: bool = False
    ask_attempt: Callable[[], str] | None = None
    hint_step: int | None = None
    topic: str | None = None
    # Answers grounded in the learner's documents (tutor/documents.py): `--docs` folders (else the
    # `docs` setting), and what shows indexing progress: a context manager giving a (done, total)
    # callback, entered only while the documents are indexed (never around a prompt).
    docs: list[str] | None = None
    docs_progress: Callable[[], AbstractContextManager[Callable[[int, int], None]]] | None = None


@dataclass
class AskResult:
    id: int | None  # None when not logged (--no-log)
    conversation_id: int
    question: str
    answer: str
    status: str
    backend: str
    model: str
    level: str
    mode: str
    skills: list[dict]
    context_summary: str
    context_cut_tokens: int
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    latency_ms: int
    ttft_ms: int | None
    check_question: str | None
    choice_reason: str
    redacted: dict = field(default_factory=dict)
    error: str | None = None
    attempt: str | None = None
    hint_step: int | None = None
    # {score, correct, method: model | card | blank, evidence: bool}, or a note saying why not judged.
    attempt_judgement: dict | None = None
    learner: dict | None = None  # what the system prompt carried about the learner (tutor/memory.py)
    gap: dict | None = None  # the gap line shown after the answer (learner/gapline.py), or None
    fallback: str | None = None  # the configured model could not be reached: why the offline coach answered
    # Documents searched for this ask ({folders, matched, passages: [{cite, score}], indexed, skipped}), or None.
    documents: dict | None = None


class Ask:
    """Prepare with the constructor (writes the question), then iterate `stream()`."""

    def __init__(self, store: Store, options: AskOptions, config: Config | None = None):
        self.store = store
        self.options = options
        self.config = config or Config()
        question = (options.question or "").strip()
        if not question:
            raise BadInput("The question is empty.", hint='Ask something: learnflow ask "why does this test fail?"')
        if len(question) > MAX_QUESTION_CHARS:
            raise BadInput(
                f"The question is {len(question):,} characters long.",
                hint="Put long text in a file and attach it with -f, or pipe it on stdin.",
            )
        if options.attempt is not None:
            from learnflow.tutor.tryfirst import check_attempt

            check_attempt(options.attempt)  # before anything is written
        self.redactions: Counter[str] = Counter()
        if options.redact:
            found = redact(question)
            question, self.redactions = found.text, found.counts
        self.question = question
        self.choice: Choice = choose(self.config, model=options.model, backend=options.backend)
        self.backend = resolve_backend(self.choice)
        self.backend.check(self.choice.model, self.choice.api_base)  # an unknown provider or a missing key: now, not after a slow call
        # e.g. "small models answer poorly": shown to the user where they chose the model.
        self.warning = self.backend.warning(self.choice.model)
        self.mode = "direct" if options.direct else "teach"
        self.context = ctxmod.build(options.parts, int(self.config.get("context_tokens")), redact=options.redact)
        self.redactions.update(self.context.redactions)
        self.grounding = self._ground(question)
        # Before the first write: this reads the whole interactions table, so a damaged page
        # there stops the ask (DatabaseError, exit 7) before anything is written to the file.
        store.mark_abandoned()
        self.conversation_id = self._conversation()
        self.tags = skills.tag_offline(f"{options.topic} {question}" if options.topic else question, self.context.text)
        main_skill = self.tags[0].skill
        kept = store.conversation_level(self.conversation_id) if self._continuing and options.level is None else None
        if kept:  # a conversation keeps its level: `ask -c` after `ask --level expert` is still taught as an expert
            self.level, self.level_reason = kept, f"conversation {self.conversation_id}"
        else:
            self.level, self.level_reason = pedagogy.level_for(main_skill, self.config, options.level, store=store)
        self.attempt, self.hint_step, self.topic = self._try_first(main_skill)
        self.attempt_evidence: list[dict] = []
        self.attempt_judgement: dict | None = None
        self._verdicts: VerdictFilter | None = None
        turns = store.conversation_turns(self.conversation_id) if self._continuing else []
        # What the model is told of the learner, and the gap line; none for --direct (no teaching).
        self.memory = None if options.direct else memory.build(store, [t.skill for t in self.tags], config=self.config)
        self.messages = pedagogy.build_messages(
            question=question,
            context_text=self.context.text,
            turns=turns,
            level=self.level,
            skills=[t.skill for t in self.tags],
            mode=self.mode,
            attempt=self.attempt,
            hint_step=self.hint_step,
            learner=self.memory.text if self.memory else "",
            fence_tag=self.context.fence,
        )
        docs_text = self._documents_text()
        row_context = "\n\n".join(t for t in (self.context.text, docs_text) if t)
        if docs_text:
            last = self.messages[-1]
            last["content"] = f"{docs_text}\n\n{last['content']}"
        if self.grounding is not None:
            from learnflow import prompts

            note = prompts.render("documents" if self.grounding.matched else "documents-none", fence=self.context.fence)
            self.messages[0]["content"] = f"{self.messages[0]['content']}\n\n{note}"
        row = dict(
            question=question,
            context_summary=self._summary(),
            context_text=row_context,
            context_tokens=self.context.tokens,
            context_cut_tokens=self.context.cut_tokens,
            mode=self.mode,
            level=self.level,
            backend=self.backend.name,
            model=scrub(self.choice.model),  # `-m` or config text, stored as given: no secret in it
            pid=os.getpid(),
            attempt=self.attempt or None,
            hint_step=self.hint_step,
        )
        if self.conversation_id:
            self.id = store.begin_interaction(conversation_id=self.conversation_id, **row)
        else:
            self.conversation_id, self.id = store.begin_conversation(question, **row)
        self.repeat_of: int | None = None
        self._record_tags(self.tags)
        self.answer = ""
        self.usage = Usage()
        self.status = "pending"
        self.error: str | None = None
        self.ttft_ms: int | None = None
        self.latency_ms = 0
        self.fallback: str | None = None  # why the offline coach answered instead of the configured model

    # -- setup helpers ------------------------------------------------------

    # -- the learner's documents (tutor/documents.py) ---------------------------------

    def _ground(self, question: str):
        """The passages of the learner's documents that best answer `question`, or None when no
        folder was given (`--docs`) or configured (`docs`). The index is brought up to date first."""
        o = self.options
        configured = self.config.get("docs")
        self.docs_missing: list[str] = []  # folders of the docs setting not found: skipped, cli says so
        if not o.docs and not configured:
            return None
        from learnflow.tutor import documents

        # A folder of the setting that is gone is skipped, not an error on every question.
        folders = documents.folders_from(o.docs, configured, missing=self.docs_missing)
        if not folders:
            return None
        query = f"{o.topic} {question}" if o.topic else question
        if o.docs_progress is None:
            return documents.ground(query, folders)
        with o.docs_progress() as tick:
            return documents.ground(query, folders, progress=tick)

    def _cite(self, passage) -> str:
        # The file name is sent too: a secret in it is redacted like any other label.
        return redact(passage.cite).text if self.options.redact else passage.cite

    def _documents_text(self) -> str:
        """The passages fenced as data, each under its `file:line`, in this request's fence."""
        if not self.grounding:
            return ""
        return "\n\n".join(ctxmod.fence(self._cite(p), p.text, self.context.fence) for p in self.grounding.passages)

    def _summary(self) -> str:
        """The log's one-line account of the context, with the documents cited."""
        summary = self.context.summary
        if self.grounding is None:
            return summary
        docs = ", ".join(self._cite(p) for p in self.grounding.passages) or "none matched"
        return "; ".join(s for s in (summary, f"documents: {docs}") if s)

    def _documents_dict(self) -> dict | None:
        g = self.grounding
        if g is None:
            return None
        return {
            "folders": g.folders,
            "matched": g.matched,
            "passages": [{"cite": self._cite(p), "score": p.score} for p in g.passages],
            "indexed": g.report.indexed,
            "files": g.report.files,
            "skipped": g.report.skipped,
            "missing": self.docs_missing,
        }

    def _conversation(self) -> int:
        o = self.options
        self._continuing = False
        if o.cid is not None:
            if not self.store.conversation_exists(o.cid):
                raise NotFound(f"No conversation with id {o.cid}.", hint="`learnflow history` shows conversation ids.")
            self._continuing = True
            return o.cid
        if o.continue_last:
            last = self.store.last_conversation_id()
            if last is not None:
                self._continuing = True
                return last
        return 0  # a new one: begin_interaction starts it together with its first turn

    def _try_first(self, skill: str) -> tuple[str, int | None, str]:
        """(attempt, rung, topic): this turn's place on a hint ladder, or ("", None, "")."""
        o = self.options
        if o.direct or (o.hint_step is None and o.attempt is None and o.ask_attempt is None and not self._continuing):
            return "", None, ""  # the usual ask: try first cannot apply, and costs nothing (not even its import)
        from learnflow.tutor import tryfirst

        if o.hint_step is not None:  # `learnflow hint`
            return "", o.hint_step, o.topic or ""
        attempt = o.attempt
        if attempt is None and o.ask_attempt is not None and (o.try_first or tryfirst.default_on(self.config, skill, self.level)):
            attempt = o.ask_attempt().strip() or None  # Enter skips: answered as usual
        if attempt is not None:
            attempt = tryfirst.check_attempt(attempt)
            if o.redact:
                found = redact(attempt)
                attempt = found.text
                self.redactions.update(found.counts)
            return attempt, 0, self.question
        if self._continuing:  # `ask -c` straight after a rung climbs the ladder
            from learnflow.db import tryfirst as ladder

            turn = ladder.ladder_turn(self.store, self.conversation_id, latest_only=True)
            if turn is not None:
                if o.level is None and turn["level"]:
                    self.level = turn["level"]
                step = tryfirst.next_step(int(turn["hint_step"]), self.level)
                if step is not None:
                    return "", step, ladder.ladder_topic(self.store, self.conversation_id, turn["id"])
        return "", None, ""

    def _request(self, **extra) -> Request:
        return Request(
            model=self.choice.model,
            messages=self.messages,
            question=self.question,
            context=self.context.text,
            skills=self.tags,
            level=self.level,
            mode=self.mode,
            api_base=self.choice.api_base,
            connect_timeout=float(self.config.get("connect_timeout")),
            read_timeout=float(self.config.get("read_timeout")),
            attempt=self.attempt,
            hint_step=self.hint_step,
            topic=self.topic,
            documents=[{"cite": self._cite(p), "text": p.text} for p in self.grounding.passages] if self.grounding else [],
            documents_searched=self.grounding is not None,
            **extra,
        )

    # -- the call -------------------------------------------------------------

    def stream(self) -> Iterator[str]:
        """Yield the answer as it arrives; the log is finished whatever happens.

        Rate limits, server errors and dropped connections are retried with
        backoff (honouring Retry-After), bounded in count and total wait, but
        only before the first chunk: after that a retry would repeat text.
        """
        related = []
        if self.backend.wants_related:
            related = self.store.related_answers(self.question, exclude=self.id)
        tagger = self._start_model_tagging()
        start = time.perf_counter()
        retries_left = int(self.config.get("retries"))
        deadline = time.monotonic() + float(self.config.get("retry_max_seconds"))
        self.attempts = 0
        try:
            while True:
                self.attempts += 1
                try:
                    for chunk in self._visible(self.backend.stream(request=self._request(related=related))):
                        if isinstance(chunk, Usage):
                            self.usage = chunk
                            continue
                        if self.ttft_ms is None:
                            self.ttft_ms = int((time.perf_counter() - start) * 1000)
                        self.answer += chunk
                        yield chunk
                    break
                except BackendError as exc:
                    if self._fall_back(exc):
                        related = self.store.related_answers(self.question, exclude=self.id) if self.backend.wants_related else []
                        continue
                    wait = backoff(exc, self.attempts)
                    if self.answer or not exc.retryable or retries_left <= 0 or time.monotonic() + wait > deadline:
                        raise
                    retries_left -= 1
                    time.sleep(wait)
        except BackendError as exc:
            exc.message, exc.hint = scrub(exc.message) or "", scrub(exc.hint)
            self.answer = self.answer or exc.partial
            note = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
            self._finish("interrupted" if exc.kind == "stream_cut" else "error", start, str(exc) + note)
            raise
        except BaseException as exc:  # Ctrl-C, a closed terminal, a bug: keep what arrived
            interrupted = isinstance(exc, (KeyboardInterrupt, GeneratorExit, SystemExit))
            error = "interrupted by the user" if interrupted else scrub(f"{type(exc).__name__}: {exc}")
            self._finish("interrupted" if interrupted else "error", start, error)
            raise
        self._finish("ok", start, None)
        self._join_model_tagging(tagger)
        self._judge_attempt()

    def _fall_back(self, exc: BackendError) -> bool:
        """The server cannot be reached and nothing arrived: the offline coach answers instead
        (config `fallback = "off"` fails as before). Retrying a refused connection only delays."""
        if exc.kind != "connection" or self.answer or not self.backend.is_model or self.config.get("fallback") != "offline":
            return False
        self.fallback = (
            f"{(scrub(exc.message) or '').rstrip('.')}: the offline coach answered instead (`learnflow config set fallback off` fails)."
        )
        self.backend = resolve_backend(Choice("offline", "offline", ""))
        self.choice = Choice("offline", "offline", f"fallback: {scrub(exc.message)}")
        self.store.update_interaction(self.id, backend=self.backend.name, model="offline")
        return True

    def _visible(self, chunks):
        """On a hint ladder, the reply without the model's verdict line (kept for judging)."""
        if self.hint_step is None:
            return chunks
        from learnflow.tutor import tryfirst

        self._verdicts = tryfirst.VerdictFilter()  # a fresh one per try: a retry starts over
        return self._verdicts.wrap(chunks)

    def _judge_attempt(self) -> None:
        """The attempt becomes evidence on the main skill: the model's verdict, else the best card."""
        if not self.attempt:
            return
        from learnflow.tutor import tryfirst

        score, method = (self._verdicts.score, "model") if self._verdicts else (None, "")
        if score is None:
            judged = tryfirst.judge_with_cards(self.topic or self.question, [t.skill for t in self.tags], self.attempt, self.context.text)
            score, method = (judged.score, judged.method) if judged else (None, "")
        if score is None:
            self.attempt_judgement = {
                "evidence": False,
                "note": "nothing could judge the attempt (no verdict from a model, no matching card)",
            }
            return
        self.attempt_judgement = {"score": score, "correct": score >= 0.5, "method": method, "evidence": True}
        self.attempt_evidence = [{"skill": self.tags[0].skill, "kind": "attempt", "value": score}]
        self._record_tags(self.tags)

    def _finish(self, status: str, start: float, error: str | None) -> None:
        self.latency_ms = int((time.perf_counter() - start) * 1000)
        try:
            self.store.finish_interaction(
                self.id,
                answer=self.answer,
                status=status,
                error=error,
                tokens_in=self.usage.tokens_in,
                tokens_out=self.usage.tokens_out,
                cost=self.usage.cost,
                latency_ms=self.latency_ms,
                ttft_ms=self.ttft_ms,
                check_question=pedagogy.extract_check(self.answer),
            )
        except DatabaseError as exc:
            # A full disk after the answer was shown: say so, and what the row holds (its
            # question, still `pending`; the next ask marks it ended). Never "status ok".
            self.status, self.error = "not_saved", exc.message
            what = "answer above" if status == "ok" else "partial answer" if self.answer else "outcome of this ask"
            exc.message = f"The {what} could not be saved: {exc.message} The log keeps #{self.id} with its question only."
            raise
        self.status = status
        self.error = error

    # -- skill tagging by the model, concurrently with the answer -------------

    def _start_model_tagging(self):
        if not self.backend.is_model or self.config.get("tagging") != "model" or self.options.hint_step is not None:
            return None
        if self.warning:
            return None  # a tiny local model's tags are noise; the offline tags are better
        box: dict = {}

        def run():
            try:
                req = self._request(json_mode=True)
                req.messages = skills.tagging_messages(self.question, self.context.summary)
                box["tags"] = skills.parse_model_tags(self.backend.complete(request=req))
            except Exception as exc:  # tagging is best effort: the offline tags stay
                box["error"] = exc

        thread = threading.Thread(target=run, name="learnflow-tagging", daemon=True)
        thread.start()
        return thread, box

    def _join_model_tagging(self, tagger) -> None:
        if tagger is None:
            return
        thread, box = tagger
        thread.join(timeout=min(15.0, float(self.config.get("read_timeout"))))
        tags: list[SkillTag] | None = box.get("tags")
        if tags:
            self.tags = tags
            self._record_tags(tags)

    def _record_tags(self, tags: list[SkillTag]) -> None:
        """Store the tags, and the question as (weak) evidence of need on each skill."""
        self.store.set_skills(self.id, tags)
        kind = question_kind(self.question)
        self.store.replace_evidence(
            "interactions",
            self.id,
            [{"skill": t.skill, "kind": kind, "value": t.relevance} for t in tags] + self.attempt_evidence + self._repeat(tags),
        )

    def _repeat(self, tags: list[SkillTag]) -> list[dict]:
        """Asking again what was answered within 30 days is a lapse (learner/repeats.py); a follow-up (-c) is not."""
        if self._continuing or not self.logged:
            return []
        from learnflow.learner.repeats import find_repeat

        found = find_repeat(self.store, self.question, [t.skill for t in tags], exclude=self.id)
        repeat_of = found[0] if found else None
        if repeat_of != self.repeat_of:
            self.store.update_interaction(self.id, repeat_of=repeat_of)
            self.repeat_of = repeat_of
        return [{"skill": found[1], "kind": "repeat", "value": 0.0}] if found else []

    # -- result -----------------------------------------------------------------

    @property
    def logged(self) -> bool:
        """False for `--no-log` asks, answered through an in-memory store."""
        return str(self.store.path) != ":memory:"

    def result(self) -> AskResult:
        return AskResult(
            id=self.id if self.logged else None,
            conversation_id=self.conversation_id,
            question=self.question,
            answer=self.answer,
            status=self.status,
            backend=self.backend.name,
            model=self.choice.model,
            level=self.level,
            mode=self.mode,
            skills=[{"skill": t.skill, "relevance": t.relevance, "method": t.method} for t in self.tags],
            context_summary=self._summary(),
            context_cut_tokens=self.context.cut_tokens,
            tokens_in=self.usage.tokens_in,
            tokens_out=self.usage.tokens_out,
            cost=self.usage.cost,
            latency_ms=self.latency_ms,
            ttft_ms=self.ttft_ms,
            check_question=pedagogy.extract_check(self.answer),
            choice_reason=self.choice.reason,
            redacted=dict(self.redactions),
            error=self.error,
            attempt=self.attempt or None,
            hint_step=self.hint_step,
            attempt_judgement=self.attempt_judgement,
            learner=self.memory.to_dict() if self.memory else None,
            gap=asdict(self.memory.gap) if self.memory and self.memory.gap else None,
            fallback=self.fallback,
            documents=self._documents_dict(),
        )
