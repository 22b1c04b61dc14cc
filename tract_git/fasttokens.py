"""Exact token counts for short texts without building tiktoken's encoder.

Loading tiktoken's ``o200k_base`` costs ~0.3 s per process (reading and
base64-decoding 200,000 ranks, then building the Rust ``CoreBPE``), which
is most of a one-message ``tract user TEXT``.  This module counts the
same tokens from a rank table kept in a per-machine cache file, read
through ``mmap`` (nothing is loaded up front):

* the file is built once, from the loaded tiktoken encoding itself (its
  ``_mergeable_ranks`` and ``_pat_str``), the first time a process loads
  that encoding; it lives in ``$XDG_CACHE_HOME/tract-git/`` (default
  ``~/.cache/tract-git/``), never inside a store;
* a text is split with the encoding's own pattern (the ``regex`` module,
  a tiktoken dependency), and each piece is byte-pair merged exactly as
  tiktoken's ``byte_pair_merge`` does (repeatedly merge the adjacent pair
  whose concatenation has the lowest rank, leftmost first);
* special tokens are read as plain text, as ``encode_ordinary`` does.

Counts are checked against tiktoken by a property test over varied
Unicode (tests/test_perf_fasttokens.py).  Long texts (over
:data:`MAX_CHARS`), texts that are not valid UTF-8 (lone surrogates) and
long pieces go to tiktoken.  ``TRACT_FAST_TOKENS=0`` turns it off.
"""

from __future__ import annotations

import os
import struct
import zlib

MAGIC = b"TRACTBPE1\n"
MAX_CHARS = 4000  # longer texts: tiktoken (its load cost is then worth it)
MAX_PIECE = 64  # bytes; longer pieces (quadratic merge here): tiktoken
MEMO_MAX = 100_000  # pieces remembered per table (a few MB at most)
_HEAD = struct.Struct("<III")  # pattern length, slot count, data length

_tables: dict[str, "Table | None"] = {}


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tract-git")


def cache_path(encoding: str) -> str:
    return os.path.join(cache_dir(), f"{encoding}.bpe1")


def enabled() -> bool:
    return os.environ.get("TRACT_FAST_TOKENS", "1") != "0"


class Table:
    """An open rank table: ``rank(piece)`` and ``count(text)``."""

    def __init__(self, path: str):
        import mmap

        self.path = path
        with open(path, "rb") as f:
            self._mm = mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if mm[: len(MAGIC)] != MAGIC:
            raise ValueError("not a rank table")
        pos = len(MAGIC)
        plen, nslots, dlen = _HEAD.unpack_from(mm, pos)
        pos += _HEAD.size
        self.pattern = mm[pos: pos + plen].decode("utf-8")
        pos += plen
        pos += (-pos) % 4
        if len(mm) != pos + nslots * 8 + dlen:
            raise ValueError("truncated rank table")
        self._slots = memoryview(mm)[pos: pos + nslots * 8].cast("I")
        self._data = pos + nslots * 8
        self._mask = nslots - 1
        self._rx = None
        #: piece (text) -> its token count: words repeat, so most pieces
        #: of a text cost a dict lookup; cleared when it reaches MEMO_MAX
        self._memo: dict[str, int] = {}

    def rank(self, piece: bytes) -> int | None:
        slots, mm, data, mask = self._slots, self._mm, self._data, self._mask
        h = zlib.crc32(piece) & mask
        n = len(piece)
        while True:
            off = slots[2 * h]
            if off == 0:
                return None
            p = data + off - 1
            if mm[p] == n and mm[p + 1: p + 1 + n] == piece:
                return slots[2 * h + 1]
            h = (h + 1) & mask

    def count(self, text: str) -> int | None:
        """Tokens in ``text``, or None when this table should not answer
        (too long, lone surrogates, a very long piece)."""
        if len(text) > MAX_CHARS:
            return None
        if not text.isascii() and not _all_assigned(text):
            return None
        if self._rx is None:
            import regex

            self._rx = regex.compile(self.pattern)
        memo = self._memo
        total = 0
        todo = None
        for piece in self._rx.findall(text):
            n = memo.get(piece)
            if n is None:
                if todo is None:
                    todo = []
                todo.append(piece)
            else:
                total += n
        if todo:
            if len(memo) + len(todo) > MEMO_MAX:
                memo.clear()
            try:
                raw = [p.encode("utf-8") for p in todo]
            except UnicodeEncodeError:
                return None
            for piece, b in zip(todo, raw):
                n = self._count_piece(b)
                if n is None:
                    return None
                memo[piece] = n
                total += n
        return total

    def _count_piece(self, piece: bytes) -> int | None:
        """Tokens of one piece: byte-pair merged as tiktoken does (None:
        a long piece that is not a token)."""
        rank = self.rank
        if rank(piece) is not None:
            return 1
        if len(piece) > MAX_PIECE:
            return None
        parts = [piece[i: i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            best = None
            at = -1
            for i in range(len(parts) - 1):
                r = rank(parts[i] + parts[i + 1])
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            parts[at: at + 2] = [parts[at] + parts[at + 1]]
        return len(parts)


def _all_assigned(text: str) -> bool:
    """Every character was assigned as of this Python's Unicode database.
    Newly assigned characters are where the ``regex`` module's and
    tiktoken's Unicode tables can disagree on letter/number classes (seen
    in the property test); such texts go to tiktoken."""
    import unicodedata

    cat = unicodedata.category
    return all(ch < "\x80" or cat(ch) != "Cn" for ch in set(text))


def table(encoding: str) -> Table | None:
    """The cached table of ``encoding``, or None if there is none yet."""
    if encoding in _tables:
        return _tables[encoding]
    t = None
    if enabled():
        try:
            t = Table(cache_path(encoding))
        except (OSError, ValueError, struct.error):
            t = None
    _tables[encoding] = t
    return t


def build(encoding: str, enc, path: str | None = None) -> str | None:
    """Write the table of a loaded tiktoken ``Encoding`` (once per machine;
    atomic; failures are ignored: the cache is only an optimisation)."""
    if not enabled():
        return None
    path = path or cache_path(encoding)
    if os.path.exists(path):
        return path
    try:
        ranks: dict = enc._mergeable_ranks
        pattern = enc._pat_str.encode("utf-8")
    except AttributeError:
        return None
    nslots = 1
    while nslots < len(ranks) * 2:
        nslots <<= 1
    mask = nslots - 1
    slots = [0] * (2 * nslots)
    data = bytearray()
    for key, r in ranks.items():
        if len(key) > 255:
            return None
        off = len(data) + 1
        data.append(len(key))
        data += key
        h = zlib.crc32(key) & mask
        while slots[2 * h]:
            h = (h + 1) & mask
        slots[2 * h] = off
        slots[2 * h + 1] = r
    head = MAGIC + _HEAD.pack(len(pattern), nslots, len(data)) + pattern
    head += b"\0" * ((-len(head)) % 4)
    import array

    arr = array.array("I", slots)
    if arr.itemsize != 4:
        return None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(head)
            arr.tofile(f)
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        return None
    _tables.pop(encoding, None)
    return path
