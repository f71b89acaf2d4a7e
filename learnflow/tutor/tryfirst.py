"""Try first: the learner attempts (or predicts) before the answer, then climbs a hint ladder.

Rungs (`interactions.hint_step`): 0 = what is right and wrong in the attempt, and a first hint
(an expert gets the critique alone); 1 = a bigger hint; 2 = the full answer. A novice goes from
0 straight to the full answer, a worked example (worked examples beat problem solving for
novices; experts learn more from generating). `learnflow hint` or `ask -c` climbs one rung.

The attempt is judged and becomes `attempt` evidence: by the model's verdict line (one line the
try-first prompt asks for, stripped from the reply: no second call), else against the
best-matching skill card, else not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from learnflow.config import LEVELS, Config
from learnflow.errors import BadInput, NotFound

# The same bound as a question's: longer text belongs in a file (-f).
MAX_ATTEMPT_CHARS = 20_000
FULL = 2
# What the learner asks for when climbing with `learnflow hint` (the message the model sees).
REQUESTS = {1: "A bigger hint, please.", 2: "The full answer, please."}
EXPERT_FIRST_HINT = "A hint, please."
_BY_SETTING = {"off": (), "novice": ("novice",), "novice+intermediate": ("novice", "intermediate"), "all": LEVELS}


def default_on(config: Config, skill: str, level: str) -> bool:
    """Whether try first is the default for this skill at this level.

    `try_first_skill.<skill>` (on/off) wins over `try_first` (off, novice,
    novice+intermediate, all: by the learner's level on the skill)."""
    per_skill = config.get(f"try_first_skill.{skill}")
    if per_skill in ("on", "off"):
        return per_skill == "on"
    return level in _BY_SETTING.get(str(config.get("try_first")), ())


def check_attempt(text: str) -> str:
    """The attempt, stripped; a clear error when it is empty or too long (before anything is stored)."""
    attempt = (text or "").strip()
    if not attempt:
        raise BadInput("The attempt is empty.", hint='Say what you would try, or predict the outcome: --attempt "git reset HEAD~1"')
    if len(attempt) > MAX_ATTEMPT_CHARS:
        raise BadInput(
            f"The attempt is {len(attempt):,} characters long (at most {MAX_ATTEMPT_CHARS:,}).",
            hint="Give the gist of your attempt; attach long text (code, logs) with -f.",
        )
    return attempt


def next_step(step: int, level: str) -> int | None:
    """The rung after `step` for a learner at `level`; None once the full answer was given."""
    if step >= FULL:
        return None
    return FULL if level == "novice" else step + 1


def request_text(step: int, level: str) -> str:
    return EXPERT_FIRST_HINT if step == 1 and level == "expert" else REQUESTS[step]


@dataclass
class Rung:
    """The next rung of a conversation's ladder, for `learnflow hint`."""

    conversation_id: int
    step: int
    level: str
    topic: str  # the question the ladder is about
    previous_id: int


def next_rung(store, *, interaction_id: int | None = None, cid: int | None = None) -> Rung:
    """Where `learnflow hint` continues: one rung above the latest try-first answer of the
    conversation (`cid`, the one of `interaction_id`, or the latest conversation)."""
    from learnflow.db import tryfirst as db

    if interaction_id is not None:
        row = store.get(interaction_id)
        if cid is not None and row["conversation_id"] != cid:
            raise BadInput(
                f"#{interaction_id} belongs to conversation {row['conversation_id']}, not {cid}.",
                hint="Give --id or --cid, or both from the same conversation (`learnflow history`).",
            )
        cid = row["conversation_id"]
        if row["hint_step"] is None:
            raise BadInput(f"#{interaction_id} was not a try-first answer: there is no hint ladder to climb.", hint=_START)
        turn = {"id": row["id"], "hint_step": row["hint_step"], "level": row["level"]}
    else:
        if cid is None:
            cid = store.last_conversation_id()
            if cid is None:
                raise NotFound("Nothing asked yet.", hint=_START)
        elif not store.conversation_exists(cid):
            raise NotFound(f"No conversation with id {cid}.", hint="`learnflow history` shows conversation ids.")
        found = db.ladder_turn(store, cid)
        if found is None:
            raise BadInput(f"Conversation {cid} has no try-first answer: there is no hint ladder to climb.", hint=_START)
        turn = found
    level = turn["level"] if turn["level"] in LEVELS else "novice"
    step = next_step(int(turn["hint_step"]), level)
    if step is None:
        raise BadInput(f"#{turn['id']} already gave the full answer.", hint=f"`learnflow show {turn['id']}` prints it again.")
    return Rung(cid, step, level, db.ladder_topic(store, cid, turn["id"]), turn["id"])


_START = 'Start one with `learnflow ask --try "…"` (or --attempt TEXT).'


def rung_name(step: int | None, level: str | None) -> str | None:
    """What a rung of the ladder gave, in words (for `history` and `show`); None off the ladder."""
    if step is None:
        return None
    if step >= FULL:
        return "the full answer"
    if step == 1:
        return "a hint" if level == "expert" else "a bigger hint"
    return "critique of the attempt" if level == "expert" else "critique of the attempt and a first hint"


def annotate(store, rows: list[dict]) -> list[dict]:
    """Logged asks (history or show rows) with what try first made of them: `attempt_score`, the
    attempt's judged score (None when unjudged or no attempt), and `hint_rung`, the rung in words."""
    from learnflow.db import tryfirst as db

    scores = db.attempt_scores(store, [r["id"] for r in rows if r.get("attempt")])
    for row in rows:
        row["attempt_score"] = scores.get(row["id"])
        row["hint_rung"] = rung_name(row.get("hint_step"), row.get("level"))
    return rows


# -- the model's verdict line ----------------------------------------------------------

_MARK = "attempt_score"
_LEAD = " \t*_`>#<!-"
_VERDICT = re.compile(r"^[\s*_`>#<!-]*attempt[ _-]?score\s*[*_`]*\s*[:=]\s*[*_`]*\s*(\d*\.?\d+)[\s*_`>-]*$", re.I)


class VerdictFilter:
    """Passes an answer's chunks through as they come, holding back only a line that may turn
    out to be the verdict (`ATTEMPT_SCORE: 0.6`): that line is removed and its score kept."""

    def __init__(self) -> None:
        self.held = ""
        self.score: float | None = None

    def _verdict(self, line: str) -> bool:
        m = _VERDICT.match(line.strip())
        if not m:
            return False
        self.score = min(1.0, max(0.0, float(m.group(1))))
        return True

    @staticmethod
    def _may_be_verdict(partial: str) -> bool:
        start = partial.lstrip(_LEAD).lower().replace(" ", "_").replace("-", "_")
        return start.startswith(_MARK) or _MARK.startswith(start)

    def feed(self, chunk: str) -> str:
        text, self.held, out = self.held + chunk, "", []
        while (nl := text.find("\n")) >= 0:
            line, text = text[: nl + 1], text[nl + 1 :]
            if not self._verdict(line):
                out.append(line)
        if text and self._may_be_verdict(text):
            self.held = text
        else:
            out.append(text)
        return "".join(out)

    def finish(self) -> str:
        held, self.held = self.held, ""
        return "" if self._verdict(held) else held

    def wrap(self, chunks: Iterable) -> Iterator:
        """The backend's stream without the verdict line (Usage objects pass unchanged)."""
        for chunk in chunks:
            if not isinstance(chunk, str):
                yield chunk
                continue
            out = self.feed(chunk)
            if out:
                yield out
        tail = self.finish()
        if tail:
            yield tail


# -- judging without a model ----------------------------------------------------------------


def judge_with_cards(topic: str, skills: list[str], attempt: str, context: str = ""):
    """A Judgement of the attempt against the best-matching skill card, or None: no card fits, or
    the question is a failure's output (`explain`), where a card matched on the words of the
    failure is a guess, and a guess is no reference to judge by."""
    from learnflow.backends import coach
    from learnflow.backends.offline import MIN_CARD_SCORE
    from learnflow.practice.judging import Judgement, blank, judge_attempt

    if blank(attempt):  # "I don't know" is honest, and a fact about the learner
        return Judgement(False, 0.0, "No attempt given.", "blank")
    if context and coach.explain_errors(context):
        return None
    ranked = [c for c, score in coach.rank_cards(topic, skills) if score >= MIN_CARD_SCORE]
    if not ranked:
        return None
    card = ranked[0]
    return judge_attempt([c.get("cmd", "") for c in card.commands], card.check_keywords, attempt)
