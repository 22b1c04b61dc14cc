"""The state of a multi-step operation (merge, rebase, cherry-pick, revert)
stopped on conflicts.

It lives in one JSON file in the store, ``TRACT_OP_STATE``, written
atomically (temp file + rename).  Nothing else changes while an operation
is stopped: the branch stays at its old tip until ``--continue`` lands the
result with one compare-and-swap, and ``--abort`` just removes the file.
So a crash at any point leaves the branch at its old tip or the new one.
"""

from __future__ import annotations

import json
import os

from ..errors import NoOperationInProgressError, OperationInProgressError
from .repo import Repo

STATE_FILE = "TRACT_OP_STATE"

#: how to finish or undo each kind of operation
_COMMANDS = {
    "merge": "tract merge",
    "rebase": "tract rebase",
    "cherry-pick": "tract cherry-pick",
    "revert": "tract revert",
}


def _path(repo: Repo) -> str:
    return os.path.join(repo.path, STATE_FILE)


def load(repo: Repo) -> dict | None:
    path = _path(repo)
    if not os.path.exists(path):  # (every commit asks: a stat is cheaper than a failed open)
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None


def save(repo: Repo, state: dict) -> None:
    path = _path(repo)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def clear(repo: Repo) -> None:
    try:
        os.unlink(_path(repo))
    except FileNotFoundError:
        pass


def require_none(repo: Repo) -> None:
    """Refuse to start an operation while another one is stopped."""
    st = load(repo)
    if st is not None:
        op = st.get("op", "merge")
        cmd = _COMMANDS.get(op, "tract merge")
        raise OperationInProgressError(
            f"a {op} is in progress",
            hints=(f"finish it with '{cmd} --continue' (after 'tract resolve') "
                   f"or undo it with '{cmd} --abort'",),
        )


def require_none_on(repo: Repo, branch: str | None) -> None:
    """Refuse a write that would move ``branch`` (``None``: a detached
    HEAD) while an operation stopped on it waits for ``--continue`` or
    ``--abort``: moving it would make that operation's result wrong."""
    st = load(repo)
    if st is not None and st.get("branch") == branch:
        require_none(repo)


def require(repo: Repo, op: str) -> dict:
    st = load(repo)
    if st is None or st.get("op") != op:
        what = f"a {st['op']} is in progress, not a {op}" if st else f"there is no {op} in progress"
        raise NoOperationInProgressError(what)
    return st


def unresolved(state: dict) -> list[dict]:
    return [c for c in state.get("conflicts", []) if c.get("resolution") is None]


def describe(repo: Repo) -> str | None:
    """For ``tract status``: one paragraph naming the operation, its
    conflicts and how to go on."""
    st = load(repo)
    if st is None:
        return None
    op = st.get("op", "merge")
    cmd = _COMMANDS.get(op, "tract merge")
    what = st.get("what", "")
    conflicts = st.get("conflicts", [])
    left = unresolved(st)
    lines = [f"You are in the middle of a {op}{(' ' + what) if what else ''}."]
    if left:
        lines.append(f"Unresolved conflicts ({len(left)} of {len(conflicts)}):")
        for c in left:
            lines.append(f"  {c['kind']}: entry {c['id']} ({_role(c)})")
        lines.append(f"  (use 'tract resolve ENTRY --ours|--theirs|--content TEXT', "
                     f"then '{cmd} --continue'; '{cmd} --abort' to give up)")
    else:
        lines.append(f"All conflicts resolved: run '{cmd} --continue' "
                     f"(or '{cmd} --abort' to give up).")
    return "\n".join(lines)


def _role(c: dict) -> str:
    for side in ("ours", "theirs", "base"):
        v = c.get(side)
        if v:
            return v[0].rsplit("-", 1)[1]
    return "?"
