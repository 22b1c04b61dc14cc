"""The blob-facts side cache: flags and token counts by blob id."""

import os

from tract_git.ops.blobfacts import PINNED, SKIP, SUMMARY, facts
from tract_git.store import blobfacts as bf


def test_flags_tokens_and_persistence(t):
    t.user("a", priority="pinned")
    t.user("b", priority="skip")
    t.user("[x]", type="summary")
    t.user("plain words here")
    items = t.repo.items(t.head)
    f = facts(t.repo)
    assert f.flags(items) == [PINNED, SKIP, SUMMARY, 0]
    counts = f.tokens(items)
    assert counts == [t.repo.counter.count_entry(e) for e in t.entries()]
    path = bf.cache_path(t.path, t.repo.counter.encoding)
    on_disk = bf.load(path)
    assert {i.blob: (n, fl) for i, n, fl in zip(items, counts, [PINNED, SKIP, SUMMARY, 0])} == on_disk
    # a torn tail (a killed writer) is ignored
    with open(path, "ab") as fh:
        fh.write(b"\x01\x02\x03")
    assert bf.load(path) == on_disk


def test_compaction(tmp_path):
    path = str(tmp_path / "c" / "blobs-x.bin")
    oid = "ab" * 20
    bf.append(path, [(oid, bf.UNKNOWN, 1)] * 3000)
    assert os.path.getsize(path) == 3000 * 25
    assert bf.load(path) == {oid: (bf.UNKNOWN, 1)}
    assert os.path.getsize(path) == 25  # superseded records dropped
