"""Reset the current branch to a revision.

``hard`` (the default) moves the branch to REV: the context becomes REV's.
``soft`` moves the branch to REV and records the context it had as one new
commit on top (a squash: history since REV is rewritten, the context itself
is unchanged).  Either way the old tip stays in the reflog, and
``tract undo`` (or ``tract reset --hard @{1}``) brings it back until gc.
"""

from __future__ import annotations

from ..errors import UsageError
from . import opstate
from ..store import treediff as _treediff
from .repo import Change, CommitResult, Repo


def reset(repo: Repo, rev: str, *, mode: str = "hard") -> CommitResult | str:
    if mode not in ("hard", "soft"):
        raise UsageError(f"unknown reset mode '{mode}' (expected hard or soft)")
    target = repo.resolve(rev)
    head = repo.head()
    opstate.require_none_on(repo, head.branch)
    old = repo.resolve(None)
    if mode == "hard":
        msg = f"reset: moving to {rev}"
        if head.branch:
            repo.store.update_ref(head.branch, target, old, msg)
        else:
            repo.store.update_head_detached(target, old, msg)
        return target
    if target == old:  # nothing to squash: a no-op, as `git reset --soft HEAD`
        return target

    def build(tip):
        # the context of the tip as it is now: a commit another writer
        # landed meanwhile is squashed too, not dropped
        cur = tip or old
        c = repo.store.commit(cur)
        note = repo.note(cur)
        # one Tract-Entry per entry the squash adds, changes or moves
        # (tract-format(5)), so the commit names them as any commit does
        _, added = _treediff.diff_items(repo.store, repo.store.commit(target).tree, c.tree)
        ids = list(dict.fromkeys(i.id for i in added))
        return Change(c.tree, f"squash to {rev}: {c.message.splitlines()[0]}",
                      trailers=[("Tract-Entry", i) for i in ids] + [("Tract-Squashed-From", cur)],
                      parents=[target],
                      context_tokens=note.context_tokens, entries=note.entries)

    return repo.commit_loop(build, op="reset", reflog=f"reset --soft: squash onto {rev}",
                            message_hook=False)
