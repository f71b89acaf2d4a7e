"""Token counts are real (the shipped o200k_base encoding), offline, and a fallback to estimates is never silent."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings

import pytest

from learnflow import tokens

# Token ids of o200k_base, as tiktoken gives them for the published file.
HELLO_WORLD_IDS = [24912, 2375]
SENTENCE = "Tokens are counted offline by learnflow."  # 8 tokens; len // 4 would say 10
JAPANESE = "日本語のテキストを数える"  # 9 tokens; len // 4 would say 3


@pytest.fixture
def fresh_encoding():
    """Build the encoding inside the test (not from an earlier test's cache), and leave no cached result behind."""
    tokens.encoding.cache_clear()
    yield
    tokens.encoding.cache_clear()


def test_known_strings_have_known_token_counts(fresh_encoding):
    with warnings.catch_warnings():
        warnings.simplefilter("error", tokens.TokenizerFallback)
        enc = tokens.encoding()
    assert enc is not None, tokens.fallback_reason()
    assert tokens.fallback_reason() is None
    assert enc.name == "o200k_base"
    assert enc.encode_ordinary("hello world") == HELLO_WORLD_IDS
    assert tokens.count(SENTENCE) == 8 != len(SENTENCE) // 4
    assert tokens.count(JAPANESE) == 9 != len(JAPANESE) // 4
    # Special tokens in user text are plain text, never control tokens.
    assert tokens.count("<|endoftext|>") == 7


def test_the_shipped_encoding_is_tiktokens_o200k_base(monkeypatch):
    """Built by tiktoken's own o200k_base definition and parser from the shipped file, the encoding is the same as ours."""
    import tiktoken
    from tiktoken_ext import openai_public

    asked = {}
    tiktoken_load = openai_public.load_tiktoken_bpe

    def offline_load(url, expected_hash=None):
        asked.update(url=url, expected_hash=expected_hash)
        return tiktoken_load(str(tokens.ENCODING_FILE), expected_hash)

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # read the file, copy it nowhere
    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", offline_load)
    theirs = openai_public.ENCODING_CONSTRUCTORS["o200k_base"]()
    assert asked["url"].endswith("/o200k_base.tiktoken")
    assert asked["expected_hash"] == tokens.ENCODING_SHA256 == hashlib.sha256(tokens.ENCODING_FILE.read_bytes()).hexdigest()
    assert theirs["pat_str"] == tokens._PATTERN
    assert theirs["special_tokens"] == tokens._SPECIAL_TOKENS
    reference, ours = tiktoken.Encoding(**theirs), tokens.encoding()
    assert ours is not None and ours.n_vocab == reference.n_vocab
    sample = tokens.ENCODING_FILE.read_bytes()[:20000].decode() + SENTENCE + JAPANESE + " \r\n\t 123456 don't"
    assert ours.encode_ordinary(sample) == reference.encode_ordinary(sample)


def test_counts_without_litellm_network_or_tiktoken_cache(tmp_path):
    """A fresh process with litellm unimportable and an empty tiktoken cache still counts exactly, and writes no cache copy."""
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    code = (
        "import sys, warnings; sys.modules['litellm'] = None\n"
        "warnings.simplefilter('error')\n"
        "from learnflow import tokens\n"
        f"assert tokens.fallback_reason() is None\n"
        f"print(tokens.count({SENTENCE!r}), 'litellm' in sys.modules and sys.modules['litellm'] is not None)\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache), "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["8", "False"]
    assert list(cache.iterdir()) == []
    assert not (tmp_path / "data-gym-cache").exists()


def test_a_missing_encoding_file_falls_back_visibly(fresh_encoding, monkeypatch, tmp_path):
    monkeypatch.setattr(tokens, "ENCODING_FILE", tmp_path / "missing.tiktoken")
    with pytest.warns(tokens.TokenizerFallback, match="token counts are estimated"):
        assert tokens.encoding() is None
    assert "missing.tiktoken" in (tokens.fallback_reason() or "")
    assert tokens.count("x" * 40) == 10
    text, kept, cut = tokens.cut_middle("word " * 4000, 100)
    assert (kept, cut) == (100, 4900) and "tokens cut by learnflow" in text


def test_a_damaged_encoding_file_is_refused(fresh_encoding, monkeypatch, tmp_path):
    damaged = tmp_path / "o200k_base.tiktoken"
    data = bytearray(tokens.ENCODING_FILE.read_bytes())
    data[:4] = b"IR=="  # the first token's bytes changed: counts would be wrong without a word
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(tokens, "ENCODING_FILE", damaged)
    with pytest.warns(tokens.TokenizerFallback, match="damaged"):
        assert tokens.encoding() is None
    assert "damaged" in (tokens.fallback_reason() or "")


def test_cut_middle_keeps_exactly_the_budget_with_the_real_encoding():
    text = "\n".join(f"line {i}: connection reset by peer at 10.0.0.{i % 255}" for i in range(60))
    total = tokens.count(text)
    assert total != len(text) // 4
    cut_text, kept, cut = tokens.cut_middle(text, 200)
    assert (kept, cut) == (200, total - 200)
    assert cut_text.startswith("line 0:") and cut_text.endswith(text[-20:])


@pytest.mark.parametrize("line", ["x = 1" + " " * 200 + "\n", "=" * 300 + "\n", "\t\t\t\t" * 50 + "ok\n"])
def test_cut_middle_sends_what_it_reports_kept_when_tokens_are_long(line):
    """Whitespace runs pack hundreds of characters into a token: the kept text still fills the budget."""
    text = line * 6000
    out, kept, cut = tokens.cut_middle(text, 6000)
    sent = len(tokens.encoding().encode_ordinary(out))
    assert kept == 6000
    assert 6000 <= sent <= 6000 + 40  # the budget, plus the "[… cut …]" marker between head and tail
    total = len(tokens.encoding().encode_ordinary(text))
    assert cut == pytest.approx(total - 6000, rel=0.05)  # the middle is estimated, not tokenised


def test_doctor_says_the_encoding_ships_with_learnflow():
    from learnflow.admin.doctor import _tokenizer

    check = _tokenizer()
    assert (check.status, check.detail) == ("ok", "tiktoken o200k_base, shipped with learnflow (no download)")
