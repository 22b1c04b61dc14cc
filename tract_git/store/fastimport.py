"""Bulk writes: a chain of many commits written as one pack.

A loose-object write costs a file creation per object (a blob, three trees
and a commit per append), which bounds one-at-a-time appends.  For bulk
appends (``Tract.import_messages``, ``tract import``) the whole chain of
commits goes into a single pack, in one of two ways that make exactly the
same objects (the tests compare them):

* :func:`write_pack_chain` (used): builds git's canonical bytes of every
  blob, tree and commit here, in Python, and writes the pack and its index
  directly.  It knows what changes between two commits of a chain (a file
  added, the trees on its path rewritten), so each tree is serialized by
  one ``join`` and stored as a delta against its previous version (an
  append to a bucket is a copy of the old tree plus the new entry), and
  the notes of every commit (blobs, fan-out trees, one notes commit) go
  into the same pack.  No subprocess, no git binary needed.
* :func:`write_chain`: streams the chain to ``git fast-import``, which
  builds the trees and writes the pack itself.  Kept as the reference the
  tests check the first against; it was ~3x slower (fast-import
  deltifies every tree version with a full delta index).

Neither moves a ref of ours (fast-import writes to a private temporary ref,
``refs/tract/tmp/import-*``, deleted afterwards): the caller moves the
branch with its usual compare-and-swap, then the notes ref.  Commits that
lose that race are unreferenced objects in a pack, removed by the next
``git gc``.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from typing import Iterable

from ..errors import TractError
from .odb import _index_bytes, object_id
from .staging import _copy, _delta, _ofs
from .staging import _varint as _varint_any
from .staging import _pack_header as _pack_header_any


@dataclass
class BulkCommit:
    """One commit of a chain: blobs added at ``paths`` (path -> blob
    bytes), a message, and identity lines (``Name <email> <time> <tz>``)."""

    files: dict
    message: str
    author: str
    committer: str
    note: bytes | None = None  # this commit's note blob (write_pack_chain)


def available() -> bool:
    return shutil.which("git") is not None


def blob_id(data: bytes) -> str:
    """The git object id of a blob with ``data`` (computed, not written)."""
    return object_id(b"blob", data).hex()


def ident(name: str, email: str, time: int, offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    o = abs(offset)
    return f"{name} <{email}> {time} {sign}{o // 60:02d}{o % 60:02d}"


def write_chain(git_dir: str, parent: str | None, commits: Iterable[BulkCommit],
                extra_blobs: Iterable[bytes] = ()) -> list[str]:
    """Write ``commits`` as a linear chain on top of ``parent`` (None: a
    root commit), then ``extra_blobs`` (e.g. notes; their ids are
    :func:`blob_id`), into one pack; returns the commit ids, oldest first.
    No ref of the store is moved.

    ``commits`` may be a generator: the stream is fed to fast-import as it
    is produced, so the caller's work (token counting) overlaps with
    fast-import's on a second core; ``extra_blobs`` is read only after the
    last commit."""
    tmp_ref = f"refs/tract/tmp/import-{os.getpid()}-{os.urandom(4).hex()}".encode()
    fd, marks_file = tempfile.mkstemp(prefix="tract-marks-")
    os.close(fd)
    env = dict(os.environ)
    env["GIT_DIR"] = git_dir
    # fast-import allocates and frees a delta buffer per object; glibc then
    # trims the heap on every free (200,000 brk calls for 10,000 commits,
    # two thirds of its run time).  A trim threshold keeps the heap.
    env.setdefault("MALLOC_TRIM_THRESHOLD_", str(256 << 20))
    env.setdefault("MALLOC_TOP_PAD_", str(64 << 20))
    errf = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        # --big-file-threshold=1: store blobs whole.  fast-import would
        # otherwise delta each message against the one before it (unrelated
        # text: little gain), and reading them back (compile) would walk
        # delta chains.  Trees are still deltified.  `git gc` repacks.
        ["git", "fast-import", "--quiet", "--done", "--big-file-threshold=1",
         f"--export-marks={marks_file}"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errf, env=env,
    )
    commit_marks: list[int] = []
    try:
        try:
            _feed(proc.stdin, tmp_ref, parent, commits, extra_blobs, commit_marks)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        rc = proc.wait()
        if rc != 0:
            errf.seek(0)
            err = errf.read().decode("utf-8", "replace").strip().splitlines()
            raise TractError("git fast-import failed: " + (err[0] if err else f"exit {rc}"))
        ids: dict[int, str] = {}
        with open(marks_file, encoding="ascii") as f:
            for line in f:
                m, _, oid = line.strip().partition(" ")
                ids[int(m[1:])] = oid
    finally:
        errf.close()
        os.unlink(marks_file)
        if commit_marks:
            subprocess.run(["git", "update-ref", "--no-deref", "-d", tmp_ref.decode()], env=env,
                           capture_output=True)
            _remove_empty_dirs(os.path.join(git_dir, "refs", "tract", "tmp"),
                               os.path.join(git_dir, "logs", "refs", "tract", "tmp"))
    return [ids[m] for m in commit_marks]


def _feed(pipe, tmp_ref: bytes, parent: str | None, commits, extra_blobs, commit_marks: list) -> None:
    parts: list[bytes] = []
    out = parts.append
    marks: dict[bytes, int] = {}
    next_mark = 1
    size = 0
    for c in commits:
        file_lines = []
        for path, data in c.files.items():
            m = marks.get(data)
            if m is None:
                m = marks[data] = next_mark
                next_mark += 1
                out(b"blob\nmark :%d\ndata %d\n%s\n" % (m, len(data), data))
                size += len(data)
            file_lines.append(b"M 100644 :%d %s\n" % (m, path.encode()))
        cm = next_mark
        next_mark += 1
        commit_marks.append(cm)
        msg = c.message.encode("utf-8")
        out(b"commit %s\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n%s\n" % (
            tmp_ref, cm, c.author.encode("utf-8"), c.committer.encode("utf-8"), len(msg), msg))
        if len(commit_marks) == 1 and parent:
            out(b"from %s\n" % parent.encode())
        parts.extend(file_lines)
        out(b"\n")
        size += len(msg) + 200
        if size > 256 << 10:
            pipe.write(b"".join(parts))
            parts.clear()
            size = 0
    for data in extra_blobs:
        out(b"blob\ndata %d\n%s\n" % (len(data), data))
    out(b"done\n")
    pipe.write(b"".join(parts))


def _remove_empty_dirs(*dirs: str) -> None:
    for d in dirs:
        try:
            os.rmdir(d)
            os.rmdir(os.path.dirname(d))  # refs/tract, if nothing else lives there
        except OSError:
            pass


# ------------------------------------------------ the pack, written here
#: longest delta chain written (git fast-import's default ``--depth``)
MAX_DEPTH = 50
_BLOB_MODE = b"100644"
_TREE_MODE = b"40000"
_COMMIT, _TREE, _BLOB = 1, 2, 3  # pack object type numbers
_OFS_DELTA = 6
_KIND_NAME = {_COMMIT: b"commit", _TREE: b"tree", _BLOB: b"blob"}


@dataclass
class ChainResult:
    """What :func:`write_pack_chain` wrote: the commit ids (oldest first)
    and, when every commit had a note, the notes commit adding them all on
    top of ``notes_parent`` (the notes tip it was built on)."""

    commits: list
    notes_commit: str | None = None
    notes_parent: str | None = None


class _Dir:
    """A tree being edited along the chain: its entries (name -> entry
    bytes, in git's order while ``in_order``), and the last version
    written to the pack (the delta base for the next one)."""

    __slots__ = ("entries", "in_order", "parent", "name", "children", "level",
                 "last", "offset", "depth", "change", "cur")

    def __init__(self, entries: dict, parent: "_Dir | None", name: bytes, level: int):
        self.entries = entries
        self.in_order = True
        self.parent = parent
        self.name = name
        self.children: dict = {}
        self.level = level
        self.last: bytes | None = None
        self.offset = 0
        self.depth = 0
        #: since ``last``: None (nothing), (old entry or None, new entry)
        #: for one entry set, or False for more than one
        self.change: tuple | bool | None = None
        self.cur: bytes | None = None  # the bytes of the version last made


class _Pack:
    """Records of a pack being built in memory (compressed: ~1 KB per
    commit of a chain), then written with its index."""

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.index: list[tuple] = []  # (raw oid, crc32, offset)
        self.offset = 12
        self.seen: set[bytes] = set()

    def _append(self, raw: bytes, rec: bytes) -> int:
        off = self.offset
        self.index.append((raw, _crc32(rec), off))
        self.records.append(rec)
        self.offset = off + len(rec)
        return off

    def add(self, kind: int, data: bytes) -> tuple[bytes, int | None]:
        """Add an object stored whole; (raw id, offset or None when it was
        already in this pack)."""
        n = len(data)
        if n < 4096:
            raw = _sha1(b"%s %d\0%s" % (_KIND_NAME[kind], n, data)).digest()
        else:
            h = _sha1(b"%s %d\0" % (_KIND_NAME[kind], n))
            h.update(data)
            raw = h.digest()
        if raw in self.seen:
            return raw, None
        self.seen.add(raw)
        rec = _pack_header(kind, n) + (_stored(data) if n < 256 else _deflate(data))
        off = self.offset
        self.index.append((raw, _crc32(rec), off))
        self.records.append(rec)
        self.offset = off + len(rec)
        return raw, off

    def add_tree(self, d: _Dir, data: bytes) -> bytes:
        """Add a version of ``d``'s tree, as a delta against the version
        before it when there is one in this pack."""
        h = _sha1(b"tree %d\0" % len(data))
        h.update(data)
        raw = h.digest()
        change, d.change = d.change, None
        d.cur = data
        if raw in self.seen:
            return raw
        self.seen.add(raw)
        rec = None
        depth = 0
        off = self.offset
        if d.last is not None and d.depth < MAX_DEPTH:
            delta = _tree_delta(d.last, data, change)
            if delta is not None:
                rec = _pack_header(_OFS_DELTA, len(delta)) + _ofs(off - d.offset) + _zip(delta)
                depth = d.depth + 1
        if rec is None:
            rec = _pack_header(_TREE, len(data)) + _zip(data)
        self.index.append((raw, _crc32(rec), off))
        self.records.append(rec)
        self.offset = off + len(rec)
        d.offset, d.last, d.depth = off, data, depth
        return raw

    def write(self, objects_dir: str) -> str | None:
        """Write the pack and its index into ``objects_dir/pack`` (each to a
        temporary file, then renamed, the index last: the objects become
        visible at once)."""
        if not self.records:
            return None
        pack_dir = os.path.join(objects_dir, "pack")
        os.makedirs(pack_dir, exist_ok=True)
        body = b"".join([b"PACK" + struct.pack(">II", 2, len(self.records))] + self.records)
        pack_sha = hashlib.sha1(body).digest()
        idx = _index_bytes(self.index, pack_sha)
        name = "pack-" + pack_sha.hex()
        tmps: list[str] = []
        try:
            for suffix, parts in ((".pack", (body, pack_sha)), (".idx", (idx,))):
                fd, tmp = tempfile.mkstemp(prefix=f"tmp_{suffix[1:]}_", dir=pack_dir)
                tmps.append(tmp)
                with os.fdopen(fd, "wb") as f:
                    for data in parts:
                        f.write(data)
                os.chmod(tmp, 0o444)
            os.rename(tmps[0], os.path.join(pack_dir, name + ".pack"))
            tmps[0] = ""
            os.rename(tmps[1], os.path.join(pack_dir, name + ".idx"))  # visible now
            tmps[1] = ""
        finally:
            for tmp in tmps:
                if tmp:
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass
        return name


_STORED_HEAD = struct.Struct("<3sHH").pack
_STORED_HEAD = (lambda pack: lambda n, x: pack(b"\x78\x01\x01", n, x))(_STORED_HEAD)
_ADLER = struct.Struct(">I").pack
_adler32 = zlib.adler32
_crc32 = zlib.crc32
_sha1 = hashlib.sha1


def _varint(n: int) -> bytes:
    if n < 0x4000:  # a tree of up to 16 KB
        return bytes((n,)) if n < 0x80 else bytes((0x80 | (n & 0x7F), n >> 7))
    return _varint_any(n)


def _copy0(n: int) -> bytes:
    """A delta copy of the first ``n`` (< 2**24, > 0) bytes of the base."""
    if n < 0x10000:
        return bytes((0xB0, n & 0xFF, n >> 8))
    return bytes((0xF0, n & 0xFF, (n >> 8) & 0xFF, n >> 16))


def _stored(data: bytes) -> bytes:
    """``data`` as a zlib stream of one stored block (< 64 KB)."""
    n = len(data)
    return _STORED_HEAD(n, n ^ 0xFFFF) + data + _ADLER(_adler32(data))


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, 12 if len(data) <= 4096 else 15, 8)
    return c.compress(data) + c.flush()


def _zip(data: bytes) -> bytes:
    """A zlib stream of ``data``: small objects (deltas, notes) stored as
    they are (setting zlib up costs more than the few bytes it would save),
    larger ones at level 1."""
    return _stored(data) if len(data) < 256 else _deflate(data)


def _ins(data: bytes) -> bytes:
    """Delta instructions inserting ``data``."""
    if len(data) <= 127:
        return bytes((len(data),)) + data
    return b"".join(bytes((len(data[i:i + 127]),)) + data[i:i + 127] for i in range(0, len(data), 127))


def _tree_delta(src: bytes, dst: bytes, change=None) -> bytes | None:
    """A delta making ``dst`` from ``src``.  ``change`` (old entry or None,
    new entry) says which one entry differs; each guess is checked on the
    bytes before it is used."""
    ls, ld = len(src), len(dst)
    if ls < 64:
        return None  # a small tree (the root): whole
    if ls > 0xFFFFFF:
        return _delta(src, dst)
    if type(change) is tuple:
        old, new = change
        if old is None:
            if ld > ls and dst.startswith(src):  # appended: copy all, insert the rest
                return _varint(ls) + _varint(ld) + _copy0(ls) + _ins(dst[ls:])
        else:  # replaced in place
            p = src.rfind(old)
            lo, ln = len(old), len(new)
            if p >= 0 and ls - lo == ld - ln and dst[p:p + ln] == new and src[:p] == dst[:p] \
                    and src[p + lo:] == dst[p + ln:]:
                out = [_varint(ls), _varint(ld)]
                if p:
                    out.append(_copy0(p))
                out.append(_ins(new))
                if p + lo < ls:
                    out.append(_copy(p + lo, ls - p - lo))
                return b"".join(out)
    return _delta(src, dst)


def _pack_header(kind: int, size: int) -> bytes:
    if size < 2048:  # most objects here: one or two bytes
        if size < 16:
            return bytes(((kind << 4) | size,))
        return bytes((0x80 | (kind << 4) | (size & 0x0F), size >> 4))
    return _pack_header_any(kind, size)


def _git_key(name: bytes, ent: bytes) -> bytes:
    return name + b"/" if ent.startswith(b"40000 ") else name  # git's tree order


def _parse_tree(data: bytes) -> dict:
    """Raw tree bytes -> {name: entry bytes}, in the tree's order."""
    out = {}
    pos, n = 0, len(data)
    while pos < n:
        sp = data.index(b" ", pos)
        nul = data.index(b"\0", sp)
        end = nul + 21
        out[data[sp + 1:nul]] = data[pos:end]
        pos = end
    return out


def _set(d: _Dir, name: bytes, ent: bytes) -> None:
    entries = d.entries
    old = entries.get(name)
    if old is None and d.in_order and entries:
        last = next(reversed(entries))
        if _git_key(last, entries[last]) >= _git_key(name, ent):
            d.in_order = False
    entries[name] = ent
    d.change = (old, ent) if d.change is None else False


def _tree_bytes(d: _Dir) -> bytes:
    change = d.change
    if d.in_order and d.cur is not None and type(change) is tuple and change[0] is None:
        # one entry added since the last version, at the end (an append)
        return d.cur + change[1]
    if not d.in_order:
        d.entries = dict(sorted(d.entries.items(), key=lambda kv: _git_key(*kv)))
        d.in_order = True
    return b"".join(d.entries.values())


def write_pack_chain(git_dir: str, parent: str | None, commits: Iterable[BulkCommit],
                     read, *, notes_parent: str | None = None,
                     notes_message: str = "Notes added by tract",
                     notes_ident: str | None = None) -> ChainResult:
    """Write ``commits`` as a linear chain on top of ``parent`` (None: a
    root commit) into one new pack, with what :func:`write_chain` would
    make (same blobs, trees and commits).  ``read(hex id)`` returns an
    existing object's raw bytes (the parent's commit and trees, the notes
    trees).  When every commit has a ``note`` and ``notes_ident`` is given,
    the pack also holds the notes: their blobs, the notes trees of
    ``notes_parent``'s tree with one note per commit added (fanned out as
    ``ab/cdef...``, a flat ``abcdef...`` note replaced), and one notes
    commit on top of ``notes_parent``.  No ref is moved."""
    # the chain allocates a few small objects per commit and frees none
    # until the end: the cyclic garbage collector would walk the growing
    # heap again and again for nothing (~10% of the time)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _write_pack_chain(git_dir, parent, commits, read, notes_parent, notes_message,
                                 notes_ident)
    finally:
        if was_enabled:
            gc.enable()


def _write_pack_chain(git_dir, parent, commits, read, notes_parent, notes_message,
                      notes_ident) -> ChainResult:
    pack = _Pack()
    root_tree = _commit_tree(read(parent)) if parent else None
    root = _Dir(_parse_tree(read(root_tree)) if root_tree else {}, None, b"", 0)
    ids: list[str] = []
    notes: list[tuple[str, bytes]] = []
    want_notes = notes_ident is not None
    idents: dict[str, bytes] = {}
    prev = parent
    for c in commits:
        dirty: list[_Dir] = []  # the trees to rewrite, deepest last
        for path, data in c.files.items():
            raw, _ = pack.add(_BLOB, data)
            *dirs, leaf = path.encode("utf-8").split(b"/")
            d = root
            for name in dirs:
                child = d.children.get(name)
                if child is None:
                    ent = d.entries.get(name)
                    base = _parse_tree(read(ent[-20:].hex())) if ent and ent.startswith(b"40000 ") else {}
                    child = d.children[name] = _Dir(base, d, name, d.level + 1)
                dirty.append(d)
                d = child
            dirty.append(d)
            _set(d, leaf, b"%s %s\0%s" % (_BLOB_MODE, leaf, raw))
        if len(c.files) > 1:
            dirty = sorted({id(d): d for d in dirty}.values(), key=lambda x: x.level)
        # rewrite the changed trees, deepest first, each into its parent
        tree_raw = b""
        for d in reversed(dirty):
            tree_raw = pack.add_tree(d, _tree_bytes(d))
            if d.parent is not None:
                _set(d.parent, d.name, b"%s %s\0%s" % (_TREE_MODE, d.name, tree_raw))
        if not dirty:  # a commit that changes nothing keeps the tree
            tree_raw = pack.add_tree(root, _tree_bytes(root))
        a = idents.get(c.author)
        if a is None:
            a = idents[c.author] = c.author.encode("utf-8")
        m = idents.get(c.committer)
        if m is None:
            m = idents[c.committer] = c.committer.encode("utf-8")
        body = b"tree %s\n%sauthor %s\ncommitter %s\n\n%s" % (
            tree_raw.hex().encode(), b"parent %s\n" % prev.encode() if prev else b"", a, m,
            c.message.encode("utf-8"))
        raw, _ = pack.add(_COMMIT, body)
        prev = raw.hex()
        ids.append(prev)
        if want_notes:
            if c.note is None:
                want_notes = False
                notes = []
            else:
                notes.append((prev, c.note))
    result = ChainResult(ids, None, notes_parent)
    if want_notes and notes:
        result.notes_commit = _notes_commit(pack, notes, notes_parent, notes_message,
                                            notes_ident, read)  # type: ignore[arg-type]
    pack.write(os.path.join(git_dir, "objects"))
    return result


def _commit_tree(data: bytes) -> str:
    if not data.startswith(b"tree "):
        raise TractError("not a commit")
    return data[5:45].decode("ascii")


def _notes_commit(pack: _Pack, notes: list, parent: str | None, message: str, ident: str,
                  read) -> str:
    """The notes trees and commit adding ``notes`` ((commit id, note blob)
    pairs) to the notes tip ``parent``, as ``Store.add_notes`` makes them."""
    root = _Dir(_parse_tree(read(_commit_tree(read(parent)))) if parent else {}, None, b"", 0)
    groups: dict[bytes, list] = {}
    for commit, data in notes:
        raw, _ = pack.add(_BLOB, data)
        c = commit.encode("ascii")
        groups.setdefault(c[:2], []).append((c, raw))
    for prefix, items in groups.items():
        ent = root.entries.get(prefix)
        sub = _Dir(_parse_tree(read(ent[-20:].hex())) if ent and ent.startswith(b"40000 ") else {},
                   root, prefix, 1)
        for c, raw in items:
            _set(sub, c[2:], b"%s %s\0%s" % (_BLOB_MODE, c[2:], raw))
            if root.entries.pop(c, None) is not None:  # a flat note git wrote
                root.change = False
        sraw = pack.add_tree(sub, _tree_bytes(sub))
        _set(root, prefix, b"%s %s\0%s" % (_TREE_MODE, prefix, sraw))
    tree = pack.add_tree(root, _tree_bytes(root))
    who = ident.encode("utf-8")
    body = b"tree %s\n%sauthor %s\ncommitter %s\n\n%s" % (
        tree.hex().encode(), b"parent %s\n" % parent.encode() if parent else b"", who, who,
        (message + "\n").encode("utf-8"))
    raw, _ = pack.add(_COMMIT, body)
    return raw.hex()
