"""Revert: a new commit that undoes the entry-level change of earlier
commits (of a merge commit: its change against the first parent), with
``Tract-Op: revert`` and ``Tract-Reverts: <commit>``.  See ``sequencer``."""

from __future__ import annotations

from ..errors import UsageError
from . import sequencer
from .repo import Repo


def revert(repo: Repo, revs: list[str]) -> sequencer.SequenceResult:
    if not revs:
        raise UsageError("nothing to revert: give one or more commits")
    commits = [repo.resolve(r) for r in revs]
    head = repo.resolve(None)
    what = ", ".join(c[:7] for c in commits)
    return sequencer.start(repo, "revert", [("revert", c) for c in commits], head, what=what)


def cont(repo: Repo):
    return sequencer.cont(repo, "revert")


def skip(repo: Repo):
    return sequencer.skip(repo, "revert")


def abort(repo: Repo):
    return sequencer.abort(repo, "revert")
