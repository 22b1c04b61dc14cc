"""Revert: a new commit that undoes the entry-level change of earlier
commits (of a merge commit: its change against the first parent), with
``Tract-Op: revert`` and ``Tract-Reverts: <commit>``.  See ``sequencer``."""

from __future__ import annotations

from . import sequencer
from .repo import Repo


def revert(repo: Repo, revs: list[str]) -> sequencer.SequenceResult:
    return sequencer.start_revs(repo, "revert", "revert", revs)


def cont(repo: Repo):
    return sequencer.cont(repo, "revert")


def skip(repo: Repo):
    return sequencer.skip(repo, "revert")


def abort(repo: Repo):
    return sequencer.abort(repo, "revert")
