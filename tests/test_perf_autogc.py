"""git gc --auto after commits (as git runs it): packs loose objects once
there are enough of them, leaves a small store alone."""

from __future__ import annotations

import os


def loose_objects(store):
    return [f for d in os.listdir(os.path.join(store, "objects")) if len(d) == 2
            for f in os.listdir(os.path.join(store, "objects", d))]


def packs(store):
    return [f for f in os.listdir(os.path.join(store, "objects", "pack")) if f.endswith(".pack")]


def test_auto_gc_packs_past_the_threshold(t, git, fsck):
    for i in range(5):
        t.user(f"message {i}")
    git(t.path, "config", "gc.autoDetach", "false")
    git(t.path, "config", "gc.autoPackLimit", "1")
    git(t.path, "config", "tract.autoGc", "true")
    t.import_messages([{"role": "user", "content": f"bulk {i}"} for i in range(60)])
    assert len(packs(t.path)) == 1  # one pack is not "too many": nothing done
    assert len(loose_objects(t.path)) > 20
    t.import_messages([{"role": "user", "content": f"more {i}"} for i in range(60)])
    # the import ran git gc --auto: two packs > gc.autoPackLimit, so all is repacked
    assert len(packs(t.path)) == 1
    assert loose_objects(t.path) == []
    assert len(t.compile().to_openai()) == 125
    t.user("after packing")
    assert t.status().entries == 126
    fsck(t.path)


def test_auto_gc_off_by_default(t, git):
    git(t.path, "config", "gc.autoDetach", "false")
    git(t.path, "config", "gc.autoPackLimit", "1")
    t.import_messages([{"role": "user", "content": f"bulk {i}"} for i in range(60)])
    t.import_messages([{"role": "user", "content": f"more {i}"} for i in range(60)])
    assert len(packs(t.path)) == 2


def test_auto_gc_off_with_gc_auto_zero(t, git):
    t.user("x")
    git(t.path, "config", "gc.auto", "0")
    git(t.path, "config", "gc.autoDetach", "false")
    git(t.path, "config", "tract.autoGc", "true")
    before = sorted(loose_objects(t.path))
    t.repo.store.auto_gc()
    assert sorted(loose_objects(t.path)) == before
