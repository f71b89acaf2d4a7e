"""Knowledge behind the offline coach: skill cards, their retrieval, local docs.

Cards are bundled TOML (`learnflow/data/cards/*.toml`). Ranking uses SQLite
FTS5's BM25 in an in-memory database built per process (about a hundred
short documents: a few milliseconds), boosted by the question's skill tags.
No search library is needed for that: SQLite is already here.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from learnflow.db import search
from learnflow.db.search import fts_query
from learnflow.learner.cards import Card, load_cards


@lru_cache(maxsize=1)
def _index():
    return search.card_index(load_cards())


# Words too common in questions to say anything about which card fits.
STOPWORDS = frozenset(
    "how what why when where which who does do did can could should would the and for with this that "
    "there their they them you your yours have has had not but are was were been being into from about "
    "get got make use using want need way just like some any all its it's i'm i've don't doesn't isn't "
    "my me our ours his her him she he we us".split()
)


def rank_cards(question: str, skills: Sequence[str] = (), *, limit: int = 3) -> list[tuple[Card, float]]:
    """Cards by BM25 (title and keywords weigh most), boosted when the skill matches."""
    words = [w for w in re.findall(r"[\w-]+", question.lower()) if w not in STOPWORDS and len(w) > 1]
    match = fts_query(" ".join(words).replace("-", " "), any_word=True)
    if match is None:
        return []
    cards = load_cards()
    rows = search.card_scores(_index(), match)
    scored = []
    for rowid, score in rows:
        card = cards[rowid]
        if card.skill in skills:
            # Skill tags come from the whole question and context: a strong prior.
            score *= 1.5 if card.skill == (skills[0] if skills else None) else 1.2
        scored.append((card, round(score, 4)))
    scored.sort(key=lambda cs: (-cs[1], cs[0].id))
    return scored[:limit]


# -- how well the best guide fits -------------------------------------------------------------
#
# BM25 always ranks *some* card first, so its rank alone cannot say "none of these". The fit is
# the share of the question's key terms (weighted by how rare each is among the cards, so that a
# term no card knows weighs most) that the card's text covers. A keyword phrase of the card found
# verbatim in the question, and the question's first skill tag being the card's skill, add to it;
# a card of a skill the question is not tagged with loses. Tuned on bench/coach/tuning.jsonl only
# (a grid over these constants; counting title and keywords above the text did no better).

FIT_THRESHOLD = 0.65
PHRASE_BONUS = 0.1
SKILL_BONUS = 0.1
SKILL_PENALTY = 0.3
CANDIDATES = 5
# A runner-up this close in fit and in BM25 makes the first card a coin toss: no guide is presented
# as the answer, both are named. Chosen on the tuning split after the first held-out set showed
# BM25's first card wrong more often there than in tuning (bench/coach/README.md, steps 3-6).
AMBIGUOUS_FIT = 0.15
AMBIGUOUS_BM25 = 0.93

# Words that say what kind of question it is, not what it is about.
GENERIC = frozenset(
    "a an the of in on at to by as is be or if it its so up out off no yes via per than then "
    "error errors fix fixed fixing problem issue issues help wrong works working work worked fails failed failing "
    "fail why way best better correct right properly instead also still just only really actually something thing "
    "things anything everything one two three new old want wanted trying tried try show shows see seen look "
    "mean means meaning say says said tell explain example simple easy quick quickly possible able "
    "difference between vs versus should would could can may might must will shall let lets "
    "here now again ever never always every each other another same different first next "
    "do does did done doing go going gone got getting give gives given take takes put puts "
    "after before while until since during without within into onto over under more most less least "
    "very too much many lot lots bit enough yet already even though although because else "
    "maybe anymore someone somebody thanks please".split()
)
# The language or platform a question names is the skill tag's business (SKILL_BONUS / PENALTY);
# as a term it would make every guide that never says "python" look like a worse fit.
PLATFORM = frozenset("python python3 bash shell zsh git sql javascript js node linux unix ubuntu debian macos mac windows terminal".split())
# The key terms' total weight counts as at least this much, so that one common word matched
# ("file") is not a whole fit. About one word that a single card knows.
MIN_WEIGHT = 7.0


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """A light, consistent stemmer: the plural, -ing, -ed and a final e go, so that "duplicates",
    "duplicated" and "duplicate" meet (FTS5's Porter stemmer is not callable from Python)."""
    w = word.lower()
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("es") and w[:-2].endswith(("s", "x", "z", "ch", "sh")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # running → run
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def _terms(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS]


class _Vocab:
    """The stemmed terms of each card (title, keywords, concept, commands, pitfalls) and their rarity."""

    def __init__(self, terms: list[frozenset[str]]):
        self.terms = terms
        df: dict[str, int] = {}
        for card_terms in terms:
            for t in card_terms:
                df[t] = df.get(t, 0) + 1
        n = len(terms)
        self.idf = {t: math.log((n + 1) / (d + 0.5)) for t, d in df.items()}
        self.unknown_idf = math.log((n + 1) / 0.5)
        self.phrases = [tuple(k for k in c.keywords if " " in k or not k.isalpha()) for c in load_cards()]

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unknown_idf)


def _card_terms(c: Card) -> frozenset[str]:
    text = " ".join([c.title, *c.keywords, c.concept, *(cmd.get("cmd", "") + " " + cmd.get("what", "") for cmd in c.commands), *c.pitfalls])
    return frozenset(map(_stem, set(_terms(text))))


# Bump when _stem, _terms or _card_terms change: the cached terms were made by them.
VOCAB_VERSION = 1


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    """Stemming every card costs ~15 ms a process; the result is cached beside the cards' own cache."""
    from learnflow.filecache import cached
    from learnflow.learner.cards import cache_name, card_sources

    cards = load_cards()
    terms = cached(cache_name("coach-terms"), card_sources(), lambda: [sorted(_card_terms(c)) for c in cards], version=VOCAB_VERSION)
    return _Vocab([frozenset(t) for t in terms])


@dataclass
class Fit:
    """How well the best guide fits a question; `card` is set only when it fits well enough."""

    card: Card | None
    score: float
    best: Card | None = None
    others: list[Card] = field(default_factory=list)  # next candidates that fit too, best first
    missing: list[str] = field(default_factory=list)  # the question's key terms the best card lacks
    rival: Card | None = None  # a runner-up too close to tell apart: then no card is the answer

    @property
    def matched(self) -> bool:
        return self.card is not None


def key_terms(question: str) -> list[str]:
    """The question's words that say what it is about, stemmed, in order, without repeats. Numbers
    (versions, sizes, line numbers) say nothing about which guide fits, unless a guide knows them (429)."""
    vocab = _vocab()
    out = []
    for w in _terms(question):
        if w in GENERIC or w in PLATFORM or len(w) < 2:
            continue
        t = _stem(w)
        if any(ch.isdigit() for ch in t) and t not in vocab.idf:
            continue
        out.append(t)
    return list(dict.fromkeys(out))


def fit_score(question: str, index: int, skills: Sequence[str] = ()) -> tuple[float, list[str]]:
    """(fit of card `index` to `question`, roughly 0..1.25; the key terms the card does not cover)."""
    vocab = _vocab()
    terms = key_terms(question)
    if not terms:
        return 0.0, []
    total = covered = 0.0
    missing = []
    for t in terms:
        w = vocab.weight(t)
        total += w
        if t in vocab.terms[index]:
            covered += w
        else:
            missing.append(t)
    score = covered / max(total, MIN_WEIGHT)
    low = " ".join(question.lower().split())
    if any(_has_phrase(low, p) for p in vocab.phrases[index]):
        score += PHRASE_BONUS
    card = load_cards()[index]
    tagged = [s for s in skills if s != "general"]
    if tagged and card.skill == tagged[0]:
        score += SKILL_BONUS
    elif tagged and card.skill not in tagged:
        score -= SKILL_PENALTY
    return round(score, 4), missing


def _has_phrase(haystack: str, phrase: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(phrase) + r"(?![\w])", haystack) is not None


def best_fit(question: str, skills: Sequence[str] = (), *, threshold: float | None = None) -> Fit:
    """The guide that answers `question`, or none. BM25 (with the skill prior) ranks; the fit of
    its first card decides whether that card is *the* answer. Re-ranking the candidates by fit
    picked wrong cards more often than BM25 did (bench/bench_coach.py, tuning split)."""
    cutoff = FIT_THRESHOLD if threshold is None else threshold
    cards = load_cards()
    position = {id(c): i for i, c in enumerate(cards)}
    ranked = rank_cards(question, skills, limit=CANDIDATES)
    if not ranked:
        return Fit(None, 0.0)
    fits = [(card, bm25, *fit_score(question, position[id(card)], skills)) for card, bm25 in ranked]
    best, top_bm25, score, missing = fits[0]
    others = [c for c, _, sc, _ in fits[1:] if sc >= cutoff]
    rival = next((c for c, b, sc, _ in fits[1:3] if sc >= score - AMBIGUOUS_FIT and b >= AMBIGUOUS_BM25 * top_bm25), None)
    chosen = best if score >= cutoff and rival is None else None
    return Fit(chosen, score, best, others, missing, rival)


def retrieval_text(question: str, context: str = "") -> str:
    """What guides are matched on: the question, plus the error lines of piped output (a bare
    "what does this mean?" says nothing; the traceback's last line says everything)."""
    if not context:
        return question
    return " ".join([question, *(line for line, _ in explain_errors(context))])


def choose(question: str, context: str = "", skills: Sequence[str] | None = None) -> Fit:
    """The offline coach's decision for one question, as `ask -m offline` makes it."""
    if skills is None:
        from learnflow.learner.skills import tag_offline

        skills = [t.skill for t in tag_offline(question, context)]
    return best_fit(retrieval_text(question, context), skills)


# Commands whose help we may run: well-known tools that treat --help / -h as read-only.
HELP_SAFE = frozenset(
    "git docker kubectl pip pip3 python python3 npm npx node grep sed awk find tar curl wget ssh scp rsync "
    "psql sqlite3 make pytest jq ls cp mv rm chmod chown ps kill df du top systemctl journalctl "
    "helm terraform aws gcloud az xargs sort uniq cut tr head tail diff patch ln "
    "crontab gzip gunzip zip unzip ss lsof dig jq tmux ffmpeg pandoc split date vim nano less".split()
)


def local_help_enabled() -> bool:
    """`--help` / `man` excerpts cost a subprocess (a few ms, at most the timeout); LEARNFLOW_OFFLINE_HELP=0 skips them."""
    return os.environ.get("LEARNFLOW_OFFLINE_HELP", "1").strip().lower() not in {"0", "no", "false", "off"}


def local_help(sources: list[str], focus: str, *, timeout: float = 1.0, max_lines: int = 8) -> tuple[str, str] | None:
    """Run `CMD --help` (or `git SUB -h`) for the first known tool named in `sources`.

    `sources` are tried in order (e.g. the best card's command, then the
    question). Only a fixed allowlist of commands, only the help flag, no
    stdin, a timeout: it must be safe to run whatever the question says.
    Returns (command line, the help lines most relevant to `focus`).
    """
    focus_words = [w.lower() for w in re.findall(r"-*[A-Za-z][\w-]*", focus)]
    focus_words += ["directory" for w in focus_words if w in ("folder", "folders")][:1]  # help texts say directory
    for source in sources:
        found = _help_of(source, focus_words, timeout, max_lines)
        if found:
            return found
    return None


def _help_of(source: str, focus_words: list[str], timeout: float, max_lines: int) -> tuple[str, str] | None:
    lowered = [w.lower() for w in re.findall(r"[A-Za-z][\w.+-]*", source)]
    for i, w in enumerate(lowered):
        if w not in HELP_SAFE or not shutil.which(w):
            continue
        argv = [w, "--help"]
        if w == "git" and i + 1 < len(lowered) and re.fullmatch(r"[a-z-]+", lowered[i + 1]):
            argv = ["git", lowered[i + 1], "-h"]  # `git help x` would open a pager/man page
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "GIT_PAGER": "cat", "PAGER": "cat"},
            )
        except (OSError, subprocess.SubprocessError):
            continue
        text = (proc.stdout or proc.stderr or "").strip()
        if not text or ("not a git command" in text):
            found = _man_of(w, focus_words, timeout, max_lines)
            if found:
                return found
            continue
        return " ".join(argv), _relevant_lines(text, focus_words, max_lines)
    return None


def _man_of(tool: str, focus_words: list[str], timeout: float, max_lines: int) -> tuple[str, str] | None:
    """The man page's lines most relevant to `focus`, for an allowlisted tool without `--help`."""
    if not shutil.which("man"):
        return None
    try:
        proc = subprocess.run(
            ["man", "-P", "cat", tool],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = re.sub(r".\x08", "", proc.stdout or "").strip()  # overstrike bold/underline
    if proc.returncode != 0 or not text:
        return None
    return f"man {tool}", _relevant_lines(text, focus_words, max_lines)


# Modules whose import does something besides defining names (opens a browser, prints, draws).
PYDOC_DENY = frozenset("antigravity this turtle turtledemo tkinter idlelib webbrowser __hello__ __phello__ pydoc_data".split())
_PY_NAME = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?(?![\w])")


def python_doc(text: str, *, max_lines: int = 6) -> tuple[str, str] | None:
    """The first paragraph of the documentation of a Python name in `text`: a standard-library
    module or one of its attributes (`json.dumps`, `asyncio.gather`), a builtin (`sorted`,
    `KeyError`) or a builtin type's method (`dict.get`). Only standard-library modules are
    imported, so nothing from the question runs; None when nothing documented is named."""
    import builtins
    import importlib
    import inspect
    import sys

    for m in _PY_NAME.finditer(text):
        head, attr = m.group(1), m.group(2)
        obj, name = None, ""
        try:
            if head in sys.stdlib_module_names and head not in PYDOC_DENY and not head.startswith("_"):
                module = importlib.import_module(head)
                obj, name = (getattr(module, attr, None), f"{head}.{attr}") if attr else (module, head)
                if attr and obj is None:
                    obj, name = module, head
            elif hasattr(builtins, head) and not head.startswith("_") and (attr or _looks_like_python(head, text)):
                obj, name = getattr(builtins, head), head
                if attr:
                    obj, name = (getattr(obj, attr, None), f"{head}.{attr}")
        except Exception:  # an import can fail in many ways (missing C library…): then no doc
            continue
        doc = inspect.getdoc(obj) if obj is not None else None
        if doc:
            paragraph = doc.strip().split("\n\n")[0]
            return name, "\n".join(paragraph.splitlines()[:max_lines])
    return None


def _looks_like_python(name: str, text: str) -> bool:
    """A bare builtin name counts when it is an exception (KeyError) or written as a call (`sorted(`):
    "set", "list" or "type" as English words say nothing about Python."""
    return name.endswith(("Error", "Exception", "Warning")) or re.search(re.escape(name) + r"\(", text) is not None


def _relevant_lines(text: str, words: list[str], max_lines: int) -> str:
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    keep = [lines[0]]  # the usage line
    wanted = {w.lstrip("-") for w in words if len(w.lstrip("-")) > 2 and w.lstrip("-") not in STOPWORDS}
    for ln in lines[1:]:
        low = ln.lower()
        if any(re.search(r"(?<![\w])-*" + re.escape(w) + r"(?![\w])", low) for w in wanted):
            keep.append(ln)
        if len(keep) >= max_lines:
            break
    if len(keep) == 1:
        keep = lines[:max_lines]
    return "\n".join(keep)


# Error shapes common enough to explain without a model: (pattern, explanation template).
# The template may use the pattern's named groups.
ERROR_EXPLAINERS: tuple[tuple[str, str], ...] = (
    (r"ModuleNotFoundError: No module named '(?P<mod>[\w.]+)'",
     "Python cannot import `{mod}`: it is not installed for the interpreter that ran the code, or the name "
     "is misspelt. Check with `python -m pip show {top}`; install with `python -m pip install <package>` "
     "(the PyPI name can differ from the import name)."),
    (r"ImportError: cannot import name '(?P<name>\w+)' from '(?P<mod>[\w.]+)'",
     "`{mod}` was found but has no `{name}`: a version mismatch, a typo, or a circular import."),
    (r"(?P<cmd>[\w./-]+): command not found",
     "The shell found no program called `{cmd}` on your PATH: install it, fix the spelling, or use its full path."),
    (r"No such file or directory(?:: '(?P<path>[^']+)')?",
     "A path the command needed does not exist{path_note}: check the current directory (`pwd`) and the spelling."),
    (r"[Pp]ermission denied",
     "The operating system refused access: check the file's owner and mode (`ls -l`), or whether it must be executable (`chmod +x`)."),
    (r"[Cc]onnection refused",
     "Nothing is listening at that address and port: is the server running, and on which port (`ss -ltnp`)?"),
    (r"[Aa]ddress already in use",
     "Another process already listens on that port: find it with `ss -ltnp` and stop it, or pick another port."),
    (r"SyntaxError: (?P<msg>.+)",
     "Python could not parse the code ({msg}): look at the line shown and the one before it (an unclosed bracket or quote)."),
    (r"CONFLICT \((?P<kind>[\w/ ]+)\): .*",
     "Git could not merge automatically: edit the conflicted files, `git add` them, then continue (`git merge --continue` / `git rebase --continue`)."),
    (r"(?P<n>\d+) failed",
     "{n} test(s) failed: read the first failure's assertion and the values it compared."),
    (r"KeyError: (?P<key>'[^']*'|\"[^\"]*\"|\S+)",
     "The mapping being read has no key {key}: it was never set, or is spelt differently; where a missing "
     "key is normal, read it with `.get(key, default)`.{env_note}"),
    (r"TypeError: unhashable type: '(?P<t>\w+)'",
     "A `{t}` was used as a dict key or set member. It is mutable, so it has no hash: use an immutable "
     "equivalent (a tuple for a list, a frozenset for a set)."),
    (r"AttributeError: 'NoneType' object has no attribute '(?P<attr>\w+)'",
     "The value whose `.{attr}` was read is None: something returned nothing (a function without `return`, "
     "a search that found no match). Trace where that value came from."),
    (r"NameError: name '(?P<name>\w+)' is not defined",
     "`{name}` is used before it is assigned or imported here, or is misspelt."),
    (r"IndexError: (?P<what>\w+) index out of range",
     "An index past the end of the {what}: it is shorter than the code assumes (an empty result?)."),
    (r"fatal: refusing to merge unrelated histories",
     "The two branches share no commit (often a repository initialised twice, e.g. locally and on the host). "
     "`--allow-unrelated-histories` joins them, if that is really what you want."),
    (r"[Ss]egmentation fault",
     "The program read or wrote memory it may not: a crash in native code (C, C++, an extension module), "
     "not an error your code raised. A debugger (`gdb`, or `python -X faulthandler`) shows where."),
    (r"not in gzip format",
     "The file is not gzip-compressed (a plain tar, or an error page saved under that name): check with `file NAME`, "
     "and drop `-z` for a plain tar."),
    (r"ERESOLVE",
     "npm found no set of versions that satisfies every package's peer dependencies: read which package wants which "
     "version, then align them (or, knowingly, `--legacy-peer-deps`)."),
)  # fmt: skip

_ERROR_LINE = re.compile(
    r"(error|exception|fatal|failed|denied|not found|refused|traceback|conflict|fault|not in gzip format|ERESOLVE)", re.I
)


def _env_note(key: str, text: str) -> str:
    """For a KeyError on what looks like an environment variable: say that it is unset."""
    name = key.strip("'\"")
    if not name or not (re.fullmatch(r"[A-Z][A-Z0-9_]+", name) or re.search(r"os\.environ|getenv", text)):
        return ""
    return (f" If it is read from `os.environ`, the environment variable `{name}` is not set where the program runs: "
            f"set it (`export {name}=...`) or use `os.environ.get('{name}', default)`.")  # fmt: skip


def explain_errors(text: str, *, limit: int = 2) -> list[tuple[str, str]]:
    """The error lines in `text` worth quoting, each with an explanation when we know one.

    Scans from the end: the last error is usually the one that matters.
    """
    out: list[tuple[str, str]] = []
    seen = set()
    for line in reversed(text.splitlines()[-400:]):
        line = line.strip()
        if not line or not _ERROR_LINE.search(line) or line in seen:
            continue
        seen.add(line)
        explanation = ""
        for pattern, template in ERROR_EXPLAINERS:
            m = re.search(pattern, line)
            if m:
                groups = {k: v or "" for k, v in m.groupdict().items()}
                groups["top"] = groups.get("mod", "").split(".")[0]
                groups["path_note"] = f" (`{groups['path']}`)" if groups.get("path") else ""
                groups["env_note"] = _env_note(groups.get("key", ""), text)
                explanation = template.format(**groups)
                break
        if explanation or not out:
            out.append((line[:300], explanation))
        if len(out) >= limit:
            break
    return out


# -- the learner's own documents (`ask --docs`) -----------------------------------------------

NO_DOCUMENT = "**No document matched** this question in your documents, so none is quoted."
QUOTE_LINES = 12  # of the best passage: enough to answer from, short enough to read at a glance


def document_section(documents: list[dict], searched: bool) -> str | None:
    """The best passage of the learner's documents, quoted under its `file:line`; or the plain
    statement that none matched (when documents were searched); or None (when they were not)."""
    if not searched:
        return None
    if not documents:
        return NO_DOCUMENT
    best = documents[0]
    lines = best["text"].splitlines()
    quoted = "\n".join(f"> {ln}" if ln.strip() else ">" for ln in lines[:QUOTE_LINES])
    more = "\n>\n> …" if len(lines) > QUOTE_LINES else ""
    others = [d["cite"] for d in documents[1:3]]
    also = f"\n\nAlso in your documents: {', '.join(f'`{c}`' for c in others)}." if others else ""
    return f"**From your documents** (`{best['cite']}`):\n\n{quoted}{more}{also}"
