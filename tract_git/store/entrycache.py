"""Decoded entries of snapshot buckets, cached by bucket tree id.

A snapshot keeps its entries in bucket trees (``msg/<bucket>/<key>-<id>-
<role>``, see ``keys``).  A bucket tree's id fixes the names and blob ids
of its entries, and a blob id fixes the blob's bytes, so what was decoded
from a bucket once is valid for that bucket id forever, in any store: the
cache is correct by construction, like git's commit-graph (derived data
kept outside the object database).  A compile reads the snapshot's root and
``msg`` trees, then, per bucket, the decoded entries from

* memory (this process decoded or loaded that bucket id before), else
* its cache file, else
* the bucket tree and its blobs (then the cache file is written).

An append changes only the last bucket, so a compile after new commits
loads every other bucket from its file and decodes only that one.  The last
bucket of a snapshot (at most 256 appended entries) is never written to a
file: every append rewrites it, and caching each version would grow the
cache by a file per compile.

File: ``<store>/tract-cache/entries/<bucket name>/<bucket tree id>``::

    b"TRACTEC\\x01"                 magic and format version
    1 byte n, n bytes               Python cache tag and marshal version
                                    (e.g. b"cpython-311/4")
    20 bytes                        the bucket tree id (raw)
    4 bytes, big-endian             payload length
    4 bytes, big-endian             CRC-32 of the payload
    payload                         marshal of a tuple of dicts, one per
                                    entry in tree order: the Entry fields

A file whose header, length or checksum does not match (truncated, torn,
written by another Python) is ignored and the bucket is read from git
again; files are written to a temporary name and renamed, so a reader sees
a whole file or none.  At most ``KEEP_VERSIONS`` versions of one bucket
name are kept (older ones are removed when a newer one is written), and
``tract gc`` removes every file whose bucket no branch tip uses.  Nothing
is written where the store is read-only: compiles still work.  A file
holds what its blobs hold, nothing more.  Deleting the directory is always
safe.
"""

from __future__ import annotations

import _thread
import gc
import marshal
import os
import re
import sys
import zlib

from ..model import Entry
from . import codec

SUBDIR = os.path.join("tract-cache", "entries")
MAGIC = b"TRACTEC\x01"
KEEP_VERSIONS = 3
#: how many entries the in-process memo may hold (as many as Repo._entry_cache)
MEMO_ENTRIES = 50_000
_TAG = f"{sys.implementation.cache_tag}/{marshal.version}".encode()
_HEAD = MAGIC + bytes([len(_TAG)]) + _TAG
_PREFIX = len(_HEAD) + 20 + 8
_TREE_ENTRY = re.compile(rb"([0-7]+) ([^\0]*)\0(.{20})", re.S)
_BUCKET_NAME = re.compile(r"^[0-9a-f]{1,40}$")
_TREE_MODE = b"40000"
_BLOB_MODE = b"100644"
_MSG = b"msg"

#: bucket tree id (hex) -> its entries (a list nobody mutates), in any store:
#: a bucket id names the same entries everywhere
_memo: dict[str, list] = {}
_memo_size = 0

#: counters for tests and benchmarks: where buckets came from
stats = {"memo": 0, "file": 0, "decoded": 0, "written": 0}


def cache_dir(store_path: str) -> str:
    return os.path.join(store_path, SUBDIR)


def _file(store_path: str, name: str, bucket: str) -> str:
    return os.path.join(store_path, SUBDIR, name, bucket)


# ------------------------------------------------------------------ files
def load(store_path: str, name: str, bucket: str) -> tuple | None:
    """The cached records of a bucket, or None (no file, or one that does
    not check out)."""
    try:
        with open(_file(store_path, name, bucket), "rb") as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    p = len(_HEAD)
    if data[:p] != _HEAD or data[p:p + 20].hex() != bucket:
        return None
    size = int.from_bytes(data[p + 20:p + 24], "big")
    payload = memoryview(data)[_PREFIX:]
    if len(payload) != size or zlib.crc32(payload) != int.from_bytes(data[p + 24:p + 28], "big"):
        return None
    try:
        recs = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return recs if type(recs) is tuple else None


def save(store_path: str, name: str, bucket: str, records) -> bool:
    """Write a bucket's records (atomically); False if it could not be
    written (a read-only store, a full disk: a cache never fails a read)."""
    if not _BUCKET_NAME.match(name):
        return False
    payload = marshal.dumps(tuple(records))
    data = b"".join((_HEAD, bytes.fromhex(bucket), len(payload).to_bytes(4, "big"),
                     zlib.crc32(payload).to_bytes(4, "big"), payload))
    d = os.path.join(store_path, SUBDIR, name)
    tmp = os.path.join(d, f".{bucket}.{os.getpid()}.{_thread.get_ident()}.tmp")
    try:
        os.makedirs(d, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(d, bucket))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    stats["written"] += 1
    _trim_versions(d, bucket)
    return True


def _trim_versions(d: str, keep: str) -> None:
    """Keep the newest ``KEEP_VERSIONS`` files of one bucket name."""
    try:
        names = [n for n in os.listdir(d) if n != keep and not n.startswith(".")]
        if len(names) < KEEP_VERSIONS:
            return
        aged = sorted(names, key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns)
        for n in aged[:len(names) - KEEP_VERSIONS + 1]:
            os.unlink(os.path.join(d, n))
    except OSError:
        pass


def trim(store_path: str, live: set[str]) -> int:
    """Remove every cache file whose bucket id is not in ``live`` (and
    leftover temporary files); returns how many files went."""
    root = os.path.join(store_path, SUBDIR)
    removed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        d = os.path.join(root, name)
        try:
            files = os.listdir(d)
        except OSError:
            continue
        left = len(files)
        for f in files:
            if f not in live:
                try:
                    os.unlink(os.path.join(d, f))
                    removed += 1
                    left -= 1
                except OSError:
                    pass
        if not left:
            try:
                os.rmdir(d)
            except OSError:
                pass
    return removed


def clear_memo() -> None:
    global _memo_size
    _memo.clear()
    _memo_size = 0


# ------------------------------------------------------------------- trees
def parse_tree(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """Raw tree bytes -> [(mode, name, raw id)] in the tree's order."""
    return _TREE_ENTRY.findall(data)


def buckets(store, tree: str) -> list[tuple[str, str]]:
    """The (name, tree id) of each bucket of a snapshot, in order."""
    msg = None
    for mode, name, raw in parse_tree(store.raw_object(tree)):
        if name == _MSG:
            msg = raw if mode == _TREE_MODE else None
            break
    if msg is None:
        return []
    return [(name.decode("utf-8", "replace"), raw.hex())
            for mode, name, raw in parse_tree(store.raw_object(msg.hex())) if mode == _TREE_MODE]


def _decode_bucket(store, bucket: str) -> list[dict]:
    """A bucket's entries read from git: what ``Store.read_items`` lists
    (blobs with a ``<key>-<id>-<role>`` name), decoded."""
    places = []
    for mode, name, raw in parse_tree(store.raw_object(bucket)):
        if mode != _BLOB_MODE:
            continue
        parts = name.decode("utf-8", "replace").rsplit("-", 2)
        if len(parts) != 3:
            continue
        places.append((parts[0], parts[1], raw.hex()))
    uniq = list(dict.fromkeys(b for _, _, b in places))
    decoded = {oid: codec.decode(data, blob=oid).__dict__
               for oid, data in zip(uniq, store.read_blobs(uniq))}
    out = []
    for key, eid, blob in places:
        d = dict(decoded[blob])
        d["id"] = eid
        d["key"] = key
        out.append(d)
    return out


def _entries(records) -> list[Entry]:
    new, setd = object.__new__, object.__setattr__
    out = []
    append = out.append
    for d in records:
        e = new(Entry)
        setd(e, "__dict__", d)
        append(e)
    return out


def read_entries(store, tree: str, *, use_files: bool = True) -> list[Entry]:
    """Every entry of a snapshot (skipped ones too), in context order, the
    same entries ``codec.decode`` gives for ``Store.read_items``; through
    the memo and the cache files (``use_files=False``: neither, for tests
    and as the reference)."""
    bs = buckets(store, tree)
    out: list[Entry] = []
    if not use_files:
        for _, b in bs:
            out.extend(_entries(_decode_bucket(store, b)))
        return out
    path = store.path
    last = len(bs) - 1
    # thousands of new objects and no cycles: the collector's passes over
    # them (and over every module loaded so far) would find nothing
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        _read(store, path, bs, last, out)
    finally:
        if collecting:
            gc.enable()
    return out


def _read(store, path: str, bs: list, last: int, out: list) -> None:
    global _memo_size
    for n, (name, b) in enumerate(bs):
        ents = _memo.get(b)
        if ents is not None:
            stats["memo"] += 1
            out.extend(ents)
            continue
        ours = _BUCKET_NAME.match(name) is not None  # a name fit for a path (not '..')
        recs = load(path, name, b) if ours else None
        if recs is not None:
            stats["file"] += 1
        else:
            stats["decoded"] += 1
            recs = _decode_bucket(store, b)
            if n != last and ours:
                # dicts become the entries' own: save copies what it writes first
                save(path, name, b, recs)
        ents = _entries(recs)
        if _memo_size + len(ents) > MEMO_ENTRIES:
            clear_memo()
        _memo[b] = ents
        _memo_size += len(ents)
        out.extend(ents)
