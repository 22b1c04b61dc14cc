"""Many processes writing one store at once: nothing lost, history linear,
fsck clean; lost races retried (bounded); stale locks recovered, live ones
respected."""

import os
import subprocess
import sys
import time

import pytest

import tract_git
from tract_git import Tract
from tract_git.errors import RefUpdateError
from tract_git.store import locks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tract_git.__file__)))

WRITER = r"""
import sys
from tract_git import Tract
path, agent, n, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t = Tract.open(path, create=False)
if agent != "-":
    t = t.agent(agent)
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()  # start together
for i in range(n):
    t.user(f"{tag} {i}")
"""


def _env(**extra):
    e = dict(os.environ)
    e["PYTHONPATH"] = ROOT + os.pathsep + e.get("PYTHONPATH", "")
    e["TRACT_LOCK_TIMEOUT"] = "10"
    e.update(extra)
    return e


def test_eight_writers_same_branch_and_agents(tmp_path, git, fsck):
    # the approximate token count: no tokenizer to load in each of 8 processes
    t = Tract.init(str(tmp_path / "store"), encoding="approx-bytes/4")
    t.system("start")
    t.spawn("a1", inherit="none")
    t.spawn("a2", inherit="none")
    n = 10
    plan = [("-", f"main{i}") for i in range(4)] + [("a1", "a1x"), ("a1", "a1y"), ("a2", "a2x"), ("a2", "a2y")]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, t.path, agent, str(n), tag],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=_env(), text=True) for agent, tag in plan]
    for p in procs:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    fresh = Tract.open(t.path, create=False)
    contents = [e.content for e in fresh.entries()]
    assert len(contents) == 1 + 4 * n
    for i in range(4):
        mine = [c for c in contents if c.startswith(f"main{i} ")]
        assert mine == [f"main{i} {k}" for k in range(n)]  # each writer's order kept
    for agent, tags in (("a1", ("a1x", "a1y")), ("a2", ("a2x", "a2y"))):
        got = [e.content for e in fresh.agent(agent).entries()]
        assert len(got) == 2 * n and sorted(got) == sorted(f"{tg} {k}" for tg in tags for k in range(n))
    # linear history per branch, and a note on every commit
    for ref in ("main", "refs/tract/agents/a1/heads/main", "refs/tract/agents/a2/heads/main"):
        assert git(t.path, "rev-list", "--merges", ref) == ""
    assert git(t.path, "rev-list", "--count", "main").strip() == str(1 + 4 * n)
    noted = {ln.split()[1] for ln in git(t.path, "notes", "--ref", "tract", "list").splitlines()}
    assert set(git(t.path, "rev-list", "--branches", "--glob=refs/tract/agents/*").split()) <= noted
    assert fresh.repo.note(fresh.head).entries == 1 + 4 * n
    fsck(t.path)


def test_lost_race_retries_then_fails_clearly(t, monkeypatch, refs_of):
    t.user("one")
    before = refs_of(t.path)
    from tract_git.ops import repo as ops_repo
    from tract_git.store import repo as store_repo

    calls = []

    def always_lose(self, name, new, old, message):
        calls.append(name)
        raise store_repo.RefRaceError(f"ref {name} moved")

    monkeypatch.setattr(store_repo.Store, "update_ref", always_lose)
    monkeypatch.setattr(ops_repo.time, "sleep", lambda s: None)
    with pytest.raises(RefUpdateError) as ei:
        t.user("two")
    assert str(ei.value) == "could not update HEAD: lost the race to other writers 100 times"
    assert ei.value.exit_code == 128
    assert len(calls) == 100
    monkeypatch.undo()
    assert refs_of(t.path) == before


def test_lost_race_once_is_transparent(t, monkeypatch):
    t.user("one")
    from tract_git.store import repo as store_repo

    real = store_repo.Store.update_ref
    state = {"n": 0}

    def lose_first(self, name, new, old, message):
        if name == "refs/heads/main" and state["n"] == 0:
            state["n"] += 1
            t2 = Tract.open(t.path, create=False)  # another writer lands first
            monkeypatch.setattr(store_repo.Store, "update_ref", real)
            t2.user("other")
            monkeypatch.setattr(store_repo.Store, "update_ref", lose_first)
            raise store_repo.RefRaceError("moved")
        return real(self, name, new, old, message)

    monkeypatch.setattr(store_repo.Store, "update_ref", lose_first)
    t.user("two")
    monkeypatch.undo()
    assert [e.content for e in Tract.open(t.path).entries()] == ["one", "other", "two"]


def _old_lock(path, age=120):
    with open(path, "w") as f:
        f.write("0" * 40 + "\n")
    past = time.time() - age
    os.utime(path, (past, past))


def test_stale_lock_of_dead_writer_is_recovered(t, fsck):
    t.user("one")
    lock = os.path.join(t.path, "refs", "heads", "main.lock")
    _old_lock(lock)
    notes_lock = os.path.join(t.path, "refs", "notes", "tract.lock")
    _old_lock(notes_lock)
    t.user("two")
    assert not os.path.exists(lock) and not os.path.exists(notes_lock)
    assert [e.content for e in t.entries()] == ["one", "two"]
    assert t.repo.store.read_note(t.head) is not None
    fsck(t.path)


def test_live_or_fresh_lock_is_never_broken(t, refs_of):
    t.user("one")
    before = refs_of(t.path)
    lock = os.path.join(t.path, "refs", "heads", "main.lock")
    _old_lock(lock)
    with open(lock) as held:  # a live process (this one) has it open
        assert locks.is_stale(lock) is False
        with pytest.raises(RefUpdateError) as ei:
            t.user("two")
        assert ei.value.exit_code == 128
        assert str(ei.value) == ("cannot lock ref refs/heads/main: another tract or git process "
                                 "holds the lock")
        assert os.path.exists(lock)
        assert held.read().startswith("0000")
    os.unlink(lock)
    with open(lock, "w") as f:  # fresh: younger than TRACT_STALE_LOCK_AGE
        f.write("x")
    assert locks.is_stale(lock) is False
    with pytest.raises(RefUpdateError):
        t.user("two")
    assert os.path.exists(lock)
    os.unlink(lock)
    assert refs_of(t.path) == before


def _objects(store):
    out = []
    for d, _, fs in os.walk(os.path.join(store, "objects")):
        out += [os.path.join(d, f) for f in fs]
    return sorted(out)


def test_lock_nobody_has_open_is_kept_for_a_minute(t, cli, refs_of, git):
    """git closes its lock file before renaming it (its
    reference-transaction hook runs in between): a lock no process has
    open but only seconds old is a live writer's, not a dead one's.  The
    refused commit writes no objects either (they are written under the
    lock)."""
    t.user("one")
    lock = os.path.join(t.path, "refs", "heads", "main.lock")
    _old_lock(lock, age=5)
    assert locks.is_stale(lock) is False
    before = (refs_of(t.path), _objects(t.path))
    r = cli("user", "two", store=t.path, env={"TRACT_LOCK_TIMEOUT": "0.2"})
    assert (r.code, r.out) == (128, "")
    assert r.err == ("fatal: cannot lock ref refs/heads/main: another tract or git process holds the lock\n"
                     "hint: if no other process is running, remove the stale lock file\n")
    assert os.path.exists(lock)
    assert (refs_of(t.path), _objects(t.path)) == before
    assert git(t.path, "fsck", "--strict").strip() == ""  # no dangling commit either
    past = time.time() - 61  # past TRACT_STALE_LOCK_AGE (60 s): a dead writer's, removed
    os.utime(lock, (past, past))
    r = cli("user", "two", store=t.path)
    assert r.code == 0, r.err
    assert not os.path.exists(lock)


def test_held_lock_on_a_detached_head_leaves_no_objects(t, cli, refs_of):
    t.user("one")
    t.user("two")
    assert cli("checkout", "HEAD~1", store=t.path).code == 0
    lock = os.path.join(t.path, "HEAD.lock")
    _old_lock(lock, age=5)
    before = (refs_of(t.path), _objects(t.path), open(os.path.join(t.path, "HEAD")).read())
    r = cli("user", "three", store=t.path, env={"TRACT_LOCK_TIMEOUT": "0.2"})
    assert (r.code, r.out) == (128, "")
    assert r.err.startswith("fatal: cannot lock ref HEAD: "), r.err
    assert (refs_of(t.path), _objects(t.path), open(os.path.join(t.path, "HEAD")).read()) == before
    os.unlink(lock)


def test_sweep_removes_only_stale_locks(t):
    t.user("one")
    stale = os.path.join(t.path, "packed-refs.lock")
    fresh = os.path.join(t.path, "refs", "heads", "x.lock")
    _old_lock(stale)
    with open(fresh, "w") as f:
        f.write("x")
    assert locks.sweep(t.path) == [stale]
    assert os.path.exists(fresh)


def test_stale_lock_on_detached_head_and_agent_refs(t):
    t.user("one")
    t.checkout(t.head, detach=True)
    _old_lock(os.path.join(t.path, "HEAD.lock"))
    t.user("two")
    assert not os.path.exists(os.path.join(t.path, "HEAD.lock"))
    t.checkout("main")
    # a spawn's own refs (branch, base) recover too
    os.makedirs(os.path.join(t.path, "refs", "tract", "agents", "r"), exist_ok=True)
    _old_lock(os.path.join(t.path, "refs", "tract", "agents", "r", "base.lock"))
    child = t.spawn("r")
    assert t.repo.store.read_ref("refs/tract/agents/r/base") == child.head
