"""Show a commit (message, trailers, tokens, what it changed) or an entry."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadRevisionError, UnknownEntryError
from ..model import Entry
from .diff import DiffResult, diff_commits
from .log import LogEntry, log
from .repo import Repo


@dataclass
class ShownCommit:
    commit: LogEntry
    diff: DiffResult

    def to_json(self) -> dict:
        d = self.commit.to_json()
        d["changes"] = [c.to_json() for c in self.diff.changes]
        return d


@dataclass
class ShownEntry:
    entry: Entry
    position: int
    commit: str
    tokens: int

    def to_json(self) -> dict:
        d = self.entry.to_json()
        d.update({"position": self.position, "commit": self.commit, "tokens": self.tokens,
                  "key": self.entry.key, "blob": self.entry.blob})
        return d


def _is_position(s: str) -> bool:
    b = s[1:] if s.startswith("#") else s
    return b.lstrip("-").isdigit() and len(b.lstrip("-")) <= 6


def _commit(repo: Repo, what: str) -> ShownCommit | None:
    try:
        commit = repo.resolve(what)
    except BadRevisionError:
        return None
    entry = log(repo, commit, max_count=1)[0]
    parent = entry.parents[0] if entry.parents else None
    return ShownCommit(entry, diff_commits(repo, parent, commit))


def show(repo: Repo, what: str | None = None) -> ShownCommit | ShownEntry:
    """``what`` is a revision (shown as a commit) or an entry reference
    (position, entry id); a bare number is a position."""
    if what is None:
        repo.resolve(None)  # an unborn branch says so
    what = what or "HEAD"
    if not _is_position(what):
        shown = _commit(repo, what)
        if shown is not None:
            return shown
    try:
        head = repo.resolve(None)
        pos, item = repo.find_entry(what, head)
    except (UnknownEntryError, BadRevisionError):
        # a number past the last position may be an abbreviated hash
        shown = _commit(repo, what) if _is_position(what) else None
        if shown is not None:
            return shown
        raise UnknownEntryError(f"'{what}' is neither a revision nor an entry") from None
    e = repo.entry(item)
    return ShownEntry(e, pos, head, repo.tokens_of(item))
