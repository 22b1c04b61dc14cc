"""Store size: the packing settings init writes, the notes-history squash
(every note kept, compare-and-swap), and plain ``git gc`` on the result."""

from __future__ import annotations

import pygit2

from tract_git.store import maintenance
from tract_git.store.repo import GC_CONFIG, NOTES_REF, Store


def _notes(git, store) -> dict[str, str]:
    """commit -> note blob, as git itself lists them."""
    out = git(store, "notes", "--ref", "tract", "list")
    return {c: b for b, c in (line.split() for line in out.splitlines())}


def _notes_commits(git, store) -> int:
    return int(git(store, "rev-list", "--count", NOTES_REF).strip())


def test_init_writes_packing_config(t, git):
    assert GC_CONFIG == {"repack.writeBitmaps": "false", "gc.cruftPacks": "true"}
    for key, value in GC_CONFIG.items():
        assert git(t.path, "config", "--get", key) == value + "\n"
    # nothing to pass to git gc for a store that has them
    assert maintenance.missing_gc_config(t.path) == {}


def test_tract_gc_passes_settings_to_older_stores_user_value_wins(t, git):
    git(t.path, "config", "--unset", "repack.writeBitmaps")
    assert maintenance.missing_gc_config(t.path) == {"repack.writeBitmaps": "false"}
    git(t.path, "config", "repack.writeBitmaps", "true")
    assert maintenance.missing_gc_config(t.path) == {}


def test_squash_keeps_every_note_and_git_log_shows_them(t, git, fsck):
    for i in range(5):
        t.user(f"message {i}")
    before = _notes(git, t.path)
    assert len(before) == 5
    assert _notes_commits(git, t.path) == 5
    new = t.repo.store.squash_notes()
    assert new == git(t.path, "rev-parse", NOTES_REF).strip()
    assert _notes(git, t.path) == before
    assert git(t.path, "log", "--format=%P|%s", NOTES_REF) == "|Notes squashed by tract\n"
    # a second squash has nothing to do
    assert t.repo.store.squash_notes() is None
    assert git(t.path, "rev-parse", NOTES_REF).strip() == new
    # git log still shows each commit's note (notes.displayRef)
    out = git(t.path, "log", "-1", "--format=%N")
    assert out.startswith('{"tokens_added": ') and '"entries": 5' in out
    # the next note goes on top of the squashed commit
    t.user("after the squash")
    assert len(_notes(git, t.path)) == 6
    assert _notes_commits(git, t.path) == 2
    fsck(t.path)


def test_squash_is_compare_and_swap(t, git):
    t.user("one")
    t.user("two")
    store = t.repo.store
    other = Store.open(t.path)  # another writer on the same store
    raced = {}
    real = store._update_ref_nowait

    def racing(name, new, old, message):
        if not raced:  # a note lands between the squash's read and its ref move
            c = git(t.path, "rev-parse", "main~1").strip()
            other.add_notes({c: '{"tokens_added": 1, "context_tokens": 1, "entries": 1, '
                                '"encoding": "o200k_base", "marker": true}'})
            raced["note"] = c
        return real(name, new, old, message)

    store._update_ref_nowait = racing
    try:
        assert store.squash_notes() is not None
    finally:
        store._update_ref_nowait = real
    notes = _notes(git, t.path)
    assert len(notes) == 2
    assert '"marker": true' in git(t.path, "notes", "--ref", "tract", "show", raced["note"])
    assert _notes_commits(git, t.path) == 1


def test_commit_loop_squashes_notes_after_a_00_commit(t, git, fsck):
    # commit ids are fixed (fixed dates in the tests): the third append
    # makes 007508ad...; should the format change its id, append until one
    # starts with 00, as about one in 256 does
    t.user("m")
    t.user("m2")
    for i in range(3000):
        r = t.user("probe 108" if i == 0 else f"m{i}")
        if r.commit.startswith("00"):
            break
    else:
        raise AssertionError("no commit id starting with 00")
    assert i == 0 and r.commit.startswith("007508ad")
    # the squash ran right after that commit's note: one parentless commit
    assert _notes_commits(git, t.path) == 1
    assert len(_notes(git, t.path)) == i + 3
    t.user("next")
    assert _notes_commits(git, t.path) == 2
    fsck(t.path)


def test_plain_git_gc_drops_squashed_history(t, git, fsck):
    for i in range(20):
        t.user(f"message {i}")
    notes = _notes(git, t.path)
    history = git(t.path, "rev-list", NOTES_REF).split()
    assert len(history) == 20
    t.repo.store.squash_notes()
    git(t.path, "gc", "--quiet", "--prune=now")
    for c in history:
        assert git(t.path, "cat-file", "-e", c, check=False).returncode != 0
    assert _notes(git, t.path) == notes
    assert len(t.log()) == 20
    packs = sorted(f for f in __import__("os").listdir(f"{t.path}/objects/pack"))
    assert [f.rsplit(".", 1)[1] for f in packs] == ["idx", "pack"]  # no bitmap
    fsck(t.path)


def test_tract_gc_squashes_and_keeps_history_in_cruft_pack(t, git, fsck):
    for i in range(5):
        t.user(f"message {i}")
    notes = _notes(git, t.path)
    old_tip = git(t.path, "rev-parse", NOTES_REF).strip()
    g = t.gc()
    assert g.after.packs == 2 and g.after.loose_objects == 0
    assert _notes(git, t.path) == notes
    assert _notes_commits(git, t.path) == 1
    # within the retention the superseded notes commits are kept (cruft pack)
    assert git(t.path, "cat-file", "-t", old_tip) == "commit\n"
    t.gc(keep_days=0)
    assert git(t.path, "cat-file", "-e", old_tip, check=False).returncode != 0
    assert _notes(git, t.path) == notes
    fsck(t.path)


def test_no_squash_in_commit_loop_without_cruft_packs(t, git):
    # a store made before init set gc.cruftPacks: the superseded notes
    # history would stay loose, so only tract gc squashes it
    git(t.path, "config", "--unset", "gc.cruftPacks")
    t.user("m")
    t.user("m2")
    r = t.user("probe 108")
    assert r.commit.startswith("007508ad")
    assert _notes_commits(git, t.path) == 3
    t.gc()
    assert _notes_commits(git, t.path) == 1
