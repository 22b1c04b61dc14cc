"""Sync through plain git remotes: bare repositories (path, file://) and a
git daemon on loopback.  The real git binary is the oracle."""

import json
import socket
import subprocess
import time

import pytest

from tract_git import Tract
from tract_git.errors import RemoteError, StoreExistsError
from tract_git.ops import sync


@pytest.fixture
def bare(tmp_path):
    p = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(p)], check=True)
    return str(p)


@pytest.fixture
def a(tmp_path, bare):
    with Tract.open(str(tmp_path / "a")) as t:
        t.system("You are terse.")
        t.user("hello")
        child = t.spawn("r", task="look")
        child.assistant("found it")
        sync.remote_add(t.repo, "origin", bare)
        yield t


def _refs(git, store, prefix="refs/"):
    return dict(line.split()[::-1] for line in
                git(store, "for-each-ref", "--format=%(objectname) %(refname)", prefix).splitlines())


def test_remote_add_list_remove(a, bare, git, cli):
    assert [r.to_json() for r in sync.remote_list(a.repo)] == [{"name": "origin", "url": bare}]
    specs = git(a.path, "config", "--get-all", "remote.origin.fetch").splitlines()
    assert specs == ["+refs/heads/*:refs/remotes/origin/*", "+refs/tract/*:refs/remotes/origin/tract/*",
                     "^refs/tract/agents/*/HEAD", "+refs/notes/*:refs/notes/remotes/origin/*"]
    with pytest.raises(RemoteError, match="remote origin already exists"):
        sync.remote_add(a.repo, "origin", bare)
    r = cli("remote", "add", "backup", "remote.git", store=a.path)
    assert (r.code, r.out, r.err) == (0, "", "")
    r = cli("remote", store=a.path)
    assert r.out == f"backup\t{bare}\norigin\t{bare}\n"
    r = cli("remote", "remove", "nope", store=a.path)
    assert (r.code, r.err) == (128, "fatal: no such remote 'nope'\nhint: tract remote add nope URL\n")
    assert cli("remote", "remove", "backup", store=a.path).code == 0
    assert cli("remote", "list", "--json", store=a.path).out.count('"name"') == 1
    r = cli("remote", "add", "bad name", "x", store=a.path)
    assert (r.code, r.err) == (129, "error: invalid remote name 'bad name'\n")


def test_push_then_plain_git_reads_remote(a, bare, git, fsck, cli):
    r = cli("push", store=a.path)
    assert r.code == 0, r.err
    assert r.out == ""
    assert r.err.splitlines()[0] == f"To {bare}"
    assert " * [new branch]       refs/heads/main -> refs/heads/main" in r.err
    local = _refs(git, a.path)
    remote = _refs(git, bare)
    assert set(remote) == {"refs/heads/main", "refs/notes/tract", "refs/tract/agents/r/base",
                           "refs/tract/agents/r/heads/main"}
    assert all(remote[k] == local[k] for k in remote)
    assert git(bare, "log", "--format=%s", "main").splitlines() == ["user: hello", "system: You are terse."]
    shown = git(bare, "log", "-1", "--notes=tract", "--format=%N", "main")
    assert json.loads(shown)["context_tokens"] == a.repo.note(a.head).context_tokens
    # every commit (agent's too) has its note on the remote
    noted = {ln.split()[1] for ln in git(bare, "notes", "--ref", "tract", "list").splitlines()}
    assert set(git(bare, "rev-list", "--branches", "--glob=refs/tract/*").split()) <= noted
    fsck(bare)
    r = cli("push", store=a.path)
    assert (r.code, r.err) == (0, "Everything up-to-date\n")


def test_clone_brings_branches_agents_notes(a, bare, tmp_path, git, fsck, cli):
    sync.push(a.repo)
    r = cli("clone", "remote.git", "b")
    assert (r.code, r.out) == (0, f"Cloned remote.git into {tmp_path / 'b'}/\n")
    b = Tract.open(str(tmp_path / "b"), create=False)
    assert b.head == a.head and b.branch == "main"
    assert [e.content for e in b.entries()] == [e.content for e in a.entries()]
    assert [(x.name, x.tip, x.tokens) for x in b.agents()] == [(x.name, x.tip, x.tokens) for x in a.agents()]
    assert b.agent("r").entries()[-1].content == "found it"
    assert git(b.path, "config", "tract.formatVersion").strip() == "1"
    assert git(b.path, "notes", "--ref", "tract", "list") == git(a.path, "notes", "--ref", "tract", "list")
    assert [r.name for r in sync.remote_list(b.repo)] == ["origin"]
    fsck(b.path)
    r = cli("clone", "remote.git", "b")
    assert (r.code, r.err) == (128, "fatal: destination path 'b' already exists and is not an empty directory\n")
    r = cli("clone", str(tmp_path / "missing.git"), "c")
    assert r.code == 128 and r.err.startswith("fatal: ") and len(r.err.splitlines()) == 1
    assert not (tmp_path / "c").exists()


def test_nonfastforward_push_rejected_then_pull(a, bare, tmp_path, git, cli, refs_of):
    sync.push(a.repo)
    b = Tract(sync.clone(bare, str(tmp_path / "b")))
    b.user("from b")
    sync.push(b.repo)
    a.user("from a")
    before = a.head
    r = cli("push", store=a.path)
    assert r.code == 1
    assert r.err == ("error: rejected main -> main (non-fast-forward)\n"
                     "hint: the remote has commits you do not have: run 'tract pull', then push again\n")
    assert git(bare, "rev-parse", "main").strip() == b.head
    assert a.head == before  # (the remote's notes were merged: that is kept)
    # the diverged pull merges; the push is then a fast-forward
    old = a.head
    r = cli("pull", store=a.path)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "Merge made by the 'ours-first' strategy."
    assert git(a.path, "rev-list", "--parents", "-1", "main").split() == [a.head, old, b.head]
    assert git(a.path, "log", "-1", "--format=%s", "main").strip() == "Merge origin/main into main"
    assert [e.content for e in a.entries()][-2:] == ["from a", "from b"]
    assert cli("push", store=a.path).code == 0
    assert git(bare, "rev-parse", "main").strip() == a.head
    # a fast-forward pull
    c = Tract(sync.clone(bare, str(tmp_path / "c")))
    sync.pull(b.repo)
    b.user("more from b")
    sync.push(b.repo)
    r = cli("pull", store=c.path)
    assert r.code == 0, r.err
    assert r.out.splitlines()[1] == "Fast-forward"
    assert c.head == b.head
    assert cli("pull", store=c.path).out == "Already up to date.\n"


def test_notes_from_two_machines_merge_without_loss(a, bare, tmp_path, git, fsck):
    sync.push(a.repo)
    b = Tract(sync.clone(bare, str(tmp_path / "b")))
    # both write new commits (and so notes) on their own branches
    b.repo.store.update_ref("refs/heads/side", b.head, None, "branch")
    b.checkout("side")
    b.user("on side")
    a.user("on main")
    sync.push(b.repo)  # remote notes: A's + B's side
    sync.push(a.repo)  # merges the remote's notes first: a fast-forward
    noted = {ln.split()[1] for ln in git(bare, "notes", "--ref", "tract", "list").splitlines()}
    assert set(git(bare, "rev-list", "--branches", "--glob=refs/tract/*")
               .split()) <= noted
    assert b.head in noted and a.head in noted
    sync.fetch(b.repo)
    assert a.head in {ln.split()[1] for ln in git(b.path, "notes", "--ref", "tract", "list").splitlines()}
    fsck(bare)
    fsck(b.path)


def test_agents_travel_and_fast_forward_on_pull(a, bare, tmp_path):
    sync.push(a.repo)
    b = Tract(sync.clone(bare, str(tmp_path / "b")))
    a.agent("r").assistant("more")
    a.spawn("s", inherit="none")
    sync.push(a.repo)
    res = sync.pull(b.repo)
    assert res.status == "up-to-date"
    assert res.agents_updated == ["refs/tract/agents/r/heads/main", "refs/tract/agents/s/base",
                                  "refs/tract/agents/s/heads/main"]
    assert b.agent("r").entries()[-1].content == "more"
    assert b.agent("s").branch == "main"


def test_file_url_and_errors(a, bare, cli, tmp_path):
    r = cli("push", "nope", store=a.path)
    assert (r.code, r.err) == (128, "fatal: no such remote 'nope'\nhint: tract remote add nope URL\n")
    assert cli("remote", "add", "f", "file://" + bare, store=a.path).code == 0
    assert cli("push", "f", store=a.path).code == 0
    r = cli("clone", "file://" + bare, "viafile")
    assert r.code == 0, r.err
    assert cli("log", "--oneline", store=str(tmp_path / "viafile")).out.count("\n") == 2
    with pytest.raises(StoreExistsError):
        sync.clone(bare, a.path)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def daemon(tmp_path):
    base = tmp_path / "served"
    base.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(base / "ctx.git")], check=True)
    port = _free_port()
    p = subprocess.Popen(["git", "daemon", "--listen=127.0.0.1", f"--port={port}", "--reuseaddr",
                          "--export-all", "--enable=receive-pack", "--informative-errors",
                          f"--base-path={base}", str(base)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.02)
    try:
        yield f"git://127.0.0.1:{port}/ctx.git", str(base / "ctx.git")
    finally:
        p.terminate()
        p.wait(timeout=5)


def test_git_daemon_push_clone(a, daemon, tmp_path, git, fsck):
    url, path = daemon
    sync.remote_add(a.repo, "d", url)
    res = sync.push(a.repo, "d")
    assert {r.dst for r in res.refs} >= {"refs/heads/main", "refs/notes/tract"}
    assert git(path, "rev-parse", "main").strip() == a.head
    b = Tract(sync.clone(url, str(tmp_path / "b")))
    assert b.head == a.head and [x.name for x in b.agents()] == ["r"]
    fsck(path)
