"""Token counting with tiktoken, offline.

Plain tiktoken downloads its encoding files on first use, which fails without
internet. litellm's wheel ships the cl100k_base/o200k_base files named the way
tiktoken's cache expects, so we point TIKTOKEN_CACHE_DIR there, found with
find_spec (which does not import litellm's 3-second package).
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

ENCODING = "o200k_base"


def _litellm_tokenizers() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if not spec or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "litellm_core_utils" / "tokenizers"
    return path if path.is_dir() else None


@lru_cache(maxsize=1)
def encoding():
    """The tiktoken encoding, or None when none can be loaded offline."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        bundled = _litellm_tokenizers()
        if bundled:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
            # litellm would overwrite TIKTOKEN_CACHE_DIR on its first token count otherwise.
            os.environ.setdefault("CUSTOM_TIKTOKEN_CACHE_DIR", str(bundled))
    try:
        import tiktoken

        return tiktoken.get_encoding(ENCODING)
    except Exception:  # no cached file and no network: fall back to an estimate
        return None


def count(text: str) -> int:
    """Exact token count (loads the encoding: ~0.15 s the first time)."""
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
    if len(text) <= 2 * window:
        ids = enc.encode_ordinary(text)
        total = len(ids)
        if total <= budget:
            return text, total, 0
        half = budget // 2
        head, tail = enc.decode(ids[:half]), enc.decode(ids[total - (budget - half) :])
        return _join(head, tail, total - budget), budget, total - budget
    head_ids = enc.encode_ordinary(text[:window])
    tail_ids = enc.encode_ordinary(text[-window:])
    half = budget // 2
    head, tail = enc.decode(head_ids[:half]), enc.decode(tail_ids[len(tail_ids) - (budget - half) :])
    # The middle is not tokenised: estimate its size from the sampled density.
    density = (len(head_ids) + len(tail_ids)) / (2 * window)
    total = round(len(text) * density)
    cut = max(total - budget, 0)
    return _join(head, tail, cut), budget, cut


def _join(head: str, tail: str, cut: int) -> str:
    return f"{head}\n\n[… about {cut:,} tokens cut by learnflow to fit the budget …]\n\n{tail}"
