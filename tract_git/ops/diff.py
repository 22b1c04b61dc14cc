"""Diff two snapshots entry by entry: added, removed, edited, priority
changes and reorders, with token deltas."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..model import Entry
from .lis import longest_increasing
from .repo import Repo


@dataclass
class EntryChange:
    kind: str  # added | removed | edited | pinned | unpinned | skipped | unskipped | moved
    id: str
    role: str
    old: Entry | None
    new: Entry | None
    old_position: int | None
    new_position: int | None
    tokens_delta: int

    def to_json(self) -> dict:
        d = {
            "kind": self.kind,
            "id": self.id,
            "role": self.role,
            "old_position": self.old_position,
            "new_position": self.new_position,
            "tokens_delta": self.tokens_delta,
        }
        if self.old is not None:
            d["old_content"] = self.old.content
            d["old_priority"] = self.old.priority
            d["old_type"] = self.old.type
        if self.new is not None:
            d["new_content"] = self.new.content
            d["new_priority"] = self.new.priority
            d["new_type"] = self.new.type
        if self.kind == "edited":
            d["fields_changed"] = [f for f, _, _ in self.field_changes()]
        return d

    def field_changes(self) -> list[tuple[str, object, object]]:
        """(field, old, new) for what an edit changed besides the content:
        type, name, tool call id, tool calls."""
        if self.old is None or self.new is None:
            return []
        out = []
        for f in ("type", "name", "tool_call_id", "tool_calls"):
            a, b = getattr(self.old, f), getattr(self.new, f)
            if (a or None) != (b or None):
                out.append((f, a, b))
        return out

    def content_diff(self) -> list[str]:
        if self.old is None or self.new is None or self.old.content == self.new.content:
            return []
        return list(difflib.unified_diff(
            self.old.content.splitlines(), self.new.content.splitlines(), lineterm="", n=2,
        ))[2:]


@dataclass
class DiffResult:
    old: str | None
    new: str | None
    changes: list[EntryChange] = field(default_factory=list)
    old_tokens: int = 0
    new_tokens: int = 0

    @property
    def tokens_delta(self) -> int:
        return self.new_tokens - self.old_tokens

    def __bool__(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict:
        return {
            "old": self.old,
            "new": self.new,
            "old_tokens": self.old_tokens,
            "new_tokens": self.new_tokens,
            "tokens_delta": self.tokens_delta,
            "changes": [c.to_json() for c in self.changes],
        }


def _priority_kind(old: str, new: str) -> str:
    if new == "pinned":
        return "pinned"
    if new == "skip":
        return "skipped"
    if old == "pinned":
        return "unpinned"
    return "unskipped"


def _moved_ids(old_ids: list[str], new_ids: list[str]) -> set[str]:
    """Ids outside a longest common subsequence of the two orders."""
    common = set(old_ids) & set(new_ids)
    a = [i for i in old_ids if i in common]
    pos_in_a = {i: n for n, i in enumerate(a)}
    seq = [pos_in_a[i] for i in new_ids if i in common]
    keep = {a[seq[n]] for n in longest_increasing(seq)}
    return common - keep


def diff_commits(repo: Repo, old: str | None, new: str | None) -> DiffResult:
    """Diff two commits (None = the empty context)."""
    old_items = repo.items(old)
    new_items = repo.items(new)
    res = DiffResult(old, new)
    res.old_tokens = repo.note(old).context_tokens if old else 0
    res.new_tokens = repo.note(new).context_tokens if new else 0
    old_map = {it.id: (n, it) for n, it in enumerate(old_items)}
    new_map = {it.id: (n, it) for n, it in enumerate(new_items)}

    def toks(it, e: Entry) -> int:
        return 0 if e.skipped else repo.tokens_of(it)

    moved = _moved_ids([i.id for i in old_items], [i.id for i in new_items])
    # walk in new order, then the removed ones in old order
    for n, it in enumerate(new_items):
        ne = repo.entry(it)
        if it.id not in old_map:
            res.changes.append(EntryChange("added", it.id, it.role, None, ne, None, n, toks(it, ne)))
            continue
        on, oit = old_map[it.id]
        if oit.blob != it.blob:
            oe = repo.entry(oit)
            delta = toks(it, ne) - toks(oit, oe)
            if oe.content != ne.content or oe.tool_calls != ne.tool_calls or oe.type != ne.type \
                    or oe.name != ne.name or oe.tool_call_id != ne.tool_call_id:
                res.changes.append(EntryChange("edited", it.id, it.role, oe, ne, on, n, delta))
            if oe.priority != ne.priority:
                res.changes.append(EntryChange(_priority_kind(oe.priority, ne.priority), it.id,
                                               it.role, oe, ne, on, n,
                                               delta if oe.content == ne.content else 0))
        if it.id in moved:
            res.changes.append(EntryChange("moved", it.id, it.role, repo.entry(oit), ne, on, n, 0))
    for on, oit in enumerate(old_items):
        if oit.id not in new_map:
            oe = repo.entry(oit)
            res.changes.append(EntryChange("removed", oit.id, oit.role, oe, None, on, None, -toks(oit, oe)))
    return res


def diff(repo: Repo, a: str | None = None, b: str | None = None) -> DiffResult:
    """``diff()``: what HEAD's last commit changed; ``diff(A)``: A against
    HEAD; ``diff(A, B)``: A against B."""
    if a is None and b is None:
        if repo.head().commit is None:  # unborn branch: nothing changed yet
            return DiffResult(None, None)
        new = repo.resolve(None)
        parents = repo.store.commit(new).parents
        return diff_commits(repo, parents[0] if parents else None, new)
    old = repo.resolve(a)
    new = repo.resolve(b) if b is not None else repo.resolve(None)
    return diff_commits(repo, old, new)
