"""Rebase, cherry-pick, revert and reorder."""

import json

import pytest

from tract_git.errors import (
    DetachedHeadError,
    NoOperationInProgressError,
    NothingToDoError,
    ReorderRefusedError,
    UsageError,
)
from tract_git.ops import threeway
from tract_git.ops.repo import TokenNote
from tract_git.store.trailers import parse_message, trailer


def contents(t, rev=None):
    return [e.content for e in t.entries(rev)]


def check_notes(t, tip, n):
    """Every one of the last n commits has a stored note equal to a fresh one."""
    c = t.repo.resolve(tip)
    for _ in range(n):
        stored = TokenNote.parse(t.repo.store.read_note(c))
        assert stored is not None
        fresh = t.repo.compute_note(c)
        assert (stored.context_tokens, stored.entries, stored.tokens_added) == \
            (fresh.context_tokens, fresh.entries, fresh.tokens_added)
        c = t.repo.store.commit(c).parents[0]


def ops_of(git, store, rng):
    return [line.split(": ", 1)[1] for line in git(store, "log", "--format=%(trailers:key=Tract-Op)",
                                                   rng).split("\n") if line]


@pytest.fixture
def forked(t):
    t.system("You are terse.")
    t.user("q1")
    t.assistant("a1")
    t.branch("feat")
    return t


def test_rebase_replays_kinds_and_ids(forked, git, fsck, cli):
    t = forked
    t.user("main q2")
    t.switch("feat")
    t.user("feat q2")
    fid = t.entries()[-1].id
    t.pin(1)
    t.edit(-1, "feat q2 edited")
    t.reorder(-1, before=2)
    old_tip = t.head
    old_ops = ops_of(git, t.path, "main..feat")
    r = cli("rebase", "main")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[-1] == f"Successfully rebased and updated feat ({old_tip[:7]} -> {t.head[:7]})."
    assert len(lines) == 5
    assert contents(t) == ["You are terse.", "q1", "feat q2 edited", "a1", "main q2"]
    es = t.entries()
    assert es[1].priority == "pinned" and es[2].id == fid
    # kinds kept, upstream is an ancestor, linear history
    assert ops_of(git, t.path, "main..feat") == old_ops == ["reorder", "edit", "pin", "append"]
    assert git(t.path, "merge-base", "--is-ancestor", "main", "feat", check=False).returncode == 0
    assert git(t.path, "rev-list", "--merges", "main..feat").strip() == ""
    check_notes(t, "HEAD", 4)
    # the old tip is in the reflog; undo brings it back
    assert git(t.path, "reflog", "-1", "--format=%gs", "refs/heads/feat").startswith("rebase (finish)")
    t.undo()
    assert t.head == old_tip
    fsck(t.path)


def test_rebase_up_to_date_and_fast_forward(forked, cli):
    t = forked
    t.switch("feat")
    r = cli("rebase", "main")
    assert (r.code, r.out) == (0, "Current branch feat is up to date.\n")
    t.switch("main")
    t.user("m")
    t.switch("feat")
    cli("rebase", "main")
    assert t.head == t.repo.store.read_ref("refs/heads/main")


def test_rebase_conflict_continue_skip_abort(forked, cli, refs_of, fsck):
    t = forked
    t.edit(1, "main q1")
    t.switch("feat")
    t.edit(1, "feat q1")
    t.user("feat q2")
    eid = t.entries()[1].id
    before = refs_of(t.path)
    r = cli("rebase", "main")
    assert r.code == 1
    assert r.out.splitlines()[-2] == f"CONFLICT (edit/edit): entry {eid} (user) edited differently on both sides"
    assert refs_of(t.path) == before
    st = cli("status").out
    assert "You are in the middle of a rebase of branch 'feat' onto main" in st
    r = cli("rebase", "--abort")
    assert r.code == 0 and refs_of(t.path) == before
    # skip: drop the conflicting commit, keep the next
    assert cli("rebase", "main").code == 1
    r = cli("rebase", "--skip")
    assert r.code == 0, r.err
    assert contents(t) == ["You are terse.", "main q1", "a1", "feat q2"]
    t.undo()
    # resolve and continue
    assert cli("rebase", "main").code == 1
    assert cli("resolve", eid, "--theirs").code == 0
    r = cli("rebase", "--continue")
    assert r.code == 0, r.err
    assert contents(t) == ["You are terse.", "feat q1", "a1", "feat q2"]
    check_notes(t, "HEAD", 2)
    fsck(t.path)


def test_stopped_or_refused_replay_leaves_the_notes_ref(forked, cli, refs_of, git, fsck):
    """A commit replayed before the stop gets its note only when the branch
    moves: a stop, an --abort, or a branch that cannot be locked leave
    refs/notes/tract as it was (every ref, as tract(1) says)."""
    t = forked
    t.edit(1, "main q1")
    t.switch("feat")
    t.user("feat q2")  # replayed cleanly before the conflict
    t.edit(1, "feat q1")
    eid = t.entries()[1].id
    before = refs_of(t.path)
    assert cli("rebase", "main").code == 1
    assert refs_of(t.path) == before
    assert cli("rebase", "--abort").code == 0
    assert refs_of(t.path) == before
    assert cli("rebase", "main").code == 1
    assert cli("resolve", eid, "--theirs").code == 0
    assert cli("rebase", "--continue").code == 0
    for c in git(t.path, "rev-list", "feat").split():
        assert git(t.path, "notes", "--ref=tract", "show", c, check=False).returncode == 0, c
    check_notes(t, "HEAD", 2)
    # a cherry-pick that cannot move its branch writes no note either
    t.switch("main")
    before = refs_of(t.path)
    lock = t.path + "/refs/heads/main.lock"
    open(lock, "w").close()
    r = cli("cherry-pick", "feat", env={"TRACT_LOCK_TIMEOUT": "0.2"})
    assert r.code == 128 and r.err.startswith("fatal: cannot lock ref refs/heads/main"), r.err
    assert refs_of(t.path) == before
    import os
    os.unlink(lock)
    fsck(t.path)


def test_unrelated_histories_and_merges_are_refused_as_git_does(forked, cli, refs_of, git):
    """merge and rebase refuse a history that shares no commit (the notes
    ref is one: its trees are no context); cherry-pick refuses a merge, as
    git does without -m; nothing is written."""
    t = forked
    t.switch("feat")
    t.user("f")
    t.switch("main")
    assert cli("merge", "--no-ff", "feat").code == 0
    before = refs_of(t.path)
    r = cli("merge", "refs/notes/tract")
    assert (r.code, r.err) == (128, "fatal: refusing to merge unrelated histories\n"
                                    "hint: 'refs/notes/tract' shares no commit with main\n")
    r = cli("rebase", "refs/notes/tract")
    assert (r.code, r.err) == (128, "fatal: refusing to rebase onto an unrelated history: "
                                    "'refs/notes/tract' shares no commit with main\n")
    merge = git(t.path, "rev-parse", "main").strip()
    t.switch("feat")
    before = refs_of(t.path)
    r = cli("cherry-pick", "main")
    assert (r.code, r.err) == (128, f"fatal: commit {merge[:7]} is a merge: cherry-pick applies commits with "
                                    "one parent\nhint: pick the commits the merge brought in, one by one\n")
    assert refs_of(t.path) == before


def test_reset_soft_json_names_the_new_commits_parent(forked, cli, git):
    t = forked
    t.user("q2")
    r = cli("reset", "--soft", "HEAD~2", "--json")
    j = json.loads(r.out)
    assert j["parent"] == git(t.path, "rev-parse", "HEAD^").strip() != j["old"]


def test_rebase_bad_input(forked, cli, refs_of):
    t = forked
    before = refs_of(t.path)
    r = cli("rebase", "nope")
    assert (r.code, r.err) == (128, "fatal: invalid upstream 'nope'\n")
    r = cli("rebase", "--continue")
    assert (r.code, r.err) == (128, "fatal: there is no rebase in progress\n")
    r = cli("rebase")
    assert r.code == 129
    r = cli("rebase", "--skip", "--abort")
    assert r.code == 129
    assert refs_of(t.path) == before
    t.checkout("HEAD~1")
    with pytest.raises(DetachedHeadError):
        t.rebase("main")


def test_cherry_pick(forked, git, fsck, cli):
    t = forked
    t.switch("feat")
    t.user("f1")
    t.user("f2")
    f1 = t.repo.resolve("HEAD~1")
    t.switch("main")
    t.user("m1")
    r = cli("cherry-pick", f1)
    assert r.code == 0, r.err
    assert contents(t) == ["You are terse.", "q1", "a1", "m1", "f1"]
    subject, _, trailers = parse_message(git(t.path, "log", "-1", "--format=%B"))
    assert subject == "user: f1"
    assert trailer(trailers, "Tract-Op") == "append"
    assert trailer(trailers, "Tract-Cherry-Picked-From") == f1
    check_notes(t, "HEAD", 1)
    # already applied: nothing to do, exit 1, nothing moved
    head = t.head
    r = cli("cherry-pick", f1)
    assert (r.code, r.err) == (1, f"error: nothing to cherry-pick: {f1[:7]} (already applied)\n")
    assert t.head == head
    with pytest.raises(UsageError):
        t.cherry_pick()
    fsck(t.path)


def test_revert(forked, git, fsck, cli):
    t = forked
    t.user("q2")
    t.edit(1, "q1 edited")
    r = cli("revert", "HEAD")
    assert r.code == 0, r.err
    assert contents(t) == ["You are terse.", "q1", "a1", "q2"]
    msg = git(t.path, "log", "-1", "--format=%B")
    assert msg.startswith('Revert "edit user')
    assert "Tract-Op: revert" in msg and "Tract-Reverts: " in msg
    # revert an append: the entry goes; revert that revert: it comes back with its id
    q2 = t.entries()[-1].id
    t.revert("HEAD~2")
    assert contents(t) == ["You are terse.", "q1", "a1"]
    t.revert("HEAD")
    assert [e.id for e in t.entries()][-1] == q2
    check_notes(t, "HEAD", 3)
    with pytest.raises(NoOperationInProgressError):
        t.revert_continue() if hasattr(t, "revert_continue") else __import__("tract_git.ops.revert",
                                                                             fromlist=["x"]).cont(t.repo)
    fsck(t.path)


def test_revert_conflict(forked, cli):
    t = forked
    t.edit(1, "v1")
    t.edit(1, "v2")
    r = cli("revert", "HEAD~1")  # v1 -> q1, but HEAD has v2: edit/edit
    assert r.code == 1
    assert "CONFLICT (edit/edit)" in r.out
    assert cli("revert", "--abort").code == 0
    assert contents(t)[1] == "v2"


# ------------------------------------------------------------------ reorder
@pytest.fixture
def convo(t):
    t.system("sys")
    t.user("u1")
    t.assistant("", tool_calls=[{"id": "c1", "function": {"name": "f", "arguments": "{}"}}])
    t.tool("42", tool_call_id="c1")
    t.assistant("a1")
    t.user("u2")
    return t


def test_reorder_before_after_keeps_ids(convo, git, fsck):
    t = convo
    ids = [e.id for e in t.entries()]
    res = t.reorder(-1, before=1)  # u2 before u1: fine conversation-wise? u1 answered by the call
    assert res.moved == [ids[5]]
    assert [e.id for e in t.entries()] == [ids[0], ids[5], ids[1], ids[2], ids[3], ids[4]]
    assert git(t.path, "log", "-1", "--format=%(trailers:key=Tract-Op,valueonly)").strip() == "reorder"
    check_notes(t, "HEAD", 1)
    t.reorder(1, after=-1)
    assert [e.id for e in t.entries()] == ids
    d = t.diff("HEAD~2", "HEAD~1")
    assert [(c.kind, c.id) for c in d.changes] == [("moved", ids[5])]
    fsck(t.path)


def test_reorder_whole_order_and_lis(convo):
    t = convo
    ids = [e.id for e in t.entries()]
    keys = [e.key for e in t.entries()]
    new = [ids[0], ids[1], ids[2], ids[3], ids[5], ids[4]]
    t.reorder(new, force=True)
    es = t.entries()
    assert [e.id for e in es] == new
    assert [e.key for e in es[:4]] == keys[:4]  # the in-order run keeps its keys
    with pytest.raises(UsageError):
        t.reorder(ids[:3])
    with pytest.raises(NothingToDoError):
        t.reorder(new)


@pytest.mark.parametrize("args,problem", [
    (("3", "--before", "2"), "tool result {3} would come before its tool call (assistant {2}, c1)"),
    (("4", "--before", "1"), "assistant turn {4} would come before the message it answers (tool {3})"),
    (("0", "--after", "1"), "the system instruction {0} would leave the front (user {1} would come first)"),
])
def test_reorder_refuses_broken_conversation(convo, cli, refs_of, args, problem):
    t = convo
    ids = [e.id[:8] for e in t.entries()]
    before = refs_of(t.path)
    r = cli("reorder", *args)
    assert r.code == 1
    assert r.err.splitlines() == [
        "warning: " + problem.format(*ids),
        "error: reorder refused: it would break the conversation",
        "hint: use --force to move the entries anyway",
    ]
    assert refs_of(t.path) == before
    r = cli("reorder", *args, "--force")
    assert r.code == 0, r.err
    assert r.err == "warning: forced: " + problem.format(*ids) + "\n"


def test_reorder_bad_input(convo, cli, refs_of):
    t = convo
    before = refs_of(t.path)
    r = cli("reorder", "nope", "--before", "0")
    assert (r.code, r.err) == (128, "fatal: unknown entry 'nope'\n")
    r = cli("reorder", "1", "--before", "0", "--after", "2")
    assert (r.code, r.err) == (129, "error: give --before or --after, not both\n")
    r = cli("reorder", "1", "--before", "1")
    assert r.code == 129
    assert refs_of(t.path) == before
    with pytest.raises(ReorderRefusedError) as ei:
        t.reorder(3, before=2)
    assert len(ei.value.problems) == 1


def test_rebase_carries_a_reorder(convo):
    t = convo
    t.branch("side")
    t.user("main more")
    t.switch("side")
    t.reorder(-1, before=1)
    t.rebase("main")
    assert contents(t) == ["sys", "u2", "u1", "", "42", "a1", "main more"]


def test_keys_between_many():
    a, b = "000000100001", "000000100002"
    ks = threeway.keys_between(a, b, 1000)
    assert ks == sorted(ks) and len(set(ks)) == 1000
    assert a < ks[0] and ks[-1] < b
    assert max(len(k) for k in ks) <= 12 + 4


def test_json_outputs(forked, cli):
    t = forked
    t.switch("feat")
    t.user("f1")
    t.switch("main")
    t.user("m")
    r = cli("cherry-pick", "feat", "--json")
    d = json.loads(r.out)
    assert (d["op"], d["status"], d["branch"], d["new"]) == ("cherry-pick", "done", "main", t.head)


def test_crash_mid_rebase_leaves_branch_at_old_tip(forked, monkeypatch, refs_of, fsck):
    t = forked
    t.user("main more")
    t.switch("feat")
    for i in range(4):
        t.user(f"f{i}")
    before = refs_of(t.path)
    from tract_git.store.repo import Store

    real = Store.create_commit
    calls = {"n": 0}

    def dying(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # killed half-way
        return real(self, *a, **kw)

    monkeypatch.setattr(Store, "create_commit", dying)
    with pytest.raises(KeyboardInterrupt):
        t.rebase("main")
    monkeypatch.setattr(Store, "create_commit", real)
    assert refs_of(t.path) == before
    assert t.status().in_progress == []  # no stopped state was left behind
    res = t.rebase("main")  # nothing left over blocks a new attempt
    assert res.status == "done" and len(res.picked) == 4
    fsck(t.path)


def test_crash_at_final_ref_move_mid_merge(forked, monkeypatch, refs_of):
    t = forked
    t.user("m")
    t.switch("feat")
    t.user("f")
    t.switch("main")
    before = refs_of(t.path)
    from tract_git.store.repo import RefLockedError, Store

    def locked(self, *a, **kw):
        raise RefLockedError("cannot lock ref refs/heads/main")

    monkeypatch.setattr(Store, "update_ref", locked)
    monkeypatch.setenv("TRACT_LOCK_TIMEOUT", "0")
    with pytest.raises(RefLockedError):
        t.merge("feat")
    assert refs_of(t.path) == before


def test_reset_to_reflog_after_rebase(forked, cli):
    t = forked
    t.user("m")
    t.switch("feat")
    t.user("f")
    old = t.head
    t.rebase("main")
    assert t.head != old
    r = cli("reset", "--hard", "feat@{1}")
    assert r.code == 0, r.err
    assert t.head == old


def test_keys_between_equal_neighbours_does_not_fail():
    # both sides moved an entry into the same gap: two entries share a key
    ks = threeway.keys_between("000000100001i", "000000100001i", 3)
    assert ks == sorted(ks) and ks[0] > "000000100001i" and len(set(ks)) == 3


def test_both_sides_move_into_the_same_gap(forked):
    t = forked
    t.user("x")
    t.user("y")
    t.branch("other")
    t.reorder(-1, after=0)          # y after the system entry
    t.switch("other")
    t.reorder(-2, after=0)          # x after the system entry: the same key
    t.user("other more")
    t.switch("main")
    res = t.merge("other", strategy="theirs-first")
    assert res.status == "merged"
    ids = [e.id for e in t.entries()]
    assert len(ids) == len(set(ids)) == 6


def test_rebase_stops_twice(forked, cli):
    t = forked
    t.edit(1, "main q1")
    t.edit(2, "main a1")
    t.switch("feat")
    t.edit(1, "feat q1")
    t.edit(2, "feat a1")
    q1, a1 = t.entries()[1].id, t.entries()[2].id
    assert cli("rebase", "main").code == 1
    t.resolve(q1, ours=True)
    r = cli("rebase", "--continue")
    assert r.code == 1 and f"entry {a1}" in r.out
    st = cli("status").out
    assert st.count("(stopped at") == 1
    t.resolve(a1, theirs=True)
    assert cli("rebase", "--continue").code == 0
    assert [e.content for e in t.entries()][1:3] == ["main q1", "feat a1"]
