"""Token counting: tiktoken, offline, with a labelled approximation.

tiktoken downloads its BPE files on first use.  The litellm wheel ships the
``cl100k_base``, ``o200k_base`` and ``p50k_base`` files (named as tiktoken's
cache names them), so pointing ``TIKTOKEN_CACHE_DIR`` at that folder (found
without importing litellm) makes tiktoken work with no network.  When no
encoding can be loaded the count falls back to ``ceil(bytes / 4)`` and says
so (``approximate: true`` in the note), never crashing.

Counts are cached by blob id: identical content is counted once per process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading

DEFAULT_ENCODING = "o200k_base"
APPROX = "approx-bytes/4"

_lock = threading.Lock()
_encoders: dict[str, object] = {}
_failed: set[str] = set()
_cache: dict[tuple[str, str], int] = {}
_CACHE_MAX = 200_000
#: build the per-machine rank table of :mod:`tract_git.fasttokens` when an
#: encoding is loaded; the CLI turns this on (short-lived processes are
#: the ones that gain), library users keep their process's encoder.
BUILD_FAST_TABLE = False


def _fast_table(name: str):
    """The fast exact counter of ``name`` when tiktoken is not loaded in
    this process yet (and a table was built on this machine)."""
    if name in _encoders or name in _failed or name == APPROX:
        return None
    from . import fasttokens

    return fasttokens.table(name)


def _point_tiktoken_offline() -> None:
    if os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR"):
        return
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        spec = None
    if spec and spec.origin:
        d = os.path.join(os.path.dirname(spec.origin), "litellm_core_utils", "tokenizers")
        if os.path.isdir(d):
            os.environ["TIKTOKEN_CACHE_DIR"] = d


def encoder(name: str):
    """The tiktoken Encoding, or None if it cannot be loaded here."""
    enc = _encoders.get(name)
    if enc is not None or name in _failed:
        return enc
    with _lock:
        if name in _encoders:
            return _encoders[name]
        if name in _failed:
            return None
        if name == APPROX:
            _failed.add(name)
            return None
        _point_tiktoken_offline()
        try:
            import tiktoken

            enc = tiktoken.get_encoding(name)
        except Exception:  # no network, unknown name, broken file
            _failed.add(name)
            return None
        _encoders[name] = enc
        if BUILD_FAST_TABLE:
            from . import fasttokens

            fasttokens.build(name, enc)
        return enc


class Counter:
    """Counts tokens for one encoding."""

    def __init__(self, encoding: str = DEFAULT_ENCODING):
        self.encoding = encoding or DEFAULT_ENCODING

    @property
    def approximate(self) -> bool:
        if _fast_table(self.encoding) is not None:
            return False  # the table is built from the loaded encoding: exact
        return encoder(self.encoding) is None

    @property
    def label(self) -> str:
        return APPROX if self.approximate else self.encoding

    def count_text(self, text: str) -> int:
        if not text:
            return 0
        fast = _fast_table(self.encoding)
        if fast is not None:
            n = fast.count(text)
            if n is not None:
                return n
        enc = encoder(self.encoding)
        if enc is None:
            return -(-len(text.encode("utf-8")) // 4)
        # the same count as encode(text, disallowed_special=()) (special
        # tokens read as plain text), without its search for special tokens
        return len(enc.encode_ordinary(text))

    def count_entry(self, entry, blob: str | None = None) -> int:
        """Tokens of an entry: its content plus its tool calls' JSON."""
        blob = blob or entry.blob
        if blob:
            hit = _cache.get((self.encoding, blob))
            if hit is not None:
                return hit
        n = self.count_text(entry.content)
        if entry.tool_calls:
            n += self.count_text(json.dumps(list(entry.tool_calls), ensure_ascii=False,
                                            separators=(",", ":")))
        if blob:
            if len(_cache) > _CACHE_MAX:
                _cache.clear()
            _cache[(self.encoding, blob)] = n
        return n

    def cached(self, blob: str) -> int | None:
        return _cache.get((self.encoding, blob))

    def remember(self, blob: str, n: int) -> None:
        _cache[(self.encoding, blob)] = n
