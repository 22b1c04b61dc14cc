"""Merge a branch into the current one.

Fast-forward when the current tip is an ancestor; otherwise a three-way
merge of entries against ``merge_base`` (see ``threeway`` and
docs/merge.md).  The merge commit has both parents; its bookkeeping (what
was merged, the strategy, conflict resolutions) lives in its message and
trailers only, never in the context.  Conflicts stop the merge: the state
goes to ``TRACT_OP_STATE``, the branch does not move until
``merge --continue`` lands the result with one compare-and-swap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import (
    BadRevisionError,
    DetachedHeadError,
    RefUpdateError,
    TractError,
    UnresolvedConflictsError,
    UsageError,
)
from ..store.repo import Item
from . import opstate, threeway
from .repo import Change, Repo

STRATEGIES = threeway.STRATEGIES + ("semantic",)


@dataclass
class MergeResult:
    status: str  # up-to-date | fast-forward | merged | conflicts | aborted
    branch: str | None
    theirs: str
    old: str | None
    new: str | None
    strategy: str
    conflicts: list = field(default_factory=list)  # threeway.Conflict
    commit: object = None  # CommitResult of the merge commit
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        d = {
            "status": self.status,
            "branch": self.branch,
            "theirs": self.theirs,
            "old": self.old,
            "new": self.new,
            "strategy": self.strategy,
            "conflicts": [{"id": c.id, "kind": c.kind, "role": c.role} for c in self.conflicts],
        }
        if self.commit is not None:
            d["tokens_added"] = self.commit.note.tokens_added
            d["context_tokens"] = self.commit.note.context_tokens
            d["entry_count"] = self.commit.note.entries
        d.update(self.extra)
        return d


def _head_branch(repo: Repo) -> tuple[str, str | None]:
    head = repo.head()
    if head.branch is None:
        raise DetachedHeadError("cannot merge into a detached HEAD",
                                hints=("switch to a branch first: tract switch NAME",))
    return head.branch, head.commit


def merge(repo: Repo, rev: str, *, strategy: str = "ours-first", message: str | None = None,
          ff: bool = True, model: str | None = None) -> MergeResult:
    """Merge ``rev`` into the current branch; ``model`` is the model of the
    semantic strategy (default: the configured one for 'merge')."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown merge strategy '{strategy}' (expected one of: {', '.join(STRATEGIES)})")
    if model is not None and strategy != "semantic":
        raise UsageError("--model is only used by --strategy semantic")
    opstate.require_none(repo)
    branch, ours = _head_branch(repo)
    try:
        theirs = repo.resolve(rev)
    except BadRevisionError:
        raise BadRevisionError(f"{rev} - not something we can merge") from None
    short = branch[len("refs/heads/"):] if branch.startswith("refs/heads/") else branch
    if ours is None:  # unborn branch: the merge just points it at theirs
        repo.store.update_ref(branch, theirs, None, f"merge {rev}: Initial commit")
        return MergeResult("fast-forward", short, theirs, None, theirs, strategy)
    if repo.store.is_ancestor(theirs, ours):
        return MergeResult("up-to-date", short, theirs, ours, ours, strategy)
    if ff and repo.store.is_ancestor(ours, theirs):
        repo.store.update_ref(branch, theirs, ours, f"merge {rev}: Fast-forward")
        return MergeResult("fast-forward", short, theirs, ours, theirs, strategy)
    base = repo.store.merge_base(ours, theirs)
    if base is None:  # as git: two contexts with no common commit are not one conversation
        raise TractError("refusing to merge unrelated histories",
                         hints=(f"'{rev}' shares no commit with {short}",))
    if strategy == "semantic":
        from . import merge_semantic

        return merge_semantic.merge(repo, rev, branch, ours, theirs, base, message=message,
                                    model=model)
    st = repo.store
    base_tree = st.commit(base).tree if base else None
    ours_tree, theirs_tree = st.commit(ours).tree, st.commit(theirs).tree
    times = (lambda: threeway.entry_times(repo, ours, base), lambda: threeway.entry_times(repo, theirs, base))
    p = threeway.plan(repo, base_tree, ours_tree, theirs_tree, strategy=strategy, times=times)
    subject = message or f"Merge branch '{rev}' into {short}"
    if p.conflicts:
        opstate.save(repo, {
            "op": "merge", "what": f"of '{rev}' into {short}", "branch": branch, "orig_head": ours,
            "theirs": theirs, "theirs_name": rev, "base": base, "strategy": strategy,
            "subject": subject, "ours_tree": ours_tree, "changes": p.changes, "removed": p.removed,
            "added": sorted(p.added), "settings": p.settings,
            "conflicts": [dict(c.to_state(), resolution=None) for c in p.conflicts],
        })
        return MergeResult("conflicts", short, theirs, ours, None, strategy, conflicts=p.conflicts)
    res = _commit(repo, branch, ours, theirs, base, p, subject, strategy, resolved=[])
    return MergeResult("merged", short, theirs, ours, res.commit, strategy, commit=res)


def _commit(repo: Repo, branch: str, ours: str, theirs: str, base: str | None, p: threeway.Plan,
            subject: str, strategy: str, resolved: list, trailers: list | None = None,
            body: str = "", note_extra: dict | None = None):
    tree, dtok, dcount = threeway.apply(repo, p)
    note = repo.note(ours)
    tr = [("Tract-Merge-Base", base or "none"), ("Tract-Merge-Theirs", theirs),
          ("Tract-Merge-Strategy", strategy)]
    tr += [("Tract-Resolved", f"{eid} {how}") for eid, how in resolved]
    tr += list(trailers or [])

    def build(tip):
        if tip != ours:
            raise RefUpdateError(f"{branch} moved during the merge (expected {ours[:7]}, found "
                                 f"{(tip or '')[:7]})", hints=("run the merge again",))
        return Change(tree, subject, body, tr, parents=[ours, theirs],
                      context_tokens=note.context_tokens + dtok, entries=note.entries + dcount,
                      note_extra=dict(note_extra or {}))

    return repo.commit_loop(build, op="merge", ref=branch, stopped_op_ok=True,
                            reflog=f"merge {theirs[:7]}: Merge made by the '{strategy}' strategy.")


# ------------------------------------------------------------- resolution
def _find_conflict(repo: Repo, state: dict, ref: str) -> dict:
    """The conflict an entry reference names: an id or a unique prefix of
    one among the conflicts, or any reference form other commands take (a
    position in the current context, a commit that touched the entry)."""
    from ..errors import NotInConflictError, TractError, UnknownEntryError
    from ..store.trailers import parse_message, trailer

    r = ref.strip().lower().lstrip("#")
    hits = [c for c in state["conflicts"] if c["id"].startswith(r)] if len(r) >= 4 else []
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise NotInConflictError(f"entry id prefix '{ref}' is ambiguous among the conflicts")
    by_id = {c["id"]: c for c in state["conflicts"]}
    eid = None
    try:
        eid = repo.find_entry(ref)[1].id
    except UnknownEntryError as e:
        if str(e).startswith("no entry at position"):
            raise
        try:  # a commit whose entry is not in the current context (removed on our side)
            msg = repo.store.commit(repo.resolve(ref)).message
            eid = (trailer(parse_message(msg)[2], "Tract-Entry") or "").split(" ")[0] or None
        except TractError:
            eid = None
    if eid in by_id:
        return by_id[eid]
    raise NotInConflictError(f"entry '{ref}' is not in conflict",
                             hints=("tract status lists the entries in conflict",))


def resolution_changes(repo: Repo, c: threeway.Conflict, how: str, content: str | None) -> dict:
    """Item changes (name -> blob/None) that resolve one conflict, on top of
    ours' tree (where the ours version, if any, already sits)."""
    from ..store import codec

    if how == "ours":
        return {}
    if how == "theirs":
        if c.theirs is None:
            return {c.ours.name: None} if c.ours is not None else {}
        out: dict = {}
        key = c.ours.key if c.ours is not None else c.theirs.key
        name = threeway.item_name(key, c.id, c.theirs.role)
        if c.ours is not None and c.ours.name != name:
            out[c.ours.name] = None
        out[name] = c.theirs.blob
        return out
    # new content, on the entry as it stands on the side that has it
    side = c.ours or c.theirs or c.base
    e = repo.entry(side)  # type: ignore[arg-type]
    blob = repo.store.write_blob(codec.encode(e.with_(content=content).validated()))
    name = c.ours.name if c.ours is not None else side.name  # type: ignore[union-attr]
    return {name: blob}


def resolve(repo: Repo, ref: str, *, ours: bool = False, theirs: bool = False,
            content: str | None = None) -> dict:
    """Record how one conflicting entry is resolved (for whichever
    operation is stopped).  Nothing is committed until ``--continue``."""
    if sum([ours, theirs, content is not None]) != 1:
        raise UsageError("give exactly one of --ours, --theirs, --content")
    state = opstate.load(repo)
    if state is None:
        from ..errors import NoOperationInProgressError

        raise NoOperationInProgressError("there is no merge, rebase, cherry-pick or revert in progress")
    c = _find_conflict(repo, state, ref)
    how = "ours" if ours else "theirs" if theirs else "content"
    conflict = threeway.Conflict.from_state(c)
    changes = resolution_changes(repo, conflict, how, content)
    c["resolution"] = {"how": how, "changes": changes}
    opstate.save(repo, state)
    return {"id": c["id"], "kind": c["kind"], "how": how,
            "remaining": len(opstate.unresolved(state)), "op": state["op"]}


def plan_from_state(state: dict) -> tuple[threeway.Plan, list]:
    """The plan saved in a state, with every resolution applied."""
    left = opstate.unresolved(state)
    if left:
        ids = ", ".join(c["id"] for c in left)
        raise UnresolvedConflictsError(
            f"{len(left)} unresolved conflict{'s' if len(left) != 1 else ''}: {ids}",
            hints=("resolve each with 'tract resolve ENTRY --ours|--theirs|--content TEXT'",),
        )
    p = threeway.Plan(state["ours_tree"], dict(state["changes"]), dict(state["removed"]), [],
                      state.get("settings"), set(state.get("added", [])))
    resolved = []
    for c in state["conflicts"]:
        ch = c["resolution"]["changes"]
        for name, blob in ch.items():
            if blob is None:
                ours = c.get("ours")
                if ours and ours[0] == name:
                    p.remove(Item(*name.rsplit("-", 2), ours[1]))
                else:
                    p.changes[name] = None
            else:
                p.put(name, blob)
        resolved.append((c["id"], c["resolution"]["how"]))
    return p, resolved


def merge_continue(repo: Repo) -> MergeResult:
    state = opstate.require(repo, "merge")
    p, resolved = plan_from_state(state)
    branch, ours = state["branch"], state["orig_head"]
    cur = repo.store.read_ref(branch)
    if cur != ours:
        raise RefUpdateError(f"{branch} moved since the merge started",
                             hints=("run 'tract merge --abort' and merge again",))
    res = _commit(repo, branch, ours, state["theirs"], state.get("base"), p, state["subject"],
                  state["strategy"], resolved)
    opstate.clear(repo)
    short = branch[len("refs/heads/"):]
    return MergeResult("merged", short, state["theirs"], ours, res.commit, state["strategy"], commit=res)


def merge_abort(repo: Repo) -> MergeResult:
    state = opstate.require(repo, "merge")
    opstate.clear(repo)
    branch = state["branch"]
    # the branch's tip as it is (nothing moves it while the merge is stopped,
    # but plain git may have)
    return MergeResult("aborted", branch[len("refs/heads/"):], state["theirs"], state["orig_head"],
                       repo.store.read_ref(branch), state["strategy"])
