"""Edge cases of the pure-Python object database and refs, each judged by
the git binary: identities git would write, reflogs git would (not)
append to, refs git would refuse to create, packs deleted under a
long-lived process, delta chains deeper than Python's recursion limit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tract_git.errors import ConfigError, RefUpdateError
from tract_git.store import odb
from tract_git.store.repo import Store


def _git(path, *args, input=None, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(["git", "--git-dir", path, *args], input=input, capture_output=True, env=e)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def _state(path):
    """Everything a failed command must leave as it was: refs, objects,
    reflogs (names and contents)."""
    files = {}
    for root, _dirs, names in os.walk(path):
        for n in names:
            full = os.path.join(root, n)
            rel = os.path.relpath(full, path)
            if rel.startswith(("objects", "refs", "logs", "packed-refs", "HEAD")):
                with open(full, "rb") as f:
                    files[rel] = f.read()
    return files


# -------------------------------------------------------------- identities
NAMES = [" <Foo> Bar. ", "a<b>c", "x\ny", '"Q. Name"', "O'Neil", "\tTabbed\t", "Ünï Cödé"]


@pytest.mark.parametrize("name", NAMES)
def test_identity_written_as_git_writes_it(name, cli, git, store_path, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_NAME", name)
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", " <odd@example.com>. ")
    assert cli("init", "-q").code == 0
    r = cli("user", "hello")
    assert r.code == 0, r.err
    git(store_path, "fsck", "--strict")
    ours = git(store_path, "log", "-1", "--format=%an|%ae|%cn|%ce")
    # git's own commit with the same environment
    oracle = str(tmp_path / "oracle.git")
    subprocess.run(["git", "init", "-q", "--bare", oracle], check=True)
    tree = _git(oracle, "mktree", input=b"").stdout.decode().strip()
    c = _git(oracle, "commit-tree", tree, "-m", "m").stdout.decode().strip()
    assert ours == _git(oracle, "log", "-1", "--format=%an|%ae|%cn|%ce", c).stdout.decode()


@pytest.mark.parametrize("name,err", [
    ("...", "error: name consists only of disallowed characters: ...\n"),
    ("", "error: empty ident name (for <agent@example.com>) not allowed\n"),
])
def test_identity_git_refuses_is_refused_before_anything_is_written(name, err, cli, git, store_path,
                                                                     monkeypatch):
    assert cli("init", "-q").code == 0
    assert cli("user", "first").code == 0
    before = _state(store_path)
    monkeypatch.setenv("GIT_AUTHOR_NAME", name)
    r = cli("user", "second")
    assert (r.code, r.out) == (129, "")
    assert r.err.splitlines()[0] + "\n" == err
    assert r.err.splitlines()[1].startswith("hint: set a name: git config --global user.name")
    assert _state(store_path) == before
    # git refuses the same identity
    p = _git(store_path, "commit-tree", git(store_path, "rev-parse", "HEAD^{tree}").strip(), "-m", "m",
             env={"GIT_AUTHOR_NAME": name}, check=False)
    assert p.returncode == 128


def test_identity_follows_config_changes(t, git, store_path, monkeypatch):
    monkeypatch.delenv("GIT_AUTHOR_NAME")
    t.user("one")
    assert git(store_path, "log", "-1", "--format=%an") == "tract\n"
    t.repo.store.set_config("user.name", "Set Here")
    t.user("two")
    assert git(store_path, "log", "-1", "--format=%an") == "Set Here\n"
    git(store_path, "config", "user.name", "Set By Git")  # another process
    import time

    time.sleep(0.01)  # past the 2 ms in which the config files are not looked at again
    t.user("three")
    assert git(store_path, "log", "-1", "--format=%an") == "Set By Git\n"


# ----------------------------------------------------------------- reflogs
def _repo_pair(tmp_path, mode, main_log, head_log):
    """Two identical bare repositories, HEAD -> main at a commit, with
    core.logAllRefUpdates = ``mode`` and the given reflogs present."""
    a = str(tmp_path / "git.git")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", a], check=True)
    tree = _git(a, "mktree", input=b"").stdout.decode().strip()
    c1 = _git(a, "commit-tree", tree, "-m", "one").stdout.decode().strip()
    c2 = _git(a, "commit-tree", tree, "-p", c1, "-m", "two").stdout.decode().strip()
    _git(a, "update-ref", "refs/heads/main", c1)
    if mode is not None:
        _git(a, "config", "core.logAllRefUpdates", mode)
    shutil.rmtree(os.path.join(a, "logs"), ignore_errors=True)
    for ref, present in (("refs/heads/main", main_log), ("HEAD", head_log)):
        if present:
            os.makedirs(os.path.dirname(os.path.join(a, "logs", ref)), exist_ok=True)
            open(os.path.join(a, "logs", ref), "w").close()
    b = str(tmp_path / "tract.git")
    shutil.copytree(a, b, symlinks=True)
    return a, b, c1, c2


def _logs(path):
    out = {}
    for root, _dirs, names in os.walk(os.path.join(path, "logs")):
        for n in names:
            full = os.path.join(root, n)
            with open(full, "rb") as f:
                # old, new and message: the identity and time differ by design
                out[os.path.relpath(full, path)] = [
                    (ln.split(b" ")[0], ln.split(b" ")[1], ln.partition(b"\t")[1:]) for ln in f.read().splitlines()]
    return out


@pytest.mark.parametrize("mode", [None, "always", "true", "false", "2", "0", ""])
@pytest.mark.parametrize("main_log,head_log", [(False, False), (True, False), (False, True), (True, True)])
def test_reflogs_appended_to_exactly_where_git_appends(mode, main_log, head_log, tmp_path):
    a, b, c1, c2 = _repo_pair(tmp_path, mode, main_log, head_log)
    _git(a, "update-ref", "-m", "moved", "refs/heads/main", c2, c1)
    Store(b).update_ref("refs/heads/main", c2, c1, "moved")
    assert _logs(b) == _logs(a)
    assert _git(b, "rev-parse", "main").stdout == _git(a, "rev-parse", "main").stdout
    _git(b, "fsck", "--strict")


@pytest.mark.parametrize("message", ["  a  b\n c\td ", "x\r\ny", "plain", "trailing  ", "\n\n",
                                     "tab\there"])
def test_reflog_message_whitespace_as_git_writes_it(message, tmp_path):
    a, b, c1, c2 = _repo_pair(tmp_path, "always", False, False)
    _git(a, "update-ref", "-m", message, "refs/heads/main", c2, c1)
    Store(b).update_ref("refs/heads/main", c2, c1, message)
    assert _logs(b) == _logs(a)


# ---------------------------------------------------- directory/file clash
@pytest.mark.parametrize("existing,new,packed", [
    ("refs/heads/foo", "refs/heads/foo/bar", True),
    ("refs/heads/foo", "refs/heads/foo/bar", False),
    ("refs/heads/foo/bar", "refs/heads/foo", True),
    ("refs/heads/foo/bar", "refs/heads/foo", False),
    ("refs/heads/a/b", "refs/heads/a/b/c/d", True),
])
def test_ref_that_clashes_with_a_ref_directory_is_refused(existing, new, packed, tmp_path):
    a, b, c1, c2 = _repo_pair(tmp_path, "always", True, True)
    for path in (a, b):
        _git(path, "update-ref", existing, c1)
        if packed:
            _git(path, "pack-refs", "--all")
    p = _git(a, "update-ref", new, c2, check=False)  # git refuses it
    assert p.returncode != 0
    assert f"'{existing}' exists; cannot create '{new}'" in p.stderr.decode()
    before = _state(b)
    with pytest.raises(RefUpdateError) as e:
        Store(b).update_ref(new, c2, None, "branch")
    assert str(e.value) == f"cannot lock ref '{new}': '{existing}' exists; cannot create '{new}'"
    assert _state(b) == before
    _git(b, "fsck", "--strict")


def test_branch_clash_through_the_cli(cli, git, store_path):
    assert cli("init", "-q").code == 0
    assert cli("user", "hello").code == 0
    assert cli("branch", "foo").code == 0
    git(store_path, "pack-refs", "--all")
    before = _state(store_path)
    r = cli("branch", "foo/bar")
    assert (r.code, r.out, r.err) == (
        128, "", "fatal: cannot lock ref 'refs/heads/foo/bar': 'refs/heads/foo' exists; "
                 "cannot create 'refs/heads/foo/bar'\n")
    assert _state(store_path) == before
    # once foo is gone, foo/bar can be made, and then foo cannot
    assert cli("branch", "-d", "foo").code == 0
    assert cli("branch", "foo/bar").code == 0
    r = cli("branch", "foo")
    assert (r.code, r.err) == (128, "fatal: cannot lock ref 'refs/heads/foo': 'refs/heads/foo/bar' exists; "
                                    "cannot create 'refs/heads/foo'\n")
    git(store_path, "fsck", "--strict")


def test_empty_directory_left_by_a_deleted_ref_does_not_block_a_ref(tmp_path):
    a, b, c1, c2 = _repo_pair(tmp_path, "always", True, True)
    for path in (a, b):
        os.makedirs(os.path.join(path, "refs", "heads", "gone", "deeper"))
        os.makedirs(os.path.join(path, "logs", "refs", "heads", "gone", "deeper"))
    _git(a, "update-ref", "-m", "branch", "refs/heads/gone", c2)
    Store(b).update_ref("refs/heads/gone", c2, None, "branch")
    assert _git(b, "rev-parse", "gone").stdout.decode().strip() == c2
    assert _logs(b) == _logs(a)
    _git(b, "fsck", "--strict")


def test_a_ref_move_takes_any_identity_as_git_does(tmp_path, monkeypatch):
    """Only a commit refuses a name git refuses; a reflog line takes it
    cleaned, even empty, as `git update-ref` does."""
    a, b, c1, c2 = _repo_pair(tmp_path, "always", True, True)
    monkeypatch.setenv("GIT_COMMITTER_NAME", "...")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", " <odd@example.com> ")
    _git(a, "update-ref", "-m", "moved", "refs/heads/main", c2, c1)
    Store(b).update_ref("refs/heads/main", c2, c1, "moved")

    def idents(path):
        with open(os.path.join(path, "logs", "refs", "heads", "main"), "rb") as f:
            return [ln.split(b" ", 2)[2].rsplit(b">", 1)[0] + b">" for ln in f.read().splitlines()]

    assert idents(b) == idents(a) == [b" <odd@example.com>"]
    with pytest.raises(ConfigError) as e:
        Store(b).create_commit(_git(b, "rev-parse", "main^{tree}").stdout.decode().strip(), [c2], "m\n")
    assert str(e.value) == "name consists only of disallowed characters: ..."


def test_a_temporary_file_left_by_a_killed_writer_does_not_block_the_object(tmp_path):
    path = str(tmp_path / "r.git")
    subprocess.run(["git", "init", "-q", "--bare", path], check=True)
    data = b"the same content again\n"
    oid = _git(path, "hash-object", "--stdin", input=data).stdout.decode().strip()
    d = os.path.join(path, "objects", oid[:2])
    os.makedirs(d)
    with open(os.path.join(d, f"tmp_obj_{os.getpid()}_{oid[:12]}"), "wb") as f:
        f.write(b"half")  # what a killed process with this pid left
    assert odb.ObjectDB(path).write(b"blob", data).hex() == oid
    assert _git(path, "cat-file", "blob", oid).stdout == data


# ------------------------------------------------------------------ packs
def test_object_in_a_pack_deleted_by_gc_is_written_again(tmp_path):
    """A long-lived process mapped a pack; ``git gc --prune=now`` then
    dropped the pack (the object had become unreachable).  Writing the
    object again must write it, not trust the stale mapping."""
    path = str(tmp_path / "r.git")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", path], check=True)
    db = odb.ObjectDB(path)
    keep = db.write(b"blob", b"kept\n")
    gone = db.write(b"blob", b"unreachable soon\n")
    ident = odb.ident_line("T", "t@example.com", 1700000000, 0)
    tree = db.write(b"tree", odb.entry(b"100644", b"a", keep) + odb.entry(b"100644", b"b", gone))
    c1 = db.write(b"commit", odb.commit_bytes(tree.hex(), [], ident, ident, "one\n"))
    _git(path, "update-ref", "refs/heads/main", c1.hex())
    _git(path, "repack", "-a", "-d", "-q")
    assert db.read(gone.hex()) == (b"blob", b"unreachable soon\n")  # maps the pack
    tree2 = db.write(b"tree", odb.entry(b"100644", b"a", keep))
    c2 = db.write(b"commit", odb.commit_bytes(tree2.hex(), [], ident, ident, "two\n"))
    _git(path, "update-ref", "refs/heads/main", c2.hex())
    _git(path, "-c", "gc.reflogExpireUnreachable=now", "gc", "--prune=now", "-q")
    assert _git(path, "cat-file", "-e", gone.hex(), check=False).returncode != 0
    assert db.exists(gone) is False
    assert db.write(b"blob", b"unreachable soon\n") == gone
    assert _git(path, "cat-file", "-p", gone.hex()).stdout == b"unreachable soon\n"
    assert db.exists(gone) and db.exists(keep)


def test_delta_chain_deeper_than_the_recursion_limit(tmp_path):
    path = str(tmp_path / "deep.git")
    subprocess.run(["git", "init", "-q", "--bare", path], check=True)
    import random

    rnd = random.Random(1)
    lines = [b"line %08d %020d\n" % (i, rnd.getrandbits(64)) for i in range(100)]
    stream = []
    for i in range(2500):  # same-size versions, each one line off the last: git chains them
        lines[rnd.randrange(100)] = b"chng %08d %020d\n" % (i, rnd.getrandbits(64))
        text = b"".join(lines)
        stream.append(b"commit refs/heads/main\ncommitter a <a@b> %d +0000\ndata 2\nc\n"
                      b"M 100644 inline f\ndata %d\n%s\n" % (1700000000 + i, len(text), text))
    _git(path, "fast-import", "--quiet", input=b"".join(stream) + b"done\n")
    _git(path, "repack", "-adf", "--depth=4095", "--window=2", "-q")
    pack = [f for f in os.listdir(os.path.join(path, "objects", "pack")) if f.endswith(".idx")][0]
    out = _git(path, "verify-pack", "-v", os.path.join(path, "objects", "pack", pack)).stdout.decode()
    depth = {m.group(1): int(m.group(2)) for m in re.finditer(r"^([0-9a-f]{40}) blob .* (\d+) [0-9a-f]{40}$",
                                                             out, re.M)}
    deepest = sorted(depth, key=depth.get)[-3:]
    assert depth[deepest[-1]] > 1100  # deeper than the default recursion limit of 1000
    db = odb.ObjectDB(path)
    for oid in deepest:
        assert db.read(oid) == (b"blob", _git(path, "cat-file", "blob", oid).stdout)


def _pair_with_object(tmp_path, data):
    """Two identical repositories holding ``data`` as an unreachable loose
    blob, dated a year ago."""
    a = str(tmp_path / "git.git")
    subprocess.run(["git", "init", "-q", "--bare", a], check=True)
    oid = _git(a, "hash-object", "-w", "--stdin", input=data).stdout.decode().strip()
    old = 1_600_000_000
    os.utime(os.path.join(a, "objects", oid[:2], oid[2:]), (old, old))
    b = str(tmp_path / "tract.git")
    shutil.copytree(a, b, symlinks=True)
    os.utime(os.path.join(b, "objects", oid[:2], oid[2:]), (old, old))
    return a, b, oid, old


def test_writing_an_object_that_exists_freshens_it_as_git_does(tmp_path):
    data = b"written again\n"
    a, b, oid, old = _pair_with_object(tmp_path, data)
    _git(a, "hash-object", "-w", "--stdin", input=data)
    odb.ObjectDB(b).write(b"blob", data)
    for path in (a, b):
        assert os.stat(os.path.join(path, "objects", oid[:2], oid[2:])).st_mtime > old
    # so a gc pruning what is older than a day keeps it in both
    for path in (a, b):
        _git(path, "prune", "--expire=1.day.ago")
        assert _git(path, "cat-file", "-e", oid, check=False).returncode == 0


def test_an_object_only_in_a_cruft_pack_is_written_loose_as_git_does(tmp_path):
    data = b"unreachable, then wanted again\n"
    a, b, oid, old = _pair_with_object(tmp_path, data)
    for path in (a, b):  # the unreachable object goes into a cruft pack
        os.utime(os.path.join(path, "objects", oid[:2], oid[2:]), None)
        _git(path, "-c", "gc.cruftPacks=true", "gc", "--prune=1.day.ago", "-q")
        assert [f for f in os.listdir(os.path.join(path, "objects", "pack")) if f.endswith(".mtimes")]
        assert not os.path.exists(os.path.join(path, "objects", oid[:2], oid[2:]))
    _git(a, "hash-object", "-w", "--stdin", input=data)
    odb.ObjectDB(b).write(b"blob", data)
    for path in (a, b):
        assert os.path.exists(os.path.join(path, "objects", oid[:2], oid[2:]))
        assert _git(path, "cat-file", "blob", oid).stdout == data
