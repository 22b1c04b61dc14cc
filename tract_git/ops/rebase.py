"""Rebase: replay the current branch's commits onto UPSTREAM.

The commits are those reachable from HEAD and not from UPSTREAM (merge
commits are dropped, as git does by default), oldest first; each is
re-applied as its entry-level change, keeping its message, kind
(``Tract-Op``) and entry ids.  A commit whose change is already upstream
is dropped.  The branch moves once, at the end (see ``sequencer``).
"""

from __future__ import annotations

from ..errors import BadRevisionError, DetachedHeadError
from ..store import treediff
from . import sequencer
from .repo import Repo


def rebase(repo: Repo, upstream: str) -> sequencer.SequenceResult:
    head = repo.head()
    if head.branch is None:
        raise DetachedHeadError("cannot rebase a detached HEAD",
                                hints=("switch to a branch first: tract switch NAME",))
    ours = repo.resolve(None)
    try:
        onto = repo.resolve(upstream)
    except BadRevisionError:
        raise BadRevisionError(f"invalid upstream '{upstream}'") from None
    from . import opstate

    opstate.require_none(repo)
    short = head.short_branch
    if repo.store.is_ancestor(onto, ours):
        return sequencer.SequenceResult("rebase", "up-to-date", short, ours, ours)
    if repo.store.merge_base(ours, onto) is None:
        # (git would replay onto anything, a notes commit included: its
        # tree is no context, and the snapshot would mix the two)
        from ..errors import TractError

        raise TractError(f"refusing to rebase onto an unrelated history: '{upstream}' shares no commit "
                         f"with {short}")
    commits = treediff.commits_between(repo.store, ours, [onto])
    steps = [("pick", c.id) for c in commits]
    return sequencer.start(repo, "rebase", steps, onto, what=f"of branch '{short}' onto {upstream}")


def cont(repo: Repo):
    return sequencer.cont(repo, "rebase")


def skip(repo: Repo):
    return sequencer.skip(repo, "rebase")


def abort(repo: Repo):
    return sequencer.abort(repo, "rebase")
