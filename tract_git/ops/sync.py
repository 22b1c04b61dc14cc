"""Sync with git remotes: remote add/remove/list, push, fetch, pull, clone.

git moves neither notes nor refs outside ``refs/heads`` and ``refs/tags``
by default, so a tract remote is configured with these fetch refspecs
(``git fetch`` by hand uses them too)::

    +refs/heads/*:refs/remotes/<r>/*            branches
    +refs/tract/*:refs/remotes/<r>/tract/*      sub-agents, archives...
    ^refs/tract/agents/*/HEAD                   (a sub-agent's HEAD is local)
    +refs/notes/*:refs/notes/remotes/<r>/*      token notes

and push sends the branch(es), ``refs/tract/*`` (no force) and
``refs/notes/tract``.  Notes are keyed by commit id, so notes from two
machines merge by union (``Store.merge_notes``): push merges the remote's
notes first, which makes the notes push a fast-forward.  Transport is the
real git binary (``store.transport``).  See docs/sync.md.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field

from .. import tokens
from ..errors import (
    BadRevisionError,
    RemoteError,
    StoreExistsError,
    UsageError,
)
from ..store import transport
from ..store.repo import FORMAT_VERSION, NOTES_REF, Store
from ..store.transport import AGENT_HEADS, PushedRef
from .repo import DEFAULT_DIR, Repo, TokenNote

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def fetch_specs(name: str) -> list[str]:
    return [f"+refs/heads/*:refs/remotes/{name}/*",
            f"+refs/tract/*:refs/remotes/{name}/tract/*",
            AGENT_HEADS,
            f"+refs/notes/*:refs/notes/remotes/{name}/*"]


def _normalize_url(url: str, cwd: str | None = None) -> str:
    """A local path becomes absolute (git resolves it against its own
    working directory otherwise); URLs and ``host:path`` stay as given."""
    if "://" in url or re.match(r"^[^/]+:", url) and not os.path.exists(url):
        return url
    return os.path.abspath(os.path.join(cwd or os.getcwd(), url))


# ---------------------------------------------------------------- remotes
@dataclass
class Remote:
    name: str
    url: str

    def to_json(self) -> dict:
        return {"name": self.name, "url": self.url}


def remote_list(repo: Repo) -> list[Remote]:
    return [Remote(n, u) for n, u in sorted(transport.remotes(repo.path))]


def remote_add(repo: Repo, name: str, url: str) -> Remote:
    if not _NAME_RE.match(name) or name.endswith(".lock"):
        raise UsageError(f"invalid remote name '{name}'")
    if any(r.name == name for r in remote_list(repo)):
        raise RemoteError(f"remote {name} already exists")
    url = _normalize_url(url)
    transport.add_remote(repo.path, name, url, fetch_specs(name))
    return Remote(name, url)


def remote_remove(repo: Repo, name: str) -> Remote:
    r = _remote(repo, name)
    transport.remove_remote(repo.path, name)
    for ref, _ in repo.store.list_refs(f"refs/notes/remotes/{name}/"):
        repo.store.delete_ref(ref)
    return r


def _remote(repo: Repo, name: str | None) -> Remote:
    rs = remote_list(repo)
    if name is None:
        if not rs:
            raise RemoteError("no remote configured", hints=("tract remote add origin URL",))
        byname = {r.name: r for r in rs}
        if "origin" in byname:
            return byname["origin"]
        if len(rs) == 1:
            return rs[0]
        raise UsageError("several remotes and none is 'origin': name the remote")
    for r in rs:
        if r.name == name:
            return r
    raise RemoteError(f"no such remote '{name}'", hints=(f"tract remote add {name} URL",))


# ------------------------------------------------------------------ fetch
@dataclass
class RefChange:
    ref: str
    old: str | None
    new: str | None

    def to_json(self) -> dict:
        return {"ref": self.ref, "old": self.old, "new": self.new}


@dataclass
class FetchResult:
    remote: Remote
    changes: list[RefChange] = field(default_factory=list)
    notes: str | None = None  # the local notes tip after merging the remote's

    def to_json(self) -> dict:
        return {"remote": self.remote.name, "url": self.remote.url,
                "changes": [c.to_json() for c in self.changes], "notes": self.notes}


def _snapshot(repo: Repo, prefixes: tuple) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in prefixes:
        out.update(dict(repo.store.list_refs(p)))
    return out


def _merge_remote_notes(repo: Repo, name: str) -> str | None:
    theirs = repo.store.read_ref(f"refs/notes/remotes/{name}/tract")
    if theirs is None:
        return repo.store.read_ref(NOTES_REF)
    return repo.store.merge_notes(theirs, message=f"Notes merged from {name}")


def fetch(repo: Repo, remote: str | None = None) -> FetchResult:
    r = _remote(repo, remote)
    prefixes = (f"refs/remotes/{r.name}/", f"refs/notes/remotes/{r.name}/")
    before = _snapshot(repo, prefixes)
    transport.fetch(repo.path, r.name, [f"+refs/heads/*:refs/remotes/{r.name}/*",
                                        f"+refs/tract/*:refs/remotes/{r.name}/tract/*", AGENT_HEADS,
                                        f"+refs/notes/*:refs/notes/remotes/{r.name}/*"])
    after = _snapshot(repo, prefixes)
    changes = [RefChange(k, before.get(k), after.get(k))
               for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    return FetchResult(r, changes, _merge_remote_notes(repo, r.name))


# ------------------------------------------------------------------- push
@dataclass
class PushResult:
    remote: Remote
    refs: list[PushedRef]

    def to_json(self) -> dict:
        return {"remote": self.remote.name, "url": self.remote.url,
                "refs": [r.to_json() for r in self.refs]}


def push(repo: Repo, remote: str | None = None, branch: str | None = None, *,
         all_branches: bool = False) -> PushResult:
    """Push the current branch (or ``branch``, or every branch), the
    sub-agent refs and the token notes."""
    r = _remote(repo, remote)
    if branch and all_branches:
        raise UsageError("give a branch or --all, not both")
    store = repo.store
    if all_branches:
        specs = ["refs/heads/*:refs/heads/*"]
    else:
        if branch:
            ref = branch if branch.startswith("refs/") else repo.branch_prefix + branch
            if store.read_ref(ref) is None:
                raise BadRevisionError(f"no such branch '{branch}'")
        else:
            head = repo.head()
            if head.branch is None:
                raise UsageError("HEAD is detached: name the branch to push")
            if head.commit is None:
                raise BadRevisionError(f"branch '{head.short_branch}' has no commits yet")
            ref = head.branch
        specs = [f"{ref}:{ref}"]
    specs += ["refs/tract/*:refs/tract/*", AGENT_HEADS]
    # merge the remote's notes first: the notes push is then a fast-forward
    transport.fetch(repo.path, r.name, [f"+refs/notes/*:refs/notes/remotes/{r.name}/*"])
    if _merge_remote_notes(repo, r.name):
        specs.append(f"{NOTES_REF}:{NOTES_REF}")
    return PushResult(r, transport.push(repo.path, r.name, specs))


# ------------------------------------------------------------------- pull
@dataclass
class PullResult:
    fetch: FetchResult
    branch: str | None
    status: str  # up-to-date | fast-forward | merged | conflicts | created | no-remote-branch
    old: str | None
    new: str | None
    agents_updated: list = field(default_factory=list)
    agents_diverged: list = field(default_factory=list)
    merge: object = None

    def to_json(self) -> dict:
        return {"fetch": self.fetch.to_json(), "branch": self.branch, "status": self.status,
                "old": self.old, "new": self.new, "agents_updated": self.agents_updated,
                "agents_diverged": self.agents_diverged}


def _adopt_tract_refs(repo: Repo, name: str) -> tuple[list, list]:
    """Create or fast-forward local ``refs/tract/*`` from the remote's;
    refs that diverged are left alone and reported."""
    store = repo.store
    prefix = f"refs/remotes/{name}/tract/"
    updated, diverged = [], []
    for rref, theirs in store.list_refs(prefix):
        local = "refs/tract/" + rref[len(prefix):]
        if local.endswith("/HEAD"):
            continue
        ours = store.read_ref(local)
        if ours == theirs:
            continue
        if ours is None:
            store.update_ref(local, theirs, None, f"pull: from {name}")
        elif store.is_ancestor(ours, theirs):
            store.update_ref(local, theirs, ours, f"pull: fast-forward from {name}")
        else:
            if not store.is_ancestor(theirs, ours):
                diverged.append(local)
            continue
        updated.append(local)
    return updated, diverged


def pull(repo: Repo, remote: str | None = None) -> PullResult:
    """Fetch, then bring the current branch up to the remote's: fast-forward
    when possible, else a merge (which may stop on conflicts, as
    ``tract merge`` does: resolve, then ``tract merge --continue``)."""
    f = fetch(repo, remote)
    name = f.remote.name
    updated, diverged = _adopt_tract_refs(repo, name)
    head = repo.head()
    if head.branch is None:
        raise UsageError("HEAD is detached: check out a branch to pull into")
    b = head.branch
    if b.startswith("refs/heads/"):
        tracking = f"refs/remotes/{name}/{b[len('refs/heads/'):]}"
    else:
        tracking = f"refs/remotes/{name}/tract/{b[len('refs/tract/'):]}"
    store = repo.store
    theirs = store.read_ref(tracking)
    ours = store.read_ref(b)
    res = PullResult(f, head.short_branch, "up-to-date", ours, ours, updated, diverged)
    if theirs is None:
        res.status = "no-remote-branch"
        return res
    if b in diverged:
        res.agents_diverged = [d for d in diverged if d != b]
    if ours is None:
        store.update_ref(b, theirs, None, f"pull: from {name}")
        res.status, res.new = "created", theirs
    elif ours == theirs or store.is_ancestor(theirs, ours):
        pass
    elif store.is_ancestor(ours, theirs):
        store.update_ref(b, theirs, ours, f"pull: fast-forward from {name}")
        res.status, res.new = "fast-forward", theirs
    else:
        from .merge import merge  # both sides moved: a three-way merge (tract-merge(1))

        m = merge(repo, tracking, message=f"Merge {name}/{head.short_branch} into {head.short_branch}")
        res.merge = m
        res.status = "conflicts" if m.status == "conflicts" else "merged"
        res.new = m.new
    return res


# ------------------------------------------------------------------ clone
def clone(url: str, path: str | None = None, *, cwd: str | None = None) -> Repo:
    """Clone a remote store into ``path`` (default ``./.tract``): branches,
    sub-agent refs and notes; ``origin`` is set up as for ``remote add``."""
    cwd = cwd or os.getcwd()
    target = os.path.abspath(os.path.join(cwd, path or DEFAULT_DIR))
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise StoreExistsError(f"destination path '{path or DEFAULT_DIR}' already exists "
                               "and is not an empty directory")
    url = _normalize_url(url, cwd)
    created = not os.path.exists(target)
    try:
        transport.clone(url, target)
        # a bare clone has no fetch refspec; ours also bring refs/tract and notes
        transport.set_config(target, [("core.logAllRefUpdates", "always"),
                                      ("notes.displayRef", NOTES_REF)],
                             [("remote.origin.fetch", s) for s in fetch_specs("origin")])
        transport.fetch(target, "origin", ["+refs/tract/*:refs/tract/*", "+refs/notes/*:refs/notes/*"]
                        + fetch_specs("origin"))
        hooks = os.path.join(target, "hooks")
        for f in os.listdir(hooks) if os.path.isdir(hooks) else []:
            if f.endswith(".sample"):  # git's samples, not tract's
                os.unlink(os.path.join(hooks, f))
        # formatVersion written last: its presence is what makes this a tract store
        transport.set_config(target, [("tract.encoding", tokens.DEFAULT_ENCODING),
                                      ("tract.formatVersion", str(FORMAT_VERSION))])
        store = Store.open(target)
        enc = _encoding_of(store)
        if enc != tokens.DEFAULT_ENCODING:
            store.set_config("tract.encoding", enc)
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for f in os.listdir(target):
                p = os.path.join(target, f)
                shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)
        raise
    repo = Repo(store)
    head = repo.head()
    if head.commit is None:  # the remote's HEAD names no branch (a fresh bare repo's 'master')
        branches = [r for r, _ in repo.store.list_refs("refs/heads/")]
        if branches:
            repo.set_head("refs/heads/main" if "refs/heads/main" in branches else branches[0])
    return repo


def _encoding_of(store: Store) -> str:
    """The token encoding the remote used: from the note of its HEAD."""
    head = store.head().commit
    note = TokenNote.parse(store.read_note(head)) if head else None
    return note.encoding if note and note.encoding and not note.approximate else tokens.DEFAULT_ENCODING
