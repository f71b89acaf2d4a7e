"""Answers grounded in the learner's own documents: `ask --docs DIR`, the `docs` setting, `learnflow docs`.

Markdown, plain text and reStructuredText under the given folders are split into passages of a
bounded size (each with its first line), redacted, and indexed with SQLite FTS5 in a file of the
cache folder (db/documents.py). Indexing is incremental: a file is read again only when its
modification time or size changed (a file skipped as too large, binary or not UTF-8 too: it is
remembered with why), files that disappeared are dropped, and so are indexed folders that no longer
exist (at each index and `docs search`). Symlinked folders are followed, each real folder walked
once, and a link to a folder holding the one being walked is not (so a link loop ends). Work and memory stay
bounded whatever the corpus: the walk keeps only (path, mtime, size) per file, files are read one at
a time, and rows are written in batches of `BATCH` files per transaction.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from learnflow import paths
from learnflow.db.documents import DocumentIndex
from learnflow.errors import BadInput

SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".txt", ".text", ".rst", ".rest"})
# Folders never worth walking: version control, dependencies, caches.
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "venv"})
MAX_FILE_BYTES = 4 * 1024 * 1024  # a bigger "text" file is a dump or a log, not documentation
# Why a file is skipped that depends only on its bytes: remembered until its mtime or size change.
# ("unreadable" is not: permissions change without touching either, so it is tried again.)
REMEMBERED = frozenset({"too large", "binary", "not UTF-8"})
MAX_PASSAGE_CHARS = 1200  # about 300 tokens: a few passages fit any context budget
BATCH = 500  # files per transaction: bounded memory, and a Ctrl-C loses one batch at most
PASSAGES = 4  # passages sent to the model with a question

Progress = Callable[[int, int], None]


@dataclass
class Passage:
    path: str  # absolute
    shown: str  # how it is cited: relative to the current folder, or ~/…, else absolute
    line: int
    text: str
    snippet: str
    score: float

    @property
    def cite(self) -> str:
        return f"{self.shown}:{self.line}"


@dataclass
class IndexReport:
    folders: list[str]
    files: int = 0  # documents found under the folders
    indexed: int = 0  # read now (new or changed)
    unchanged: int = 0
    removed: int = 0  # indexed before, gone now
    passages: int = 0  # passages in the index under the folders, after this run
    redacted: int = 0  # secrets replaced in the files read now
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> files (not UTF-8, unreadable, too large, binary, …)
    skipped_now: dict[str, int] = field(default_factory=dict)  # of those, read (and found wanting) in this run
    skipped_files: list[dict] = field(default_factory=list)  # the first few, {path, reason}, to show
    dropped: list[str] = field(default_factory=list)  # folders indexed before that no longer exist: dropped
    seconds: float = 0.0
    index: str = ""  # the index file


@dataclass
class Grounding:
    """What `ask` found in the learner's documents for one question."""

    folders: list[str]
    passages: list[Passage]
    report: IndexReport
    missing: list[str] = field(default_factory=list)  # folders of the docs setting not found: skipped

    @property
    def matched(self) -> bool:
        return bool(self.passages)


def index_path() -> Path:
    return paths.cache_dir() / "documents.db"


def open_index() -> DocumentIndex:
    path = index_path()
    paths.ensure_private_dir(path.parent)
    return DocumentIndex(path)


def folders_from(
    given: Iterable[str] | None,
    configured: Iterable[str] | None = None,
    *,
    source: str = "--docs",
    missing: list[str] | None = None,
) -> list[Path]:
    """The folders to index and search: those given (`source`: `--docs`, `docs index DIR`), else
    the `docs` setting.

    A given folder that does not exist is an error naming where it came from, never an empty answer.
    A folder of the setting that is gone (an unmounted share, a moved checkout) is put in `missing`
    and skipped, when the caller passes that list to report it: it must not fail every question."""
    given = list(given or [])
    if any(not g.strip() for g in given):
        raise BadInput(f"An empty folder name was given to {source}.", hint="Give the folder that holds your documents, e.g. ~/notes.")
    out: list[Path] = []
    for raw in given or configured or []:
        folder = Path(os.path.expanduser(raw))
        if not given and not folder.is_absolute():
            # `config set` stores absolute paths; a hand-written relative one is read like content_paths.
            folder = paths.config_path().parent / folder
        origin = source if given else "the docs setting"
        if not folder.is_dir() and not given and missing is not None:
            missing.append(raw)
            continue
        if not folder.exists():
            hint = "Check the path." if given else "Fix it with `learnflow config set docs …` or `learnflow config unset docs`."
            raise BadInput(f"Documents folder not found: {raw} (from {origin}).", hint=hint)
        if not folder.is_dir():
            raise BadInput(f"{raw} (from {origin}) is a file, not a folder.", hint="Give the folder that holds your documents.")
        resolved = folder.resolve()
        if resolved not in out:
            out.append(resolved)
    return out


# -- walking -----------------------------------------------------------------------------------


def walk(root: Path, errors: Counter) -> Iterator[tuple[str, int, int]]:
    """(path, mtime_ns, size) of every document under `root`, hidden folders and files left out.

    os.scandir gives the stat of each entry cheaply: a walk of 10,000 unchanged files is what
    makes a re-index take well under a second. A symlinked folder is followed, its files cited under
    the link; each real folder is walked once (by device and inode), and a link to a folder that
    holds `root` is not followed, so the walk ends and stays within what the links point at."""
    root_real = os.path.realpath(root)
    seen: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                continue  # reached twice (through a link): walked once
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name not in SKIP_DIRS:
                                stack.append(entry.path)
                        elif entry.is_symlink() and entry.is_dir():
                            if entry.name in SKIP_DIRS:
                                continue
                            target = os.path.realpath(entry.path)
                            if root_real == target or root_real.startswith(target.rstrip(os.sep) + os.sep):
                                errors["link to a folder above"] += 1
                            else:
                                stack.append(entry.path)
                        elif os.path.splitext(entry.name)[1].lower() in SUFFIXES:
                            if entry.is_file():
                                st = entry.stat()
                                yield entry.path, st.st_mtime_ns, st.st_size
                            elif entry.is_symlink() and not os.path.exists(entry.path):
                                errors["broken link"] += 1
                    except OSError:
                        errors["unreadable"] += 1
        except OSError:
            if folder == str(root):
                raise BadInput(f"Cannot read the documents folder {root}.", hint="Check its permissions.") from None
            errors["unreadable folder"] += 1


# -- splitting ---------------------------------------------------------------------------------


def split(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[tuple[int, str]]:
    """(first line, text) passages: paragraphs gathered up to `max_chars`, a new passage at each
    heading, an over-long paragraph cut at line ends (and an over-long line at `max_chars`)."""
    out: list[tuple[int, str]] = []
    start, size = 0, 0
    buf: list[str] = []

    def flush() -> None:
        nonlocal buf, size
        body = "\n".join(buf).strip("\n")
        if body.strip():
            out.append((start, body))
        buf, size = [], 0

    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > max_chars:  # a minified line: pieces of it, each cited at its line
            flush()
            for i in range(0, len(line), max_chars):
                out.append((number, line[i : i + max_chars]))
            continue
        # A Markdown heading starts a passage: a passage then reads as one section.
        if (line.startswith("#") and buf) or size + len(line) + 1 > max_chars:
            flush()
        if not buf:
            if not line.strip():
                continue
            start = number
        buf.append(line)
        size += len(line) + 1
    flush()
    return out


def _passages(original: str, redacted: str) -> list[tuple[int, str]]:
    """Passages of the redacted text, cited at their lines in the original.

    Redaction runs on the whole file (a private key's block must be seen whole to be caught) and may
    fold a block of lines into one placeholder; the lines after it are then mapped back through the
    lines both texts share, so `file:line` still points where the learner will look."""
    passages = split(redacted)
    if redacted.count("\n") == original.count("\n"):
        return passages
    import difflib

    before, after = original.splitlines(), redacted.splitlines()
    where: dict[int, int] = {}
    for block in difflib.SequenceMatcher(None, before, after, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            where[block.b + k + 1] = block.a + k + 1
    fixed, last = [], 0
    for line, body in passages:
        last = where.get(line, last + 1)
        fixed.append((last, body))
    return fixed


def _read(path: str) -> tuple[str | None, str]:
    """The file's text, or None and why it is skipped."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None, "unreadable"
    if len(raw) > MAX_FILE_BYTES:
        return None, "too large"
    if b"\x00" in raw[:8192]:
        return None, "binary"
    try:
        return raw.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        return None, "not UTF-8"


# -- indexing ----------------------------------------------------------------------------------


def index(folders: list[Path], *, progress: Progress | None = None, db: DocumentIndex | None = None) -> IndexReport:
    """Bring the index up to date with `folders`: new and changed files read, vanished ones dropped,
    and every indexed folder that no longer exists dropped whole (`prune`)."""
    from learnflow.redact import redact

    started = time.perf_counter()
    own = db is None
    db = db or open_index()
    report = IndexReport(folders=[str(f) for f in folders], index=str(db.path))
    errors: Counter[str] = Counter()
    now: Counter[str] = Counter()

    def skip(path: str, why: str) -> None:
        errors[why] += 1
        if len(report.skipped_files) < 20:
            report.skipped_files.append({"path": path, "reason": why})

    try:
        report.dropped = prune(db)
        todo: list[tuple[str, int, int]] = []
        gone: list[str] = []
        for root in folders:
            known = db.known(str(root))
            seen = set()
            for path, mtime, size in walk(root, errors):
                if path in seen:
                    continue
                seen.add(path)
                report.files += 1
                old = known.get(path)
                if old is not None and old[:2] == (mtime, size):
                    if old[2]:
                        skip(path, old[2])  # skipped before and unchanged: not read, not warned about again
                    else:
                        report.unchanged += 1
                else:
                    todo.append((path, mtime, size))
            gone += [p for p in known if p not in seen]
        total = len(todo)
        db.begin()
        try:
            db.add_roots(report.folders)
            if gone:
                db.remove_files(gone)
                report.removed = len(gone)
            for done, (path, mtime, size) in enumerate(todo, 1):
                # The size from the walk is enough to skip a huge file without reading 4 MB of it.
                text, why = (None, "too large") if size > MAX_FILE_BYTES else _read(path)
                if text is None:
                    skip(path, why)
                    now[why] += 1
                    if why in REMEMBERED:
                        db.put_file(path, mtime, size, [], 0, skipped=why)  # no passages: its old text is never cited
                    else:
                        db.remove_files([path])  # indexed before, unreadable now: its old text must not be cited
                else:
                    found = redact(text)
                    report.redacted += sum(found.counts.values())
                    db.put_file(path, mtime, size, _passages(text, found.text), sum(found.counts.values()))
                    report.indexed += 1
                if done % BATCH == 0:
                    db.commit()
                    db.begin()
                if progress and (done % 100 == 0 or done == total):
                    progress(done, total)
            db.commit()
        except BaseException:
            db.rollback()
            raise
        report.passages = db.counts(report.folders)[1]
    finally:
        if own:
            db.close()
    report.skipped = dict(errors)
    report.skipped_now = dict(now)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def prune(db: DocumentIndex | None = None) -> list[str]:
    """Drop every indexed folder that no longer exists (deleted, moved, unmounted), with its files:
    notes the learner deleted must not stay searchable. Returns the folders dropped."""
    own = db is None
    db = db or open_index()
    try:
        gone = [root for root in db.roots() if not os.path.isdir(root)]
        if gone:
            db.begin()
            try:
                for root in gone:
                    db.drop_root(root)
                db.commit()
            except BaseException:
                db.rollback()
                raise
    finally:
        if own:
            db.close()
    return gone


# -- searching ---------------------------------------------------------------------------------


def match_expression(query: str) -> str | None:
    """The FTS5 expression for a question: its content words, any of them (BM25 ranks)."""
    from learnflow.db.search import fts_query
    from learnflow.learner.repeats import STOP

    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1 and w not in STOP]
    return fts_query(" ".join(words), any_word=True) if words else None


def search(query: str, folders: list[Path] | None = None, *, limit: int = PASSAGES, db: DocumentIndex | None = None) -> list[Passage]:
    """The best passages for `query` under `folders` (all indexed folders when None), best first."""
    match = match_expression(query)
    if match is None:
        return []
    own = db is None
    db = db or open_index()
    roots = [str(f) for f in folders] if folders is not None else None
    try:
        for _ in range(3):
            hits = db.search(match, roots, limit=limit)
            # A file deleted since it was indexed is never shown: dropped now, the search run again.
            gone = sorted({h.path for h in hits if not os.path.isfile(h.path)})
            if not gone:
                break
            db.begin()
            try:
                db.remove_files(gone)
                db.commit()
            except BaseException:
                db.rollback()
                raise
        hits = [h for h in hits if h.path not in gone]
    finally:
        if own:
            db.close()
    return [Passage(h.path, shown_path(h.path), h.line, h.text, h.snippet, round(h.score, 3)) for h in hits]


def shown_path(path: str) -> str:
    """A path as a person types it: relative under the current folder, `~/…` under home."""
    try:
        cwd = os.getcwd()
        if path.startswith(cwd + os.sep):
            return os.path.relpath(path, cwd)
    except OSError:
        pass
    home = os.path.expanduser("~")
    if home not in ("", "/") and path.startswith(home + os.sep):
        return "~" + path[len(home) :]
    return path


def ground(question: str, folders: list[Path], *, progress: Progress | None = None) -> Grounding:
    """Index `folders` (incrementally) and find the passages that best answer `question`."""
    db = open_index()
    try:
        report = index(folders, progress=progress, db=db)
        passages = search(question, folders, db=db)
    finally:
        db.close()
    return Grounding([str(f) for f in folders], passages, report)
