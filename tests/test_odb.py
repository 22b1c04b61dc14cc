"""The pure-Python object database and refs (tract_git.store.odb), judged
by the git binary: what it writes git reads back byte for byte, what git
writes (loose, packed, deltified, packed refs, config) it reads the same."""

from __future__ import annotations

import os
import subprocess
import zlib

import pytest

from tract_git.store import odb


def _git(path, *args, input=None):
    return subprocess.run(["git", "--git-dir", path, *args], input=input, capture_output=True,
                          check=True).stdout


@pytest.fixture
def bare(tmp_path):
    p = str(tmp_path / "r.git")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", p], check=True)
    return p


def test_loose_objects_are_git_objects(bare):
    db = odb.ObjectDB(bare)
    blob = db.write(b"blob", "héllo\n".encode())
    assert blob.hex() == _git(bare, "hash-object", "--stdin", input="héllo\n".encode()).decode().strip()
    tree = db.write(b"tree", odb.entry(b"100644", b"a.txt", blob))
    ident = odb.ident_line("A U Thor", "a@example.com", 1700000000, -330)
    commit = db.write(b"commit", odb.commit_bytes(tree.hex(), [], ident, ident, "subject\n\nbody\n"))
    _git(bare, "fsck", "--strict")
    assert _git(bare, "cat-file", "-p", f"{commit.hex()}:a.txt") == "héllo\n".encode()
    assert _git(bare, "log", "--format=%an <%ae> %ad %s", "--date=raw", commit.hex()) == \
        b"A U Thor <a@example.com> 1700000000 -0530 subject\n"
    # written again: nothing changes, same id
    assert db.write(b"blob", "héllo\n".encode()) == blob


def test_new_objects_leave_nothing_behind(bare):
    db = odb.ObjectDB(bare)
    raws = [db.write(b"blob", b"content %d\n" % i) for i in range(20)]
    for i, raw in enumerate(raws):
        assert _git(bare, "cat-file", "blob", raw.hex()) == b"content %d\n" % i
    assert not [n for n in os.listdir(os.path.join(bare, "objects")) if n.startswith("tmp")]
    _git(bare, "fsck", "--strict")


def test_reads_packed_and_deltified_objects_like_git(bare, tmp_path):
    # a history git packs with deltas: versions of one growing file
    work = tmp_path / "w"
    subprocess.run(["git", "clone", "-q", bare, str(work)], check=True, capture_output=True)
    env = dict(os.environ, GIT_DIR=str(work / ".git"), GIT_WORK_TREE=str(work))
    text = ""
    for i in range(40):
        text += f"line {i} of a file that grows by one line each commit\n"
        (work / "f.txt").write_text(text)
        subprocess.run(["git", "add", "f.txt"], env=env, check=True)
        subprocess.run(["git", "commit", "-q", "-m", f"c{i}"], env=env, check=True)
    gd = str(work / ".git")
    subprocess.run(["git", "--git-dir", gd, "gc", "-q", "--aggressive"], check=True)
    listing = _git(gd, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(deltabase)")
    rows = [line.split() for line in listing.decode().splitlines()]
    assert any(r[2] != "0" * 40 for r in rows), "git made no deltas: the test would prove nothing"
    db = odb.ObjectDB(gd)
    for oid, kind, _ in rows:
        got_kind, data = db.read(oid)
        assert got_kind.decode() == kind
        assert data == _git(gd, "cat-file", kind, oid)
    with pytest.raises(KeyError):
        db.read("1" * 40)


def test_refs_cas_reflog_and_packed_refs(bare):
    db = odb.ObjectDB(bare)
    ident = odb.ident_line("T", "t@example.com", 1700000000, 0)
    tree = db.write(b"tree", b"").hex()
    c1 = db.write(b"commit", odb.commit_bytes(tree, [], ident, ident, "one\n")).hex()
    c2 = db.write(b"commit", odb.commit_bytes(tree, [c1], ident, ident, "two\n")).hex()
    refs = odb.Refs(bare)
    refs.update("refs/heads/main", c1, None, odb.reflog_tail(ident, "first"), ("refs/heads/main", "HEAD"))
    with pytest.raises(odb.RefMoved):  # must not exist yet
        refs.update("refs/heads/main", c2, None, None)
    with pytest.raises(odb.RefMoved):  # stale old value
        refs.update("refs/heads/main", c2, c2, None)
    open(os.path.join(bare, "refs/heads/main.lock"), "w").close()
    with pytest.raises(odb.RefLocked):
        refs.update("refs/heads/main", c2, c1, None)
    os.unlink(os.path.join(bare, "refs/heads/main.lock"))
    refs.update("refs/heads/main", c2, c1, odb.reflog_tail(ident, "second"), ("refs/heads/main", "HEAD"))
    assert _git(bare, "rev-parse", "main").decode().strip() == c2
    assert _git(bare, "reflog", "show", "--format=%H %gs", "main").decode().splitlines() == \
        [f"{c2} second", f"{c1} first"]
    assert _git(bare, "reflog", "show", "--format=%gs", "HEAD").decode().splitlines() == ["second", "first"]
    # git packs the ref: it is read from packed-refs, and a CAS still works
    _git(bare, "pack-refs", "--all")
    assert not os.path.exists(os.path.join(bare, "refs/heads/main"))
    assert refs.resolve("HEAD") == ("refs/heads/main", c2)
    with pytest.raises(odb.RefMoved):
        refs.update("refs/heads/main", c1, c1, None)
    refs.update("refs/heads/main", c1, c2, None)
    assert _git(bare, "rev-parse", "main").decode().strip() == c1
    _git(bare, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    with pytest.raises(odb.RefSymbolic):
        refs.update("refs/heads/alias", c2, c1, None)
    _git(bare, "fsck", "--strict")


def test_config_parsed_as_git_reads_it(bare):
    cfgs = [
        ("user.name", "Ann O'Neil # not a comment"),
        ("tract.budget", "8000"),
        ("gc.refs/notes/tract.reflogExpire", "now"),
        ("branch.Feature/X.description", 'tab\there "quoted" back\\slash'),
    ]
    for k, v in cfgs:
        _git(bare, "config", k, v)
    with open(os.path.join(bare, "config"), "a") as f:
        f.write("[Core]\n\tFlag\n\tspaced = a b ; comment\n")
    values = odb.read_config(bare)
    assert values is not None
    for k, v in cfgs + [("core.spaced", "a b")]:
        assert values[odb.config_key(k)] == v, k
        assert _git(bare, "config", "--get", k).decode().rstrip("\n") == v
    assert values["core.flag"] == "true" == _git(bare, "config", "--bool", "--get", "core.flag").decode().strip()
    # includes: only git (libgit2) can say what they hold
    with open(os.path.join(bare, "config"), "a") as f:
        f.write("[include]\n\tpath = other\n")
    assert odb.read_config(bare) is None


def test_pack_offsets_and_zlib_streams_longer_than_a_guess():
    # an object bigger than the first inflate window, stored incompressible
    data = os.urandom(5000)
    z = zlib.compress(data, 0)
    buf = b"junk" + z + b"tail"
    assert odb._inflate(buf, 4, 100) == data


def test_exchange_update_swaps_and_leaves_no_lock(bare):
    """The notes ref's update by exchange: same result as a rename, the
    lock (holding the old value after the swap) removed; a ref only in
    packed-refs has no file to swap with and is renamed into place."""
    db = odb.ObjectDB(bare)
    ident = odb.ident_line("T", "t@example.com", 1700000000, 0)
    tree = db.write(b"tree", b"").hex()
    cs = []
    for i in range(3):
        cs.append(db.write(b"commit", odb.commit_bytes(tree, cs[-1:], ident, ident, f"c{i}\n")).hex())
    refs = odb.Refs(bare)
    name = "refs/notes/tract"
    refs.update(name, cs[0], None, None, exchange=True)  # new: nothing to swap with
    refs.update(name, cs[1], cs[0], odb.reflog_tail(ident, "swap"), exchange=True)
    assert _git(bare, "rev-parse", name).decode().strip() == cs[1]
    assert not os.path.exists(os.path.join(bare, name + ".lock"))
    with pytest.raises(odb.RefMoved):
        refs.update(name, cs[2], cs[0], None, exchange=True)
    assert not os.path.exists(os.path.join(bare, name + ".lock"))
    _git(bare, "pack-refs", "--all")
    refs.update(name, cs[2], cs[1], None, exchange=True)
    assert _git(bare, "rev-parse", name).decode().strip() == cs[2]
    assert sorted(os.listdir(os.path.join(bare, "refs/notes"))) == ["tract"]
    _git(bare, "fsck", "--strict")


@pytest.mark.parametrize("argv", [["status"], ["log", "-n", "5"], ["user", "one more"],
                                  ["compile"], ["assistant", "--", "-a reply"], ["show", "HEAD"]])
def test_hot_commands_never_import_pygit2(store_path, argv):
    """The commands an agent or a person runs all the time are served by
    odb: pygit2 (~90 ms to import) is not loaded, and the result is what
    git sees."""
    import sys

    from tract_git import Tract

    with Tract.open(store_path) as t:
        t.system("rules")
        t.user("hello")
    code = ("import sys\nfrom tract_git.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
            "print(rc, 'pygit2' in sys.modules, file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                       env={**os.environ, "TRACT_DIR": store_path})
    assert p.stderr.splitlines()[-1] == "0 False", p.stderr
    _git(store_path, "fsck", "--strict")
    log = _git(store_path, "log", "--format=%s").decode().splitlines()
    assert log[-2:] == ["user: hello", "system: rules"]
    if argv[0] in ("user", "assistant"):
        assert log[0] == f"{argv[0]}: {argv[-1]}" and len(log) == 3
        note = _git(store_path, "notes", "--ref", "tract", "show", "HEAD").decode()
        assert '"entries": 3' in note
    else:
        assert len(log) == 2
