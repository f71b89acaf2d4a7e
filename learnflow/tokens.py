"""Token counting with tiktoken, offline.

tiktoken downloads its encoding files on first use, which fails without
internet. learnflow ships OpenAI's o200k_base file in learnflow/data/tiktoken/
(MIT, byte for byte the published file) and builds the encoding from it with
tiktoken's public `Encoding` constructor: no network, and no reaching into
another package's private folders.

Should the encoding still fail to load (a damaged install), counts fall back to
an estimate of 4 characters a token, never silently: a `TokenizerFallback`
warning is issued and `fallback_reason()` says why (`learnflow doctor` shows it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

ENCODING = "o200k_base"
ENCODING_FILE = Path(__file__).resolve().parent / "data" / "tiktoken" / f"{ENCODING}.tiktoken"
# The hash tiktoken itself checks for the published o200k_base file.
ENCODING_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# tiktoken defines these inside its o200k_base() constructor, together with the
# download, so they are copied here; tests/test_tokens.py fails if tiktoken's differ.
_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_SPECIAL_TOKENS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}


class TokenizerFallback(RuntimeWarning):
    """Token counts are estimates (4 characters a token): the encoding could not be loaded."""


_fallback_reason: str | None = None


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding | None:
    """The o200k_base encoding, built once from the shipped file.

    None when it cannot be built; a `TokenizerFallback` warning then says why,
    and so does `fallback_reason()`.
    """
    global _fallback_reason
    _fallback_reason = None
    try:
        return _load(ENCODING_FILE)
    except Exception as exc:  # any failure here only costs precision: counting goes on, estimated
        import warnings

        _fallback_reason = f"cannot load the {ENCODING} encoding from {ENCODING_FILE}: {exc}"
        warnings.warn(f"{_fallback_reason}; token counts are estimated at 4 characters a token", TokenizerFallback, stacklevel=2)
        return None


def fallback_reason() -> str | None:
    """Why token counts are estimates, or None when the real encoding is in use (loads it)."""
    encoding()
    return _fallback_reason


def _load(path: Path) -> tiktoken.Encoding:
    import base64
    import hashlib

    import tiktoken

    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != ENCODING_SHA256:
        raise ValueError("the file is damaged (its sha256 is not the published one)")
    # tiktoken.load.load_tiktoken_bpe parses this format too, but it also copies every
    # file it reads into its download cache (a second 3.6 MB in the temp folder), and it
    # raises when a user-set TIKTOKEN_CACHE_DIR is read-only: parse the two columns here.
    fields = data.split()  # "<base64 token> <rank>" on each line
    ranks = dict(zip(map(base64.b64decode, fields[0::2]), map(int, fields[1::2])))
    return tiktoken.Encoding(ENCODING, pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens=_SPECIAL_TOKENS)


def count(text: str) -> int:
    """Exact token count (builds the encoding on first use)."""
    if not text:
        return 0
    enc = encoding()
    if enc is None:
        return max(1, len(text) // 4)
    return len(enc.encode_ordinary(text))


def cut_middle(text: str, budget: int) -> tuple[str, int | None, int]:
    """Keep the head and tail of `text` within `budget` tokens.

    Returns (text, tokens kept or None when not counted, tokens cut). The head
    says what the input is; the tail is where errors and summaries usually are.
    Work is bounded: only slices near the two ends are tokenised, so 50 MB of
    piped logs cost the same as 50 KB.
    """
    if len(text) * 4 <= budget or len(text.encode("utf-8", "surrogatepass")) <= budget:
        # A token covers at least one byte (and rarely fewer than 4 chars of
        # ordinary text): this fits without loading the encoding at all.
        return text, None, 0
    enc = encoding()
    # Characters per side worth tokenising: tokens are rarely longer than 8 chars.
    window = max(budget * 8, 1024)
    if enc is None:
        total = len(text) // 4
        if total <= budget:
            return text, total, 0
        keep = budget * 4
        return _join(text[: keep // 2], text[-(keep - keep // 2) :], total - budget), budget, total - budget
    half = budget // 2
    while True:
        if len(text) <= 2 * window:
            ids = enc.encode_ordinary(text)
            total = len(ids)
            if total <= budget:
                return text, total, 0
            head, tail = enc.decode(ids[:half]), enc.decode(ids[total - (budget - half) :])
            return _join(head, tail, total - budget), budget, total - budget
        head_ids = enc.encode_ordinary(text[:window])
        tail_ids = enc.encode_ordinary(text[-window:])
        # Whitespace runs and repeated characters pack many characters into one token: when
        # a window holds fewer tokens than its half of the budget, widen it and look again,
        # or the kept text would fall short of what is reported kept.
        if len(head_ids) >= half and len(tail_ids) >= budget - half:
            break
        window *= 4
    head, tail = enc.decode(head_ids[:half]), enc.decode(tail_ids[len(tail_ids) - (budget - half) :])
    # The middle is not tokenised: estimate its size from the sampled density.
    density = (len(head_ids) + len(tail_ids)) / (2 * window)
    total = round(len(text) * density)
    cut = max(total - budget, 0)
    return _join(head, tail, cut), budget, cut


def _join(head: str, tail: str, cut: int) -> str:
    return f"{head}\n\n[… about {cut:,} tokens cut by learnflow to fit the budget …]\n\n{tail}"


def upper_bound(text: str) -> tuple[int, bool]:
    """(tokens, exact): the exact count when the encoding is already loaded, else a cheap upper bound.

    Loading the encoding costs ~0.27 s, more than a whole `ask` against a fast server, so
    a small text on the hot path is not worth it. The bound counts half a token per byte
    (o200k averages ~4 bytes a token on English prose, ~3 on code and Chinese) and a whole
    token per byte of hash-like words (long, or mixing letters and digits), which BPE
    splits finely. That over-counts prose about 2.4× (on the skill cards' texts) and never
    under-counted a text there; tests/test_tokens.py checks it against the real encoding.
    """
    if not text:
        return 0, True
    if encoding.cache_info().currsize and encoding() is not None:
        return count(text), True
    dense = sum(len(w.encode("utf-8", "surrogatepass")) for w in text.split() if _hashlike(w))
    plain = len(text.encode("utf-8", "surrogatepass")) - dense
    return -(-plain // 2) + dense, False


def _hashlike(word: str) -> bool:
    if len(word) >= 16:
        return True
    return len(word) >= 6 and any(c.isdigit() for c in word) and any(c.isalpha() for c in word)
