"""Checkout: point HEAD at a branch, or detach it at a commit."""

from __future__ import annotations

import re
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


_PREVIOUS = re.compile(r"@\{-([0-9]+)\}")
_MOVED = "checkout: moving from "


def previous(repo: Repo, rev: str) -> str:
    """``-`` and ``@{-N}`` as git reads them for a checkout: the branch
    (or commit) HEAD was on before the Nth-last checkout, from HEAD's
    reflog; any other ``rev`` as it is."""
    m = _PREVIOUS.fullmatch("@{-1}" if rev == "-" else rev)
    if m is None:
        return rev
    n = int(m.group(1))
    if n > 0:
        for e in repo.store.reflog(repo.head_ref):
            # as git's grab_nth_branch_switch: "checkout: moving from A to B"
            if e.message.startswith(_MOVED) and " to " in e.message[len(_MOVED):]:
                n -= 1
                if n == 0:
                    where = e.message[len(_MOVED):].split(" to ", 1)[0]
                    prefix = repo.branch_prefix.rsplit("refs/heads/", 1)[-1]
                    return where[len(prefix):] if prefix and where.startswith(prefix) else where
    if repo.head_ref != "HEAD":
        hints = ("a sub-agent's HEAD keeps no reflog: name the branch or commit",)
    else:
        hints = ("no earlier checkout in HEAD's reflog",) if rev in ("-", "@{-1}") else ()
    raise BadRevisionError(f"bad revision '{rev}'", hints=hints)


def checkout(repo: Repo, rev: str, *, detach: bool = False) -> CheckoutResult:
    store = repo.store
    opstate.require_none(repo)  # as tract switch: HEAD stays while an operation is stopped
    rev = previous(repo, rev)
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
