"""Cherry-pick: apply the change of one or more commits onto HEAD, each as
a new commit keeping the original message and kind, plus a
``Tract-Cherry-Picked-From`` trailer.  See ``sequencer``."""

from __future__ import annotations

from ..errors import UsageError
from . import sequencer
from .repo import Repo


def cherry_pick(repo: Repo, revs: list[str]) -> sequencer.SequenceResult:
    if not revs:
        raise UsageError("nothing to cherry-pick: give one or more commits")
    commits = [repo.resolve(r) for r in revs]
    head = repo.resolve(None)
    what = ", ".join(c[:7] for c in commits)
    return sequencer.start(repo, "cherry-pick", [("pick", c) for c in commits], head, what=what)


def cont(repo: Repo):
    return sequencer.cont(repo, "cherry-pick")


def skip(repo: Repo):
    return sequencer.skip(repo, "cherry-pick")


def abort(repo: Repo):
    return sequencer.abort(repo, "cherry-pick")
