"""Bulk writes through ``git fast-import``: many commits, one pack.

A loose-object write costs a file creation per object (a blob, three trees
and a commit per append), which bounds one-at-a-time appends.  For bulk
appends (``Tract.import_messages``, ``tract import``) the store hands the
whole chain of commits to ``git fast-import``, which writes every object
into a single pack and builds the snapshot trees itself.  This is the one
place the store runs the git binary; without one on ``PATH``
:func:`available` is False and callers fall back to ordinary appends.

fast-import moves no ref of ours: it writes to a private temporary ref
(``refs/tract/tmp/import-*``, deleted afterwards), and the caller moves
the branch with its usual compare-and-swap.  Commits that lose that race
are unreferenced objects in a pack, removed by the next ``git gc``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Iterable

from ..errors import TractError


@dataclass
class BulkCommit:
    """One commit of a chain: blobs added at ``paths`` (path -> blob
    bytes), a message, and identity lines (``Name <email> <time> <tz>``)."""

    files: dict
    message: str
    author: str
    committer: str


def available() -> bool:
    return shutil.which("git") is not None


def blob_id(data: bytes) -> str:
    """The git object id of a blob with ``data`` (computed, not written)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def ident(name: str, email: str, time: int, offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    o = abs(offset)
    return f"{name} <{email}> {time} {sign}{o // 60:02d}{o % 60:02d}"


def write_chain(git_dir: str, parent: str | None, commits: Iterable[BulkCommit],
                extra_blobs: Iterable[bytes] = ()) -> list[str]:
    """Write ``commits`` as a linear chain on top of ``parent`` (None: a
    root commit), then ``extra_blobs`` (e.g. notes; their ids are
    :func:`blob_id`), into one pack; returns the commit ids, oldest first.
    No ref of the store is moved.

    ``commits`` may be a generator: the stream is fed to fast-import as it
    is produced, so the caller's work (token counting) overlaps with
    fast-import's on a second core; ``extra_blobs`` is read only after the
    last commit."""
    tmp_ref = f"refs/tract/tmp/import-{os.getpid()}-{os.urandom(4).hex()}".encode()
    fd, marks_file = tempfile.mkstemp(prefix="tract-marks-")
    os.close(fd)
    env = dict(os.environ)
    env["GIT_DIR"] = git_dir
    # fast-import allocates and frees a delta buffer per object; glibc then
    # trims the heap on every free (200,000 brk calls for 10,000 commits,
    # two thirds of its run time).  A trim threshold keeps the heap.
    env.setdefault("MALLOC_TRIM_THRESHOLD_", str(256 << 20))
    env.setdefault("MALLOC_TOP_PAD_", str(64 << 20))
    errf = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        # --big-file-threshold=1: store blobs whole.  fast-import would
        # otherwise delta each message against the one before it (unrelated
        # text: little gain), and reading them back (compile) would walk
        # delta chains.  Trees are still deltified.  `git gc` repacks.
        ["git", "fast-import", "--quiet", "--done", "--big-file-threshold=1",
         f"--export-marks={marks_file}"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errf, env=env,
    )
    commit_marks: list[int] = []
    try:
        try:
            _feed(proc.stdin, tmp_ref, parent, commits, extra_blobs, commit_marks)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        rc = proc.wait()
        if rc != 0:
            errf.seek(0)
            err = errf.read().decode("utf-8", "replace").strip().splitlines()
            raise TractError("git fast-import failed: " + (err[0] if err else f"exit {rc}"))
        ids: dict[int, str] = {}
        with open(marks_file, encoding="ascii") as f:
            for line in f:
                m, _, oid = line.strip().partition(" ")
                ids[int(m[1:])] = oid
    finally:
        errf.close()
        os.unlink(marks_file)
        if commit_marks:
            subprocess.run(["git", "update-ref", "--no-deref", "-d", tmp_ref.decode()], env=env,
                           capture_output=True)
            _remove_empty_dirs(os.path.join(git_dir, "refs", "tract", "tmp"),
                               os.path.join(git_dir, "logs", "refs", "tract", "tmp"))
    return [ids[m] for m in commit_marks]


def _feed(pipe, tmp_ref: bytes, parent: str | None, commits, extra_blobs, commit_marks: list) -> None:
    parts: list[bytes] = []
    out = parts.append
    marks: dict[bytes, int] = {}
    next_mark = 1
    size = 0
    for c in commits:
        file_lines = []
        for path, data in c.files.items():
            m = marks.get(data)
            if m is None:
                m = marks[data] = next_mark
                next_mark += 1
                out(b"blob\nmark :%d\ndata %d\n%s\n" % (m, len(data), data))
                size += len(data)
            file_lines.append(b"M 100644 :%d %s\n" % (m, path.encode()))
        cm = next_mark
        next_mark += 1
        commit_marks.append(cm)
        msg = c.message.encode("utf-8")
        out(b"commit %s\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n%s\n" % (
            tmp_ref, cm, c.author.encode("utf-8"), c.committer.encode("utf-8"), len(msg), msg))
        if len(commit_marks) == 1 and parent:
            out(b"from %s\n" % parent.encode())
        parts.extend(file_lines)
        out(b"\n")
        size += len(msg) + 200
        if size > 256 << 10:
            pipe.write(b"".join(parts))
            parts.clear()
            size = 0
    for data in extra_blobs:
        out(b"blob\ndata %d\n%s\n" % (len(data), data))
    out(b"done\n")
    pipe.write(b"".join(parts))


def _remove_empty_dirs(*dirs: str) -> None:
    for d in dirs:
        try:
            os.rmdir(d)
            os.rmdir(os.path.dirname(d))  # refs/tract, if nothing else lives there
        except OSError:
            pass
