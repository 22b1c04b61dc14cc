"""The three-way merge of two contexts, entry by entry, against a base.

Used by merge, rebase, cherry-pick and revert (a cherry-pick of C is the
merge of C into HEAD with C's parent as the base; a revert swaps C and its
parent).  Entries are matched by id; see docs/merge.md for the rules:

* changed on one side only -> that side (an edit, a priority change, a move
  or a removal);
* changed the same way on both sides -> that change;
* blob changed differently on both sides (``edit/edit``), blob changed on
  one side and removed on the other (``edit/remove``, ``remove/edit``), or
  the same id added with different blobs (``add/add``) -> a conflict;
* added on both sides -> both kept, in the order the strategy defines:
  ``ours-first`` (default), ``theirs-first``, or ``interleave`` (by the time
  of the commit that added each entry).  Theirs' new entries get new
  position keys (``keys.between``) only where theirs' keys would not give
  that order; ids never change.

The plan is computed from bucket-level tree diffs, so its cost follows the
size of the two changes, not the size of the context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..store import keys as _keys
from ..store import treediff
from ..store.repo import Item
from ..store.trailers import parse_message, trailer_all
from .repo import Repo

STRATEGIES = ("ours-first", "theirs-first", "interleave")


@dataclass
class Conflict:
    id: str
    kind: str  # edit/edit | edit/remove | remove/edit | add/add
    base: Item | None
    ours: Item | None
    theirs: Item | None

    @property
    def role(self) -> str:
        return (self.ours or self.theirs or self.base).role  # type: ignore[union-attr]

    def to_state(self) -> dict:
        def it(i):
            return None if i is None else [i.name, i.blob]

        return {"id": self.id, "kind": self.kind, "base": it(self.base), "ours": it(self.ours),
                "theirs": it(self.theirs)}

    @classmethod
    def from_state(cls, d: dict) -> "Conflict":
        def it(v):
            if v is None:
                return None
            key, eid, role = v[0].rsplit("-", 2)
            return Item(key, eid, role, v[1])

        return cls(d["id"], d["kind"], it(d["base"]), it(d["ours"]), it(d["theirs"]))


@dataclass
class Plan:
    """What applying theirs' change to ours takes: item changes (name ->
    blob, or None to remove) on top of ours' tree, and the conflicts left."""

    ours_tree: str | None
    changes: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)  # name -> blob of ours' items removed
    conflicts: list = field(default_factory=list)
    settings: dict | None = None  # merged settings when they changed
    added: set = field(default_factory=set)  # names known not to be in ours' tree

    @property
    def empty(self) -> bool:
        return not self.changes and not self.conflicts and self.settings is None

    def remove(self, item: Item) -> None:
        self.changes[item.name] = None
        self.removed[item.name] = item.blob

    def put(self, name: str, blob: str) -> None:
        self.changes[name] = blob

    def add(self, name: str, blob: str) -> None:
        """An entry theirs added (ours has no such id)."""
        self.changes[name] = blob
        self.added.add(name)


def item_name(key: str, eid: str, role: str) -> str:
    return f"{key}-{eid}-{role}"


def keys_between(a: str | None, b: str | None, n: int) -> list[str]:
    """``n`` increasing keys strictly between ``a`` and ``b`` (either may be
    None); bisects, so keys stay short."""
    if n <= 0:
        return []
    if a is not None and b is not None and not a < b:
        # two entries share a key (both sides moved an entry into the same
        # gap): no key fits between; place after ``a`` in its fraction space
        out, k = [], a
        for _ in range(n):
            k = _keys.between(k, _keys.int_key(_keys.split(k)[0] + 1))
            out.append(k)
        return out
    if b is None:
        out, k = [], a
        for _ in range(n):
            k = _keys.after(k)
            out.append(k)
        return out
    mid = _keys.between(a, b)
    left = n // 2
    return keys_between(a, mid, left) + [mid] + keys_between(mid, b, n - left - 1)


def entry_times(repo: Repo, tip: str | None, base: str | None) -> dict[str, int]:
    """Entry id -> author time of the commit that added it, for the commits
    between ``base`` and ``tip``."""
    if tip is None:
        return {}
    out: dict[str, int] = {}
    for c in treediff.commits_between(repo.store, tip, [base] if base else []):
        _, _, trailers = parse_message(c.message)
        for v in trailer_all(trailers, "Tract-Entry"):
            out.setdefault(v.split()[0], c.author_time)
    return out


class _Ours:
    """Ours' side, answering per-entry questions by path lookups and only
    diffing against the base when it must."""

    def __init__(self, repo: Repo, base_tree: str | None, tree: str | None, ids: set | None):
        self.repo, self.base_tree, self.tree, self.ids = repo, base_tree, tree, ids
        self._diff: dict | None = None

    def diff(self) -> dict:
        if self._diff is None:
            rem, add = treediff.diff_items(self.repo.store, self.base_tree, self.tree)
            d: dict[str, list] = {}
            for it in rem:
                d.setdefault(it.id, [None, None])[0] = it
            for it in add:
                d.setdefault(it.id, [None, None])[1] = it
            self._diff = d
        return self._diff

    def state(self, eid: str, b: Item | None, t: Item | None) -> Item | None:
        """Ours' item for an entry (None: ours does not have it)."""
        if self._diff is None:
            if b is None and self.ids is not None and eid not in self.ids:
                return None  # a new entry ours cannot have
            probe = b or t
            found = treediff.item_by_name(self.repo.store, self.tree, probe.name)  # type: ignore[union-attr]
            if found is not None:
                return found
        d = self.diff()
        if eid in d:
            return d[eid][1]
        return b


def plan(repo: Repo, base_tree: str | None, ours_tree: str | None, theirs_tree: str | None, *,
         strategy: str = "ours-first", times: tuple | None = None, ours_ids: set | None = None,
         theirs_moves_win: bool = False) -> Plan:
    """Plan the merge of theirs into ours.  ``times`` is a callable pair
    ``(ours_times(), theirs_times())`` for the interleave strategy;
    ``ours_ids`` (every entry id in ours, if the caller keeps it) saves a
    diff; ``theirs_moves_win``: an entry moved on both sides goes where
    theirs put it (replaying a commit: its reorder is the point), else
    where ours has it."""
    store = repo.store
    p = Plan(ours_tree)
    rT, aT = treediff.diff_items(store, base_tree, theirs_tree)
    dT: dict[str, list] = {}
    for it in rT:
        dT.setdefault(it.id, [None, None])[0] = it
    for it in aT:
        dT.setdefault(it.id, [None, None])[1] = it
    ours = _Ours(repo, base_tree, ours_tree, ours_ids)
    added: list[Item] = []
    for eid, (b, t) in dT.items():
        o = ours.state(eid, b, t)
        if b is None:  # theirs added it
            if o is None:
                added.append(t)
            elif o.blob != t.blob:
                p.conflicts.append(Conflict(eid, "add/add", None, o, t))
            continue
        if t is None:  # theirs removed it
            if o is None:
                continue
            if o.blob == b.blob:
                p.remove(o)
            else:
                p.conflicts.append(Conflict(eid, "edit/remove", b, o, None))
            continue
        if o is None:  # ours removed it
            if t.blob != b.blob:
                p.conflicts.append(Conflict(eid, "remove/edit", b, None, t))
            continue
        # both have it
        if o.blob == t.blob:
            blob = o.blob
        elif o.blob == b.blob:
            blob = t.blob
        elif t.blob == b.blob:
            blob = o.blob
        else:
            p.conflicts.append(Conflict(eid, "edit/edit", b, o, t))
            continue
        key = t.key if (t.key != b.key and (theirs_moves_win or o.key == b.key)) else o.key
        name = item_name(key, eid, o.role)
        if name != o.name or blob != o.blob:
            if name != o.name:
                p.remove(o)
            p.put(name, blob)
    if added:
        _place(repo, p, base_tree, ours_tree, theirs_tree, sorted(added, key=lambda i: i.key),
               strategy, times)
    _merge_settings(repo, p, base_tree, ours_tree, theirs_tree)
    return p


def _place(repo: Repo, p: Plan, base_tree, ours_tree, theirs_tree, added: list[Item],
           strategy: str, times) -> None:
    """Give theirs' new entries a place in ours' order: after the entry
    they follow in theirs (their anchor), and after or before (by strategy)
    what ours added after that same anchor."""
    store = repo.store
    base_last = store.last_item(base_tree)
    tail = base_last is None or added[0].key > base_last.key
    if tail and strategy == "ours-first":
        # the common case: both sides appended; theirs go after all of ours
        last = store.last_item(ours_tree)
        if last is not None and added[0].key <= last.key:
            for it, k in zip(added, keys_between(last.key, None, len(added))):
                p.add(item_name(k, it.id, it.role), it.blob)
        else:
            for it in added:
                p.add(it.name, it.blob)
        return
    ot, tt = (times[0](), times[1]()) if (strategy == "interleave" and times) else ({}, {})
    if tail:
        akey = base_last.key if base_last is not None else None
        _arrange(p, strategy, ot, tt, treediff.items_after(store, ours_tree, akey), added, akey, None)
        return
    added_ids = {i.id for i in added}
    theirs_items = store.read_items(theirs_tree)  # type: ignore[arg-type]
    ours_items = store.read_items(ours_tree) if ours_tree else []
    base_ids = {i.id for i in store.read_items(base_tree)} if base_tree else set()
    pos = {i.id: n for n, i in enumerate(ours_items)}
    n = 0
    while n < len(theirs_items):
        if theirs_items[n].id not in added_ids:
            n += 1
            continue
        m = n
        while m < len(theirs_items) and theirs_items[m].id in added_ids:
            m += 1
        run = theirs_items[n:m]
        k = n - 1  # the anchor: the nearest entry before the run that ours has
        while k >= 0 and theirs_items[k].id not in pos:
            k -= 1
        start = pos[theirs_items[k].id] + 1 if k >= 0 else 0
        end = start
        while end < len(ours_items) and ours_items[end].id not in base_ids:
            end += 1
        akey = ours_items[start - 1].key if start > 0 else None
        nxt = ours_items[end].key if end < len(ours_items) else None
        _arrange(p, strategy, ot, tt, ours_items[start:end], run, akey, nxt)
        n = m


def _arrange(p: Plan, strategy: str, ot: dict, tt: dict, ours_run: list, run: list,
             lo: str | None, hi: str | None) -> None:
    if strategy == "ours-first":
        seq = [("o", i) for i in ours_run] + [("t", i) for i in run]
    elif strategy == "theirs-first":
        seq = [("t", i) for i in run] + [("o", i) for i in ours_run]
    else:
        tagged = [(ot.get(i.id, 0), 0, n, "o", i) for n, i in enumerate(ours_run)]
        tagged += [(tt.get(i.id, 0), 1, n, "t", i) for n, i in enumerate(run)]
        seq = [(side, i) for *_, side, i in sorted(tagged, key=lambda x: x[:3])]
    _assign(p, seq, lo, hi)


def _assign(p: Plan, seq: list, lo: str | None, hi: str | None) -> None:
    """Keys for theirs' items in ``seq`` so that ``seq`` is the order between
    ``lo`` and ``hi``; ours' items keep theirs."""
    prev = lo
    i = 0
    while i < len(seq):
        if seq[i][0] == "o":
            prev = seq[i][1].key
            i += 1
            continue
        j = i
        while j < len(seq) and seq[j][0] == "t":
            j += 1
        bound = seq[j][1].key if j < len(seq) else hi
        run = [it for _, it in seq[i:j]]
        fits = all((prev is None or it.key > prev) and (bound is None or it.key < bound) for it in run)
        new_keys = [it.key for it in run] if fits else keys_between(prev, bound, len(run))
        for it, k in zip(run, new_keys):
            p.add(item_name(k, it.id, it.role), it.blob)
        prev = new_keys[-1]
        i = j


def _merge_settings(repo: Repo, p: Plan, base_tree, ours_tree, theirs_tree) -> None:
    store = repo.store
    if theirs_tree is None:
        return
    if treediff.settings_id(store, theirs_tree) == treediff.settings_id(store, base_tree):
        return  # theirs did not touch the settings
    t = store.read_settings(theirs_tree)
    b = store.read_settings(base_tree) if base_tree else {}
    if t == b:
        return
    o = store.read_settings(ours_tree) if ours_tree else {}
    merged = dict(o)
    for k in set(b) | set(t):
        if t.get(k) != b.get(k) and o.get(k) == b.get(k):  # changed on theirs only
            if k in t:
                merged[k] = t[k]
            else:
                merged.pop(k, None)
    if merged != o:
        p.settings = merged


# ---------------------------------------------------------------- applying
def entry_tokens(repo: Repo, blob: str) -> int:
    e = repo.entry(Item("", "", "", blob))
    return 0 if e.skipped else repo.counter.count_entry(e, blob)


def apply(repo: Repo, p: Plan, extra: dict | None = None) -> tuple[str, int, int]:
    """Write the planned tree (plus ``extra`` changes, e.g. conflict
    resolutions); returns (tree, token delta, entry-count delta) against
    ours."""
    changes = dict(p.changes)
    removed = dict(p.removed)
    for name, blob in (extra or {}).items():
        changes[name] = blob
    tree = repo.store.build_tree(p.ours_tree, changes, p.settings,
                                 set_settings=p.settings is not None)
    dtok = dcount = 0
    for name, blob in changes.items():
        if blob is None:
            if name in removed:
                dtok -= entry_tokens(repo, removed[name])
                dcount -= 1
        elif name in p.added and name not in (extra or {}):
            dtok += entry_tokens(repo, blob)
            dcount += 1
        elif name not in removed:
            old = treediff.item_by_name(repo.store, p.ours_tree, name)
            if old is None:
                dtok += entry_tokens(repo, blob)
                dcount += 1
            else:
                dtok += entry_tokens(repo, blob) - entry_tokens(repo, old.blob)
    return tree, dtok, dcount
