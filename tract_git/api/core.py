"""Core of the facade: open/create, commit, compile, history."""

from __future__ import annotations

import os

from .._lazy import lazy as _lazy
from ..errors import NotAStoreError
from ..model import Entry
from ..ops.repo import DEFAULT_DIR, Repo
from ..store.repo import is_store

_checkout = _lazy("tract_git.ops.checkout")
_commit = _lazy("tract_git.ops.commit")
_compile = _lazy("tract_git.ops.compile")
_config = _lazy("tract_git.ops.config")
_diff = _lazy("tract_git.ops.diff")
_init = _lazy("tract_git.ops.init")
_log = _lazy("tract_git.ops.log")
_reflog = _lazy("tract_git.ops.reflog")
_reset = _lazy("tract_git.ops.reset")
_show = _lazy("tract_git.ops.show")
_status = _lazy("tract_git.ops.status")


class CoreMixin:
    repo: Repo

    def __init__(self, repo: Repo):
        self.repo = repo

    # ----------------------------------------------------------------- open
    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True, **kw):
        """Open a store, creating it if needed.

        ``path`` is the store directory itself, or a directory holding a
        ``.tract`` store.  Without ``path``: ``$TRACT_DIR``, else the
        nearest ``.tract`` from the current directory up, else a new
        ``./.tract``.  Reopening resumes exactly where the store was.
        Extra keyword arguments are kept for later layers (model, api_key,
        base_url...).
        """
        p = os.fspath(path) if path is not None else None
        try:
            repo = Repo.open(p)
        except NotAStoreError:
            if not create:
                raise
            if p is None:
                env = os.environ.get("TRACT_DIR")
                repo = _init.init(env or DEFAULT_DIR)
            elif os.path.isdir(p) and os.listdir(p) and not is_store(p):
                # an existing project directory: the store goes in .tract
                if os.path.exists(os.path.join(p, "HEAD")) or os.path.isdir(os.path.join(p, "objects")) \
                        or os.path.basename(os.path.normpath(p)) == DEFAULT_DIR:
                    # raises: a git repository that is not ours, or a
                    # '.tract' that is not a store (never '.tract/.tract')
                    repo = _init.init(p)
                else:
                    repo = _init.init(os.path.join(p, DEFAULT_DIR))
            else:
                repo = _init.init(p)
        obj = cls(repo)
        obj._configure(**kw)
        return obj

    @classmethod
    def init(cls, path: str | os.PathLike | None = None, *, encoding: str | None = None):
        return cls(_init.init(os.fspath(path) if path is not None else None, encoding=encoding))

    def _configure(self, **kw) -> None:
        if kw:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(kw))}")

    def close(self) -> None:
        self.repo.compile_cache.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def path(self) -> str:
        return self.repo.path

    def __repr__(self) -> str:
        h = self.repo.head()
        agent = getattr(self.repo, "agent", None)
        where = f" agent {agent}" if agent else ""
        return f"<Tract {self.repo.path}{where} {h.short_branch or (h.commit or '')[:7]}>"

    # --------------------------------------------------------------- commit
    def commit(self, content: str = "", *, role: str = "user", type: str = "", priority: str = "normal",
               name: str | None = None, tool_call_id: str | None = None, tool_calls=None,
               message: str | None = None) -> _commit.CommitResult:
        """Append one entry."""
        e = Entry(role=role, content=content, type=type, priority=priority, name=name,
                  tool_call_id=tool_call_id, tool_calls=tool_calls)
        return _commit.append(self.repo, [e], message=message)

    def commit_many(self, entries: list, *, message: str | None = None) -> _commit.CommitResult:
        """Append several entries (``Entry`` or dicts with role/content...)
        in one commit."""
        es = [e if isinstance(e, Entry) else Entry(**e) for e in entries]
        return _commit.append(self.repo, es, message=message)

    def system(self, content: str, **kw):
        return self.commit(content, role="system", **kw)

    def user(self, content: str, **kw):
        return self.commit(content, role="user", **kw)

    def assistant(self, content: str = "", **kw):
        return self.commit(content, role="assistant", **kw)

    def tool(self, content: str, *, tool_call_id: str | None = None, **kw):
        return self.commit(content, role="tool", tool_call_id=tool_call_id, **kw)

    def edit(self, entry: str | int, content: str, **kw):
        return _commit.edit(self.repo, str(entry), content, **kw)

    def pin(self, entry: str | int, **kw):
        return _commit.set_priority(self.repo, str(entry), "pinned", **kw)

    def unpin(self, entry: str | int, **kw):
        return _commit.set_priority(self.repo, str(entry), "normal", **kw)

    def skip(self, entry: str | int, **kw):
        return _commit.set_priority(self.repo, str(entry), "skip", **kw)

    # ----------------------------------------------------------------- read
    def compile(self, rev: str | None = None) -> _compile.CompileResult:
        return _compile.compile(self.repo, rev)

    def entries(self, rev: str | None = None) -> list[Entry]:
        """Every entry at ``rev`` (skipped ones included), in order."""
        head = self.repo.head()
        if rev is None and head.commit is None:
            return []
        return self.repo.entries(self.repo.items(self.repo.resolve(rev)))

    def log(self, rev: str | None = None, n: int | None = None):
        return _log.log(self.repo, rev, max_count=n)

    def status(self):
        return _status.status(self.repo)

    def show(self, what: str | None = None):
        return _show.show(self.repo, what)

    def diff(self, a: str | None = None, b: str | None = None):
        return _diff.diff(self.repo, a, b)

    @property
    def head(self) -> str | None:
        return self.repo.head().commit

    @property
    def branch(self) -> str | None:
        return self.repo.head().short_branch

    # -------------------------------------------------------------- history
    def reset(self, rev: str, *, mode: str = "hard"):
        return _reset.reset(self.repo, rev, mode=mode)

    def checkout(self, rev: str, *, detach: bool = False):
        return _checkout.checkout(self.repo, rev, detach=detach)

    def reflog(self, ref: str | None = None):
        return _reflog.reflog(self.repo, ref)

    def undo(self):
        return _reflog.undo(self.repo)

    # --------------------------------------------------------------- config
    def config(self, key: str, value=None):
        """Read (no ``value``) or set a setting; see ``tract config``."""
        if value is None:
            v = _config.get(self.repo, key)
            return None if v is None else v.value
        return _config.set_value(self.repo, key, str(value))

    def unset_config(self, key: str):
        return _config.set_value(self.repo, key, None)
