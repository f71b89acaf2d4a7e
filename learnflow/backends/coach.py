"""Knowledge behind the offline coach: skill cards, their retrieval, local docs.

Cards are bundled TOML (`learnflow/data/cards/*.toml`). Ranking uses SQLite
FTS5's BM25 in an in-memory database built per process (about a hundred
short documents: a few milliseconds), boosted by the question's skill tags.
No search library is needed for that: SQLite is already here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
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


# Commands whose help we may run: well-known tools that treat --help / -h as read-only.
HELP_SAFE = frozenset(
    "git docker kubectl pip pip3 python python3 npm npx node grep sed awk find tar curl wget ssh scp rsync "
    "psql sqlite3 make pytest jq ls cp mv rm chmod chown ps kill df du top systemctl journalctl "
    "helm terraform aws gcloud az xargs sort uniq cut tr head tail diff patch ln".split()
)


def local_help(sources: list[str], focus: str, *, timeout: float = 2.0, max_lines: int = 8) -> tuple[str, str] | None:
    """Run `CMD --help` (or `git SUB -h`) for the first known tool named in `sources`.

    `sources` are tried in order (e.g. the best card's command, then the
    question). Only a fixed allowlist of commands, only the help flag, no
    stdin, a timeout: it must be safe to run whatever the question says.
    Returns (command line, the help lines most relevant to `focus`).
    """
    focus_words = [w.lower() for w in re.findall(r"-*[A-Za-z][\w-]*", focus)]
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
            continue
        return " ".join(argv), _relevant_lines(text, focus_words, max_lines)
    return None


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
)  # fmt: skip

_ERROR_LINE = re.compile(r"(error|exception|fatal|failed|denied|not found|refused|traceback|conflict)", re.I)


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
                explanation = template.format(**groups)
                break
        if explanation or not out:
            out.append((line[:300], explanation))
        if len(out) >= limit:
            break
    return out
