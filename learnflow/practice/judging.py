"""Is an answer right? Judging a check's answer: the model, the card's keywords, or the person.

The check loop (checks.py) tries them in that order: a connected model judges
against the expected answer (or the answer the question came from); offline, a
card with keywords is judged by `judge_keywords`; when neither can judge, or the
keyword judge is unsure, the person grades their own answer against the reference
(`self_judgement`). A `Judgement` is what `checks.record` turns into an FSRS
rating and into evidence: its `score` (0..1), so a partly right answer counts
as part of a success.

The keyword judge treats keywords as necessary, not sufficient. A keyword counts
when the answer names it (or a synonym from `data/judging.toml`, in any
inflection) with the reference's polarity; it is *contradicted* when the answer
negates it ("not staged", "hides the original") or names its opposite ("unstaged"). An answer is wrong
with certainty when it names a number the reference rules out, states an absolute
("always", "no matter") where the reference is conditional, or contradicts key
ideas without naming any, sees "no difference" where the reference names one, or answers a yes/no question
the other way round. A right verdict is certain only when the answer also claims nothing the reference does
not (absolute or temporal words such as "always", "already", "before": the right words may be about the
other thing), and an answer that opens with the reference's own yes/no is never wrong with certainty.
It is undecided (`certain=False`) whenever the words
pull both ways (a keyword and its contradiction, a contrast such as tab/spaces or
SIGTERM/SIGKILL named in the reverse order, a keyword tied to another of the
question's terms or codes than in the reference, right and wrong numbers together), or when it names
no keyword yet says much of what the reference says: then the person decides.
Figures on a labelled set: bench/bench_judge.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from learnflow.practice.review import Check


@dataclass
class Judgement:
    correct: bool
    score: float  # 0..1; stored as the check's evidence value
    feedback: str
    method: str  # model | card | self
    certain: bool = True  # False: the judge could not tell; the person grades it against the reference


_WORD = re.compile(r"[\w+#./-]+")
_DONT_KNOW = re.compile(r"^\s*(?:i\s+)?(?:don'?t|do not)\s+know\b|^\s*(?:no idea|\?+|idk|pass|skip)\s*[.!]*\s*$", re.I)
_NEGATORS = {"not", "no", "never", "without", "none", "nothing", "neither", "nor", "cannot", "rarely", "seldom", "hardly"}
# A clause ends at punctuation or a connective: negation does not reach past it.
_CLAUSE_END = re.compile(
    r"[,;:!?()]|\.(?=\s|$)|\s-\s|\b(?:but|whereas|while|although|instead of|rather than|unlike|so|because|then|otherwise|and|which|that)\b"
)
_ABSOLUTE = re.compile(r"(?<!not )\b(?:always|no matter|regardless|every time|in any case|in all cases|unconditionally|whatever happens)\b")
# Words that add a claim of their own (absolute, temporal, a denied premise): when the reference has none of
# them, an answer that names the key ideas may still say something else about them ("the row that was already
# there before you tried to insert", "no difference, it always shows the original cause anyway").
_CLAIMS = re.compile(r"\b(?:always|never|every|anyway|regardless|no matter|whatever|already|before|after|same|no difference)\b")
# The answer denies the difference the question asks about ("they are the same", "it makes no difference").
_NO_DIFFERENCE = re.compile(
    r"\b(?:no (?:real )?difference|(?:is|are|do|does|works?) (?:exactly )?the same|the same thing|interchangeable)\b"
)
# A yes/no answer, with a hedge: "Generally no: …" (not "no process has it open": "no" as a determiner).
_YES_NO = re.compile(
    r"^\W*(?:(?:generally|usually|mostly|mainly|in general)\W+)?(yes|no|nope|yep)\b(?=\s*(?:[,:;.!-]|$)|\s+(?:it|they|you|that|this|but|because|since)\b)"
)
_CONDITIONAL = re.compile(r"\b(?:only|when|if|unless|until|generally|usually|often|likely|depends|may|might)\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\w)")
# "zero" and "one" are left out: "one test per tuple" is not a count, nor "dropping the zero".
_NUMBER_WORDS = {w: str(n) for n, w in enumerate("- - two three four five six seven eight nine ten eleven twelve".split()) if w != "-"}
_STOP = set(
    "the a an and or of to in on at is are was be it its this that for with as by from so can you your when which what "
    "then than not only into their there they them one any all does do did has have had will would should".split()
)


def _normal(text: str) -> str:
    text = text.lower().replace("’", "'")
    # won't -> will not, can't -> can not, shan't -> shall not (not "wo not"): the auxiliary must survive,
    # as "<keyword> will not …" denies the keyword (_NEGATORS_AFTER)
    text = re.sub(r"\b(won|can|shan)'t\b", lambda m: {"won": "will", "can": "can", "shan": "shall"}[m.group(1)] + " not", text)
    text = re.sub(r"\b(\w+)n't\b", r"\1 not", text)  # doesn't -> does not
    return re.sub(r"\bcannot\b", "can not", text)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@cache
def _phrase(phrase: str) -> re.Pattern:
    """A phrase as a pattern: its words in order, each in any inflection (long words by stem,
    numbers also as words), up to two other words between them."""
    if re.search(r"[^\w\s+#./-]", phrase):  # code such as `.*?` or HEAD@{1}: literally
        return re.compile(re.escape(_normal(phrase)))
    parts = []
    for word in _WORD.findall(_normal(phrase)):
        if word.isdigit() and word in _NUMBER_WORDS.values():
            alts = [re.escape(word)] + [w for w, n in _NUMBER_WORDS.items() if n == word]
            parts.append(f"(?:{'|'.join(alts)})")
        elif len(word) >= 5 and word.isalpha():
            parts.append(re.escape(_stem(word)) + r"\w*")
        else:
            parts.append(re.escape(word))
    body = r"[^\w]+(?:[\w'-]+[^\w]+){0,2}?".join(parts)
    return re.compile(rf"(?<![\w-]){body}(?![\w])")


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[1] / "data" / "judging.toml").read_text(encoding="utf-8"))
    return data.get("synonyms", {}), data.get("opposites", {})


_NEGATORS_AFTER = re.compile(r"^\s*(?:(?:is|are|was|were|does|do|did|has|have|will|would|should|can|could|gets?)\s+)?(?:not|never)\b")
_DENYING = set(
    "hide hides hid hidden hiding lose loses lost losing suppress suppresses suppressed swallow swallows swallowed discard "
    "discards ignore ignores ignored erase erases erased drop drops dropped skip skips skipped omit omits omitted".split()
)
_PARTICLES = {"into", "in", "to", "out", "back", "by", "off", "through", "down"}  # "drops into the debugger" denies nothing
_REJECTING = re.compile(r"\b(?:instead of|rather than|unlike)\b")


def _negated(text: str, start: int, end: int) -> bool:
    """Is the phrase at text[start:end] denied? A negator up to six words before it in its clause
    ("not staged", "without changing"), "is not" right after it ("history is not rewritten"), or the
    clause is what "instead of" / "rather than" rejects."""
    boundaries = list(_CLAUSE_END.finditer(text, 0, start))
    left = boundaries[-1].end() if boundaries else 0
    if boundaries and _REJECTING.fullmatch(boundaries[-1].group(0)):
        return True
    before = _WORD.findall(text[left:start])[-6:]
    near = [w in _NEGATORS and not (w == "no" and i + 1 < len(before) and before[i + 1] == "matter") for i, w in enumerate(before)]
    # "without" denies its own object ("without a timeout"); further back it sets a condition: "without a
    # timeout it waits forever" asserts the waiting, and "without a repro you cannot confirm" that a repro
    # confirms (the two negators cancel), so a distant "without" counts only against another negator.
    far = [i for i, w in enumerate(before) if w == "without" and len(before) - i > 3]
    negators = sum(near) - (len(far) if sum(near) == len(far) else 0)
    # A verb that takes away what follows it ("hides the original", "loses the edits") denies it too.
    negators += any(w in _DENYING and nxt not in _PARTICLES for w, nxt in zip(before[-2:], [*before[-1:], ""], strict=False))
    # Two negators cancel: "without a repro you cannot confirm" asserts that a repro confirms.
    return (negators + bool(_NEGATORS_AFTER.match(text[end:]))) % 2 == 1


def _find(text: str, phrases: list[str]) -> list[tuple[int, bool]]:
    """Where any of the phrases occurs: (position, negated) for each occurrence."""
    found = []
    for phrase in phrases:
        for m in _phrase(phrase).finditer(text):
            found.append((m.start(), _negated(text, m.start(), m.end())))
    return sorted(found)


def _numbers(text: str) -> set[str]:
    words = {_NUMBER_WORDS[w] for w in _WORD.findall(text) if w in _NUMBER_WORDS}
    return set(_NUMBER.findall(text)) | words


@dataclass
class _Reading:
    hits: list[str]
    contradicted: list[str]  # negated, or its opposite named
    missing: list[str]
    doubts: list[str]  # reasons the words pull both ways
    wrong: str = ""  # a reason the answer is wrong whatever else it says
    claims: list[str] = field(default_factory=list)  # claim words the reference does not make (a right answer is then unsure)
    same_yes_no: bool = False  # it opens with the reference's own "yes"/"no": not wrong with certainty


def _read(check: Check, answer: str) -> _Reading:
    synonyms, opposites = _lexicon()
    text, ref, question = _normal(answer), _normal(check.expected or ""), _normal(check.question)
    keys = [k.lower() for k in check.keywords]
    reading = _Reading([], [], [], [])
    first: dict[str, int] = {}
    for key in keys:
        names = [key, *synonyms.get(key, [])]
        # The reference's polarity: where it uses the keyword itself, else a synonym; asserted if it uses neither.
        in_ref = _find(ref, [key]) or _find(ref, names)
        polarity = {neg for _, neg in in_ref} or {False}
        said = _find(text, names)
        agree = [pos for pos, neg in said if neg in polarity]
        # Its opposite named (and not also in the reference): a contradiction; the opposite denied: the keyword.
        against = [o for o in opposites.get(key, []) if o not in keys and not _find(ref, [o])]
        opposite = _find(text, against)
        agree += [pos for pos, neg in opposite if neg]
        if agree:
            reading.hits.append(key)
            first[key] = min(agree)
        if (said and not agree) or any(not neg for _, neg in opposite):
            reading.contradicted.append(key)
        elif not agree:
            reading.missing.append(key)
    # A contrast (two keywords that are each other's opposites) needs the reference's order, or it may be swapped.
    for a in keys:
        for b in opposites.get(a, []):
            if b in first and a in first and keys.index(a) < keys.index(b):
                ref_a, ref_b = _find(ref, [a, *synonyms.get(a, [])]), _find(ref, [b, *synonyms.get(b, [])])
                if ref_a and ref_b and (ref_a[0][0] < ref_b[0][0]) != (first[a] < first[b]):
                    reading.doubts.append(f"{a} and {b} may be the wrong way round")
    # A keyword the reference contrasts with its opposite ("kill sends SIGTERM …; SIGKILL stops it") needs the
    # reference's order too: "kill sends SIGKILL and -9 sends SIGTERM" names both the other way round.
    for a in reading.hits:
        for b in opposites.get(a, []):
            # only a plain contrast: each named once in each ("untracked … tracked … untracked" has no one order)
            ref_a, ref_b = _find(ref, [a, *synonyms.get(a, [])]), _find(ref, [b])
            said_a, said_b = _find(text, [a, *synonyms.get(a, [])]), _find(text, [b])
            if (
                b not in keys
                and len(ref_a) == len(ref_b) == len(said_a) == len(said_b) == 1
                and (ref_a[0][0] < ref_b[0][0]) != (said_a[0][0] < said_b[0][0])
            ):
                reading.doubts.append(f"{a} and {b} may be the wrong way round")
    # Roles swapped: where the reference ties its keywords to different terms of the question
    # ("tottime … own code; cumtime … calls"), an answer tying a keyword only to another one
    # ("cumtime is its own code") may have them the wrong way round: only the person can tell.
    ties = {k: _anchors(question, ref, [k, *synonyms.get(k, [])]) for k in keys}
    if all(ties.values()) and len(set().union(*ties.values())) > 1:
        for key in reading.hits:
            said_ties = _anchors(question, text, [key, *synonyms.get(key, [])])
            if said_ties and not said_ties & ties[key]:
                reading.doubts.append(f"it ties {key} to {', '.join(sorted(said_ties))}, the reference to {', '.join(sorted(ties[key]))}")
                break
    numeric = {n for k in keys for n in _numbers(k)}  # a card whose answer is a number: that number
    expected_numbers = numeric or (_numbers(ref) - _numbers(question))
    stray = _numbers(text) - _numbers(ref) - (set() if numeric else _numbers(question))
    if expected_numbers and stray:
        if expected_numbers & _numbers(text):
            reading.doubts.append(f"it names {', '.join(sorted(stray))} besides {', '.join(sorted(expected_numbers))}")
        else:
            reading.wrong = f"the number is {', '.join(sorted(expected_numbers))}, not {', '.join(sorted(stray))}"
    absolute = _ABSOLUTE.search(text)
    if absolute and _CONDITIONAL.search(ref) and not _ABSOLUTE.search(ref) and not re.search(r"\b(?:whenever|forever|never)\b", ref):
        reading.wrong = f'"{absolute.group(0)}" is too strong: it depends (see the expected answer)'
    if _NO_DIFFERENCE.search(text) and not _NO_DIFFERENCE.search(ref):
        reading.wrong = "the answer sees no difference where the expected answer names one"
    said_yn, ref_yn = _YES_NO.match(text), _YES_NO.match(ref)
    if said_yn and ref_yn:
        if (said_yn.group(1) in ("yes", "yep")) != (ref_yn.group(1) in ("yes", "yep")):
            reading.wrong = f'the answer is "{ref_yn.group(1)}"'
        else:
            reading.same_yes_no = True
    # Claim words outside the keywords' own words ("never committed" is a synonym of "untracked").
    spans = [m.span() for k in keys for n in [k, *synonyms.get(k, [])] for m in _phrase(n).finditer(text)]
    context = f"{ref} {question}"
    reading.claims = sorted(
        {
            m.group(0)
            for m in _CLAIMS.finditer(text)
            if not any(a <= m.start() < b for a, b in spans) and not re.search(rf"\b{m.group(0)}\b", context)
        }
    )
    return reading


def _anchors(question: str, text: str, names: list[str]) -> set[str]:
    """For each place `text` names a keyword: the last of the question's own terms before it in the
    same sentence ("tottime" in "tottime is the function's own code")."""
    # Words of four letters and more, and codes of any length: numbers and flags ("401", "-9").
    terms = {w for w in _WORD.findall(question) if (len(w) >= 4 and w not in _STOP) or re.fullmatch(r"-?\w*\d\w*|-\w+", w)}
    out = set()
    for pos, _ in _find(text, names):
        sentence = re.split(r";|\.(?=\s)", text[:pos])[-1]
        before = [w for w in _WORD.findall(sentence) if w in terms and not any(w in n for n in names)]
        if before:
            out.add(before[-1])
    return out


def _overlap(check: Check, answer: str) -> float:
    """Share of the reference's content words (beyond the question's) that the answer uses."""

    def content(text: str) -> set[str]:
        return {_stem(w) for w in _WORD.findall(_normal(text)) if len(w) > 2 and w not in _STOP}

    ref = content(check.expected or "") - content(check.question)
    return len(ref & content(answer)) / len(ref) if ref else 0.0


def blank(answer: str | None) -> bool:
    """No attempt: empty, "I don't know", "?"."""
    return not (answer or "").strip() or bool(_DONT_KNOW.search(answer or ""))


def judge_keywords(check: Check, answer: str) -> Judgement | None:
    """Offline judging against the card's keywords (see the module doc); None when the card has none."""
    if not check.keywords:
        return None
    r = _read(check, answer)
    score = round(len(r.hits) / len(check.keywords), 2)
    expected = f" Expected: {check.expected}" if check.expected else ""
    if r.wrong:
        return Judgement(False, 0.0, f"Not quite: {r.wrong}.", "card")
    if r.contradicted and not r.hits:
        return Judgement(False, 0.0, f"Not quite: your answer says the opposite about {', '.join(r.contradicted)}.{expected if r.same_yes_no else ''}", "card",
                         certain=not r.same_yes_no)  # fmt: skip
    if r.contradicted or r.doubts:
        why = r.doubts or [f"it names {', '.join(r.hits)} but seems to deny {', '.join(r.contradicted)}"]
        return Judgement(score >= 0.5, score, f"The key words cannot tell: {'; '.join(why)}.{expected}", "card", certain=False)
    if not r.hits:
        # the reference's own yes/no ("yes, coverage only tells you …") or much of its wording: the person decides
        unsure = r.same_yes_no or _overlap(check, answer) >= 0.3
        feedback = f"Not quite: the answer turns on {', '.join(check.keywords)}."
        return Judgement(False, 0.0, feedback, "card", certain=not unsure)
    if r.claims:
        # The key ideas are there, but the answer also says what the reference does not: right words about another thing?
        return Judgement(True, score, f"Your answer names the key ideas but also says \"{', '.join(r.claims)}\", which the expected answer "
                         f"does not.{expected}", "card", certain=False)  # fmt: skip
    if r.missing:
        # A terse answer that names a key idea has nothing else in it to contradict the reference;
        # a longer one that misses a keyword may say something else entirely: the person decides.
        terse = len(_WORD.findall(answer)) <= 4
        return Judgement(True, score, f"Right idea; a complete answer also mentions: {', '.join(r.missing)}.{'' if terse else expected}",
                         "card", certain=terse)  # fmt: skip
    return Judgement(True, 1.0, "You named the key ideas.", "card")


def judge_answer(check: Check, answer: str, model) -> Judgement | None:
    """A blank answer is wrong; otherwise the model judges when one is connected (None: judge offline)."""
    if blank(answer):
        return Judgement(False, 0.0, f"No answer given. Expected: {check.expected or 'see the original answer'}", "self")
    return judge_model(check, answer, model) if model.available else None


_TRUE = {"true", "yes", "right", "correct", "1"}
_PARTIAL = {"partial", "partly", "partially", "partly right", "partially correct", "half"}


def _score(value) -> float | None:
    """A score as models write it: 0.5, "0.5", "50%", 50 (of 100), "1/2"; None if unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().rstrip("%")
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            number = float(num) / float(den)
        else:
            number = float(text)
    except (ValueError, ZeroDivisionError):
        return None
    if str(value).strip().endswith("%") or 1 < number <= 100:
        number /= 100
    return min(1.0, max(0.0, number))


def judge_model(check: Check, answer: str, model) -> Judgement | None:
    """The model judges against the expected answer (or the original answer); None if it cannot.

    The score is what counts (1 complete and right, 0.5 partly right, 0 wrong): `correct` is
    score >= 0.5, whatever the model's own `correct` says. A reply with only `correct` gives 1 or 0.
    """
    data = model.json(
        "reflect-judge",
        question=check.question,
        expected=check.expected or "(no reference answer: judge from the source below)",
        source=check.source_answer or "(not kept)",
        answer=answer,
    )
    if data is None:
        return None
    verdict = str(data.get("correct", data.get("verdict", ""))).strip().lower()
    score = _score(data.get("score"))
    if score is None:
        if verdict in _PARTIAL:
            score = 0.5
        elif verdict in _TRUE or verdict == "false" or verdict in {"no", "wrong", "incorrect", "0"}:
            score = 1.0 if verdict in _TRUE else 0.0
        else:
            return None
    return Judgement(score >= 0.5, round(score, 2), str(data.get("feedback") or "").strip(), "model")


def self_judgement(correct: bool, *, overruled: bool = False) -> Judgement:
    """The person's own verdict. Overruling the keyword judge counts as right but not complete
    (Good at best, never Easy): the words the card looks for were missing."""
    score = (0.8 if overruled else 1.0) if correct else 0.0
    return Judgement(correct, score, "Self-assessed against the expected answer.", "self")


def mentioned(terms: list[str], text: str) -> list[str]:
    """The terms `text` mentions (a term's words in order, in any inflection: `_phrase`)."""
    normal = _normal(text or "")
    return [t for t in terms if _phrase(t).search(normal)]


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
