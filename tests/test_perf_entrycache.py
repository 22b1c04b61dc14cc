"""The entry cache (tract_git.store.entrycache): decoded entries per bucket
tree, in memory and in tract-cache/entries/<bucket>/<tree id>.

What must hold: a compile through the cache is exactly the compile from the
blobs (property-style, over edits, pins, skips, moves, deletes, compresses
and windows); a damaged cache file is ignored, never trusted; a read-only
store compiles; git ignores the files; ``tract gc`` trims them."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

import pytest

from tract_git import Tract
from tract_git.ops import budget as B
from tract_git.ops import compile as C
from tract_git.ops import gc as G
from tract_git.ops.repo import Repo
from tract_git.store import entrycache as EC


def reference(t: Tract, rev=None) -> list:
    """The compiled entries read the old way: every item of the snapshot,
    every blob decoded (Store.read_items + Repo.entries), skips dropped."""
    repo = Repo.open(t.path)
    commit = repo.resolve(rev)
    items = repo.store.read_items(repo.store.commit(commit).tree)
    return [e for e in repo.entries(items) if not e.skipped]


def cold_compile(path, rev=None, *, files=True) -> C.CompileResult:
    """A compile as a new process does it: empty memo, fresh Repo (the
    cache files stay unless ``files=False``)."""
    EC.clear_memo()
    if not files:
        shutil.rmtree(os.path.join(path, EC.SUBDIR), ignore_errors=True)
    return C.compile(Repo.open(path), rev)


def cache_files(path) -> dict[str, list[str]]:
    root = os.path.join(path, EC.SUBDIR)
    if not os.path.isdir(root):
        return {}
    return {d: sorted(os.listdir(os.path.join(root, d))) for d in sorted(os.listdir(root))}


def messages(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    words = ["alpha", "beta", "Grüße", "日本語", "x" * 40, "🙂", "tool", "call", "\r\n", "line\n"]
    out = []
    for i in range(n):
        role = ("user", "assistant")[i % 2]
        out.append({"role": role, "content": f"{i} " + " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))})
    return out


@pytest.fixture
def big(store_path):
    """A context of 700 entries: three buckets (256, 256, 188)."""
    t = Tract.open(store_path)
    t.system("You are terse.")
    t.import_messages(messages(699))
    EC.clear_memo()
    return t


def test_files_written_for_all_buckets_but_the_last(big):
    res = cold_compile(big.path)
    assert [e.__dict__ for e in res.messages] == [e.__dict__ for e in reference(big)]
    files = cache_files(big.path)
    tree = big.repo.store.commit(big.head).tree
    bs = EC.buckets(big.repo.store, tree)
    assert len(bs) == 3
    assert files == {name: [b] for name, b in bs[:-1]}  # the last bucket (appends) is not written
    # a new process reads the two files and decodes only the last bucket
    before = dict(EC.stats)
    again = cold_compile(big.path)
    assert (EC.stats["file"] - before["file"], EC.stats["decoded"] - before["decoded"]) == (2, 1)
    assert again.to_openai() == res.to_openai()
    assert [e.__dict__ for e in again.messages] == [e.__dict__ for e in res.messages]


def test_cache_file_format(big):
    cold_compile(big.path)
    name, b = EC.buckets(big.repo.store, big.repo.store.commit(big.head).tree)[0]
    with open(os.path.join(big.path, EC.SUBDIR, name, b), "rb") as f:
        data = f.read()
    tag = f"{sys.implementation.cache_tag}/{__import__('marshal').version}".encode()
    assert data.startswith(b"TRACTEC\x01" + bytes([len(tag)]) + tag + bytes.fromhex(b))
    recs = EC.load(big.path, name, b)
    assert len(recs) == 256 and recs[0]["role"] == "system" and recs[0]["content"] == "You are terse."


def test_append_reuses_the_other_buckets(big):
    cold_compile(big.path)
    big.user("more")
    big.import_messages(messages(120, seed=2))  # past the third bucket, into a fourth
    before = dict(EC.stats)
    res = cold_compile(big.path)
    # 2 old files, then the third bucket (full now, no longer last) and the
    # last one decoded: only the third is written
    assert EC.stats["file"] - before["file"] == 2
    assert EC.stats["decoded"] - before["decoded"] == 2
    assert EC.stats["written"] - before["written"] == 1
    assert [e.__dict__ for e in res.messages] == [e.__dict__ for e in reference(big)]


@pytest.mark.parametrize("seed", range(6))
def test_cached_compile_equals_uncached_property(big, seed):
    """Random edits, pins, unpins, skips, moves and deletes anywhere in the
    context (and a compress now and then); after each step the compile in a
    'new process' with the cache files of earlier steps, and with none, is
    exactly the compile from the blobs, in every output format, and a window
    compile is the same with and without files."""
    rng = random.Random(seed)
    t = big
    n_steps = 14
    for step in range(n_steps):
        n = len(t.entries())
        k = rng.randrange(1, n)
        op = rng.choice(["edit", "pin", "unpin", "skip", "move", "user", "tool", "many", "compress"])
        if op == "edit":
            t.edit(k, f"edited {step} " + "ü" * rng.randint(0, 5))
        elif op == "pin":
            t.pin(k)
        elif op == "unpin":
            t.pin(k)
            t.unpin(k)
        elif op == "skip":
            t.skip(k)
        elif op == "move":
            to = rng.randrange(0, n)
            if to != k:
                t.reorder(k, before=to, force=True)
        elif op == "user":
            t.user(f"turn {step}", name="bob" if step % 2 else None)
        elif op == "tool":
            t.assistant("", tool_calls=[{"id": f"c{step}", "name": "f", "arguments": {"a": step}}])
            t.tool(f"result {step}", tool_call_id=f"c{step}")
        elif op == "many":
            t.import_messages(messages(rng.randint(1, 300), seed=seed * 100 + step))
        else:
            lo = rng.randrange(1, n - 10)
            t.compress(f"{lo}..{min(n - 5, lo + rng.randint(2, 200))}", summary=f"summary {step}")
        ref = reference(t)
        for files in (True, False, True):
            got = cold_compile(t.path, files=files)
            assert [e.__dict__ for e in got.messages] == [e.__dict__ for e in ref], (step, op, files)
            assert got.messages == ref
        old = C.CompileResult(None, None, ref, 0)
        for fmt in ("openai", "anthropic", "dicts", "text"):
            assert got.render(fmt) == old.render(fmt)
        if step % 4 == 3:
            EC.clear_memo()
            w1 = B.compile_budget(Repo.open(t.path), None, 2000, "window")
            w2 = B.compile_budget(Repo.open(t.path), None, 2000, "window")
            EC.clear_memo()
            shutil.rmtree(os.path.join(t.path, EC.SUBDIR), ignore_errors=True)
            w3 = B.compile_budget(Repo.open(t.path), None, 2000, "window")
            assert w1.messages == w2.messages == w3.messages
            assert w1.dropped == w3.dropped and w1.token_count == w3.token_count <= 2000
            by_id = {e.id: e for e in ref}
            assert all(by_id[e.id].__dict__ == e.__dict__ for e in w1.messages)
            # the window keeps the newest entries
            assert w1.messages[-1].__dict__ == ref[-1].__dict__


def test_older_commit_and_in_process_memo(big):
    first = cold_compile(big.path)
    big.user("one more")
    repo = Repo.open(big.path)
    before = dict(EC.stats)
    new = C.compile(repo)
    # same process: every bucket but the changed last one comes from memory
    assert EC.stats["memo"] - before["memo"] == 2 and EC.stats["decoded"] - before["decoded"] == 1
    assert len(new) == len(first) + 1
    old = cold_compile(big.path, "HEAD~1")
    assert old.to_openai() == first.to_openai()


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "header", "python", "swap", "dir", "garbage"])
def test_damaged_cache_file_is_ignored(big, damage):
    good = cold_compile(big.path).to_openai()
    bs = EC.buckets(big.repo.store, big.repo.store.commit(big.head).tree)
    (name, b), (name2, b2) = bs[0], bs[1]
    p = os.path.join(big.path, EC.SUBDIR, name, b)
    with open(p, "rb") as f:
        data = f.read()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        i = len(data) - 100
        data = data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:]  # a letter's case, in some content
    elif damage == "empty":
        data = b""
    elif damage == "header":
        data = b"TRACTEC\x02" + data[8:]
    elif damage == "python":
        data = data.replace(b"cpython-", b"cpythoX-", 1)
    elif damage == "swap":  # another bucket's (valid) file under this name
        with open(os.path.join(big.path, EC.SUBDIR, name2, b2), "rb") as f:
            data = f.read()
    elif damage == "garbage":
        data = os.urandom(5000)
    if damage == "dir":
        os.unlink(p)
        os.mkdir(p)
    else:
        with open(p, "wb") as f:
            f.write(data)
    before = dict(EC.stats)
    res = cold_compile(big.path)
    assert res.to_openai() == good
    assert [e.__dict__ for e in res.messages] == [e.__dict__ for e in reference(big)]
    assert EC.stats["decoded"] - before["decoded"] == 2  # the damaged bucket and the last
    if damage != "dir":  # it was written again, whole
        assert EC.load(big.path, name, b) is not None


def test_marshal_error_in_a_valid_frame_is_ignored(big):
    """A file whose frame checks out but whose payload is not marshal data
    (a writer bug) is not trusted either."""
    cold_compile(big.path)
    name, b = EC.buckets(big.repo.store, big.repo.store.commit(big.head).tree)[0]
    import zlib

    payload = b"\xff\x00garbage"
    head = EC._HEAD + bytes.fromhex(b) + len(payload).to_bytes(4, "big") + zlib.crc32(payload).to_bytes(4, "big")
    with open(os.path.join(big.path, EC.SUBDIR, name, b), "wb") as f:
        f.write(head + payload)
    assert EC.load(big.path, name, b) is None
    assert cold_compile(big.path).messages == reference(big)


def test_unwritable_cache_dir_still_compiles(big):
    os.makedirs(os.path.join(big.path, "tract-cache"), exist_ok=True)
    open(os.path.join(big.path, EC.SUBDIR), "w").close()  # a file where the directory should be
    res = cold_compile(big.path)
    assert res.messages == reference(big)
    assert os.path.isfile(os.path.join(big.path, EC.SUBDIR))


def _read_only_runner(store):
    """As in test_foundation_errors: a read-only bind mount in a private
    mount namespace (tests run as root, so chmod does not stop writes)."""
    exe = os.path.join(os.path.dirname(sys.executable), "tract")
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            f'mount --bind "{store}" "{store}" && mount -o remount,bind,ro "{store}" '
                            f'&& ! touch "{store}/probe" 2>/dev/null'], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot make a read-only store here (no private mount namespace)")

    def run(*args):
        cmd = f'mount --bind "{store}" "{store}" && mount -o remount,bind,ro "{store}" && exec "$0" "$@"'
        return subprocess.run(["unshare", "-m", "sh", "-c", cmd, exe, *args], capture_output=True, text=True)
    return run


def test_read_only_store_compiles(big, cli):
    run = _read_only_runner(big.path)
    want = cli("compile", store=big.path)
    shutil.rmtree(os.path.join(big.path, EC.SUBDIR))
    for args in (("compile",), ("compile", "--budget", "3000", "--strategy", "window")):
        p = run("--tract-dir", big.path, *args)
        assert (p.returncode, p.stderr) == (0, ""), args
        if args == ("compile",):
            assert p.stdout == want.out
    assert not os.path.exists(os.path.join(big.path, EC.SUBDIR))


def test_git_ignores_the_cache(big, git):
    cold_compile(big.path)
    assert cache_files(big.path)
    assert git(big.path, "fsck", "--strict", "--no-progress").strip() == ""
    git(big.path, "gc", "--prune=now", "--quiet")
    assert git(big.path, "fsck", "--strict", "--no-progress").strip() == ""
    assert cache_files(big.path)  # git gc leaves them alone
    before = dict(EC.stats)
    assert cold_compile(big.path).messages == reference(big)  # and they still serve, after the repack
    assert EC.stats["file"] - before["file"] == 2


def test_tract_gc_trims_to_the_buckets_of_ref_tips(big):
    cold_compile(big.path)
    old_tree = big.repo.store.commit(big.head).tree
    old = dict(EC.buckets(big.repo.store, old_tree))
    big.edit(3, "changed in the first bucket")  # first bucket changes
    cold_compile(big.path)
    files = cache_files(big.path)
    first = EC.buckets(big.repo.store, big.repo.store.commit(big.head).tree)[0]
    assert len(files[first[0]]) == 2  # the old and the new version of bucket 0
    big.create_branch("keep", "HEAD~1")
    res = G.gc(Repo.open(big.path))
    # the old snapshot is still a branch tip: both versions stay
    assert cache_files(big.path) == files and res.cache_files_removed == 0
    big.delete_branch("keep", force=True)
    res = G.gc(Repo.open(big.path))
    after = cache_files(big.path)
    assert res.cache_files_removed == 1
    assert after[first[0]] == [first[1]]
    assert old[first[0]] not in after[first[0]]
    # leftover temporary files go too
    tmp = os.path.join(big.path, EC.SUBDIR, first[0], f".{first[1]}.123.tmp")
    open(tmp, "w").close()
    assert G.gc(Repo.open(big.path)).cache_files_removed == 1
    assert cold_compile(big.path).messages == reference(big)


def test_versions_per_bucket_are_bounded(big):
    """Without gc, one bucket name keeps at most KEEP_VERSIONS files."""
    for i in range(EC.KEEP_VERSIONS + 3):
        big.edit(5, f"version {i}")
        cold_compile(big.path)
    name = EC.buckets(big.repo.store, big.repo.store.commit(big.head).tree)[0][0]
    assert len(cache_files(big.path)[name]) == EC.KEEP_VERSIONS
    assert cold_compile(big.path).messages == reference(big)


def test_not_ours_entries_are_left_out_like_read_items(big, git):
    """A bucket edited by plain git with a name that is not <key>-<id>-<role>
    and an executable blob: both paths ignore the same entries."""
    tree = big.repo.store.commit(big.head).tree
    name, b = EC.buckets(big.repo.store, tree)[0]
    blob = git(big.path, "hash-object", "-w", "--stdin", input="Role: user\n\nstray\n").strip()
    listing = git(big.path, "ls-tree", b)
    listing += f"100644 blob {blob}\tnot-ours\n100755 blob {blob}\t0000001000ff-abcdefabcdef-user\n"
    nb = git(big.path, "mktree", input=listing).strip()
    msg = git(big.path, "ls-tree", f"{tree}:msg").replace(b, nb)
    nmsg = git(big.path, "mktree", input=msg).strip()
    root = git(big.path, "ls-tree", tree)
    root = "\n".join(line.replace(line.split()[2], nmsg) if line.endswith("\tmsg") else line
                     for line in root.splitlines()) + "\n"
    nroot = git(big.path, "mktree", input=root).strip()
    c = git(big.path, "commit-tree", "-p", "HEAD", "-m", "by hand", nroot).strip()
    for files in (False, True, True):
        got = cold_compile(big.path, c, files=files)
        assert got.messages == reference(big, c)
        assert len(got) == 700


def test_concurrent_first_compiles(big):
    """Threads and processes compiling a store with no files at once: every
    result is the blob path's, and the files left behind are whole."""
    import threading

    ref = reference(big)
    EC.clear_memo()
    results, errors = [], []

    def work():
        try:
            results.append(C.compile(Repo.open(big.path)).messages)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    procs = [subprocess.Popen([sys.executable, "-c",
                               "import sys; from tract_git import Tract; "
                               "print(len(Tract.open(sys.argv[1], create=False).compile()))", big.path],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [p.communicate()[0] for p in procs] == ["700\n", "700\n"]
    assert not errors and len(results) == 4 and all(r == ref for r in results)
    for name, files in cache_files(big.path).items():
        assert len(files) == 1 and not files[0].startswith(".")
        assert EC.load(big.path, name, files[0]) is not None
