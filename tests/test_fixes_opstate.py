"""While a merge, rebase, cherry-pick or revert is stopped on a branch, no
other write may move that branch (the stopped operation would land on a
tip it never saw); ``--abort`` reports the branch's real tip."""

from __future__ import annotations

import pytest

HINT_MERGE = ("hint: finish it with 'tract merge --continue' (after 'tract resolve') "
              "or undo it with 'tract merge --abort'\n")


@pytest.fixture
def merging(t):
    t.system("You are terse.")
    t.user("q1")
    t.assistant("a1")
    t.branch("feat")
    t.edit(1, "main version")
    t.switch("feat")
    t.edit(1, "feat version")
    t.user("feat q2")
    t.switch("main")
    assert t.merge("feat").status == "conflicts"
    return t


@pytest.mark.parametrize("args, input", [
    (("user", "more"), None),
    (("assistant", "more"), None),
    (("edit", "1", "x"), None),
    (("pin", "1"), None),
    (("skip", "1"), None),
    (("config", "budget", "9"), None),
    (("reorder", "--force", "2", "--before", "1"), None),
    (("compress", "--summary", "s", "--keep-last", "1"), None),
    (("reset", "--hard", "HEAD~1"), None),
    (("reset", "--soft", "HEAD~1"), None),
    (("undo",), None),
    (("import", "-"), b'[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]'),
])
def test_writes_refused_while_merge_is_stopped(merging, cli, refs_of, git, fsck, args, input):
    t = merging
    before = (refs_of(t.path), git(t.path, "notes", "--ref", "tract", "list"))
    r = cli(*args, input=input)
    assert (r.code, r.out, r.err) == (128, "", "fatal: a merge is in progress\n" + HINT_MERGE)
    assert (refs_of(t.path), git(t.path, "notes", "--ref", "tract", "list")) == before
    # the merge still finishes
    eid = t.entries()[1].id
    assert cli("resolve", eid, "--theirs").code == 0
    r = cli("merge", "--continue")
    assert r.code == 0, r.err
    assert [e.content for e in t.entries()] == ["You are terse.", "feat version", "a1", "feat q2"]
    fsck(t.path)


def test_checkout_refused_like_switch(merging, cli, refs_of):
    before = refs_of(merging.path)
    for args in (("checkout", "feat"), ("checkout", "HEAD~1"), ("switch", "feat")):
        r = cli(*args)
        assert (r.code, r.out, r.err) == (128, "", "fatal: a merge is in progress\n" + HINT_MERGE)
    assert refs_of(merging.path) == before


def test_api_append_refused_and_other_branch_allowed(merging, refs_of):
    from tract_git.errors import OperationInProgressError

    t = merging
    before = refs_of(t.path)
    with pytest.raises(OperationInProgressError, match="^a merge is in progress$") as ei:
        t.user("x")
    assert ei.value.exit_code == 128
    with pytest.raises(OperationInProgressError):
        t.import_messages([{"role": "user", "content": "x"}, {"role": "user", "content": "y"}])
    assert refs_of(t.path) == before
    # another context (a sub-agent) is not blocked by main's merge
    child = t.spawn("w", task="t")
    child.assistant("done")


def test_abort_reports_the_real_tip(merging, cli, git, fsck):
    t = merging
    orig = t.head
    # plain git moves the branch behind tract's back
    git(t.path, "update-ref", "refs/heads/main", "HEAD~1")
    moved = git(t.path, "rev-parse", "main").strip()
    assert moved != orig
    r = cli("merge", "--abort")
    assert (r.code, r.out, r.err) == (0, f"Merge aborted; main is at {moved[:7]}\n", "")
    fsck(t.path)


def test_rebase_stopped_refuses_appends_and_abort_reports_tip(t, cli, refs_of, git, fsck):
    t.system("s")
    t.user("q1")
    t.branch("feat")
    t.edit(1, "main version")
    t.switch("feat")
    t.edit(1, "feat version")
    r = cli("rebase", "main")
    assert r.code == 1, r.out + r.err
    before = refs_of(t.path)
    r = cli("user", "x")
    assert (r.code, r.out, r.err) == (
        128, "", "fatal: a rebase is in progress\nhint: finish it with 'tract rebase --continue' "
                 "(after 'tract resolve') or undo it with 'tract rebase --abort'\n")
    assert refs_of(t.path) == before
    tip = git(t.path, "rev-parse", "feat").strip()
    r = cli("rebase", "--abort")
    assert (r.code, r.out, r.err) == (0, f"rebase aborted; feat is at {tip[:7]}\n", "")
    assert cli("user", "x").code == 0
    fsck(t.path)


def test_compress_with_a_model_refused_before_asking_it(merging, cli, refs_of, fake_llm):
    before = refs_of(merging.path)
    r = cli("compress", "--model", "gpt-4o", "--keep-last", "1",
            env={"TRACT_BASE_URL": fake_llm.base_url, "TRACT_API_KEY": "x"})
    assert (r.code, r.out, r.err) == (128, "", "fatal: a merge is in progress\n" + HINT_MERGE)
    assert fake_llm.requests == []
    assert refs_of(merging.path) == before
