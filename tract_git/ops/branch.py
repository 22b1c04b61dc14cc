"""Branches: create, delete, list, switch.

A branch is a plain ``refs/heads/<name>`` ref, so ``git branch`` agrees;
creating one writes one ref (constant time, nothing copied).  Branch-scoped
settings, pins and skips live in the snapshot, so they follow the branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import (
    BadRevisionError,
    BranchDeleteRefusedError,
    BranchExistsError,
    BranchNotFoundError,
    InvalidRefNameError,
)
from ..store.repo import Store
from . import opstate
from .repo import Repo

HEADS = "refs/heads/"


def check_name(name: str) -> str:
    """A branch name as ``git check-ref-format --branch`` would take it."""
    bad = (
        not name
        or name.startswith("-")
        or name == "HEAD"
        or name.startswith("refs/")
        or "@{" in name
        or name == "@"
        or any(ch.isspace() or ord(ch) < 32 or ch == "\x7f" for ch in name)
        or not Store.valid_ref_name(HEADS + name)
    )
    if bad:
        raise InvalidRefNameError(f"'{name}' is not a valid branch name")
    return name


def ref_of(name: str, prefix: str = HEADS) -> str:
    """A branch name to its ref; ``prefix`` is the context's branch prefix
    (``Repo.branch_prefix``: a sub-agent's branches live in its namespace)."""
    return name if name.startswith(prefix) else prefix + name


def short_name(ref: str, prefix: str = HEADS) -> str:
    return ref[len(prefix):] if ref.startswith(prefix) else ref


@dataclass
class BranchInfo:
    name: str
    commit: str
    current: bool
    entries: int
    tokens: int
    _repo: Repo | None = field(default=None, repr=False, compare=False)
    _subject: str | None = field(default=None, repr=False, compare=False)

    @property
    def subject(self) -> str:
        """The tip's subject, read on first use (a commit that appended
        thousands of entries has a long message)."""
        if self._subject is None:
            self._subject = self._repo.store.commit(self.commit).message.split("\n", 1)[0] \
                if self._repo is not None else ""
        return self._subject

    def to_json(self) -> dict:
        return {"name": self.name, "commit": self.commit, "current": self.current,
                "entries": self.entries, "tokens": self.tokens, "subject": self.subject}


def create(repo: Repo, name: str, start: str | None = None, *, force: bool = False) -> BranchInfo:
    """Create branch ``name`` at ``start`` (default HEAD)."""
    check_name(name)
    ref = ref_of(name, repo.branch_prefix)
    target = repo.resolve(start)
    old = repo.store.read_ref(ref)
    if old is not None and not force:
        raise BranchExistsError(f"a branch named '{name}' already exists")
    head = repo.head()
    if old is not None and head.branch == ref:
        raise BranchDeleteRefusedError(f"cannot force update the current branch '{name}'")
    msg = f"branch: Created from {start or 'HEAD'}" if old is None else f"branch: Reset to {start or 'HEAD'}"
    repo.store.update_ref(ref, target, old, msg)
    return info(repo, ref)


def info(repo: Repo, ref: str) -> BranchInfo:
    commit = repo.store.read_ref(ref)
    if commit is None:
        raise BranchNotFoundError(f"branch '{short_name(ref, repo.branch_prefix)}' not found")
    note = repo.note(commit)
    return BranchInfo(short_name(ref, repo.branch_prefix), commit, repo.head().branch == ref, note.entries,
                      note.context_tokens, repo)


def list_branches(repo: Repo) -> list[BranchInfo]:
    return [info(repo, ref) for ref, _ in repo.store.list_refs(repo.branch_prefix)]


def delete(repo: Repo, name: str, *, force: bool = False) -> BranchInfo:
    """Delete a branch; without ``force`` only when it is merged into HEAD."""
    ref = ref_of(name, repo.branch_prefix)
    commit = repo.store.read_ref(ref)
    if commit is None:
        raise BranchNotFoundError(f"branch '{name}' not found")
    head = repo.head()
    if head.branch == ref:
        raise BranchDeleteRefusedError(f"cannot delete branch '{name}': it is the current branch",
                                       hints=("switch to another branch first",))
    st = opstate.load(repo)
    if st is not None and st.get("branch") == ref:
        raise BranchDeleteRefusedError(f"cannot delete branch '{name}': a {st.get('op')} is in progress on it")
    if not force and head.commit is not None and not repo.store.is_ancestor(commit, head.commit):
        raise BranchDeleteRefusedError(
            f"the branch '{name}' is not fully merged",
            hints=(f"if you are sure you want to delete it, run 'tract branch -D {name}'",),
        )
    bi = info(repo, ref)
    repo.store.delete_ref(ref, commit)
    return bi


def rename(repo: Repo, old: str, new: str, *, force: bool = False) -> BranchInfo:
    """Rename branch ``old`` to ``new`` (HEAD follows if it was on ``old``).
    The reflog goes with it, as in git: undo and ``@{n}`` still reach the
    branch's earlier states."""
    check_name(new)
    oref, nref = ref_of(old), ref_of(new)
    commit = repo.store.read_ref(oref)
    if commit is None:
        raise BranchNotFoundError(f"branch '{old}' not found")
    st = opstate.load(repo)
    if st is not None and st.get("branch") == oref:
        raise BranchDeleteRefusedError(f"cannot rename branch '{old}': a {st.get('op')} is in progress on it")
    if oref == nref:
        return info(repo, nref)
    existing = repo.store.read_ref(nref)
    if existing is not None and not force:
        raise BranchExistsError(f"a branch named '{new}' already exists")
    if existing is not None and repo.head().branch == nref:
        raise BranchDeleteRefusedError(f"cannot force update the current branch '{new}'")
    was_current = repo.head().branch == oref
    msg = f"Branch: renamed {oref} to {nref}"  # (git's words, in both reflogs)
    repo.store.rename_ref(oref, nref, commit, existing, msg, move_head=was_current)
    return info(repo, nref)


@dataclass
class SwitchResult:
    branch: str
    commit: str | None
    created: bool
    already: bool = False  # HEAD was on that branch already: nothing changed

    def to_json(self) -> dict:
        return {"branch": self.branch, "commit": self.commit, "created": self.created,
                "already": self.already}


def switch(repo: Repo, name: str, *, create_branch: bool = False, start: str | None = None) -> SwitchResult:
    """Point HEAD at branch ``name`` (creating it at ``start`` first)."""
    opstate.require_none(repo)
    if not create_branch:
        from .checkout import previous

        prev = previous(repo, name)  # "-", "@{-N}": the branch before, as git switch reads them
        if prev != name and len(prev) == 40 and all(c in "0123456789abcdef" for c in prev) \
                and repo.store.read_ref(ref_of(prev, repo.branch_prefix)) is None:
            raise BadRevisionError(f"a branch is expected, got commit '{prev[:7]}'",
                                   hints=("to go back to it detached, run 'tract checkout -'",))
        name = prev
    ref = ref_of(name, repo.branch_prefix)
    if create_branch:
        create(repo, name, start)
    elif start is not None:
        from ..errors import UsageError

        raise UsageError("a start point needs -c (create the branch)")
    else:
        check_name(name)
        if repo.store.read_ref(ref) is None:
            raise BadRevisionError(f"invalid reference: {name}",
                                   hints=(f"to create it, run 'tract switch -c {name}'",))
        if repo.head().branch == ref:  # as git: nothing to do, no reflog entry
            return SwitchResult(name, repo.store.read_ref(ref), False, already=True)
    repo.set_head(ref)
    return SwitchResult(name, repo.store.read_ref(ref), create_branch)
