"""Garbage collection with retention.

What is kept (never pruned):

* everything reachable from a ref: branches, ``refs/notes/tract`` (token
  notes), ``refs/tract/*`` (agents, proposals, archives, kept refs) and HEAD;
* everything reachable from a reflog entry younger than the retention
  (``gc.keepDays``, default 30): reset-away tips, undone commits and undone
  compresses can be brought back with ``tract reset`` until then (reflog
  entries of commits still reachable are kept at least 90 days, so undo
  keeps working);
* unreachable objects younger than the retention (in a cruft pack).

Collapsed sub-agents: with ``tract.agents.history = detach`` a collapse
points at the sub-agent's history by trailer only, and gc first drops the
refs of such collapsed agents (``ops.agents.prune``); their history then
goes like any unreachable object, after the retention.

What a compress replaced is never at risk while its summary exists: the
entries live in the compress commit's parent, which is reachable as long as
the compress commit is.  After an undo of the compress the parent is the
branch tip again; only the compress commit (the summary) itself becomes
unreachable, and it is kept for the retention like any reset-away tip.

The notes history is not kept: ``refs/notes/tract`` is first squashed to
one parentless commit holding every note (``Store.squash_notes``), as the
commit loop also does after about one commit in 256.

Then everything is packed.  The work is done by the real git binary (see
``tract_git.store.maintenance`` for why); the result is ``git fsck --strict``
clean, and a plain ``git gc`` on the store is just as safe.

Last, the entry cache (``tract-cache/entries``, see
``tract_git.store.entrycache``) is trimmed to the buckets of the snapshots
that HEAD, the branches and ``refs/tract/*`` point at: what the next
compiles read.  Files of older snapshots go (a compile of one writes them
again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..store import entrycache as _entrycache
from ..store import maintenance as _m
from .repo import Repo

DEFAULT_KEEP_DAYS = 30.0


@dataclass
class GcResult:
    keep_days: float
    before: _m.StoreSize
    after: _m.StoreSize
    agents_pruned: list = field(default_factory=list)
    notes_pruned: list = field(default_factory=list)  # commits whose notes went with them
    cache_files_removed: int = 0  # entry cache files of buckets no ref tip uses

    @property
    def freed(self) -> int:
        return self.before.bytes - self.after.bytes

    def to_json(self) -> dict:
        return {"keep_days": self.keep_days, "before": self.before.to_json(),
                "after": self.after.to_json(), "freed_bytes": self.freed,
                "agents_pruned": self.agents_pruned, "notes_pruned": len(self.notes_pruned)}


def keep_days_setting(repo: Repo) -> float:
    v = repo.store.get_config_local("tract.gc.keepDays")
    if v is None:
        return DEFAULT_KEEP_DAYS
    try:
        d = float(v)
    except ValueError:
        raise ConfigError(f"gc.keepDays: '{v}' is not a number of days") from None
    if d < 0:
        raise ConfigError(f"gc.keepDays: '{v}' must not be negative")
    return d


def gc(repo: Repo, *, keep_days: float | None = None, progress=None,
       git_progress: bool = False) -> GcResult:
    """Prune what nothing keeps (see the module doc), then pack."""
    if keep_days is None:
        keep_days = keep_days_setting(repo)
    if not 0 <= keep_days < float("inf"):  # (also NaN)
        raise ConfigError(f"--keep-days must be a number of days, not {keep_days!r}")
    before = _m.store_size(repo.path)
    from .agents import prune as prune_agents

    pruned = prune_agents(repo)
    # the notes history is garbage to be (no reader needs it): squashed
    # first, it goes with this gc (or into the cruft pack, within the
    # retention)
    repo.store.squash_notes()
    _m.gc(repo.path, keep_days, progress=progress, git_progress=git_progress)
    repo.store.refresh()  # packs were rewritten and objects pruned
    # the notes of the commits gc pruned go too (one new notes commit,
    # packed with the few objects it brings)
    notes_pruned = repo.store.prune_notes()
    if notes_pruned:
        _m.pack_loose(repo.path)
    removed = trim_entry_cache(repo)
    after = _m.store_size(repo.path)
    repo.compile_cache.clear()
    return GcResult(keep_days, before, after, pruned, notes_pruned, removed)


def live_buckets(repo: Repo) -> set[str]:
    """The bucket tree ids of the snapshots at HEAD, every branch and every
    ``refs/tract/*`` ref (sub-agents, proposals, archives, kept refs)."""
    store = repo.store
    tips = {t for _, t in store.list_refs("refs/heads/")} | {t for _, t in store.list_refs("refs/tract/")}
    head = store.head().commit
    if head:
        tips.add(head)
    live: set[str] = set()
    for tip in tips:
        try:
            tree = store.commit(tip).tree
            live.update(b for _, b in _entrycache.buckets(store, tree))
        except Exception:  # not a commit (a ref to a blob or tree): no snapshot to keep
            continue
    return live


def trim_entry_cache(repo: Repo) -> int:
    """Remove the entry cache files no ref tip's snapshot uses; returns how
    many went."""
    return _entrycache.trim(repo.path, live_buckets(repo))
