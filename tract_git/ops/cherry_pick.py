"""Cherry-pick: apply the change of one or more commits onto HEAD, each as
a new commit keeping the original message and kind, plus a
``Tract-Cherry-Picked-From`` trailer.  See ``sequencer``."""

from __future__ import annotations

from . import sequencer
from .repo import Repo


def cherry_pick(repo: Repo, revs: list[str]) -> sequencer.SequenceResult:
    return sequencer.start_revs(repo, "cherry-pick", "pick", revs)


def cont(repo: Repo):
    return sequencer.cont(repo, "cherry-pick")


def skip(repo: Repo):
    return sequencer.skip(repo, "cherry-pick")


def abort(repo: Repo):
    return sequencer.abort(repo, "cherry-pick")
