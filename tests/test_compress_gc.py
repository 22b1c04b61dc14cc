"""gc: retention, packing, never losing reachable data; plain git gc safe."""

import re


def _setup(t):
    t.system("rules", priority="pinned")
    for i in range(6):
        t.user(f"u{i}")
        t.assistant(f"a{i}")


def test_gc_keeps_undone_compress_within_retention(t, git, fsck, cli):
    _setup(t)
    res = t.compress(summary="the summary", keep_last=2)
    c = res.commit.commit
    t.undo()
    r = cli("gc", store=t.path)
    assert r.code == 0, r.err
    # two packs: what is reachable, and the cruft pack of what is kept for
    # the retention only (the squashed notes history)
    assert re.fullmatch(r"objects: .* -> .* \(\d+ -> \d+ bytes; loose \d+ -> 0, packs 0 -> 2\); "
                        r"retention 30 days\n", r.out), r.out
    assert git(t.path, "cat-file", "-t", c).strip() == "commit"
    fsck(t.path)
    # with no retention the undone compress commit and its summary blob go
    summary_blob = res.summary.blob
    g = t.gc(keep_days=0)
    assert g.keep_days == 0
    assert git(t.path, "cat-file", "-e", c, check=False).returncode != 0
    assert git(t.path, "cat-file", "-e", summary_blob, check=False).returncode != 0
    # everything the branch reaches is still there
    assert [e.content for e in t.entries()][:3] == ["rules", "u0", "a0"]
    fsck(t.path)


def test_gc_a_retention_longer_than_the_epoch_keeps_more_not_less(t, git, cli, refs_of):
    """100 years reaches back before 1970: git would read the date as the
    future and prune everything; tract keeps everything instead."""
    t.user("keep me")
    t.user("reset away")
    gone = t.head
    assert cli("reset", "--hard", "HEAD~1", store=t.path).code == 0
    for days in ("36500", "1e6"):
        r = cli("gc", "--keep-days", days, store=t.path)
        assert r.code == 0, r.err
        assert git(t.path, "cat-file", "-t", gone).strip() == "commit", days
    before = (refs_of(t.path), git(t.path, "count-objects", "-v"))
    for days in ("nan", "inf", "1e400"):
        r = cli("gc", "--keep-days", days, store=t.path)
        value = "inf" if days == "1e400" else days
        assert (r.code, r.out, r.err) == (129, "", f"error: invalid value for '--keep-days': {value} is not a "
                                                   f"number of days (see 'tract gc -h')\n")
    assert (refs_of(t.path), git(t.path, "count-objects", "-v")) == before
    assert cli("reset", "--hard", gone, store=t.path).code == 0


def test_gc_reachable_compress_keeps_replaced_entries(t, git, fsck):
    _setup(t)
    before = [e.content for e in t.entries()]
    t.compress(summary="s", keep_last=2)
    g = t.gc(keep_days=0)
    assert g.after.loose_objects == 0 and g.after.packs >= 1
    assert g.before.bytes > 0 and g.after.bytes > 0
    d = t.dropped("HEAD")
    assert [x.entry.content for x in d.entries] == before[1:-2]
    t.undo()
    assert [e.content for e in t.entries()] == before
    fsck(t.path)


def test_plain_git_gc_loses_nothing(t, git, fsck):
    _setup(t)
    t.compress(summary="s", keep_last=2)
    t.repo.store.update_ref("refs/tract/keep/x", t.head, None, "keep")
    refs = git(t.path, "for-each-ref", "--format=%(refname) %(objectname)")
    log = git(t.path, "log", "--format=%H %s %N", "--notes=refs/notes/tract", "--all")
    compiled = t.compile().to_openai()
    git(t.path, "gc", "--prune=now", "--aggressive", "--quiet")
    git(t.path, "reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all")
    git(t.path, "gc", "--prune=now", "--quiet")
    assert git(t.path, "for-each-ref", "--format=%(refname) %(objectname)") == refs
    assert git(t.path, "log", "--format=%H %s %N", "--notes=refs/notes/tract", "--all") == log
    from tract_git import Tract

    with Tract.open(t.path, create=False) as t2:
        assert t2.compile().to_openai() == compiled
        assert t2.repo.note(t2.head).context_tokens == t.repo.note(t.head).context_tokens
    fsck(t.path)


def test_gc_keep_days_setting(t, cli):
    _setup(t)
    r = cli("config", "gc.keepDays", "7", store=t.path)
    assert r.code == 0, r.err
    r = cli("gc", "--json", store=t.path)
    assert r.code == 0, r.err
    import json

    d = json.loads(r.out)
    assert d["keep_days"] == 7.0 and d["after"]["loose_objects"] == 0
    r = cli("config", "gc.keepDays", "soon", store=t.path)
    assert (r.code, r.err) == (129, "error: 'soon' is not a number\n")
    t.repo.store.set_config("tract.gc.keepDays", "soon")  # written by other means: caught when used
    r = cli("gc", store=t.path)
    assert (r.code, r.err) == (129, "error: gc.keepDays: 'soon' is not a number of days\n")
