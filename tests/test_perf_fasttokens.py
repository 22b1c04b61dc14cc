"""The fast token counter (tract_git.fasttokens) must give exactly
tiktoken's counts, or no answer."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tract_git import fasttokens, tokens

ENC = "o200k_base"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    enc = tokens.encoder(ENC)
    if enc is None:
        pytest.skip("o200k_base cannot be loaded here")
    path = fasttokens.build(ENC, enc, str(tmp_path_factory.mktemp("bpe") / "o200k_base.bpe1"))
    assert path
    return fasttokens.Table(path), enc


def check(pair, text):
    """The count, checked against tiktoken; counted twice, the second time
    from the table's memo of pieces (shared by every example of a test)."""
    table, enc = pair
    n = table.count(text)
    if n is not None:
        assert n == len(enc.encode_ordinary(text)), repr(text)
    assert table.count(text) == n, repr(text)
    return n


WORDS = st.sampled_from(["the", "The", "don't", "I'm", "WE'LL", "naïve", "über", "日本語", "данные",
                         "مرحبا", "नमस्ते", "😀", "👍🏽", "e\u0301", "x_y", "3.14159", "1234567",
                         "<|endoftext|>", "<|im_start|>", "http://a.b/c?d=e", "\t", "\n", "\r\n",
                         "  ", "...", "'s", "\u00a0", "\u200b", "ǅ", "ᾼ", "𝔘𝔫𝔦", "\U000e0001"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_any_unicode_text(pair, text):
    check(pair, text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(WORDS, st.text(alphabet=st.characters(codec="utf-8"), max_size=8)),
                max_size=60).map(lambda ws: "".join(w + (" " if i % 3 else "") for i, w in enumerate(ws))))
def test_wordy_text(pair, text):
    check(pair, text)


def test_known_texts(pair):
    for text in ["hello world", "Hello, World!  \n\n  x", "a" * 60, " " * 30, "1" * 100,
                 "<|endoftext|> is read as text", "emoji 👍🏽👍🏽 and 日本語の文章です。"]:
        assert check(pair, text) is not None
    # not answered: too long, lone surrogate, long unknown piece
    assert pair[0].count("x " * (fasttokens.MAX_CHARS // 2 + 1)) is None
    assert pair[0].count("a\ud800b") is None
    assert pair[0].count("qzxjv" * 40) is None
    assert pair[0].count("a" * 500) is None


def test_counter_uses_table_before_tiktoken_loads(pair, monkeypatch, tmp_path):
    """A process that has not loaded tiktoken counts from the table (and
    says the count is exact); one that has uses tiktoken."""
    table, enc = pair
    monkeypatch.setattr(tokens, "_encoders", {})
    monkeypatch.setitem(fasttokens._tables, ENC, table)

    def boom(name):
        raise AssertionError("tiktoken loaded")

    monkeypatch.setattr(tokens, "encoder", boom)
    c = tokens.Counter(ENC)
    assert c.count_text("hello world, again") == len(enc.encode_ordinary("hello world, again"))
    assert c.approximate is False and c.label == ENC


def test_build_is_atomic_and_ignored_when_disabled(pair, tmp_path, monkeypatch):
    _, enc = pair
    monkeypatch.setenv("TRACT_FAST_TOKENS", "0")
    assert fasttokens.build(ENC, enc, str(tmp_path / "t.bpe1")) is None
    assert os.listdir(tmp_path) == []
    with open(tmp_path / "bad.bpe1", "wb") as f:
        f.write(b"garbage")
    with pytest.raises(ValueError):
        fasttokens.Table(str(tmp_path / "bad.bpe1"))


def test_memo_is_bounded_and_exact(pair, monkeypatch):
    """The memo (piece -> count) is cleared when full; counts stay exact
    through clears, and an unanswered text leaves no wrong entry."""
    table, enc = pair
    t = fasttokens.Table(table.path)  # its own memo
    monkeypatch.setattr(fasttokens, "MEMO_MAX", 50)
    words = [f"w{i}ord{i % 7} naïve 日本{i}" for i in range(200)]
    for rounds in range(2):
        for i in range(0, 200, 10):
            text = " ".join(words[i:i + 10])
            assert t.count(text) == len(enc.encode_ordinary(text))
            assert len(t._memo) <= 50 + 40
    assert t.count("ok a\ud800b") is None  # lone surrogate: not answered
    assert t.count("ok a") == len(enc.encode_ordinary("ok a"))
    t._memo.clear()
    assert t.count("qzxjv" * 40) is None  # a long piece that is no token
    assert "qzxjv" * 40 not in t._memo
