"""Stale and held lock files on HEAD, a sub-agent's HEAD and the config are
handled like those on branch refs: a dead writer's lock is removed at once,
a live one is waited on up to TRACT_LOCK_TIMEOUT, then a one-line fatal."""

from __future__ import annotations

import os
import time

import pytest

OLD = time.time() - 600


def _stale(path):
    open(path, "w").close()
    os.utime(path, (OLD, OLD))


@pytest.fixture
def store(t):
    t.user("hi")
    t.branch("b2")
    return t.path


def test_stale_head_lock_is_recovered_by_switch(store, cli, git, fsck):
    lock = os.path.join(store, "HEAD.lock")
    _stale(lock)
    r = cli("switch", "b2", store=store)
    assert (r.code, r.out, r.err) == (0, "Switched to branch 'b2'\n", "")
    assert not os.path.exists(lock)
    assert git(store, "symbolic-ref", "HEAD").strip() == "refs/heads/b2"
    _stale(lock)
    r = cli("checkout", "main", store=store)
    assert r.code == 0, r.err
    assert git(store, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    fsck(store)


def test_live_head_lock_waits_then_fails_with_store_unchanged(store, cli, refs_of):
    lock = os.path.join(store, "HEAD.lock")
    open(lock, "w").close()  # fresh: presumed live
    before = refs_of(store)
    t0 = time.monotonic()
    r = cli("switch", "b2", store=store)  # TRACT_LOCK_TIMEOUT is 0.2 s in tests
    assert time.monotonic() - t0 >= 0.2
    assert (r.code, r.out, r.err) == (
        128, "", "fatal: cannot lock HEAD: another tract or git process holds the lock\n"
                 "hint: if no other process is running, remove the stale lock file\n")
    assert refs_of(store) == before
    os.unlink(lock)


def test_head_lock_released_while_waiting(store, cli, git, monkeypatch):
    lock = os.path.join(store, "HEAD.lock")
    open(lock, "w").close()
    monkeypatch.setenv("TRACT_LOCK_TIMEOUT", "5")
    import threading

    threading.Timer(0.1, os.unlink, (lock,)).start()
    r = cli("switch", "b2", store=store)
    assert (r.code, r.err) == (0, "")
    assert git(store, "symbolic-ref", "HEAD").strip() == "refs/heads/b2"


def test_stale_config_lock_is_recovered(store, cli, git):
    lock = os.path.join(store, "config.lock")
    _stale(lock)
    r = cli("config", "chat.model", "m1", store=store)
    assert (r.code, r.err) == (0, "")
    assert not os.path.exists(lock)
    assert git(store, "config", "tract.chat.model").strip() == "m1"


def test_stale_agent_head_lock_is_recovered(t, git, fsck):
    t.user("hi")
    child = t.spawn("worker", task="do it")
    child.assistant("done")
    lock = os.path.join(t.path, "refs", "tract", "agents", "worker", "HEAD.lock")
    _stale(lock)
    child.switch("other", create=True)
    assert not os.path.exists(lock)
    assert git(t.path, "symbolic-ref", "refs/tract/agents/worker/HEAD").strip() \
        == "refs/tract/agents/worker/heads/other"
    fsck(t.path)


def test_stale_lock_on_branch_delete(store, cli, git):
    lock = os.path.join(store, "refs", "heads", "b2.lock")
    _stale(lock)
    r = cli("branch", "-d", "b2", store=store)
    assert r.code == 0, r.err
    assert git(store, "show-ref", "--verify", "-q", "refs/heads/b2", check=False).returncode == 1
