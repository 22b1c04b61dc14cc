"""Cherry-pick: apply the change of one or more commits onto HEAD, each as
a new commit keeping the original message and kind, plus a
``Tract-Cherry-Picked-From`` trailer.  See ``sequencer``."""

from __future__ import annotations

from ..errors import TractError
from . import sequencer
from .repo import Repo


def cherry_pick(repo: Repo, revs: list[str]) -> sequencer.SequenceResult:
    for rev in revs:  # as git without -m: a merge has no one change to apply
        try:
            commit = repo.resolve(rev)
        except TractError:
            continue  # (start_revs says what is wrong with it)
        if len(repo.store.commit(commit).parents) > 1:
            raise TractError(f"commit {commit[:7]} is a merge: cherry-pick applies commits with one parent",
                             hints=("pick the commits the merge brought in, one by one",))
    return sequencer.start_revs(repo, "cherry-pick", "pick", revs)


def cont(repo: Repo):
    return sequencer.cont(repo, "cherry-pick")


def skip(repo: Repo):
    return sequencer.skip(repo, "cherry-pick")


def abort(repo: Repo):
    return sequencer.abort(repo, "cherry-pick")
