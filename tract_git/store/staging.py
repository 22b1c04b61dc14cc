"""Staged object writes: new objects kept in memory, then written as one pack.

A loose object costs a file creation (plus deflating it), and a rewrite
such as a rebase of 1,000 commits writes some 5,000 objects (three trees
and a commit per replayed commit, a note blob each, the notes trees).
While staging, a store's objects are written into an in-memory object
backend placed in front of the loose one (libgit2 writes to the first
writable backend); reads find them there, so the code that builds trees
and commits runs unchanged and makes exactly the same objects.
:func:`write_pack` then writes every staged object into a single pack
(``objects/pack/pack-<sha>.pack`` and its ``.idx``, each written to a
temporary file and renamed, the index last), which makes them visible to
every reader at once.

Nothing on disk points at a staged object until it has been written: the
store flushes before it moves any ref.  A crash before that loses only
objects nothing refers to; a crash after leaves a pack of unreferenced
objects, which ``git gc`` removes.

Objects are compressed at zlib level 1.  A tree is stored as a delta
against the previous version of the same tree in the pack (found by its
first entry: a bucket's first entry rarely changes) when that is much
smaller; an append to a 256-entry bucket is then a delta of some 80 bytes
instead of a 16 KB tree.  ``git gc`` repacks with its own deltas later.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import zlib

import pygit2

from .odb import _index_bytes
from .odb import _pack_head as _pack_header

#: pack object type numbers (same as libgit2's GIT_OBJECT_*)
_TYPES = (pygit2.GIT_OBJECT_COMMIT, pygit2.GIT_OBJECT_TREE, pygit2.GIT_OBJECT_BLOB,
          pygit2.GIT_OBJECT_TAG)
_TREE = pygit2.GIT_OBJECT_TREE
_OFS_DELTA = 6
#: longest delta chain written (reading a tree at depth n applies n deltas)
MAX_DEPTH = 10


class MemoryBackend(pygit2.OdbBackend):
    """An object backend holding objects in a dict (oid -> (type, data))."""

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict = {}

    def exists_cb(self, oid) -> bool:
        return oid in self.objects

    def read_cb(self, oid):
        return self.objects[oid]  # KeyError: not here

    def read_header_cb(self, oid):
        t, data = self.objects[oid]
        return t, len(data)

    # libgit2 asks every backend by prefix when pygit2 reads by a hex id
    # (to detect ambiguity), so this must be cheap: whole ids only.  An
    # abbreviated id never names a staged object (they are new to callers).
    def read_prefix_cb(self, prefix):
        t, data = self.objects[prefix]
        return t, data, prefix

    def exists_prefix_cb(self, prefix):
        if prefix not in self.objects:
            raise KeyError(prefix)
        return prefix

    def write_cb(self, oid, data, type) -> None:
        self.objects[oid] = (type, bytes(data))

    def refresh_cb(self) -> None:
        pass

    def __iter__(self):
        return iter(list(self.objects))


def staging_repository(path: str) -> tuple[pygit2.Repository, MemoryBackend]:
    """A second handle on the repository at ``path`` whose object writes go
    to memory (reads see memory and disk)."""
    repo = pygit2.Repository(path)
    mem = MemoryBackend()
    # libgit2 default backends: packs (priority 2), loose (1).  At priority
    # 2 the memory backend comes after the packs for reads (added later; the
    # sort is stable) and before the loose backend, the first writable one.
    repo.odb.add_backend(mem, 2)
    return repo, mem


def _deflate(data: bytes) -> bytes:
    if len(data) < 4096:
        # most objects here are small (commits, notes, deltas): a small
        # window and state make setting zlib up 5-10x cheaper than the
        # compression itself; any zlib stream inflates the same
        c = zlib.compressobj(1, zlib.DEFLATED, 12, 1)
        return c.compress(data) + c.flush()
    return zlib.compress(data, 1)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ofs(n: int) -> bytes:
    """The negative offset of an OFS_DELTA's base, in git's encoding."""
    out = bytearray([n & 0x7F])
    n >>= 7
    while n:
        n -= 1
        out.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return bytes(out)


def _copy(offset: int, size: int) -> bytes:
    op = 0x80
    args = bytearray()
    for i in range(4):
        b = (offset >> (8 * i)) & 0xFF
        if b:
            op |= 1 << i
            args.append(b)
    for i in range(3):
        b = (size >> (8 * i)) & 0xFF
        if b:
            op |= 0x10 << i
            args.append(b)
    return bytes([op]) + bytes(args)


def _common_prefix(a: bytes, b: bytes) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # the longest n with a[:n] == b[:n]
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _delta(src: bytes, dst: bytes) -> bytes | None:
    """A git delta making ``dst`` from ``src`` as: copy their common
    prefix, insert the middle, copy their common suffix.  A tree edited in
    one place (the usual snapshot change: an entry appended, replaced or
    removed) deltifies to a few dozen bytes.  None when not worth it."""
    p = _common_prefix(src, dst)
    limit = min(len(src), len(dst)) - p
    s = _common_prefix(src[::-1][:limit], dst[::-1][:limit]) if limit > 0 else 0
    middle = dst[p:len(dst) - s]
    if len(middle) * 2 > len(dst) or p + s < 64:
        return None
    out = [_varint(len(src)), _varint(len(dst))]
    pos = 0
    while pos < p:  # one copy op moves at most 0xffffff bytes (a 16 MB tree: never)
        n = min(p - pos, 0xFFFFFF)
        out.append(_copy(pos, n))
        pos += n
    for i in range(0, len(middle), 127):
        chunk = middle[i:i + 127]
        out.append(bytes([len(chunk)]) + chunk)
    pos = len(src) - s
    while pos < len(src):
        n = min(len(src) - pos, 0xFFFFFF)
        out.append(_copy(pos, n))
        pos += n
    return b"".join(out)


def write_pack(objects_dir: str, objects: dict) -> str | None:
    """Write ``objects`` (oid -> (type, data)) as one pack with its index
    into ``objects_dir/pack``; returns the pack's name (None: nothing to
    write)."""
    if not objects:
        return None
    pack_dir = os.path.join(objects_dir, "pack")
    os.makedirs(pack_dir, exist_ok=True)
    entries = []  # (raw oid, crc32, offset)
    h = hashlib.sha1()
    fd, tmp_pack = tempfile.mkstemp(prefix="tmp_pack_", dir=pack_dir)
    tmp_idx = None
    try:
        with os.fdopen(fd, "wb") as f:
            head = b"PACK" + struct.pack(">II", 2, len(objects))
            chunks = [head]
            offset = len(head)
            bases: dict[bytes, tuple] = {}  # a tree's first entry -> (data, offset, depth)
            for oid, (kind, data) in objects.items():
                if kind not in _TYPES:
                    raise ValueError(f"cannot pack object type {kind}")
                rec = None
                if kind == _TREE:
                    first = data[:data.find(b"\0") + 1]
                    base = bases.get(first)
                    depth = 0
                    if base is not None and base[2] < MAX_DEPTH:
                        delta = _delta(base[0], data)
                        if delta is not None:
                            rec = (_pack_header(_OFS_DELTA, len(delta)) + _ofs(offset - base[1])
                                   + _deflate(delta))
                            depth = base[2] + 1
                    bases[first] = (data, offset, depth)
                if rec is None:
                    rec = _pack_header(kind, len(data)) + _deflate(data)
                entries.append((oid.raw, zlib.crc32(rec), offset))
                offset += len(rec)
                chunks.append(rec)
            body = b"".join(chunks)
            h.update(body)
            pack_sha = h.digest()
            f.write(body)
            f.write(pack_sha)
        idx = _index_bytes(entries, pack_sha)
        fd, tmp_idx = tempfile.mkstemp(prefix="tmp_idx_", dir=pack_dir)
        with os.fdopen(fd, "wb") as f:
            f.write(idx)
        name = "pack-" + pack_sha.hex()
        for tmp in (tmp_pack, tmp_idx):
            os.chmod(tmp, 0o444)
        os.rename(tmp_pack, os.path.join(pack_dir, name + ".pack"))
        tmp_pack = None
        os.rename(tmp_idx, os.path.join(pack_dir, name + ".idx"))  # the pack is visible now
        tmp_idx = None
        return name
    finally:
        for tmp in (tmp_pack, tmp_idx):
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


# ------------------------------------------------------- objects made here
# Writing through libgit2 costs a rescan of objects/pack per new object
# (``git_odb_write`` checks whether the object exists, misses, refreshes
# its pack list and checks again): most of a replayed commit's time.
# While staging, the store builds trees and commits as git's canonical
# bytes (with the helpers of ``odb``, as for loose objects) and puts them
# straight into the memory backend; the tests check the ids equal
# libgit2's.
_KIND_NAME = {pygit2.GIT_OBJECT_COMMIT: b"commit", pygit2.GIT_OBJECT_TREE: b"tree",
              pygit2.GIT_OBJECT_BLOB: b"blob"}


def put(mem: MemoryBackend, kind: int, data: bytes) -> bytes:
    """Stage an object; returns its raw (20-byte) id."""
    h = hashlib.sha1(b"%s %d\0" % (_KIND_NAME[kind], len(data)))
    h.update(data)
    raw = h.digest()
    oid = pygit2.Oid(raw=raw)
    if oid not in mem.objects:
        mem.objects[oid] = (kind, data)
    return raw
