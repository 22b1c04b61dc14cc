"""Replaying commits: the engine under rebase, cherry-pick and revert.

Each step applies one commit's entry-level change onto the tip built so far
with the three-way merge of ``threeway`` (pick: base = the commit's parent,
theirs = the commit; revert: the other way round).  A picked commit keeps
its message and so its kind (``Tract-Op``) and entry ids.  New commits are
written without moving any ref; the branch (or a detached HEAD) moves once,
at the end, with compare-and-swap, and the reflog keeps the old tip
(``tract undo``); then their token notes are written in one batch (a stop
keeps them in the saved state).

A step with conflicts stops the sequence: the state (steps left, the tip so
far, the conflicts) goes to ``TRACT_OP_STATE`` and the branch stays where it
was until ``--continue`` (after ``tract resolve``), ``--skip`` or ``--abort``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import NothingToDoError, RefUpdateError
from ..store.trailers import format_message, parse_message, trailer_all
from . import opstate, threeway
from .merge import plan_from_state
from .repo import Repo, TokenNote


@dataclass
class SequenceResult:
    op: str
    status: str  # done | conflicts | up-to-date | aborted
    branch: str | None
    old: str | None
    new: str | None
    picked: list = field(default_factory=list)  # [(original, new commit)]
    skipped: list = field(default_factory=list)  # [(original, reason)]
    conflicts: list = field(default_factory=list)
    current: str | None = None  # the commit that stopped on conflicts

    def to_json(self) -> dict:
        return {
            "op": self.op,
            "status": self.status,
            "branch": self.branch,
            "old": self.old,
            "new": self.new,
            "picked": [{"from": a, "to": b} for a, b in self.picked],
            "skipped": [{"commit": a, "reason": r} for a, r in self.skipped],
            "current": self.current,
            "conflicts": [{"id": c.id, "kind": c.kind, "role": c.role} for c in self.conflicts],
        }


def _message(repo: Repo, action: str, c, op: str) -> str:
    subject, body, trailers = parse_message(c.message)
    if action == "pick":
        if op == "cherry-pick":
            return format_message(subject, body, trailers + [("Tract-Cherry-Picked-From", c.id)])
        return c.message
    ids = trailer_all(trailers, "Tract-Entry")
    return format_message(f'Revert "{subject}"', f"This reverts commit {c.id}.",
                          [("Tract-Op", "revert"), ("Tract-Reverts", c.id)]
                          + [("Tract-Entry", i) for i in ids])


def start_revs(repo: Repo, op: str, action: str, revs: list[str]) -> "SequenceResult":
    """Cherry-pick and revert: one ``action`` step per revision, onto HEAD."""
    if not revs:
        from ..errors import UsageError

        raise UsageError(f"nothing to {op}: give one or more commits")
    commits = [repo.resolve(r) for r in revs]
    return start(repo, op, [(action, c) for c in commits], repo.resolve(None),
                 what=", ".join(c[:7] for c in commits))


def start(repo: Repo, op: str, steps: list[tuple[str, str]], onto: str | None, *,
          what: str = "", allow_empty_result: bool = False) -> SequenceResult:
    """Begin a sequence of ``(pick|revert, commit)`` steps on ``onto``."""
    opstate.require_none(repo)
    head = repo.head()
    state = {
        "op": op, "what": what, "title": what, "branch": head.branch, "orig_head": head.commit,
        "work": onto, "onto": onto,
        "todo": [list(s) for s in steps], "picked": [], "skipped": [],
        "allow_empty_result": allow_empty_result,
    }
    return _run(repo, state)


def _run(repo: Repo, state: dict) -> SequenceResult:
    # every tree, commit and note is kept in memory and written as one pack
    # just before a ref moves (or the state is saved): no loose objects
    with repo.store.staged():
        return _replay(repo, state)


def _replay(repo: Repo, state: dict) -> SequenceResult:
    store = repo.store
    op = state["op"]
    work = state["work"]
    work_note = repo.note(work) if work else TokenNote(0, 0, 0, repo.counter.label, repo.counter.approximate)
    # the notes of commits made before a stop travel in the saved state:
    # nothing is written to refs/notes/tract until the branch has moved
    notes: dict[str, str] = dict(state.get("notes") or {})
    picked = [tuple(x) for x in state["picked"]]
    skipped = [tuple(x) for x in state["skipped"]]
    todo = [tuple(x) for x in state["todo"]]
    ids = {i.id for i in repo.items(work)} if work else set()  # every entry id at ``work``
    work_tree = store.commit(work).tree if work else None
    trees: dict[str, str] = {}  # commit -> tree of the commit replayed last (the next one's parent)

    def land(c, action, p):
        nonlocal work, work_note, work_tree
        tree, dtok, dcount = threeway.apply(repo, p)
        work_tree = tree
        new = store.create_commit(tree, [work] if work else [], _message(repo, action, c, op),
                                  author=(c.author_name, c.author_email) if action == "pick" else None)
        total = work_note.context_tokens + dtok
        work_note = TokenNote(total - work_note.context_tokens, total, work_note.entries + dcount,
                              repo.counter.label, repo.counter.approximate)
        for name, blob in p.changes.items():
            if blob is None:
                ids.discard(name.rsplit("-", 2)[1])
        ids.update(name.rsplit("-", 2)[1] for name, blob in p.changes.items() if blob is not None)
        notes[new] = work_note.to_json()
        repo._note_cache[new] = work_note
        picked.append((c.id, new))
        work = new

    if state.get("current"):  # --continue after resolving
        action, cid = state["current"]
        p, _ = plan_from_state(state)
        c = store.commit(cid)
        if p.empty:
            skipped.append((cid, "empty after resolution"))
        else:
            land(c, action, p)
    while todo:
        action, cid = todo.pop(0)
        c = store.commit(cid)
        if action == "pick" and len(c.parents) > 1:
            skipped.append((cid, "merge commit"))
            continue
        parent = c.parents[0] if c.parents else None
        ptree = (trees.get(parent) or store.commit(parent).tree) if parent else None
        trees = {cid: c.tree}
        base_tree, theirs_tree = (ptree, c.tree) if action == "pick" else (c.tree, ptree)
        p = threeway.plan(repo, base_tree, work_tree, theirs_tree, ours_ids=ids, theirs_moves_win=True)
        if p.conflicts:
            subject = c.message.split("\n", 1)[0]
            store.flush_staged()  # the saved state names ``work``
            opstate.save(repo, dict(
                state, work=work, notes=notes, todo=[list(s) for s in todo], picked=[list(x) for x in picked],
                skipped=[list(x) for x in skipped], current=[action, cid],
                what=f"{state.get('title', '')} (stopped at {cid[:7]} {subject})".strip(),
                ours_tree=work_tree, changes=p.changes, removed=p.removed, added=sorted(p.added),
                settings=p.settings,
                conflicts=[dict(x.to_state(), resolution=None) for x in p.conflicts],
            ))
            return SequenceResult(op, "conflicts", _short(state["branch"]), state["orig_head"], None,
                                  picked, skipped, p.conflicts, cid)
        if p.empty:
            skipped.append((cid, "already applied"))
            continue
        land(c, action, p)
    orig = state["orig_head"]
    if not picked and op != "rebase" and not state.get("allow_empty_result"):
        opstate.clear(repo)
        raise NothingToDoError(f"nothing to {op}: "
                               + ", ".join(f"{c[:7]} ({r})" for c, r in skipped) if skipped
                               else f"nothing to {op}")
    if work != orig:
        _move(repo, state["branch"], orig, work, _reflog_message(op, state, work))
        # the notes once the branch has moved (a branch that could not be
        # moved leaves the notes as they were); a note still missing is
        # recomputed when read, as any is
        if notes:
            store.add_notes(notes, message=f"Notes added by tract {op}")
    opstate.clear(repo)
    return SequenceResult(op, "done", _short(state["branch"]), orig, work, picked, skipped)


def _reflog_message(op: str, state: dict, new: str) -> str:
    if op == "rebase":
        return f"rebase (finish): {state['branch'] or 'HEAD'} onto {state.get('onto', new)[:12]}"
    return f"{op}: {state.get('title') or new[:7]}"


def _short(branch: str | None) -> str | None:
    return branch[len("refs/heads/"):] if branch and branch.startswith("refs/heads/") else branch


def _move(repo: Repo, branch: str | None, old: str | None, new: str, msg: str) -> None:
    if branch is None:
        repo.store.update_head_detached(new, old, msg)  # type: ignore[arg-type]
    else:
        repo.store.update_ref(branch, new, old, msg)


def _check_unmoved(repo: Repo, state: dict) -> None:
    branch = state["branch"]
    cur = repo.store.read_ref(branch) if branch else repo.head().commit
    if cur != state["orig_head"]:
        raise RefUpdateError(f"{branch or 'HEAD'} moved since the {state['op']} started",
                             hints=(f"run 'tract {state['op']} --abort' and start again",))


def cont(repo: Repo, op: str) -> SequenceResult:
    state = opstate.require(repo, op)
    _check_unmoved(repo, state)
    return _run(repo, state)


def skip(repo: Repo, op: str) -> SequenceResult:
    state = opstate.require(repo, op)
    _check_unmoved(repo, state)
    cur = state.pop("current")
    state["skipped"] = state["skipped"] + [[cur[1], "skipped"]]
    for k in ("conflicts", "changes", "removed", "added", "settings", "ours_tree"):
        state.pop(k, None)
    return _run(repo, state)


def abort(repo: Repo, op: str) -> SequenceResult:
    state = opstate.require(repo, op)
    opstate.clear(repo)
    branch = state["branch"]
    tip = repo.store.read_ref(branch) if branch else repo.head().commit  # as it is now
    return SequenceResult(op, "aborted", _short(branch), state["orig_head"], tip)
