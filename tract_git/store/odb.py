"""Git's object database and refs, read and written in plain Python.

Why not libgit2 for these: on the machines tract runs on, ``import pygit2``
costs ~90 ms of a CLI command's budget, and every object libgit2 writes
costs a rescan of ``objects/pack`` plus, with strict object creation, a
read of every object the new one points to; a ref update reads the ref
several times and re-reads the config.  An append makes ~9 objects and
moves 2 refs, so that overhead was most of its cost.  This module does
the same things git does, with nothing more:

* **loose objects**: ``objects/xx/<38 hex>``, zlib-deflated
  ``<type> <size>\\0<data>``, written to a temporary file in ``objects/``
  and renamed into place (an object is never visible half-written; one
  that exists already is not written again);
* **packs**: ``objects/pack/*.idx`` (version 2) and ``*.pack``, read
  through ``mmap``, with ``OFS_DELTA`` and ``REF_DELTA`` objects resolved
  (recently resolved bases are cached); the pack list is re-read when an
  object is not found (another process may have repacked);
* **refs**: loose ref files and ``packed-refs``, symbolic refs, and
  compare-and-swap updates with git's lock protocol (create
  ``<ref>.lock`` exclusively, check the old value, write, append the
  reflog line, rename the lock over the ref), so git, libgit2 and tract
  processes exclude one another;
* **config**: git's config syntax (sections, subsections, quoting,
  escapes, comments, continuations) read exactly as git 2.39 reads it,
  for the files of the store, the user and the system; a file git would
  reject, or one with ``include``/``includeIf``, makes :func:`read_config`
  return None so that the caller can ask libgit2 instead.

Everything else (revision parsing, history walks past merges, merges,
config writes) stays with libgit2 in :mod:`tract_git.store.repo`, which
imports it only when first needed.  The tests compare what is written
here with git's own output (``git fsck --strict``, ``git cat-file``).
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import re
import struct
import zlib

#: object type names by pack type number
TYPE_NAMES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}
_TYPE_NUMBERS = {v: k for k, v in TYPE_NAMES.items()}
_OFS_DELTA, _REF_DELTA = 6, 7
ZERO = "0" * 40


class RefLocked(Exception):
    """``<ref>.lock`` exists: another writer holds the ref."""


class RefMoved(Exception):
    """The ref's value was not the expected old value."""


class RefSymbolic(Exception):
    """The ref is a symbolic ref (the caller updates it another way)."""


class RefConflict(Exception):
    """The new ref's name clashes with a ref's directory or a directory of
    refs (``a/b`` where ``a`` exists, or the other way round)."""


# ------------------------------------------------------------------ trees
_ENTRY = re.compile(rb"(\d+ ([^\0]*)\0.{20})", re.S)
_TREE_MODE = b"40000 "


def parse_tree(data: bytes) -> dict:
    """Raw tree bytes -> {name: entry bytes}, in the tree's order."""
    return {name: ent for ent, name in _ENTRY.findall(data)}


def entry(mode: bytes, name: bytes, raw_oid: bytes) -> bytes:
    return b"%s %s\0%s" % (mode, name, raw_oid)


def entry_is_tree(ent: bytes) -> bool:
    return ent.startswith(_TREE_MODE)


def _git_key(name: bytes, ent: bytes) -> bytes:
    return name + b"/" if ent.startswith(_TREE_MODE) else name  # git's tree order


def set_entry(entries: dict, name: bytes, ent: bytes) -> bool:
    """Add or replace an entry; False when the dict's order may no longer
    be git's (a new name that does not sort after the last one)."""
    ok = True
    if name not in entries and entries:
        last = next(reversed(entries))
        ok = _git_key(last, entries[last]) < _git_key(name, ent)
    entries[name] = ent
    return ok


def tree_bytes(entries: dict, in_order: bool) -> bytes:
    """Canonical tree bytes of {name: entry bytes}."""
    if in_order:
        return b"".join(entries.values())
    return b"".join(ent for _, ent in sorted(entries.items(), key=lambda kv: _git_key(*kv)))


# ---------------------------------------------------------------- objects
def object_id(kind: bytes, data: bytes) -> bytes:
    """The raw id git gives an object of type ``kind`` holding ``data``."""
    h = hashlib.sha1(b"%s %d\0" % (kind, len(data)))
    h.update(data)
    return h.digest()


# ---------------------------------------------------------------- commits
_CRUD = " .,:;<>\"\\'" + "".join(map(chr, range(33)))
_DELIMS = str.maketrans("", "", "\n<>")


def clean_ident(s: str) -> str:
    """A name or email as git puts it in an identity line: "crud"
    (whitespace, control characters and ``.,:;<>"\\'``) stripped from both
    ends, and ``<``, ``>`` and newlines removed inside, so that the line
    always parses (git's ``strbuf_addstr_without_crud``)."""
    t = s.strip(_CRUD)
    return t.translate(_DELIMS) if ("<" in t or ">" in t or "\n" in t) else t


def ident_line(name: str, email: str, when: int, offset: int) -> bytes:
    sign = "-" if offset < 0 else "+"
    off = abs(offset)
    return b"%s <%s> %d %s%02d%02d" % (name.encode("utf-8"), email.encode("utf-8"), when,
                                        sign.encode(), off // 60, off % 60)


def commit_bytes(tree: str, parents: list, author: bytes, committer: bytes, message: str) -> bytes:
    out = [b"tree %s\n" % tree.encode()]
    out += [b"parent %s\n" % p.encode() for p in parents]
    out.append(b"author %s\ncommitter %s\n\n" % (author, committer))
    out.append(message.encode("utf-8"))
    return b"".join(out)


_IDENT = re.compile(rb"^(.*?) <(.*?)> (-?\d+)(?: ([+-])(\d\d)(\d\d))?")


def parse_ident(line: bytes) -> tuple[str, str, int, int]:
    m = _IDENT.match(line)
    if not m:
        return line.decode("utf-8", "replace"), "", 0, 0
    off = 0
    if m.group(4):
        off = (int(m.group(5)) * 60 + int(m.group(6))) * (-1 if m.group(4) == b"-" else 1)
    return (m.group(1).decode("utf-8", "replace"), m.group(2).decode("utf-8", "replace"),
            int(m.group(3)), off)


def parse_commit(data: bytes) -> tuple[str, list, bytes, bytes, str]:
    """Commit bytes -> (tree, parents, author line, committer line, message)."""
    head, _, message = data.partition(b"\n\n")
    tree = ""
    parents: list = []
    author = committer = b""
    for line in head.split(b"\n"):
        if line.startswith(b"tree "):
            tree = line[5:45].decode()
        elif line.startswith(b"parent "):
            parents.append(line[7:47].decode())
        elif line.startswith(b"author "):
            author = line[7:]
        elif line.startswith(b"committer "):
            committer = line[10:]
    return tree, parents, author, committer, message.decode("utf-8", "replace")


# ------------------------------------------------------------------ packs
class _Pack:
    def __init__(self, idx_path: str, pack_path: str):
        self.name = os.path.basename(idx_path)
        self.pack_path = pack_path
        with open(idx_path, "rb") as f:
            self.idx = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        with open(pack_path, "rb") as f:
            self.pack = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        idx = self.idx
        if idx[:8] != b"\xfftOc\x00\x00\x00\x02":
            raise ValueError(f"unsupported pack index {idx_path}")
        self.fanout = struct.unpack_from(">256I", idx, 8)
        self.n = self.fanout[255]
        self.sha_at = 8 + 1024
        self.off_at = self.sha_at + 24 * self.n  # after shas (20n) and crcs (4n)
        self.large_at = self.off_at + 4 * self.n
        self._lookups = 0
        self._index: dict | None = None

    def _build_index(self) -> dict:
        idx, base, n = self.idx, self.sha_at, self.n
        shas = idx[base:base + 20 * n]
        self._index = d = {shas[20 * i:20 * i + 20]: i for i in range(n)}
        return d

    def _offset(self, i: int) -> int:
        off = struct.unpack_from(">I", self.idx, self.off_at + 4 * i)[0]
        if off & 0x80000000:
            off = struct.unpack_from(">Q", self.idx, self.large_at + 8 * (off & 0x7FFFFFFF))[0]
        return off

    def find(self, raw: bytes) -> int | None:
        """The pack offset of object ``raw``, or None.  A binary search of
        the index; a process that looks up many objects (a compile of a
        large context) builds a dict of the index once instead."""
        index = self._index
        if index is None:
            self._lookups += 1
            if self._lookups > 512:
                index = self._build_index()
        if index is not None:
            i = index.get(raw)
            return None if i is None else self._offset(i)
        first = raw[0]
        lo = self.fanout[first - 1] if first else 0
        hi = self.fanout[first]
        idx, base = self.idx, self.sha_at
        while lo < hi:
            mid = (lo + hi) >> 1
            p = base + 20 * mid
            cur = idx[p:p + 20]
            if cur < raw:
                lo = mid + 1
            elif cur > raw:
                hi = mid
            else:
                off = struct.unpack_from(">I", idx, self.off_at + 4 * mid)[0]
                if off & 0x80000000:
                    off = struct.unpack_from(">Q", idx, self.large_at + 8 * (off & 0x7FFFFFFF))[0]
                return off
        return None

    def with_prefix(self, prefix: str) -> list[bytes]:
        """The raw ids in this pack whose hex starts with ``prefix`` (at
        least two hex digits)."""
        first = int(prefix[:2], 16)
        lo = self.fanout[first - 1] if first else 0
        hi = self.fanout[first]
        idx, base = self.idx, self.sha_at
        out = []
        for i in range(lo, hi):
            raw = idx[base + 20 * i:base + 20 * i + 20]
            if raw.hex().startswith(prefix):
                out.append(raw)
        return out


def _inflate(buf, pos: int, size: int) -> bytes:
    # deflate never grows data by more than a few bytes per 16 KB block:
    # one call on a slice that surely holds the stream (zlib.decompress
    # ignores what follows the stream's end)
    try:
        out = zlib.decompress(buf[pos:pos + size + 64 + (size >> 10)])
        if len(out) == size:
            return out
    except zlib.error:
        pass
    d = zlib.decompressobj()
    chunk = max(size + 64, 512)
    out = d.decompress(buf[pos:pos + chunk])
    while not d.eof:
        pos += chunk
        if pos >= len(buf):
            raise ValueError("truncated object in pack")
        chunk *= 2
        out += d.decompress(buf[pos:pos + chunk])
    return out


def _delta_size(delta: bytes, pos: int) -> tuple[int, int]:
    size = shift = 0
    while True:
        b = delta[pos]
        pos += 1
        size |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return size, pos


def apply_delta(base: bytes, delta: bytes) -> bytes:
    _, pos = _delta_size(delta, 0)
    size, pos = _delta_size(delta, pos)
    out = bytearray()
    n = len(delta)
    while pos < n:
        op = delta[pos]
        pos += 1
        if op & 0x80:
            off = ln = 0
            for i in range(4):
                if op & (1 << i):
                    off |= delta[pos] << (8 * i)
                    pos += 1
            for i in range(3):
                if op & (0x10 << i):
                    ln |= delta[pos] << (8 * i)
                    pos += 1
            out += base[off:off + (ln or 0x10000)]
        elif op:
            out += delta[pos:pos + op]
            pos += op
        else:
            raise ValueError("bad delta opcode")
    if len(out) != size:
        raise ValueError("delta result has the wrong size")
    return bytes(out)


# -------------------------------------------------------------- database
class ObjectDB:
    """The objects of one repository (``objects/`` and its packs)."""

    def __init__(self, git_dir: str):
        self.objects = os.path.join(git_dir, "objects")
        self._packs: list[_Pack] | None = None
        self._pack_names: set = set()
        self._bases: dict = {}  # (pack name, offset) -> (type, data), a few resolved delta bases
        self._fresh: dict = {}  # pack name -> freshened (True) or a cruft pack (False)

    def refresh(self) -> None:
        """Forget the pack list (after a repack): re-read on next use."""
        self._packs = None
        self._bases = {}

    # ----------------------------------------------------------- packs
    def _load_packs(self) -> list:
        pack_dir = os.path.join(self.objects, "pack")
        try:
            names = sorted(n for n in os.listdir(pack_dir) if n.endswith(".idx"))
        except OSError:
            names = []
        old = {p.name: p for p in (self._packs or [])}
        packs = []
        for n in names:
            p = old.get(n)
            if p is None:
                base = os.path.join(pack_dir, n[:-4])
                try:
                    p = _Pack(base + ".idx", base + ".pack")
                except (OSError, ValueError):
                    continue
            packs.append(p)
        # newest packs first: after a repack the new pack holds everything
        packs.sort(key=lambda p: -p.n)
        self._packs = packs
        return packs

    def _pack_read(self, pack: _Pack, off: int) -> tuple[int, bytes]:
        """(type number, data) of the object at ``off`` in ``pack``.  A
        chain of ``OFS_DELTA`` objects (git allows thousands deep) is
        followed in a loop down to its base, then applied upwards."""
        buf = pack.pack
        bases = self._bases
        name = pack.name
        deltas = []  # (key, delta data), outermost first
        while True:
            key = (name, off)
            hit = bases.get(key)
            if hit is not None:
                kind, data = hit
                break
            c = buf[off]
            pos = off + 1
            kind = (c >> 4) & 7
            size = c & 0x0F
            shift = 4
            while c & 0x80:
                c = buf[pos]
                pos += 1
                size |= (c & 0x7F) << shift
                shift += 7
            if kind == _OFS_DELTA:
                c = buf[pos]
                pos += 1
                rel = c & 0x7F
                while c & 0x80:
                    c = buf[pos]
                    pos += 1
                    rel = ((rel + 1) << 7) | (c & 0x7F)
                deltas.append((key, _inflate(buf, pos, size)))
                off -= rel
                continue
            if kind == _REF_DELTA:
                braw = bytes(buf[pos:pos + 20])
                pos += 20
                bname, bdata = self.read_raw(braw)
                kind = _TYPE_NUMBERS[bname]
                data = apply_delta(bdata, _inflate(buf, pos, size))
            else:
                data = _inflate(buf, pos, size)
            self._keep_base(key, kind, data)
            break
        for key, delta in reversed(deltas):
            data = apply_delta(data, delta)
            self._keep_base(key, kind, data)
        return kind, data

    def _keep_base(self, key: tuple, kind: int, data: bytes) -> None:
        if kind == 2:  # trees are the usual delta bases; keep a few
            bases = self._bases
            if len(bases) >= 64:
                del bases[next(iter(bases))]
            bases[key] = (kind, data)

    # ------------------------------------------------------------ reads
    def read_raw(self, raw: bytes) -> tuple[bytes, bytes]:
        """(type name, data) of the object with 20-byte id ``raw``;
        KeyError when there is none."""
        packs = self._packs if self._packs is not None else self._load_packs()
        for p in packs:
            off = p.find(raw)
            if off is not None:
                kind, data = self._pack_read(p, off)
                return TYPE_NAMES[kind], data
        hx = raw.hex()
        path = os.path.join(self.objects, hx[:2], hx[2:])
        try:
            z = _read_file(path)
        except FileNotFoundError:
            pass
        else:
            data = zlib.decompress(z)
            nul = data.index(b"\0")
            kind, _, _ = data[:nul].partition(b" ")
            return kind, data[nul + 1:]
        # packed meanwhile by another process (a gc)?
        for p in self._load_packs():
            off = p.find(raw)
            if off is not None:
                kind, data = self._pack_read(p, off)
                return TYPE_NAMES[kind], data
        raise KeyError(hx)

    def read(self, oid: str) -> tuple[bytes, bytes]:
        try:
            raw = bytes.fromhex(oid)
        except ValueError:
            raise KeyError(oid) from None
        if len(raw) != 20:
            raise KeyError(oid)
        return self.read_raw(raw)

    def exists(self, raw: bytes) -> bool:
        hx = raw.hex()
        if os.path.exists(os.path.join(self.objects, hx[:2], hx[2:])):
            return True
        return bool(self._packed_in(raw, relist=True))

    def _packed_in(self, raw: bytes, relist: bool) -> list:
        """The packs still on disk that hold ``raw``.  A pack this process
        mapped may since have been deleted (``git gc`` repacked, and pruned
        what was unreachable): its mapping still reads, but the object may
        be gone from the repository, so the packs are listed again when one
        that holds it is gone, and (``relist``) when none holds it (another
        process may have packed it)."""
        packs = self._packs if self._packs is not None else self._load_packs()
        found = [p for p in packs if p.find(raw) is not None]
        if found and all(os.path.exists(p.pack_path) for p in found):
            return found
        if not found and not relist:
            return []
        return [p for p in self._load_packs() if p.find(raw) is not None]

    def _freshen_packed(self, raw: bytes) -> bool:
        """Whether a pack still on disk holds ``raw``; if so its mtime is
        brought to now (once per pack and process), as git does before
        skipping a write: a ``git gc --prune`` running meanwhile then keeps
        it, though nothing refers to the object until our ref moves.  An
        object only in a cruft pack (``.mtimes``: unreachable objects with
        their own ages) counts as absent, so that it is written loose, as
        git does."""
        for p in self._packed_in(raw, relist=False):
            state = self._fresh.get(p.name)
            if state is None:
                state = False
                if not os.path.exists(p.pack_path[:-5] + ".mtimes"):
                    try:
                        os.utime(p.pack_path)
                        state = True
                    except OSError:  # gone meanwhile, or not ours to touch: write it loose
                        pass
                self._fresh[p.name] = state
            if state:
                return True
        return False

    def with_prefix(self, prefix: str) -> set[bytes]:
        """The raw ids of the objects (loose or packed) whose hex id starts
        with ``prefix`` (lower-case hex, at least two digits)."""
        out = set()
        try:
            names = os.listdir(os.path.join(self.objects, prefix[:2]))
        except OSError:
            names = []
        rest = prefix[2:]
        for n in names:
            if len(n) == 38 and n.startswith(rest):
                try:
                    out.add(bytes.fromhex(prefix[:2] + n))
                except ValueError:
                    pass
        for p in self._load_packs():  # (listed afresh: a repack may have run)
            out.update(p.with_prefix(prefix))
        return out

    # ----------------------------------------------------------- writes
    def write(self, kind: bytes, data: bytes, *, surely_new: bool = False, raw: bytes | None = None) -> bytes:
        """Write a loose object (unless it exists); returns its raw id.

        As git does: a ``tmp_obj_*`` file in the object's own directory
        (``objects/xx/``) renamed into place, so a crash never leaves a
        half-written object where readers (or ``git fsck``) look; a rename
        within one directory measured ~27 us against ~44 us from
        ``objects/`` (nine objects an append).  ``git prune`` removes a
        ``tmp_obj_`` file a crash left.  ``surely_new`` (a commit: it names
        its parent and the time) skips looking for a loose copy first; a
        copy there would be replaced by the same bytes.  (Creating the file
        unnamed with ``O_TMPFILE`` and naming it with ``linkat`` measured no
        faster here.)  ``raw``: the id, when the caller knows it already."""
        if raw is None:
            raw = object_id(kind, data)
        hx = raw.hex()
        d = f"{self.objects}/{hx[:2]}"
        path = f"{d}/{hx[2:]}"
        if not surely_new and os.path.exists(path):  # (a stat: cheaper than a failed utime)
            try:
                os.utime(path)  # there already: freshened, as git does (see _freshen_packed)
                return raw
            except FileNotFoundError:  # pruned meanwhile: written again below
                pass
            except OSError:  # there, but not ours to touch
                return raw
        if self._freshen_packed(raw):
            return raw
        z = deflate(b"%s %d\0" % (kind, len(data)), data)
        tmp = f"{d}/tmp_obj_{os.getpid()}_{hx[:12]}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o444)
        except FileNotFoundError:
            os.makedirs(d, exist_ok=True)
            fd = os.open(tmp, flags, 0o444)
        except FileExistsError:  # left by a killed process whose pid came round again
            tmp = f"{d}/tmp_obj_{os.urandom(8).hex()}"
            fd = os.open(tmp, flags, 0o444)
        try:
            try:
                _write_all(fd, z)
            finally:
                os.close(fd)
            os.rename(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return raw


def _pack_head(kind: int, size: int) -> bytes:
    """A pack record's header: type and size, 4 bits then 7 per byte."""
    c = (kind << 4) | (size & 0x0F)
    size >>= 4
    out = bytearray()
    while size:
        out.append(c | 0x80)
        c = size & 0x7F
        size >>= 7
    out.append(c)
    return bytes(out)


def _index_bytes(index: list, pack_sha: bytes) -> bytes:
    """A version 2 pack index of [(raw id, crc32, offset)]."""
    entries = sorted(index)
    counts = [0] * 256
    for raw, _, _ in entries:
        counts[raw[0]] += 1
    acc = 0
    for i in range(256):
        acc += counts[i]
        counts[i] = acc
    offsets, large = [], []
    for _, _, off in entries:
        if off < 0x80000000:
            offsets.append(off)
        else:
            offsets.append(0x80000000 | len(large))
            large.append(off)
    n = len(entries)
    idx = b"".join([
        b"\xfftOc\x00\x00\x00\x02",
        struct.pack(">256I", *counts),
        b"".join(raw for raw, _, _ in entries),
        struct.pack(f">{n}I", *(crc for _, crc, _ in entries)),
        struct.pack(f">{n}I", *offsets),
        struct.pack(f">{len(large)}Q", *large),
        pack_sha,
    ])
    return idx + hashlib.sha1(idx).digest()


_STORED_HEAD = struct.Struct("<2sBHH").pack
_ADLER = struct.Struct(">I").pack
#: loose objects smaller than this are written uncompressed (see deflate)
STORE_BELOW = 16384


def deflate(head: bytes, data: bytes) -> bytes:
    """The zlib stream of a loose object.  Objects under 16 KB (an
    append's commit, note and message, which fit one file-system block
    either way, and its trees: a bucket of up to 256 entries, the notes
    root) are written as one *stored* deflate block: compressing them was
    a fifth of an append's CPU, and saves little on trees (mostly SHA-1
    ids).  Loose objects are temporary: ``git gc`` compresses them into a
    pack.  Larger objects at level 1, git's ``core.looseCompression``
    default."""
    n = len(head) + len(data)
    if n < STORE_BELOW:
        adler = zlib.adler32(data, zlib.adler32(head))
        return _STORED_HEAD(b"\x78\x01", 1, n, n ^ 0xFFFF) + head + data + _ADLER(adler)
    c = zlib.compressobj(1)
    return c.compress(head) + c.compress(data) + c.flush()


def _read_file(path: str) -> bytes:
    """A whole file, with three system calls for a small one (``open()``
    adds fstat, ioctl and lseek calls: a ref or an object is read several
    times per append).  IsADirectoryError for a directory, as ``open``."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunk = os.read(fd, 65536)
        if len(chunk) < 65536:
            return chunk
        parts = [chunk]
        while chunk:
            chunk = os.read(fd, 1 << 20)
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]



# ------------------------------------------------------------------- refs
class Refs:
    """Loose refs, ``packed-refs`` and reflogs of one repository."""

    def __init__(self, git_dir: str):
        self.git_dir = git_dir
        self._packed: tuple | None = None  # (stat key, {name: hex})

    def packed(self) -> dict:
        path = os.path.join(self.git_dir, "packed-refs")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._packed = None
            return {}
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._packed is not None and self._packed[0] == key:
            return self._packed[1]
        refs = {}
        with open(path, "rb") as f:
            for line in f:
                if line[:1] in (b"#", b"^") or len(line) < 42:
                    continue
                refs[line[41:].rstrip(b"\r\n").decode("utf-8", "replace")] = line[:40].decode()
        self._packed = (key, refs)
        return refs

    def read_raw(self, name: str) -> str | None:
        """A ref's own value: a hex id, ``ref: <target>`` for a symbolic
        ref, or None when it does not exist."""
        try:
            v = _read_file(f"{self.git_dir}/{name}").strip().decode("utf-8", "replace")
        except (FileNotFoundError, NotADirectoryError):
            return self.packed().get(name)
        except IsADirectoryError:
            return None
        return v or None

    def resolve(self, name: str) -> tuple[str, str | None]:
        """(final ref name, hex id or None) following symbolic refs."""
        for _ in range(10):
            v = self.read_raw(name)
            if v is None:
                return name, None
            if v.startswith("ref: "):
                name = v[5:].strip()
                continue
            return name, v
        return name, None

    def update(self, name: str, new: str, old: str | None, log_line: bytes | None,
               log_refs: tuple = (), *, exchange: bool = False, via: tuple = (),
               prepare=None, log_from: str | None = None) -> None:
        """Compare-and-swap ``name`` from ``old`` (None: must not exist) to
        ``new``, appending ``log_line`` (the part after the two ids, made
        by :func:`reflog_tail`) to the reflogs of ``log_refs`` (``name``,
        HEAD when it points at ``name``, as the caller decides for each:
        git's ``core.logAllRefUpdates``).  Raises :class:`RefLocked`,
        :class:`RefMoved`, :class:`RefSymbolic` or :class:`RefConflict`
        (creating ``a/b`` where ``a`` exists, or ``a`` where ``a/b`` does);
        OSError as is.

        ``exchange``: swap the lock and the ref file atomically
        (``renameat2(RENAME_EXCHANGE)``, where the system has it), then
        remove the lock, which now holds the old value, instead of renaming
        the lock over the ref.  Readers see the old value or the new one,
        as with a rename, and other writers still find the lock until it
        is removed.  What differs is only after a power loss: ext4 pushes
        a file's data to disk when a rename replaces another file (so that
        a crash cannot leave the ref empty), and an exchange does not, which
        saves ~0.4 ms per update here.  Tract asks for it only for its
        notes ref, whose notes are derived data it recomputes when missing.

        ``via``: ``(id, log_line)`` steps the ref passes through on its way
        from ``old`` to ``new`` (commits made one on another): the move is
        still one compare-and-swap, and each reflog gets one line per step
        and then the last one, as that many updates in a row would write.

        ``prepare``: called once the lock is held and the ref found at
        ``old``, before the ref moves (tract writes the new commit's objects
        there, so a ref it cannot lock, or that moved, leaves none)."""
        path = f"{self.git_dir}/{name}"
        lock = path + ".lock"
        if old is None:
            self._check_free(name)
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            raise RefLocked(name) from None
        except FileNotFoundError:
            try:
                os.makedirs(os.path.dirname(lock), exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                self._check_free(name)  # a loose ref appeared where a directory must go
                raise
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            except FileExistsError:
                raise RefLocked(name) from None
        done = False
        try:
            cur = self.read_raw(name)
            if cur is not None and cur.startswith("ref: "):
                raise RefSymbolic(name)
            if cur != old:
                raise RefMoved(name)
            if prepare is not None:
                prepare()
            os.write(fd, new.encode() + b"\n")
            os.close(fd)
            fd = -1
            if log_line is not None:  # (log_from: the old id the line shows, as git's rename writes)
                prev = (log_from or old or ZERO).encode()
                line = b""
                for mid, mid_line in via:
                    line += b"%s %s %s" % (prev, mid.encode(), mid_line)
                    prev = mid.encode()
                line += b"%s %s %s" % (prev, new.encode(), log_line)
                for ref in log_refs:
                    self._append_log(ref, line)
            if not (exchange and cur is not None and _exchange(lock, path)):
                os.rename(lock, path)
            done = True
        finally:
            if fd >= 0:
                os.close(fd)
            if not done:
                try:
                    os.unlink(lock)
                except OSError:
                    pass

    def _check_free(self, name: str) -> None:
        """Raise :class:`RefConflict` when ``name`` cannot be created
        because a ref is named like one of its directories, or it is a
        directory of other refs, loose or packed (git's D/F check)."""
        parts = name.split("/")
        packed = self.packed()
        for i in range(2, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in packed or os.path.isfile(f"{self.git_dir}/{prefix}"):
                raise RefConflict(f"'{prefix}' exists; cannot create '{name}'")
        below = name + "/"
        for other in packed:
            if other.startswith(below):
                raise RefConflict(f"'{other}' exists; cannot create '{name}'")
        d = f"{self.git_dir}/{name}"
        if os.path.isdir(d):
            for root, _dirs, files in os.walk(d):
                if files:
                    rel = os.path.relpath(os.path.join(root, files[0]), self.git_dir)
                    raise RefConflict(f"'{rel}' exists; cannot create '{name}'")
            for root, _dirs, _files in os.walk(d, topdown=False):
                os.rmdir(root)  # empty directories left by deleted refs, as git removes them
        logs = f"{self.git_dir}/logs/{name}"
        if os.path.isdir(logs):  # and their reflogs' (a directory with logs in it stays: an error later)
            for root, _dirs, _files in os.walk(logs, topdown=False):
                try:
                    os.rmdir(root)
                except OSError:
                    break

    def _append_log(self, ref: str, line: bytes) -> None:
        path = f"{self.git_dir}/logs/{ref}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


_RENAMEAT2: list = []  # [function or None], looked up on first use


def _exchange(a: str, b: str) -> bool:
    """Swap files ``a`` and ``b`` atomically, then remove ``a`` (which now
    holds ``b``'s old content); False when the system cannot (the caller
    renames instead): no ``renameat2``, a file system without
    ``RENAME_EXCHANGE``, or ``b`` missing."""
    if not _RENAMEAT2:
        fn = None
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            fn = libc.renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
            fn.restype = ctypes.c_int
            fn = (fn, ctypes.get_errno)
        except (OSError, AttributeError, ImportError):
            fn = None
        _RENAMEAT2.append(fn)
    fn = _RENAMEAT2[0]
    if fn is None:
        return False
    call, get_errno = fn
    if call(-100, os.fsencode(a), -100, os.fsencode(b), 2) != 0:  # AT_FDCWD, RENAME_EXCHANGE
        if get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            _RENAMEAT2[0] = None  # not here: rename from now on
        return False
    try:
        os.unlink(a)
    except FileNotFoundError:
        pass
    return True


def reflog_tail(ident: bytes, message: str) -> bytes:
    """The part of a reflog line after ``<old> <new> ``: the committer
    identity, a tab and the message on one line."""
    if _CRUFTY_MSG.search(message):
        message = _SPACES.sub(" ", message).strip(" \t\n\r")
    if not message:
        return ident + b"\n"  # git writes no tab then
    return b"%s\t%s\n" % (ident, message.encode("utf-8"))


#: git's ``copy_reflog_msg``: each run of whitespace becomes one space,
#: none at either end
_CRUFTY_MSG = re.compile(r"[\t\n\r]|  |^ | $")
_SPACES = re.compile(r"[ \t\n\r]+")


# ----------------------------------------------------------------- config
# A port of git 2.39's config.c reader (git_parse_source, get_base_var,
# get_value, parse_value).  What it does, checked against the git binary:
#
# * only "\n" ends a line ("\r\n" reads as "\n"); whitespace is git's
#   isspace (" ", "\t", "\r"), never \v, \f or Unicode spaces; a UTF-8 BOM
#   at the very start is skipped;
# * a key starts with an ASCII letter and goes on with letters, digits and
#   "-"; only " " and "\t" may stand between it and "=" or the end of the
#   line (``key ; comment`` is an error); a key with no "=" is a boolean
#   true (git lists it without a value; we say "true");
# * a value: leading whitespace skipped, unquoted whitespace *inside* it
#   becomes one space per character (a tab too: git 2.39 does not keep it),
#   unquoted trailing whitespace dropped, an empty "" flushes the pending
#   spaces; ``;`` or ``#`` outside quotes starts a comment that runs to the
#   end of the line, backslashes and quotes included; the escapes are
#   \n \t \b \\ \" and backslash-newline (a continuation, also inside
#   quotes); any other escape, or a quote still open at the end of the
#   line, makes git reject the file;
# * a header is ``[name]`` (letters, digits, "-", "."; lowercased, so the
#   old ``[a.B]`` gives "a.b") or ``[name "sub"]`` with exactly one run of
#   whitespace before the quote, ``\`` taking the next character as it is,
#   and "]" right after the closing quote; a key or a comment may follow
#   on the same line;
# * a value cut at a NUL byte: we give up (None) on any NUL instead.
#
# Anything git rejects gives None, and so does anything we do not read
# (includes): the caller then asks libgit2.
_CFG_SPACE = " \t\r"  # git's isspace() within a line
_CFG_KEYCHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_CFG_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CFG_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "\\": "\\", '"': '"'}
# fast paths, each matching one whole line including its "\n" (or the end):
# a blank or comment line, a plain header, a plain ``key [= value]`` (no
# quote or backslash in it; a comment may follow)
_CFG_BLANK = re.compile(r"[ \t\r]*(?:[#;][^\n]*)?(?:\n|\Z)")
_CFG_HEADER = re.compile(r'[ \t\r]*\[([A-Za-z0-9.-]+)(?:[ \t\r]+"([^"\\\n]*)")?\]'
                         r"[ \t\r]*(?:[#;][^\n]*)?(?:\n|\Z)")
_CFG_ENTRY = re.compile(r"[ \t\r]*([A-Za-z][A-Za-z0-9-]*)[ \t]*"
                        r'(?:=[ \t\r]*([^"\\;#\n]*)(?:[#;][^\n]*)?)?(?:\n|\Z)')
_CFG_TO_SPACE = str.maketrans("\t\r", "  ")


def _parse_value(text: str, pos: int) -> tuple[str, int] | None:
    """git's parse_value from just after the "=": (value, position after
    the line's "\\n"), or None when git rejects it."""
    n = len(text)
    out: list = []
    quote = False
    space = 0
    while True:
        if pos < n:
            c = text[pos]
            pos += 1
        else:
            c = "\n"
        if c == "\n":
            if quote:
                return None
            return "".join(out), pos
        if not quote:
            if c in _CFG_SPACE:
                if out:
                    space += 1
                continue
            if c == ";" or c == "#":  # a comment, to the end of the line
                j = text.find("\n", pos)
                return "".join(out), (n if j < 0 else j + 1)
        if space:
            out.append(" " * space)
            space = 0
        if c == "\\":
            if pos < n:
                c = text[pos]
                pos += 1
            else:
                c = "\n"
            if c == "\n":  # continuation
                continue
            c = _CFG_ESCAPES.get(c)
            if c is None:
                return None
            out.append(c)
        elif c == '"':
            quote = not quote
        else:
            out.append(c)


def _parse_line(text: str, pos: int, section: str | None, out: dict) -> tuple[int, str | None] | None:
    """git's main loop from the start of a line to the end of it (of the
    value's last line for a continued value): (position after it, the
    current section), or None when git rejects it."""
    n = len(text)
    while pos < n:
        c = text[pos]
        pos += 1
        if c == "\n":
            break
        if c in _CFG_SPACE:
            continue
        if c == "#" or c == ";":
            j = text.find("\n", pos)
            return (n if j < 0 else j + 1), section
        if c == "[":  # get_base_var
            j = pos
            while j < n and (text[j] in _CFG_KEYCHARS or text[j] == "."):
                j += 1
            name = text[pos:j].lower()
            if j >= n:
                return None
            c = text[j]
            j += 1
            if c == "]":
                if not name:
                    return None
                section = name
            elif c in _CFG_SPACE:  # get_extended_base_var: [name "sub"]
                while j < n and text[j] in _CFG_SPACE:
                    j += 1
                if j >= n or text[j] != '"':
                    return None
                j += 1
                sub = []
                while True:
                    if j >= n:
                        return None
                    c = text[j]
                    j += 1
                    if c == '"':
                        break
                    if c == "\\":
                        if j >= n:
                            return None
                        c = text[j]
                        j += 1
                    if c == "\n":
                        return None
                    sub.append(c)
                if j >= n or text[j] != "]":
                    return None
                section = name + "." + "".join(sub)
                j += 1
            else:
                return None
            if section.partition(".")[0] in ("include", "includeif"):
                return None
            pos = j
            continue
        if c not in _CFG_ALPHA:
            return None
        j = pos
        while j < n and text[j] in _CFG_KEYCHARS:
            j += 1
        key = (c + text[pos:j]).lower()
        while j < n and (text[j] == " " or text[j] == "\t"):
            j += 1
        if j >= n or text[j] == "\n":
            value = "true"
            pos = j + 1
        elif text[j] != "=":
            return None
        else:
            r = _parse_value(text, j + 1)
            if r is None:
                return None
            value, pos = r
        out[key if section is None else f"{section}.{key}"] = value
        break
    return pos, section


def parse_config(text: str) -> dict | None:
    """git config text -> {"section.sub.key" (section and key lowercased,
    subsection as written; git's own names, as ``git config --list`` shows
    them): last value}, a key with no "=" being "true"; None when git
    would reject the text, or when it uses includes (the caller asks
    libgit2)."""
    if "\0" in text:
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    out: dict = {}
    section = None
    pos = 0
    n = len(text)
    blank, header, entry = _CFG_BLANK.match, _CFG_HEADER.match, _CFG_ENTRY.match
    while pos < n:
        m = entry(text, pos)
        if m is not None:
            key = m.group(1).lower()
            value = m.group(2)
            if value is None:
                value = "true"
            else:
                value = value.rstrip(_CFG_SPACE)
                if "\t" in value or "\r" in value:
                    value = value.translate(_CFG_TO_SPACE)
            out[key if section is None else f"{section}.{key}"] = value
            pos = m.end()
            continue
        m = blank(text, pos)
        if m is not None and m.end() > pos:
            pos = m.end()
            continue
        m = header(text, pos)
        if m is not None:
            section = m.group(1).lower()
            if m.group(2) is not None:
                section = f"{section}.{m.group(2)}"
            if section.partition(".")[0] in ("include", "includeif"):
                return None
            pos = m.end()
            continue
        r = _parse_line(text, pos, section, out)
        if r is None:
            return None
        pos, section = r
    return out


def git_bool(value: str) -> bool | None:
    """git_config_bool() of a config or environment value: true/yes/on, false/no/off
    and "" (any case), or an int as git_parse_int reads it (strtoimax with
    base 0, an optional k/m/g factor, within int); None where git dies."""
    low = value.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("", "false", "no", "off"):
        return False
    m = _GIT_INT.match(value)
    if m is None:
        return None
    digits = m.group(2)
    if digits[:2] in ("0x", "0X"):
        val = int(digits[2:], 16)
    elif digits[0] == "0":
        val = int(digits, 8)
    else:
        val = int(digits)
    factor = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(3).lower()]
    if val > 0x7FFFFFFF // factor:  # -INT_MAX/factor for a negative one: the same bound
        return None
    return val != 0


_GIT_INT = re.compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgG]?)\Z")


def config_files(git_dir: str) -> list[str]:
    """The config files git reads for this repository, lowest priority
    first (system, XDG, global, the repository's own).  An empty path
    means a file git does not read.  A ``GIT_CONFIG_NOSYSTEM`` git cannot
    read as a boolean (git dies) counts here as not set; :func:`read_config`
    gives None for it."""
    env = os.environ
    files = []
    if not git_bool(env.get("GIT_CONFIG_NOSYSTEM", "")):
        files.append(env.get("GIT_CONFIG_SYSTEM", "/etc/gitconfig"))
    if "GIT_CONFIG_GLOBAL" in env:
        files.append(env["GIT_CONFIG_GLOBAL"])
    else:
        # as git builds them: no HOME, no ~/.gitconfig (and no XDG file
        # unless XDG_CONFIG_HOME is set); an empty HOME means "/"
        home = env.get("HOME")
        xdg = env.get("XDG_CONFIG_HOME") or (None if home is None else f"{home}/.config")
        files.append("" if xdg is None else f"{xdg}/git/config")
        files.append("" if home is None else f"{home}/.gitconfig")
    files.append(os.path.join(git_dir, "config"))
    return files


def read_config_file(path: str) -> dict | None:
    """:func:`parse_config` of one file (read as bytes: text mode would
    turn a lone "\\r" into a newline); FileNotFoundError and the like
    propagate, undecodable UTF-8 gives None."""
    data = _read_file(path)
    try:
        return parse_config(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def read_config(git_dir: str) -> dict | None:
    """Every config value git would see here (last one wins), or None when
    it could not be read exactly: a file git rejects or that includes
    others, values given on the command line (``GIT_CONFIG_PARAMETERS``,
    ``GIT_CONFIG_COUNT``), a ``GIT_CONFIG_NOSYSTEM`` that is not a boolean
    (git dies on it), ``extensions.worktreeConfig`` (git then reads
    ``config.worktree`` too)."""
    env = os.environ
    if "GIT_CONFIG_PARAMETERS" in env or "GIT_CONFIG_COUNT" in env:
        return None
    if "GIT_CONFIG_NOSYSTEM" in env and git_bool(env["GIT_CONFIG_NOSYSTEM"]) is None:
        return None
    merged: dict = {}
    for path in config_files(git_dir):
        if not path or path == os.devnull:
            continue
        try:
            vals = read_config_file(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
        except OSError:
            return None
        if vals is None:
            return None
        merged.update(vals)
    if "extensions.worktreeconfig" in merged:
        return None
    return merged


def config_key(key: str) -> str:
    """A lookup key in :func:`parse_config`'s form: section and variable
    name lowercased, subsection as written."""
    first, _, rest = key.partition(".")
    sub, _, var = rest.rpartition(".")
    return f"{first.lower()}.{sub}.{var.lower()}" if sub else f"{first.lower()}.{var.lower()}"


def is_write_error(e: OSError) -> bool:
    return e.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
