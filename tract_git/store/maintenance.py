"""Store maintenance with the real ``git`` binary: expire reflogs, prune,
pack.

Why git and not libgit2: libgit2 has no garbage collector (no prune, no
repack of unreachable objects, no reflog expiry by date), and git's own
``gc`` is the reference implementation of exactly the reachability rules a
tract store needs: every ref (branches, ``refs/notes/tract``,
``refs/tract/*``) and every reflog entry kept is a root; unreachable
objects younger than the prune date go to a *cruft pack* (git >= 2.37) so
they cost little and are still recoverable.  A tract store is a plain bare
git repository, so this is the store's own tool; running it here keeps
every other layer free of subprocesses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass

from ..errors import TractError


class GitMissingError(TractError):
    """The git binary is needed and cannot be run."""


@dataclass
class StoreSize:
    bytes: int
    loose_objects: int
    packs: int

    def to_json(self) -> dict:
        return {"bytes": self.bytes, "loose_objects": self.loose_objects, "packs": self.packs}


def store_size(path: str) -> StoreSize:
    """Bytes of the object database (loose objects and packs)."""
    total = loose = packs = 0
    objects = os.path.join(path, "objects")
    for root, dirs, files in os.walk(objects):
        rel = os.path.relpath(root, objects)
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                continue
            if len(rel) == 2 and rel != "..":
                loose += 1
            elif rel == "pack" and f.endswith(".pack"):
                packs += 1
    return StoreSize(total, loose, packs)


def git_binary() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise GitMissingError("tract gc needs the git binary, and none is on PATH")
    return exe


def run_git(path: str, *args: str, stderr_to_terminal: bool = False) -> str:
    """Run ``git --git-dir <path> <args>``; a failure is a TractError with
    git's last line of stderr."""
    cmd = [git_binary(), "--git-dir", path, *args]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=None if stderr_to_terminal else subprocess.PIPE, text=True)
    except OSError as e:
        raise GitMissingError(f"cannot run git: {e.strerror}") from None
    if p.returncode != 0:
        lines = (p.stderr or "").strip().splitlines()
        raise TractError(f"git {args[0]} failed: {lines[-1] if lines else 'exit ' + str(p.returncode)}")
    return p.stdout


def pack_loose(path: str) -> None:
    """Pack the loose reachable objects into one more pack (incremental
    ``git repack -d``: the existing packs stay as they are)."""
    run_git(path, "repack", "-d", "-q")


def git_version(path: str) -> tuple[int, ...]:
    out = run_git(path, "version")  # "git version 2.39.5"
    nums = []
    for part in out.split()[-1].split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        nums.append(int(digits or 0))
    return tuple(nums)


def expire_spec(keep_days: float) -> str:
    """A git approxidate for "``keep_days`` days ago" ("now" for 0;
    "never" for a retention reaching back before 1970, which git would
    read as a date in the future: everything pruned at once)."""
    if keep_days <= 0:
        return "now"
    seconds = keep_days * 86400
    if not seconds < time.time() - 86400:  # (also NaN and infinity)
        return "never"
    return f"{int(round(seconds))}.seconds.ago"


#: reflog entries of commits still reachable are history, not garbage: kept
#: at least as long as git keeps them by default, so undo keeps working
REACHABLE_REFLOG_DAYS = 90.0


def missing_gc_config(path: str) -> dict[str, str]:
    """The packing settings new stores get at init (``repo.GC_CONFIG``)
    that this store's config does not set: ``tract gc`` passes them with
    ``-c``, so stores made before them pack as small, and a value the user
    set wins."""
    from .repo import GC_CONFIG

    p = subprocess.run([git_binary(), "--git-dir", path, "config", "--name-only", "--get-regexp",
                        "^(pack|repack|gc)\\."], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    have = {line.strip().lower() for line in p.stdout.splitlines()}
    return {k: v for k, v in GC_CONFIG.items() if k.lower() not in have and k != "gc.cruftPacks"}


def gc(path: str, keep_days: float, *, progress=None, git_progress: bool = False) -> None:
    """Expire reflog entries of unreachable commits older than
    ``keep_days`` (of reachable ones, older than ``max(keep_days, 90)``),
    then ``git gc`` with the same prune date and a cruft pack for
    unreachable objects still inside the retention.  ``progress(stage)`` is
    called before each step; ``git_progress`` lets git draw its own
    progress on the terminal."""
    when = expire_spec(keep_days)
    reach = expire_spec(max(keep_days, REACHABLE_REFLOG_DAYS))
    say = progress or (lambda stage: None)
    say("expiring reflog entries")
    run_git(path, "reflog", "expire", f"--expire={reach}", f"--expire-unreachable={when}", "--all")
    # the notes ref's reflog repeats the notes history: no undo needs it
    run_git(path, "reflog", "expire", "--expire=now", "--expire-unreachable=now", "refs/notes/tract")
    say("packing and pruning objects")
    packing = [a for k, v in missing_gc_config(path).items() for a in ("-c", f"{k}={v}")]
    args = ["-c", f"gc.reflogExpire={reach}", "-c", f"gc.reflogExpireUnreachable={when}",
            "-c", "gc.autoDetach=false", *packing, "gc", f"--prune={when}"]
    if git_version(path) >= (2, 37):
        args.append("--cruft")  # older gits keep recent unreachable objects loose instead
    if not git_progress:
        args.append("--quiet")
    run_git(path, *args, stderr_to_terminal=git_progress)
