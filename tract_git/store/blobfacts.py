"""A side cache of facts about entry blobs: token count and priority flags.

A blob is immutable and named by its content, so what is derived from it
(its priority, whether it is a summary, its token count in an encoding)
never goes stale.  Budget compiles and compresses look at every entry of a
context; with this cache they read a small file instead of every blob, and
need no tokenizer for entries already counted.

File: ``<store>/tract-cache/blobs-<encoding>.bin``, fixed 25-byte records
(20-byte object id, big-endian uint32 tokens or 0xFFFFFFFF when unknown,
one flags byte), appended with O_APPEND; later records win; a torn tail is
ignored.  Deleting the directory is always safe.  git ignores it (it is
not under ``objects/`` or ``refs/``).
"""

from __future__ import annotations

import os
import re
import struct

PINNED = 1
SKIP = 2
SUMMARY = 4
UNKNOWN = 0xFFFFFFFF
_REC = struct.Struct(">20sIB")
DIR = "tract-cache"


def cache_path(store_path: str, encoding: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", encoding or "default")
    return os.path.join(store_path, DIR, f"blobs-{safe}.bin")


def load(path: str) -> dict[str, tuple[int, int]]:
    """blob id (hex) -> (tokens or UNKNOWN, flags)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return {}
    size = _REC.size
    end = len(data) - len(data) % size
    out: dict[str, tuple[int, int]] = {}
    for oid, tok, flags in _REC.iter_unpack(data[:end]):
        out[oid.hex()] = (tok, flags)
    if end // size > 2 * len(out) + 1024:  # mostly superseded records: write it anew
        _rewrite(path, out)
    return out


def _rewrite(path: str, facts: dict[str, tuple[int, int]]) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(b"".join(_REC.pack(bytes.fromhex(o), t, fl) for o, (t, fl) in facts.items()))
        os.replace(tmp, path)  # records appended meanwhile by others are lost: only a cache
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def append(path: str, records: list[tuple[str, int, int]]) -> None:
    """Add records (blob hex, tokens or UNKNOWN, flags); failures are
    ignored (a cache must never break a command, e.g. on a read-only store)."""
    if not records:
        return
    data = b"".join(_REC.pack(bytes.fromhex(o), t, f) for o, t, f in records)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError:
        pass


def header_flags(data: bytes) -> int:
    """Flags from an encoded entry's headers (see ``codec``)."""
    sep = data.find(b"\n\n")
    head = data[:sep] if sep >= 0 else data
    f = 0
    if b"\nPriority: pinned" in head:
        f |= PINNED
    elif b"\nPriority: skip" in head:
        f |= SKIP
    if b"\nType: summary\n" in head + b"\n":
        f |= SUMMARY
    return f
