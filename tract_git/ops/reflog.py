"""The reflog of a ref, and undo: move the branch back past its last change."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadRevisionError, NothingToDoError
from ..store.repo import ReflogEntry
from . import opstate
from .repo import Repo

_ZERO = "0" * 40
_CHECKOUT = "checkout: moving from "


def reflog(repo: Repo, ref: str | None = None) -> list[ReflogEntry]:
    if ref is None or ref == "HEAD":
        name = "HEAD"
    elif ref.startswith("refs/"):
        name = ref
    else:
        name = f"refs/heads/{ref}"
    if name != "HEAD" and repo.store.read_ref(name) is None:
        # as git: a misspelt branch is an error, not an empty history
        raise BadRevisionError(f"bad revision '{ref}'")
    return repo.store.reflog(name)


@dataclass
class UndoResult:
    ref: str
    old: str
    new: str
    undone: str  # the reflog message of the change undone
    reattached: bool = False  # HEAD went back onto the branch ``ref`` (a checkout undone)


def undo_target(entries: list[ReflogEntry]) -> tuple[str, str] | None:
    """(commit to go back to, message of the change undone).  Undo entries
    themselves count as already-undone changes, so repeated undo walks
    further back instead of toggling."""
    pending = 0
    for e in entries:
        if e.old == e.new:  # nothing moved (a rename): nothing to undo there
            continue
        if e.message.startswith("undo:"):
            pending += 1
            continue
        if pending:
            pending -= 1
            continue
        return e.old, e.message
    return None


def undo(repo: Repo) -> UndoResult:
    head = repo.head()
    opstate.require_none_on(repo, head.branch)
    name = head.branch or "HEAD"
    entries = repo.store.reflog(name)
    t = undo_target(entries)
    if t is None or t[0] == _ZERO:
        raise NothingToDoError(f"nothing to undo on {head.short_branch or 'HEAD'}")
    target, what = t
    cur = repo.resolve(None)
    msg = f"undo: {what}"
    if head.branch is None and what.startswith(_CHECKOUT):
        # undoing the checkout that detached HEAD: back on that branch
        src = what[len(_CHECKOUT):].rsplit(" to ", 1)[0]
        tip = repo.store.read_ref(f"refs/heads/{src}")
        if tip is not None:
            repo.store.set_head(f"refs/heads/{src}", msg)
            return UndoResult(src, cur, tip, what, reattached=True)
    if head.branch:
        repo.store.update_ref(head.branch, target, cur, msg)
    else:
        repo.store.update_head_detached(target, cur, msg)
    return UndoResult(head.short_branch or "HEAD", cur, target, what)
