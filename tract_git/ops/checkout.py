"""Checkout: point HEAD at a branch, or detach it at a commit."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadRevisionError
from . import opstate
from .repo import Repo


@dataclass
class CheckoutResult:
    branch: str | None
    commit: str | None
    detached: bool
    already: bool = False  # HEAD was on that branch already: nothing changed


def checkout(repo: Repo, rev: str, *, detach: bool = False) -> CheckoutResult:
    store = repo.store
    opstate.require_none(repo)  # as tract switch: HEAD stays while an operation is stopped
    if not detach and not rev.startswith("refs/"):
        ref = f"{repo.branch_prefix}{rev}"
        target = store.read_ref(ref)
        if target is not None:
            if repo.head().branch == ref:  # as git: nothing to do, no reflog entry
                return CheckoutResult(rev, target, False, already=True)
            repo.set_head(ref)
            return CheckoutResult(rev, target, False)
    commit = repo.resolve(rev)
    repo.set_head(commit)
    return CheckoutResult(None, commit, True)
