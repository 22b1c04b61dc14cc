"""Randomised merge and rebase scenarios (fixed seeds): whatever the two
branches did, the result holds every entry once, keeps each side's order of
its new entries, has exact token notes, and git fsck is clean."""

import random

import pytest

from tract_git.ops.repo import TokenNote


def _random_work(t, rng, tag, n):
    for i in range(n):
        es = t.entries()
        op = rng.choice(["append", "append", "append", "edit", "pin", "move"])
        if op == "append" or len(es) < 3:
            t.commit(f"{tag} {i}", role=rng.choice(["user", "assistant"]))
        elif op == "edit":
            t.edit(rng.randrange(len(es)), f"{tag} edit {i}")
        elif op == "pin":
            e = es[rng.randrange(len(es))]
            if e.priority != "pinned":
                t.pin(e.id)
        else:
            a, b = rng.sample(range(1, len(es)), 2) if len(es) > 2 else (1, 1)
            if a != b and a != b - 1:
                t.reorder(es[a].id, before=es[b].id, force=True)


def _note_exact(t):
    c = t.head
    stored = TokenNote.parse(t.repo.store.read_note(c))
    fresh = t.repo.compute_note(c)
    assert (stored.context_tokens, stored.entries) == (fresh.context_tokens, fresh.entries)


@pytest.mark.parametrize("seed", range(4))
def test_random_merge_and_rebase(t, seed, fsck):
    rng = random.Random(seed)
    t.system("sys")
    for i in range(4):
        t.user(f"base {i}")
    base_ids = {e.id for e in t.entries()}
    t.branch("other")
    _random_work(t, rng, "ours", 5)
    ours_tip = t.head
    t.switch("other")
    _random_work(t, rng, "theirs", 5)
    theirs_tip = t.head
    t.switch("main")
    ours_new = [e.id for e in t.entries(ours_tip) if e.id not in base_ids]
    theirs_new = [e.id for e in t.entries(theirs_tip) if e.id not in base_ids]
    for strategy in ("ours-first", "theirs-first", "interleave"):
        t.reset(ours_tip)
        res = t.merge("other", strategy=strategy)
        if res.status == "conflicts":
            for c in res.conflicts:
                t.resolve(c.id, theirs=True)
            res = t.merge_continue()
        ids = [e.id for e in t.entries()]
        assert len(ids) == len(set(ids))
        assert set(ids) == base_ids | set(ours_new) | set(theirs_new)
        # each side's new entries keep that side's order
        assert [i for i in ids if i in ours_new] == ours_new
        assert [i for i in ids if i in theirs_new] == theirs_new
        _note_exact(t)
    fsck(t.path)
    # rebase the other branch onto the merged main
    t.switch("other")
    res = t.rebase("main")
    while res.status == "conflicts":
        for c in res.conflicts:
            t.resolve(c.id, theirs=True)
        res = t.rebase_continue()
    ids = [e.id for e in t.entries()]
    assert len(ids) == len(set(ids))
    assert set(ids) == base_ids | set(ours_new) | set(theirs_new)
    _note_exact(t)
    fsck(t.path)
