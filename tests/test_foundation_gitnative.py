"""Acceptance: tract and plain git share one store.  Refs moved and commits
made by plain git are respected; concurrent writers lose nothing; a killed
writer leaves a valid store; `git tract` works."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)


def contents(t, rev=None):
    return [m["content"] for m in t.compile(rev).to_openai()]


@pytest.fixture
def four(t):
    for x in ("one", "two", "three", "four"):
        t.user(x)
    return t, [c.commit for c in t.log()]


def test_branch_moved_by_git_branch_f(four, git, cli, fsck):
    t, c = four
    git(t.path, "branch", "-f", "main", c[2])
    assert t.head == c[2]
    assert contents(t) == ["one", "two"]
    r = cli("status", store=t.path)
    assert r.out.splitlines()[:2] == ["On branch main", "2 entries, 2 tokens"]
    r = t.user("after git")
    assert r.parent == c[2]
    assert git(t.path, "rev-parse", "main~1").strip() == c[2]
    fsck(t.path)


def test_update_ref_and_branch_created_by_git(four, git, cli, fsck):
    t, c = four
    git(t.path, "update-ref", "refs/heads/main", c[1], c[0])  # git's own compare-and-swap
    assert contents(t) == ["one", "two", "three"]
    git(t.path, "branch", "side", c[3])
    r = cli("checkout", "side", store=t.path)
    assert (r.code, r.out) == (0, "Switched to branch 'side'\n")
    t.user("on side")
    assert git(t.path, "rev-parse", "side~1").strip() == c[3]
    assert git(t.path, "rev-parse", "main").strip() == c[1]
    assert contents(t) == ["one", "on side"]
    assert json.loads(cli("log", "--json", "main", "-n", "1", store=t.path).out)[0]["commit"] == c[1]
    fsck(t.path)


def test_soft_reset_with_update_ref_then_commit(four, git):
    t, c = four
    git(t.path, "update-ref", "-m", "reset: moving to HEAD~2", "HEAD", c[2])
    assert t.head == c[2]
    # tract's reflog and undo see git's update
    assert t.reflog()[0].message == "reset: moving to HEAD~2"
    assert t.undo().new == c[0]


def test_packed_refs_after_git_gc(four, git, fsck):
    t, c = four
    git(t.path, "gc", "-q", "--prune=now")
    assert not os.path.exists(os.path.join(t.path, "refs", "heads", "main"))  # packed
    from tract_git import Tract

    with Tract.open(t.path) as t2:
        assert contents(t2) == ["one", "two", "three", "four"]
        r = t2.user("five")
        assert r.parent == c[0]
        t2.pin(0)
        t2.reset("HEAD~1")
        assert t2.head == r.commit
    assert git(t.path, "rev-list", "--count", "main").strip() == "5"
    assert len(git(t.path, "notes", "--ref", "tract", "list").split()) == 2 * 6
    fsck(t.path)


def test_plain_git_commit_without_trailers_or_note(four, git, cli, fsck):
    t, c = four
    plain = git(t.path, "commit-tree", "-p", "HEAD", "-m", "made by plain git", "HEAD~2^{tree}").strip()
    git(t.path, "update-ref", "refs/heads/main", plain)
    r = cli("log", "--oneline", "-n", "2", store=t.path)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == f"{plain[:7]} (HEAD -> main) external      -2        2  made by plain git"
    r = cli("status", store=t.path)
    assert r.out.splitlines()[1] == "2 entries, 2 tokens"
    assert contents(t) == ["one", "two"]
    r = cli("diff", store=t.path)
    assert r.code == 0 and r.out.count("removed") == 2
    r = cli("show", store=t.path)
    assert r.code == 0 and "made by plain git" in r.out
    # tract builds on it, and its note is computed then
    r = t.user("three again")
    assert (r.parent, r.note.context_tokens, r.note.entries) == (plain, 4, 3)
    assert t.undo().new == plain
    fsck(t.path)


def test_plain_git_commit_with_foreign_tree(four, git, cli, fsck):
    t, c = four
    blob = git(t.path, "hash-object", "-w", "--stdin", input="not a message\n").strip()
    readme = git(t.path, "mktree", input=f"100644 blob {blob}\tREADME\n").strip()
    odd_msg = git(t.path, "mktree", input=f"100644 blob {blob}\tstray\n").strip()
    bucket = git(t.path, "mktree", input=f"100644 blob {blob}\tnodashes\n").strip()
    msg = git(t.path, "mktree", input=f"100644 blob {blob}\tstray\n040000 tree {bucket}\tzz\n").strip()
    for tree in (readme, git(t.path, "mktree", input=f"040000 tree {odd_msg}\tmsg\n").strip(),
                 git(t.path, "mktree", input=f"040000 tree {msg}\tmsg\n").strip()):
        commit = git(t.path, "commit-tree", "-p", "HEAD", "-m", "foreign tree", tree).strip()
        git(t.path, "update-ref", "refs/heads/main", commit)
        for cmd in (("log", "-n", "1", "--oneline"), ("status",), ("compile",), ("diff",), ("show",)):
            r = cli(*cmd, store=t.path)
            assert r.code == 0, (cmd, r.err)
            assert r.err == ""
        assert contents(t) == []
        r = t.user("fresh start")
        assert contents(t) == ["fresh start"] and r.note.entries == 1
        fsck(t.path)


def test_notes_deleted_by_git_are_recomputed(four, git, cli):
    t, c = four
    git(t.path, "update-ref", "-d", "refs/notes/tract")
    r = cli("log", "--json", store=t.path)
    got = [(e["tokens_added"], e["context_tokens"], e["entries"]) for e in json.loads(r.out)]
    assert got == [(1, 4, 4), (1, 3, 3), (1, 2, 2), (1, 1, 1)]
    assert cli("status", store=t.path).out.splitlines()[1] == "4 entries, 4 tokens"
    t.user("five")
    assert json.loads(git(t.path, "notes", "--ref", "tract", "show", "HEAD"))["context_tokens"] == 5


def test_git_tract_subcommand(cli, tmp_path):
    assert cli("init", "-q").code == 0
    assert cli("user", "via git").code == 0
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["TRACT_DIR"] = str(tmp_path / "store")
    p = subprocess.run(["git", "tract", "log", "--oneline"], capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.endswith("append       +2        2  user: via git\n")
    p = subprocess.run(["git", "tract", "frob"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert (p.returncode, p.stderr) == (129, "error: no such command 'frob' (see 'git tract -h')\n")


# ------------------------------------------------------------ concurrency
WRITER = textwrap.dedent("""
    import sys
    from tract_git import Tract
    t = Tract.open(sys.argv[1], create=False)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for i in range(int(sys.argv[3])):
        t.user(f"writer {sys.argv[2]} message {i}")
""")


def test_concurrent_writers_lose_nothing(t, git, fsck, tmp_path):
    # the branch is unborn: the writers also race to create it
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    writers, per = 3, 10
    env = dict(os.environ, TRACT_LOCK_TIMEOUT="10")
    procs = [subprocess.Popen([sys.executable, str(script), t.path, str(w), str(per)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for w in range(writers)]
    for p in procs:
        assert p.stdout.readline() == "ready\n"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    total = writers * per
    assert git(t.path, "rev-list", "--count", "main").strip() == str(total)
    # linear: no commit has two parents
    assert git(t.path, "rev-list", "--min-parents=2", "main").strip() == ""
    commits = set(git(t.path, "rev-list", "main").split())
    noted = set(git(t.path, "notes", "--ref", "tract", "list").split()[1::2])
    assert commits <= noted
    got = [m["content"] for m in t.compile().to_openai()]
    expect = [f"writer {w} message {i}" for w in range(writers) for i in range(per)]
    assert sorted(got) == sorted(expect)
    for w in range(writers):  # each writer's messages in its own order
        mine = [m for m in got if m.startswith(f"writer {w} ")]
        assert mine == [f"writer {w} message {i}" for i in range(per)]
    # every note agrees with the snapshot it describes
    for c in git(t.path, "rev-list", "main").split()[:10]:
        note = json.loads(git(t.path, "notes", "--ref", "tract", "show", c))
        assert note["entries"] == len(git(t.path, "ls-tree", "-r", "--name-only", c).split())
    fsck(t.path)


KILLED = textwrap.dedent("""
    import sys
    from tract_git import Tract
    t = Tract.open(sys.argv[1], create=False)
    t.user("warm")  # tiktoken loaded, the loop hot: the kill lands mid-work
    print("ready", flush=True)
    i = 0
    while True:
        t.user(f"message {i} " + "words " * (i % 50))
        if i % 7 == 0:
            t.pin(-1)
        i += 1
""")


def test_sigkill_leaves_a_valid_store(t, git, fsck, tmp_path):
    t.user("before")
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    rnd = random.Random(1234)
    for round_ in range(3):
        p = subprocess.Popen([sys.executable, str(script), t.path], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline() == "ready\n"
        time.sleep(rnd.uniform(0.01, 0.25))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        fsck(t.path)
        tip = git(t.path, "rev-parse", "--verify", "main").strip()
        assert git(t.path, "cat-file", "-t", tip).strip() == "commit"
        # a lock file left behind names itself; otherwise writing goes on
        locks = [os.path.join(d, f) for d, _, fs in os.walk(t.path) for f in fs if f.endswith(".lock")]
        for lock in locks:
            os.unlink(lock)  # what the hint tells a user to do
        from tract_git import Tract

        with Tract.open(t.path) as t2:
            st = t2.status()
            assert st.commit == tip
            msgs = t2.compile().messages
            assert len(msgs) == st.entries
            # the note (written, or recomputed if the kill came before it)
            # agrees with the snapshot
            assert st.tokens == sum(t2.repo.counter.count_entry(e) for e in msgs)
            r = t2.user(f"after kill {round_}")
            assert r.parent == tip
        fsck(t.path)


def _land_first(t, monkeypatch, action):
    """Make another writer land ``action(other_tract)`` right after this
    process ran its pre-commit hook, i.e. after it read the tip."""
    from tract_git import Tract

    real = t.repo.run_hook
    done = []

    def run_hook(name, *a, **kw):
        out = real(name, *a, **kw)
        if name == "pre-commit" and not done:
            done.append(1)
            with Tract.open(t.path) as other:
                action(other)
        return out

    monkeypatch.setattr(t.repo, "run_hook", run_hook)


def test_racing_pin_does_not_undo_an_edit(t, monkeypatch):
    eid = t.user("old words").entry_ids[0]
    _land_first(t, monkeypatch, lambda o: o.edit(eid, "new words"))
    t.pin(eid)
    e = t.entries()[0]
    assert (e.content, e.priority) == ("new words", "pinned")
    assert t.status().tokens == 2
    assert [c.op for c in t.log()] == ["pin", "edit", "append"]


def test_racing_edit_keeps_a_pin(t, monkeypatch):
    eid = t.user("old words").entry_ids[0]
    _land_first(t, monkeypatch, lambda o: o.pin(eid))
    t.edit(eid, "edited words here")
    e = t.entries()[0]
    assert (e.content, e.priority) == ("edited words here", "pinned")
    assert t.status().tokens == 3


def test_racing_same_pin_is_nothing_to_do(t, monkeypatch, refs_of):
    from tract_git.errors import NothingToDoError

    eid = t.user("words").entry_ids[0]
    _land_first(t, monkeypatch, lambda o: o.pin(eid))
    with pytest.raises(NothingToDoError, match="is already pinned"):
        t.pin(eid)
    assert [c.op for c in t.log()] == ["pin", "append"]
