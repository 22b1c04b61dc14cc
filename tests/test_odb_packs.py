"""A commit's objects written as one small pack, and small packs merged
so that their number stays low; judged by the git binary (verify-pack,
fsck, cat-file, rev-list)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tract_git.store import odb


def _packs(path):
    d = os.path.join(path, "objects", "pack")
    return sorted(f for f in os.listdir(d) if f.endswith(".pack")) if os.path.isdir(d) else []


def _loose(path):
    objs = os.path.join(path, "objects")
    return [f for d in os.listdir(objs) if len(d) == 2 for f in os.listdir(os.path.join(objs, d))]


def _pack_objects(git, path, pack):
    """{id: type} of one pack, as git's verify-pack lists it."""
    out = git(path, "verify-pack", "-v", os.path.join(path, "objects", "pack", pack))
    return {ln.split()[0]: ln.split()[1] for ln in out.splitlines()
            if len(ln.split()) >= 5 and len(ln.split()[0]) == 40}


def test_an_append_is_one_pack_with_its_note(t, git, fsck):
    t.user("first")
    before = set(_packs(t.path))
    r = t.user("second message")
    new = set(_packs(t.path)) - before
    assert len(new) == 1 and _loose(t.path) == []
    objs = _pack_objects(git, t.path, new.pop())
    notes_tip = git(t.path, "rev-parse", "refs/notes/tract").strip()
    # the commit, its snapshot trees and blob; the note blob, notes trees, notes commit
    assert objs[r.commit] == "commit" and objs[notes_tip] == "commit"
    assert sorted(objs.values()) == ["blob", "blob", "commit", "commit", "tree", "tree", "tree",
                                     "tree", "tree"]
    assert git(t.path, "notes", "--ref", "refs/notes/tract", "show", r.commit).strip() != ""
    # every object git finds from the two refs is there
    listed = git(t.path, "rev-list", "--objects", "--no-object-names", "main", "refs/notes/tract").split()
    for oid in listed:
        assert git(t.path, "cat-file", "-t", oid).strip()
    fsck(t.path)


def test_small_packs_are_merged_and_git_reads_them(t, git, fsck):
    commits = [t.user(f"message {i}").commit for i in range(80)]
    packs = _packs(t.path)
    # 80 packs of ~9 objects: merged in tiers of eight, at most seven left in each
    assert 1 <= len(packs) <= 14, packs
    assert _loose(t.path) == []
    for p in packs:
        assert subprocess.run(["git", "verify-pack", os.path.join(t.path, "objects", "pack", p)],
                              capture_output=True).returncode == 0
    assert git(t.path, "rev-list", "main").split() == commits[::-1]
    assert [m["content"] for m in t.compile().to_openai()] == [f"message {i}" for i in range(80)]
    fsck(t.path)
    # a new process reads everything too
    import json

    out = subprocess.run(["git", "--git-dir", t.path, "log", "--format=%N", "-n", "3"],
                         capture_output=True, text=True).stdout
    assert [json.loads(ln)["entries"] for ln in out.split("\n") if ln] == [80, 79, 78]


def _bare(tmp_path, name="r.git"):
    p = str(tmp_path / name)
    subprocess.run(["git", "init", "-q", "--bare", p], check=True)
    return p


def _obj(kind, data):
    import hashlib

    h = hashlib.sha1(b"%s %d\0" % (kind, len(data)))
    h.update(data)
    return h.digest(), kind, data


def test_merge_copies_records_drops_duplicates_and_leaves_git_packs_alone(tmp_path, git):
    path = _bare(tmp_path)
    db = odb.ObjectDB(path)
    blobs = [_obj(b"blob", b"blob %d\n" % i + b"x" * (i * 997 % 20000)) for i in range(40)]
    # eight packs of five, the last one repeating an object of the first
    for i in range(8):
        group = blobs[5 * i:5 * i + 5]
        if i == 7:
            group = group[:4] + [blobs[0]]
        db.write_pack(group)
    # a kept pack (.keep): never merged
    keep = [_obj(b"blob", b"kept %d\n" % i) for i in range(3)]
    before = set(_packs(path))
    db.write_pack(keep)
    kept = sorted(set(_packs(path)) - before)
    open(os.path.join(path, "objects", "pack", kept[0][:-5] + ".keep"), "w").close()
    assert len(_packs(path)) == 9
    merged = db.merge_small_packs()
    assert merged == 8
    packs = _packs(path)
    assert len(packs) == 2 and kept[0] in packs
    big = [p for p in packs if p != kept[0]][0]
    objs = _pack_objects(git, path, big)
    assert sorted(objs) == sorted(raw.hex() for raw, _, _ in blobs[:39])  # blobs[39] was never written
    assert set(objs.values()) == {"blob"}
    for raw, _, data in blobs[:39] + keep:
        assert git(path, "cat-file", "blob", raw.hex()) == data.decode()
        assert db.read_raw(raw) == (b"blob", data)
        assert odb.ObjectDB(path).read_raw(raw) == (b"blob", data)
    assert db.merge_small_packs() == 0  # nothing left to merge
    assert git(path, "fsck", "--strict", "--no-dangling") == ""


def test_packs_with_deltas_are_not_merged(tmp_path, git):
    path = _bare(tmp_path)
    text = b"".join(b"line %d of a file that git will deltify\n" % i for i in range(200))
    stream = b"".join(b"commit refs/heads/main\ncommitter a <a@b> %d +0000\ndata 2\nc\n"
                      b"M 100644 inline f\ndata %d\n%s\n" % (1700000000 + i, len(text) + i, text + b"y" * i)
                      for i in range(10))
    subprocess.run(["git", "--git-dir", path, "fast-import", "--quiet"], input=stream + b"done\n", check=True)
    subprocess.run(["git", "--git-dir", path, "repack", "-adf", "-q"], check=True)
    [gitpack] = _packs(path)
    db = odb.ObjectDB(path)
    mine = [_obj(b"blob", b"small %d\n" % i) for i in range(7)]
    for o in mine:  # seven small packs: with git's in the same tier, eight
        db.write_pack([o, _obj(b"blob", o[2] + b"!")])
    before = _packs(path)
    assert len(before) == 8
    db.merge_small_packs()
    after = _packs(path)
    assert gitpack in after  # it has deltas: left as it is
    assert git(path, "fsck", "--strict", "--no-dangling") == ""
    for raw, _, data in mine:
        assert git(path, "cat-file", "blob", raw.hex()) == data.decode()


def test_many_writers_packs_stay_consistent(tmp_path):
    """Processes writing and merging packs at once: every object stays
    readable by git, whoever merged what."""
    path = _bare(tmp_path)
    script = (
        "import sys, hashlib\n"
        "from tract_git.store import odb\n"
        "db = odb.ObjectDB(sys.argv[1])\n"
        "w = sys.argv[2]\n"
        "for i in range(60):\n"
        "    objs = []\n"
        "    for j in range(3):\n"
        "        d = b'writer %s object %d %d\\n' % (w.encode(), i, j)\n"
        "        h = hashlib.sha1(b'blob %d\\0' % len(d)); h.update(d)\n"
        "        objs.append((h.digest(), b'blob', d))\n"
        "    db.write_pack(objs)\n"
        "    if i % 8 == 7:\n"
        "        db.merge_small_packs()\n"
    )
    import sys

    procs = [subprocess.Popen([sys.executable, "-c", script, path, str(w)]) for w in range(4)]
    assert [p.wait() for p in procs] == [0] * 4
    for w in range(4):
        for i in range(60):
            for j in range(3):
                d = b"writer %d object %d %d\n" % (w, i, j)
                oid = subprocess.run(["git", "--git-dir", path, "hash-object", "--stdin"], input=d,
                                     capture_output=True, check=True).stdout.decode().strip()
                assert subprocess.run(["git", "--git-dir", path, "cat-file", "blob", oid],
                                      capture_output=True).stdout == d
    assert len(_packs(path)) <= 30


@pytest.mark.parametrize("size", [0, 1, 15, 16, 127, 128, 16383, 16384, 70000])
def test_record_headers_and_streams_git_reads(tmp_path, git, size):
    path = _bare(tmp_path)
    data = bytes((i * 7) % 251 for i in range(size))
    db = odb.ObjectDB(path)
    o = _obj(b"blob", data)
    db.write_pack([o, _obj(b"blob", b"other")])
    assert subprocess.run(["git", "--git-dir", path, "cat-file", "blob", o[0].hex()],
                          capture_output=True).stdout == data
    assert git(path, "fsck", "--strict", "--no-dangling") == ""
