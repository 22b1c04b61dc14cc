"""Snapshot-level queries that rewrites need to be fast: which entries two
snapshot trees differ in (comparing buckets by id, so the cost follows the
size of the change, not of the context), one entry by name, the entries
after a key, and the commits of a range.

Store layer: trees are read as git's bytes through the store (see
:mod:`.odb`); callers get ``Item`` values and hex ids.
"""

from __future__ import annotations

import re

from . import keys as _keys
from .repo import SETTINGS_FILE, CommitData, Item, Store, parse_item_name


def _msg(store: Store, tree: str | None) -> dict | None:
    """The parsed ``msg/`` tree (bucket name -> entry bytes)."""
    if tree is None:
        return None
    return store._msg_tree(tree)


def _tree_oid(ent: bytes) -> bytes:
    return ent[-20:]


_RAW_ENTRY = re.compile(rb"(\d+) ([^\0]+)\0(.{20})", re.S)


def _bucket_items(store: Store, bucket_oid) -> set[tuple[str, str]]:
    return {(n.decode(), e[-20:].hex()) for n, e in store._tree_entries(bucket_oid, copy=False).items()}


def _raw_items(data: bytes) -> list[Item]:
    return [parse_item_name(n.decode(), o.hex()) for _, n, o in _RAW_ENTRY.findall(data)]


def _raw(store: Store, oid) -> bytes:
    # cached: replaying a chain of commits diffs each bucket version twice
    # (as the new side, then as the base of the next commit)
    return store.raw_object(oid)


def _bucket_diff(store: Store, oa, ob) -> tuple[list[Item], list[Item]]:
    """(removed, added) between two versions of a bucket.  Entries sort by
    key, so an append only adds bytes at the end of the raw tree: that case
    (and a removal at the end) is read from the tail alone."""
    if oa is not None and ob is not None:
        ra, rb = _raw(store, oa), _raw(store, ob)
        if rb.startswith(ra):
            return [], _raw_items(rb[len(ra):])
        if ra.startswith(rb):
            return _raw_items(ra[len(rb):]), []
    sa = _bucket_items(store, oa) if oa is not None else set()
    sb = _bucket_items(store, ob) if ob is not None else set()
    return ([parse_item_name(n, blob) for n, blob in sorted(sa - sb)],
            [parse_item_name(n, blob) for n, blob in sorted(sb - sa)])


def diff_items(store: Store, a: str | None, b: str | None) -> tuple[list[Item], list[Item]]:
    """(removed, added) items going from snapshot tree ``a`` to ``b`` (None
    is the empty context).  An entry whose blob or key changed appears in
    both lists (same id).  Unchanged buckets are never opened."""
    if a == b:
        return [], []
    ma, mb = _msg(store, a), _msg(store, b)
    if ma is not None and mb is not None and ma == mb:
        return [], []
    ba = {n: _tree_oid(e) for n, e in ma.items()} if ma is not None else {}
    bb = {n: _tree_oid(e) for n, e in mb.items()} if mb is not None else {}
    removed: list[Item] = []
    added: list[Item] = []
    for name in sorted(set(ba) | set(bb)):
        oa, ob = ba.get(name), bb.get(name)
        if oa == ob:
            continue
        r, a = _bucket_diff(store, oa, ob)
        removed += r
        added += a
    return removed, added


def settings_id(store: Store, tree: str | None) -> str | None:
    """The id of a snapshot's settings file (None: no settings)."""
    if tree is None:
        return None
    e = store._tree_entries(tree, copy=False).get(SETTINGS_FILE.encode())
    return None if e is None else e[-20:].hex()


def item_by_name(store: Store, tree: str | None, name: str) -> Item | None:
    """The item called ``name`` (``<key>-<id>-<role>``) in a snapshot, if any."""
    if tree is None:
        return None
    msg = _msg(store, tree)
    be = msg.get(_keys.bucket(name).encode()) if msg is not None else None
    if be is None:
        return None
    e = store._tree_entries(be[-20:], copy=False).get(name.encode())
    if e is None or e.startswith(b"40000 "):
        return None
    return parse_item_name(name, e[-20:].hex())


def items_after(store: Store, tree: str | None, key: str | None) -> list[Item]:
    """Items whose key sorts after ``key`` (every item when None), in order;
    opens only the buckets at the end of the context."""
    msg = _msg(store, tree)
    if msg is None:
        return []
    if key is None:
        return store.read_items(tree)  # type: ignore[arg-type]
    kb = _keys.bucket(key).encode()
    out: list[Item] = []
    for bname, be in reversed(msg.items()):
        if bname < kb:
            break
        chunk = [parse_item_name(n.decode(), e[-20:].hex())
                 for n, e in store._tree_entries(be[-20:], copy=False).items()]
        out[:0] = [it for it in chunk if it.key > key]
    return out


def commits_between(store: Store, tip: str, hide: list[str]) -> list[CommitData]:
    """Commits reachable from ``tip`` and not from any of ``hide``, oldest
    first (topological), as ``git rev-list --reverse --topo-order``."""
    import pygit2

    w = store.repo.walk(pygit2.Oid(hex=tip), pygit2.GIT_SORT_TOPOLOGICAL | pygit2.GIT_SORT_REVERSE)
    for h in hide:
        if h:
            w.hide(pygit2.Oid(hex=h))
    out = []
    for c in w:
        a = c.author
        out.append(CommitData(str(c.id), str(c.tree_id), tuple(str(p) for p in c.parent_ids),
                              c.message, a.name, a.email, a.time, a.offset, c.commit_time))
    return out
