"""Merge: fast-forward, three-way entry merge, strategies, conflicts,
resolve, --continue/--abort; git as the oracle."""

import json

import pytest

from tract_git.errors import (
    BadRevisionError,
    DetachedHeadError,
    NoOperationInProgressError,
    NotInConflictError,
    OperationInProgressError,
    UnresolvedConflictsError,
    UsageError,
)
from tract_git.ops.repo import TokenNote


def contents(t, rev=None):
    return [e.content for e in t.entries(rev)]


def check_note(t, rev="HEAD"):
    """The stored token note of a commit equals one computed from scratch."""
    c = t.repo.resolve(rev)
    stored = TokenNote.parse(t.repo.store.read_note(c))
    assert stored is not None, f"no note for {c}"
    fresh = t.repo.compute_note(c)
    assert (stored.context_tokens, stored.entries, stored.tokens_added) == \
        (fresh.context_tokens, fresh.entries, fresh.tokens_added)


@pytest.fixture
def forked(t):
    """main and feat fork after three entries."""
    t.system("You are terse.")
    t.user("q1")
    t.assistant("a1")
    t.branch("feat")
    return t


def test_fast_forward_and_up_to_date(forked, cli, git, fsck):
    t = forked
    old = t.head
    t.switch("feat")
    t.user("more")
    new = t.head
    t.switch("main")
    r = cli("merge", "feat")
    assert (r.code, r.out) == (0, f"Updating {old[:7]}..{new[:7]}\nFast-forward\n")
    assert t.head == new
    r = cli("merge", "feat")
    assert (r.code, r.out) == (0, "Already up to date.\n")
    assert git(t.path, "reflog", "-1", "--format=%gs", "refs/heads/main").strip() == "merge feat: Fast-forward"
    fsck(t.path)


def test_three_way_both_appended_ours_first(forked, git, fsck):
    t = forked
    t.user("main q2")
    t.assistant("main a2")
    ours = t.head
    t.switch("feat")
    t.user("feat q2")
    t.assistant("feat a2")
    theirs = t.head
    ids_theirs = [e.id for e in t.entries()]
    t.switch("main")
    res = t.merge("feat")
    assert res.status == "merged"
    assert contents(t) == ["You are terse.", "q1", "a1", "main q2", "main a2", "feat q2", "feat a2"]
    # ids are kept
    assert set(ids_theirs) <= {e.id for e in t.entries()}
    # both parents; git agrees on the merge base
    assert git(t.path, "rev-parse", "HEAD^1", "HEAD^2").split() == [ours, theirs]
    assert git(t.path, "merge-base", ours, theirs).strip() == t.repo.store.merge_base(ours, theirs)
    graph = git(t.path, "log", "--graph", "--format=%s")
    assert graph.splitlines()[0] == "*   Merge branch 'feat' into main"
    # bookkeeping in trailers, never in the context
    msg = git(t.path, "log", "-1", "--format=%B")
    assert "Tract-Op: merge" in msg and f"Tract-Merge-Theirs: {theirs}" in msg
    assert "Tract-Merge-Strategy: ours-first" in msg
    assert all("Merge" not in c for c in contents(t))
    check_note(t)
    # tract diff/log see a clean history; fsck clean
    fsck(t.path)


def test_theirs_first_and_interleave(forked, monkeypatch):
    t = forked
    base = t.head

    def at(ts):
        for k in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
            monkeypatch.setenv(k, f"{ts} +0000")

    at(1700000100)
    t.user("m1")
    at(1700000300)
    t.user("m2")
    t.switch("feat")
    at(1700000200)
    t.user("f1")
    at(1700000400)
    t.user("f2")
    t.switch("main")
    main_tip = t.head
    t.merge("feat", strategy="theirs-first")
    assert contents(t)[3:] == ["f1", "f2", "m1", "m2"]
    check_note(t)
    t.reset(main_tip)
    t.merge("feat", strategy="interleave")
    assert contents(t)[3:] == ["m1", "f1", "m2", "f2"]
    check_note(t)
    t.reset(main_tip)
    t.merge("feat")
    assert contents(t)[3:] == ["m1", "m2", "f1", "f2"]
    assert base  # the fork point stays the merge base
    with pytest.raises(UsageError):
        t.merge("feat", strategy="bogus")


def test_one_sided_changes_and_removal(forked, fsck):
    t = forked
    t.user("main q2")
    t.switch("feat")
    t.edit(1, "q1 edited on feat")
    t.pin(2)
    t.switch("main")
    t.merge("feat")
    es = t.entries()
    assert [e.content for e in es] == ["You are terse.", "q1 edited on feat", "a1", "main q2"]
    assert es[2].priority == "pinned"
    check_note(t)
    fsck(t.path)


def test_same_change_on_both_sides_is_no_conflict(forked):
    t = forked
    t.edit(1, "same")
    t.user("m")
    t.switch("feat")
    t.edit(1, "same")
    t.user("f")
    t.switch("main")
    assert t.merge("feat").status == "merged"
    assert contents(t) == ["You are terse.", "same", "a1", "m", "f"]


def _conflicted(t):
    t.edit(1, "main version")
    t.switch("feat")
    t.edit(1, "feat version")
    t.user("feat q2")
    t.switch("main")


def test_conflict_stop_status_resolve_continue(forked, cli, git, refs_of, fsck):
    t = forked
    _conflicted(t)
    eid = t.entries()[1].id
    before = refs_of(t.path)
    r = cli("merge", "feat")
    assert r.code == 1
    assert r.out == (
        f"CONFLICT (edit/edit): entry {eid} (user) edited differently on both sides\n"
        "Stopped on 1 conflict; fix them with 'tract resolve ENTRY --ours|--theirs|--content TEXT', "
        "then run 'tract merge --continue' (or 'tract merge --abort').\n")
    assert refs_of(t.path) == before  # nothing moved
    st = cli("status")
    assert st.out.splitlines()[1:5] == [
        "You are in the middle of a merge of 'feat' into main.",
        "Unresolved conflicts (1 of 1):",
        f"  edit/edit: entry {eid} (user)",
        "  (use 'tract resolve ENTRY --ours|--theirs|--content TEXT', then 'tract merge --continue'; "
        "'tract merge --abort' to give up)",
    ]
    assert json.loads(cli("status", "--json").out)["in_progress"]
    # a second merge is refused
    r = cli("merge", "feat")
    assert (r.code, r.err.splitlines()[0]) == (128, "fatal: a merge is in progress")
    # continue with conflicts left
    r = cli("merge", "--continue")
    assert (r.code, r.err.splitlines()[0]) == (1, f"error: 1 unresolved conflict: {eid}")
    # resolving an entry not in conflict
    other = t.entries()[2].id
    r = cli("resolve", other, "--ours")
    assert (r.code, r.err.splitlines()[0]) == (128, f"fatal: entry '{other}' is not in conflict")
    r = cli("resolve", eid[:8], "--theirs")
    assert (r.code, r.out) == (0, f"Resolved entry {eid} (edit/edit) with theirs; all conflicts "
                                  "resolved: run 'tract merge --continue'.\n")
    assert refs_of(t.path) == before
    r = cli("merge", "--continue")
    assert r.code == 0, r.err
    assert contents(t) == ["You are terse.", "feat version", "a1", "feat q2"]
    assert f"Tract-Resolved: {eid} theirs" in git(t.path, "log", "-1", "--format=%B")
    assert len(git(t.path, "log", "-1", "--format=%P").split()) == 2
    assert "middle of" not in cli("status").out
    check_note(t)
    fsck(t.path)


def test_resolve_ours_and_content(forked):
    t = forked
    _conflicted(t)
    eid = t.entries()[1].id
    assert t.merge("feat").status == "conflicts"
    t.resolve(eid, ours=True)
    t.merge_continue()
    assert contents(t)[1] == "main version"
    t.reset("HEAD~1")
    assert t.merge("feat").status == "conflicts"
    t.resolve(eid, content="reconciled")
    t.merge_continue()
    es = t.entries()
    assert (es[1].content, es[1].id, es[1].role) == ("reconciled", eid, "user")
    check_note(t)


def test_edit_remove_conflict_and_abort(forked, cli, refs_of, fsck):
    t = forked
    eid = t.entries()[1].id
    # main removes entry 1 (by resetting to a rewritten history through revert of its append)
    t.edit(1, "main edit")
    t.switch("feat")
    t.revert(t.repo.store.resolve("HEAD~1"))  # removes q1 on feat
    assert eid not in [e.id for e in t.entries()]
    t.switch("main")
    before = refs_of(t.path)
    res = t.merge("feat")
    assert [(c.id, c.kind) for c in res.conflicts] == [(eid, "edit/remove")]
    r = cli("merge", "--abort")
    assert (r.code, r.out) == (0, f"Merge aborted; main is at {t.head[:7]}\n")
    assert refs_of(t.path) == before
    # again, taking theirs (the removal)
    t.merge("feat")
    t.resolve(eid, theirs=True)
    t.merge_continue()
    assert eid not in [e.id for e in t.entries()]
    check_note(t)
    fsck(t.path)


def test_bad_input(forked, cli, refs_of):
    t = forked
    before = refs_of(t.path)
    r = cli("merge", "nope")
    assert (r.code, r.err) == (128, "fatal: nope - not something we can merge\n")
    r = cli("merge", "--continue")
    assert (r.code, r.err) == (128, "fatal: there is no merge in progress\n")
    r = cli("merge", "--abort")
    assert (r.code, r.err) == (128, "fatal: there is no merge in progress\n")
    r = cli("resolve", "0", "--ours")
    assert (r.code, r.err) == (128, "fatal: there is no merge, rebase, cherry-pick or revert in progress\n")
    r = cli("resolve", "0")
    assert (r.code, r.err) == (129, "error: give exactly one of --ours, --theirs, --content\n")
    r = cli("merge", "--continue", "--abort")
    assert r.code == 129
    r = cli("merge", "-s", "bogus", "feat")
    assert r.code == 129
    assert refs_of(t.path) == before
    t.checkout("HEAD~1")
    r = cli("merge", "feat")
    assert (r.code, r.err) == (128, "fatal: cannot merge into a detached HEAD\n"
                                    "hint: switch to a branch first: tract switch NAME\n")
    with pytest.raises(DetachedHeadError):
        t.merge("feat")
    t.switch("main")
    with pytest.raises(BadRevisionError):
        t.merge("nope")
    with pytest.raises(NoOperationInProgressError):
        t.merge_continue()


def test_switch_refused_during_merge_and_second_op(forked):
    t = forked
    _conflicted(t)
    t.merge("feat")
    with pytest.raises(OperationInProgressError):
        t.switch("feat")
    with pytest.raises(OperationInProgressError):
        t.rebase("feat")
    with pytest.raises(OperationInProgressError):
        t.merge("feat")
    with pytest.raises(NotInConflictError):
        t.resolve("ffffffff", ours=True)
    with pytest.raises(UnresolvedConflictsError):
        t.merge_continue()
    t.merge_abort()


def test_settings_merge(forked):
    t = forked
    t.config("budget", "1000")
    t.user("m")
    t.switch("feat")
    t.config("budget", "2000")
    t.user("f")
    t.switch("main")
    t.merge("feat")
    assert str(t.config("budget")) == "1000"  # changed on both: ours kept
    t.switch("feat")
    t.user("f2")
    t.switch("main")
    t.merge("feat")
    assert str(t.config("budget")) == "1000"


def test_merge_keeps_old_tip_in_reflog_and_undo(forked):
    t = forked
    t.user("m")
    old = t.head
    t.switch("feat")
    t.user("f")
    t.switch("main")
    t.merge("feat")
    assert t.head != old
    t.undo()
    assert t.head == old


def test_cli_merge_json_and_commit_line(forked, cli):
    t = forked
    t.user("m")
    t.switch("feat")
    t.user("f")
    t.switch("main")
    r = cli("merge", "feat", "--json")
    d = json.loads(r.out)
    assert (r.code, d["status"], d["strategy"], d["new"]) == (0, "merged", "ours-first", t.head)
    assert d["entry_count"] == 5


def test_structural_merge_never_imports_litellm(forked, tmp_path):
    import subprocess
    import sys

    t = forked
    t.user("m")
    t.switch("feat")
    t.user("f")
    t.switch("main")
    code = ("import sys\nfrom tract_git.cli.main import main\n"
            "try:\n    main(['merge', 'feat'])\nexcept SystemExit as e:\n    rc = e.code\n"
            "print(rc, 'litellm' in sys.modules)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**__import__("os").environ, "TRACT_DIR": t.path})
    assert p.stdout.splitlines()[-1] == "0 False", p.stderr
