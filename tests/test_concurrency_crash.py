"""SIGKILL at random points of commit, spawn, collapse, merge and compress: every ref keeps
its old or its new value, fsck stays clean, and the next writer (a fresh
``Tract.open``) carries on from the last committed state."""

import os
import random
import signal
import subprocess
import sys
import time

import tract_git
from tract_git import Tract

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tract_git.__file__)))

WORKER = r"""
import sys
from tract_git import Tract
t = Tract.open(sys.argv[1], create=False)
seed = int(sys.argv[2])
sys.stdout.write("ready\n"); sys.stdout.flush()
i = 0
while True:
    i += 1
    name = f"k{seed}-{i}"
    child = t.spawn(name, inherit="full" if i % 2 else "none", task=f"task {i}")
    child.assistant(f"result {i}")
    t.user(f"note {seed}.{i}")
    t.edit(-1, f"note {seed}.{i} (edited)")
    t.collapse(child, summary=f"did {i}")
    side = f"side{seed}-{i}"
    t.switch(side, create=True)
    t.user(f"on {side}")
    t.switch("main")
    t.user(f"main while {side}")
    t.merge(side)
    if i % 2 == 0:
        t.compress(summary=f"summary {seed}.{i}", keep_last=2)
"""


def _refs(git, path):
    out = git(path, "for-each-ref", "--format=%(objectname) %(refname)")
    return dict(line.split()[::-1] for line in out.splitlines())


def test_sigkill_during_writes_leaves_refs_whole(tmp_path, git, fsck):
    path = str(tmp_path / "store")
    t = Tract.init(path, encoding="approx-bytes/4")
    t.system("lead")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rng = random.Random(6)
    history: dict[str, set] = {}
    for round_ in range(6):
        before = _refs(git, path)
        p = subprocess.Popen([sys.executable, "-c", WORKER, path, str(round_)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline() == "ready\n", p.stderr.read()
        time.sleep(rng.uniform(0.02, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
        after = _refs(git, path)
        for ref, new in after.items():
            # each ref resolves to a whole commit, and main only moved forward
            assert git(path, "cat-file", "-t", new).strip() == "commit"
            if ref in before and ref.startswith("refs/heads/"):
                assert git(path, "merge-base", "--is-ancestor", before[ref], new, check=False).returncode == 0
            history.setdefault(ref, set()).add(new)
        fsck(path)
    # a fresh open resumes from the last committed state; stale locks (if the
    # kill hit one) are recovered once no live process holds them
    os.environ["TRACT_STALE_LOCK_AGE"] = "0"
    try:
        t2 = Tract.open(path, create=False)
        if t2.branch != "main":  # killed between a switch and the switch back
            t2.switch("main")
        tip = git(path, "rev-parse", "main").strip()
        assert t2.head == tip
        t2.user("after the crashes")
        assert t2.entries()[-1].content == "after the crashes"
        assert git(path, "rev-parse", "main~1").strip() == tip
        for a in t2.agents():  # every agent is readable; active ones can still be collapsed
            assert a.state in ("active", "collapsed")
            if a.state == "active":
                t2.collapse(a.name, summary="recovered")
        assert t2.repo.note(t2.head).entries == len(t2.entries())
    finally:
        del os.environ["TRACT_STALE_LOCK_AGE"]
    fsck(path)
