"""Stale lock files: detect and remove the ``*.lock`` a dead writer left.

git and libgit2 update a ref by creating ``<ref>.lock`` (exclusive create),
writing the new value into it and renaming it over the ref.  A process
killed in between leaves the lock behind, and every later writer of that
ref fails until someone removes it.  git never removes such a lock itself;
tract does, under this rule (see docs/concurrency.md):

A lock file is *stale* when both hold:

1. it is older than ``TRACT_STALE_LOCK_AGE`` seconds (default 60): tract
   holds a ref lock for milliseconds, but git closes its lock file before
   it renames it and runs its ``reference-transaction`` hook in between,
   so only age tells a slow live git writer from a dead one;
2. no live process has it open.  On Linux every process whose ``/proc/<pid>/fd``
   we may read is checked (libgit2 keeps the lock open from creation to
   rename).  Where ``/proc`` is missing, or some process cannot be inspected,
   the lock must instead be older than ``TRACT_STALE_LOCK_MAX_AGE`` seconds
   (default 600): only a writer hung that long would lose its lock.

Removal is careful not to take a live writer's lock that appeared in the
meantime: the lock is renamed to a private name first and the renamed file
must be the very one judged stale (same inode, same mtime); otherwise it is
put back (``link``, which never overwrites) and left alone.
"""

from __future__ import annotations

import os
import time

LOCKABLE = ("HEAD", "packed-refs", "config")
#: seconds before a lock no process has open counts as stale (TRACT_STALE_LOCK_AGE)
STALE_AGE = 60.0


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _open_by_someone(path: str) -> bool | None:
    """True if a live process has ``path`` open, False if none has, None if
    that cannot be known here."""
    proc = "/proc"
    if not os.path.isdir(os.path.join(proc, "self", "fd")):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return False
    target = (st.st_dev, st.st_ino)
    unknown = False
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except PermissionError:
            unknown = True
            continue
        except OSError:
            continue  # the process ended
        for fd in fds:
            try:
                s = os.stat(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if (s.st_dev, s.st_ino) == target:
                return True
    return None if unknown else False


def is_stale(path: str, *, now: float | None = None) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    age = (now if now is not None else time.time()) - st.st_mtime
    if age < _float_env("TRACT_STALE_LOCK_AGE", STALE_AGE):
        return False
    held = _open_by_someone(path)
    if held is None:
        return age >= _float_env("TRACT_STALE_LOCK_MAX_AGE", 600.0)
    return not held


def remove_if_stale(path: str) -> bool:
    """Remove the lock at ``path`` if it is stale; True if removed."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not is_stale(path):
        return False
    aside = f"{path}.stale-{os.getpid()}-{time.monotonic_ns()}"
    try:
        os.rename(path, aside)
    except OSError:
        return False  # someone else recovered it (or it was just committed)
    try:
        st2 = os.stat(aside)
    except OSError:
        return False
    if (st2.st_ino, st2.st_mtime_ns) != (st.st_ino, st.st_mtime_ns):
        # a live writer's fresh lock replaced the stale one: give it back
        try:
            os.link(aside, path)
        except OSError:
            pass
        try:
            os.unlink(aside)
        except OSError:
            pass
        return False
    try:
        os.unlink(aside)
    except OSError:
        pass
    return True


def lock_paths(store_path: str, refs: list[str]) -> list[str]:
    """The lock files that can block an update of ``refs``."""
    out = []
    for r in list(refs) + ["packed-refs"]:
        out.append(os.path.join(store_path, *r.split("/")) + ".lock")
    return out


def recover(store_path: str, refs: list[str]) -> list[str]:
    """Remove stale locks blocking ``refs``; returns the paths removed."""
    return [p for p in lock_paths(store_path, refs) if os.path.exists(p) and remove_if_stale(p)]


def sweep(store_path: str) -> list[str]:
    """Remove every stale lock in the store (refs, packed-refs, HEAD,
    config); returns the paths removed."""
    found = [os.path.join(store_path, n + ".lock") for n in LOCKABLE]
    for root, _dirs, files in os.walk(os.path.join(store_path, "refs")):
        found += [os.path.join(root, f) for f in files if f.endswith(".lock")]
    for root, _dirs, files in os.walk(os.path.join(store_path, "logs")):
        found += [os.path.join(root, f) for f in files if f.endswith(".lock")]
    return [p for p in found if os.path.exists(p) and remove_if_stale(p)]
