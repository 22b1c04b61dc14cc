"""History: the commits reachable from a revision, with kinds and tokens."""

from __future__ import annotations

from dataclasses import dataclass

from ..store.trailers import parse_message, trailer, trailer_all
from .repo import Repo


@dataclass
class LogEntry:
    commit: str
    parents: tuple
    op: str
    subject: str
    body: str
    trailers: list
    author: str
    email: str
    time: int
    offset: int
    tokens_added: int
    context_tokens: int
    entries: int
    entry_ids: list

    def to_json(self) -> dict:
        return {
            "commit": self.commit,
            "parents": list(self.parents),
            "op": self.op,
            "subject": self.subject,
            "body": self.body,
            "trailers": [[k, v] for k, v in self.trailers],
            "author": self.author,
            "email": self.email,
            "time": self.time,
            "tokens_added": self.tokens_added,
            "context_tokens": self.context_tokens,
            "entries": self.entries,
            "entry_ids": self.entry_ids,
        }


def log(repo: Repo, rev: str | None = None, *, max_count: int | None = None,
        first_parent: bool = False, hide: tuple = ()) -> list[LogEntry]:
    """Commits reachable from ``rev`` (default HEAD), newest first, except
    those reachable from a commit in ``hide``."""
    if rev is None and repo.head().commit is None:
        return []
    start = repo.resolve(rev)
    out: list[LogEntry] = []
    for c in repo.store.walk(start, first_parent=first_parent, hide=hide):
        if max_count is not None and len(out) >= max_count:
            break
        subject, body, trailers = parse_message(c.message)
        note = repo.note(c.id)
        out.append(LogEntry(
            commit=c.id, parents=c.parents,
            op=trailer(trailers, "Tract-Op") or ("external" if not trailers else "?"),
            subject=subject, body=body, trailers=trailers,
            author=c.author_name, email=c.author_email, time=c.author_time, offset=c.author_offset,
            tokens_added=note.tokens_added, context_tokens=note.context_tokens, entries=note.entries,
            entry_ids=[v.split()[0] for v in trailer_all(trailers, "Tract-Entry")],
        ))
    return out
