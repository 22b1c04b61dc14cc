"""Branches, merge and rewrites on the facade (see ``tract_git.ops``)."""

from __future__ import annotations

from .._lazy import lazy as _lazy
from ..ops.repo import Repo

_branch = _lazy("tract_git.ops.branch")
_cherry_pick = _lazy("tract_git.ops.cherry_pick")
_merge = _lazy("tract_git.ops.merge")
_rebase = _lazy("tract_git.ops.rebase")
_reorder = _lazy("tract_git.ops.reorder")
_revert = _lazy("tract_git.ops.revert")


class BranchName(str):
    """The current branch's name, as ``t.branch`` returns it; calling it
    creates a branch: ``t.branch("explore")`` (see ``Tract.create_branch``)."""

    _tract = None

    def __call__(self, name: str, start: str | None = None, *, switch: bool = False,
                 force: bool = False):
        return self._tract.create_branch(name, start, switch=switch, force=force)  # type: ignore[union-attr]


class BranchesMixin:
    repo: Repo

    @property
    def branch(self):
        """The current branch name (None when HEAD is detached).  Callable:
        ``t.branch("x")`` creates branch x at HEAD."""
        name = self.repo.head().short_branch
        if name is None:
            return None
        b = BranchName(name)
        b._tract = self
        return b

    def create_branch(self, name: str, start: str | None = None, *, switch: bool = False,
                      force: bool = False) -> _branch.BranchInfo:
        """Create branch ``name`` at ``start`` (default HEAD); ``switch=True``
        also checks it out."""
        if switch:
            _branch.switch(self.repo, name, create_branch=True, start=start)
            return _branch.info(self.repo, _branch.ref_of(name, self.repo.branch_prefix))
        return _branch.create(self.repo, name, start, force=force)

    def branches(self) -> list[_branch.BranchInfo]:
        return _branch.list_branches(self.repo)

    def delete_branch(self, name: str, *, force: bool = False) -> _branch.BranchInfo:
        return _branch.delete(self.repo, name, force=force)

    def rename_branch(self, old: str, new: str, *, force: bool = False) -> _branch.BranchInfo:
        return _branch.rename(self.repo, old, new, force=force)

    def switch(self, name: str, *, create: bool = False, start: str | None = None):
        return _branch.switch(self.repo, name, create_branch=create, start=start)

    # ---------------------------------------------------------------- merge
    def merge(self, rev: str, *, strategy: str = "ours-first", message: str | None = None,
              ff: bool = True, model: str | None = None) -> _merge.MergeResult:
        return _merge.merge(self.repo, rev, strategy=strategy, message=message, ff=ff, model=model)

    def merge_continue(self) -> _merge.MergeResult:
        return _merge.merge_continue(self.repo)

    def merge_abort(self) -> _merge.MergeResult:
        return _merge.merge_abort(self.repo)

    def resolve(self, entry: str, *, ours: bool = False, theirs: bool = False,
                content: str | None = None) -> dict:
        return _merge.resolve(self.repo, str(entry), ours=ours, theirs=theirs, content=content)

    # ------------------------------------------------------------- rewrites
    def rebase(self, upstream: str):
        return _rebase.rebase(self.repo, upstream)

    def rebase_continue(self):
        return _rebase.cont(self.repo)

    def rebase_skip(self):
        return _rebase.skip(self.repo)

    def rebase_abort(self):
        return _rebase.abort(self.repo)

    def cherry_pick(self, *revs: str):
        return _cherry_pick.cherry_pick(self.repo, list(revs))

    def revert(self, *revs: str):
        return _revert.revert(self.repo, list(revs))

    def reorder(self, entries, *, before=None, after=None, force: bool = False,
                message: str | None = None) -> _reorder.ReorderResult:
        """Move ``entries`` (one reference or a list) before/after another
        entry; with neither, ``entries`` is the whole new order."""
        if isinstance(entries, (str, int)):
            entries = [entries]
        return _reorder.reorder(self.repo, [str(e) for e in entries],
                                before=None if before is None else str(before),
                                after=None if after is None else str(after),
                                force=force, message=message)
