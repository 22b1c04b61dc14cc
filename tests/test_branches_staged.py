"""Rebase, cherry-pick and revert write their objects as one pack
(``store.staging``): the same commits, trees, notes and reflog as writing
loose objects, no loose object at all, and nothing visible before the
branch moves."""

import contextlib
import os
import shutil

import pytest

from tract_git import Tract
from tract_git.model import Entry
from tract_git.ops import sequencer, threeway
from tract_git.store.repo import Store


def loose_objects(store):
    d = os.path.join(store, "objects")
    return sorted(f"{s}{f}" for s in os.listdir(d) if len(s) == 2 for f in os.listdir(os.path.join(d, s)))


def packs(store):
    return sorted(os.listdir(os.path.join(store, "objects", "pack")))


def outcome(git, store, branch):
    """Everything a replay leaves: the branch's history (commit and tree
    ids, so messages, authors and snapshots too), every note, the reflog."""
    return {
        "log": git(store, "log", "--format=%H %T %P", branch),
        "notes": git(store, "log", "-p", "--format=%H %T", "refs/notes/tract"),
        "note_list": git(store, "notes", "--ref", "tract", "list"),
        "reflog": git(store, "reflog", "show", "--format=%H %gs", branch),
        "head": git(store, "symbolic-ref", "-q", "HEAD", check=False).stdout,
    }


@contextlib.contextmanager
def unstaged():
    """The loose-object path: staging off."""
    orig = Store.staged
    Store.staged = lambda self: contextlib.nullcontext()
    try:
        yield
    finally:
        Store.staged = orig


def both_ways(tmp_path, git, fsck, t, act, branch):
    """Run ``act(tract)`` on two copies of ``t``'s store, staged and not;
    returns the staged copy's path after checking both agree."""
    t.close()
    paths = {}
    for mode in ("loose", "staged"):
        p = str(tmp_path / mode)
        shutil.copytree(t.path, p)
        paths[mode] = p
    results = {}
    for mode, p in paths.items():
        before = loose_objects(p)
        with Tract.open(p) as tr, (unstaged() if mode == "loose" else contextlib.nullcontext()):
            act(tr)
        if mode == "staged":
            assert loose_objects(p) == before  # every new object went into a pack
        else:
            assert loose_objects(p) != before  # (the other path really wrote loose ones)
        fsck(p)
        results[mode] = outcome(git, p, branch)
    assert results["staged"] == results["loose"]
    return paths["staged"]


@pytest.fixture
def forked(t):
    t.system("You are terse.")
    t.user("q1")
    t.assistant("a1")
    t.branch("feat")
    return t


def test_rebase_same_objects_as_loose(forked, tmp_path, git, fsck):
    t = forked
    t.user("main q2")
    t.assistant("main a2")
    t.switch("feat")
    t.user("feat q2")
    t.pin(1)
    t.edit(-1, "feat q2 edited")
    t.reorder(-1, before=2)
    t.skip(2)
    for i in range(5):
        t.user(f"feat more {i}")
    p = both_ways(tmp_path, git, fsck, t, lambda tr: tr.rebase("main"), "refs/heads/feat")
    assert git(p, "reflog", "-1", "--format=%gs", "refs/heads/feat").startswith("rebase (finish): ")
    assert len(git(p, "rev-list", "main..feat").split()) == 10


def test_cherry_pick_and_revert_same_objects_as_loose(forked, tmp_path, git, fsck):
    t = forked
    t.switch("feat")
    t.user("f1")
    t.assistant("f2")
    t.edit(1, "q1 edited")
    t.switch("main")
    t.user("m1")

    def act(tr):
        tr.cherry_pick("feat~2", "feat~1", "feat")
        tr.revert("HEAD~1")

    both_ways(tmp_path, git, fsck, t, act, "refs/heads/main")


def test_conflict_then_continue_same_objects_as_loose(forked, tmp_path, git, fsck):
    t = forked
    t.edit(1, "main q1")
    t.switch("feat")
    t.user("feat q2")
    t.edit(1, "feat q1")
    t.user("feat q3")
    eid = t.entries()[1].id

    def act(tr):
        r = tr.rebase("main")
        assert r.status == "conflicts"
        # the state names the tip built so far: it is on disk
        with Tract.open(tr.path) as other:
            other.resolve(eid, theirs=True)
            assert other.rebase_continue().status == "done"

    both_ways(tmp_path, git, fsck, t, act, "refs/heads/feat")


def test_failure_mid_replay_writes_nothing(forked, refs_of, monkeypatch):
    t = forked
    t.user("main q2")
    t.switch("feat")
    for i in range(4):
        t.user(f"f{i}")
    before, loose, pk = refs_of(t.path), loose_objects(t.path), packs(t.path)
    calls = []
    real = threeway.apply

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("crash")
        return real(*a, **k)

    monkeypatch.setattr(threeway, "apply", failing)
    with pytest.raises(RuntimeError):
        t.rebase("main")
    assert refs_of(t.path) == before
    assert (loose_objects(t.path), packs(t.path)) == (loose, pk)


def test_failure_before_the_branch_moves(forked, refs_of, fsck, monkeypatch, git):
    t = forked
    t.user("main q2")
    t.switch("feat")
    t.user("f1")
    old = t.head

    def boom(*a, **k):
        raise RuntimeError("crash")

    monkeypatch.setattr(sequencer, "_move", boom)
    with pytest.raises(RuntimeError):
        t.rebase("main")
    monkeypatch.undo()
    # the branch is where it was; the new commits are unreferenced objects in a pack
    assert t.repo.store.read_ref("refs/heads/feat") == old
    fsck(t.path)
    r = t.rebase("main")
    assert r.status == "done" and git(t.path, "rev-list", "--count", "main..feat").strip() == "1"


def test_settings_time_zones_and_emptied_buckets_same_as_loose(forked, tmp_path, git, fsck, monkeypatch):
    # signatures with non-UTC offsets, a settings change replayed, entries
    # spanning buckets, and reverts that empty a bucket and the whole context
    monkeypatch.setenv("GIT_AUTHOR_DATE", "1700000000 -0230")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "1700000100 +0545")
    t = forked
    t.switch("feat")
    t.config("budget", "5000")
    t.repo.store.set_config("tract.x", "1")  # (store config: not part of a snapshot)
    t.append_many([Entry(role="user", content=f"bulk {i}") for i in range(300)])
    t.user("last")
    t.switch("main")
    t.user("m1")

    def act(tr):
        tr.switch("feat")
        r = tr.rebase("main")
        assert r.status == "done"
        tr.revert("HEAD", "HEAD~1")

    p = both_ways(tmp_path, git, fsck, t, act, "refs/heads/feat")
    assert '"budget": 5000' in git(p, "show", "feat:settings.json")


def test_revert_everything_same_as_loose(t, tmp_path, git, fsck):
    t.user("only")
    t.user("two")

    def act(tr):
        tr.revert("HEAD", "HEAD~1")

    p = both_ways(tmp_path, git, fsck, t, act, "refs/heads/main")
    assert git(p, "ls-tree", "main").strip() == ""  # the empty context
