"""Branches: create, list, delete, switch; names git accepts; git agrees."""

import json
import os
import subprocess

import pytest

from tract_git.errors import (
    BadRevisionError,
    BranchDeleteRefusedError,
    BranchExistsError,
    InvalidRefNameError,
)


def _setup(t):
    t.system("You are terse.")
    t.user("hi")
    t.assistant("hello")


def test_create_list_switch_and_git_agrees(t, git, fsck):
    _setup(t)
    head = t.head
    info = t.branch("explore")
    assert (info.name, info.commit, info.current) == ("explore", head, False)
    assert t.branch == "main"
    assert git(t.path, "branch", "--format=%(refname:short) %(objectname)").splitlines() == [
        f"explore {head}", f"main {head}"]
    t.switch("explore")
    assert t.branch == "explore"
    assert git(t.path, "symbolic-ref", "HEAD").strip() == "refs/heads/explore"
    t.user("tangent")
    assert [e.content for e in t.entries()][-1] == "tangent"
    t.switch("main")
    assert [e.content for e in t.entries()] == ["You are terse.", "hi", "hello"]
    bs = {b.name: b for b in t.branches()}
    assert bs["main"].current and not bs["explore"].current
    assert (bs["explore"].entries, bs["main"].entries) == (4, 3)
    assert bs["explore"].tokens == t.repo.note(bs["explore"].commit).context_tokens
    fsck(t.path)


def test_branch_is_constant_time_no_copy(t):
    _setup(t)
    objdir = os.path.join(t.path, "objects")
    count = lambda: sum(len(fs) for _, _, fs in os.walk(objdir))  # noqa: E731
    before = count()
    t.branch("b1")
    assert count() == before  # a branch is one ref: no object written


def test_settings_and_pins_follow_the_branch(t):
    _setup(t)
    t.config("budget", "1000")
    t.branch("other")
    t.pin(1)
    t.config("budget", "500")
    t.switch("other")
    assert t.entries()[1].priority == "normal"
    assert t.config("budget") in ("1000", 1000)
    t.switch("main")
    assert t.entries()[1].priority == "pinned"
    assert t.config("budget") in ("500", 500)


def test_cli_branch_listing_and_json(t, cli):
    _setup(t)
    assert cli("branch", "feature").out == ""
    r = cli("branch")
    assert r.code == 0
    short = t.head[:7]
    assert r.out.splitlines() == [
        f"  feature {short} 3 entries, {t.status().tokens} tokens  assistant: hello",
        f"* main    {short} 3 entries, {t.status().tokens} tokens  assistant: hello",
    ]
    data = json.loads(cli("branch", "--json").out)
    assert [(b["name"], b["current"], b["entries"]) for b in data] == [("feature", False, 3), ("main", True, 3)]
    r = cli("switch", "-c", "new", "HEAD~1")
    assert (r.code, r.out) == (0, "Switched to a new branch 'new'\n")
    assert t.branch == "new" and len(t.entries()) == 2
    r = cli("switch", "main")
    assert (r.code, r.out) == (0, "Switched to branch 'main'\n")


@pytest.mark.parametrize("name", ["a..b", "a~1", "has space", "x.lock", "-lead", "a^b", "a:b",
                                  "a?b", "a*b", "a[b", "a\\b", "/x", "x/", "a//b", ".hidden",
                                  "a@{1}", "@", "HEAD", "tab\tname"])
def test_invalid_branch_names(t, cli, refs_of, name, git):
    _setup(t)
    before = refs_of(t.path)
    r = cli("branch", "--", name)
    assert (r.code, r.out, r.err) == (128, "", f"fatal: '{name}' is not a valid branch name\n")
    assert refs_of(t.path) == before
    with pytest.raises(InvalidRefNameError):
        t.branch(name)
    if name == "@":  # git-check-ref-format(1) rule 9 forbids it; git branch 2.39 lets it through
        return
    # git refuses these too, with the same message
    g = git(t.path, "branch", "--", name, check=False)
    assert (g.returncode, g.stderr) == (128, f"fatal: '{name}' is not a valid branch name\n")


def test_valid_unusual_names(t, git):
    _setup(t)
    for name in ("feature/x", "a.b", "ü-umlaut", "v1.2"):
        t.branch(name)
    assert "feature/x" in git(t.path, "branch").split()


def test_branch_errors(t, cli, refs_of, fsck):
    _setup(t)
    t.branch("x")
    before = refs_of(t.path)
    r = cli("branch", "x")
    assert (r.code, r.err) == (128, "fatal: a branch named 'x' already exists\n")
    r = cli("branch", "y", "nope")
    assert (r.code, r.err) == (128, "fatal: bad revision 'nope'\n")
    r = cli("switch", "nope")
    assert (r.code, r.err) == (128, "fatal: invalid reference: nope\n"
                                    "hint: to create it, run 'tract switch -c nope'\n")
    r = cli("branch", "-d", "nope")
    assert (r.code, r.err) == (128, "fatal: branch 'nope' not found\n")
    r = cli("branch", "-d", "main")
    assert (r.code, r.err) == (1, "error: cannot delete branch 'main': it is the current branch\n"
                                  "hint: switch to another branch first\n")
    assert refs_of(t.path) == before
    with pytest.raises(BranchExistsError):
        t.branch("x")
    with pytest.raises(BranchDeleteRefusedError):
        t.delete_branch("main")
    with pytest.raises(BadRevisionError):
        t.switch("nope")
    fsck(t.path)


def test_delete_merged_and_unmerged(t, cli, git):
    _setup(t)
    t.branch("merged")
    t.switch("side", create=True)
    t.user("only on side")
    t.switch("main")
    r = cli("branch", "-d", "side")
    assert r.code == 1
    assert r.err == ("error: the branch 'side' is not fully merged\n"
                     "hint: if you are sure you want to delete it, run 'tract branch -D side'\n")
    side = t.repo.store.read_ref("refs/heads/side")
    r = cli("branch", "-D", "side")
    assert (r.code, r.out) == (0, f"Deleted branch side (was {side[:7]}).\n")
    r = cli("branch", "-d", "merged")
    assert r.code == 0 and r.out.startswith("Deleted branch merged (was ")
    assert git(t.path, "branch", "--format=%(refname:short)").split() == ["main"]


def test_branch_on_unborn_head(t, cli):
    r = cli("branch", "x")
    assert r.code == 128
    assert r.err.startswith("fatal: HEAD has no commits yet")


def test_detached_head_listing_and_branch(t, cli):
    _setup(t)
    t.checkout("HEAD~1")
    assert t.branch is None
    r = cli("branch")
    assert all(not line.startswith("*") for line in r.out.splitlines())
    t.create_branch("from-detached")
    assert t.repo.store.read_ref("refs/heads/from-detached") == t.head


def test_rename_keeps_the_reflog_as_git_does(t, cli, git, tmp_path):
    """The reflog moves with the branch and gets git's own line (the same
    in a plain git repository); HEAD's gets it too, not a checkout; undo
    and switch - still work; a locked ref refuses the rename untouched."""
    t.user("a")
    t.user("b")
    cli("switch", "-c", "side", store=t.path)
    cli("switch", "main", store=t.path)
    r = cli("branch", "-m", "main", "other", store=t.path)
    assert (r.code, r.err) == (0, "")
    ours = git(t.path, "reflog", "show", "--format=%H %gs", "other").splitlines()
    assert [ln.split(" ", 1)[1] for ln in ours] == [
        "Branch: renamed refs/heads/main to refs/heads/other", "append: user: b", "append: user: a"]
    g = str(tmp_path / "plain")
    subprocess.run(["git", "init", "-q", "-b", "main", g], check=True)
    for m in ("a", "b"):
        subprocess.run(["git", "-C", g, "commit", "-q", "--allow-empty", "-m", m], check=True)
    subprocess.run(["git", "-C", g, "branch", "-m", "main", "other"], check=True)
    plain = subprocess.run(["git", "-C", g, "reflog", "show", "--format=%gs", "other"], capture_output=True,
                           text=True).stdout.splitlines()
    assert plain[0] == ours[0].split(" ", 1)[1]  # git writes the same line
    old_new = open(os.path.join(t.path, "logs", "refs", "heads", "other")).read().splitlines()[-1].split()[:2]
    assert old_new[0] == old_new[1] == t.head
    assert git(t.path, "reflog", "show", "--format=%gs", "HEAD", "-n1").strip() == \
        "Branch: renamed refs/heads/main to refs/heads/other"
    assert not os.path.exists(os.path.join(t.path, "logs", "refs", "heads", "main"))
    r = cli("undo", store=t.path)
    assert (r.code, r.out.split(":")[0]) == (0, "Undid 'append")
    r = cli("switch", "-", store=t.path)
    assert (r.code, r.out) == (0, "Switched to branch 'side'\n")
    lock = os.path.join(t.path, "refs", "heads", "other.lock")
    open(lock, "w").close()
    before = (git(t.path, "for-each-ref"), sorted(os.listdir(os.path.join(t.path, "logs", "refs", "heads"))))
    r = cli("branch", "-m", "other", "o2", store=t.path, env={"TRACT_LOCK_TIMEOUT": "0.2"})
    assert (r.code, r.err.splitlines()[0]) == (128, "fatal: cannot lock ref refs/heads/other: another tract or "
                                                    "git process holds the lock")
    assert (git(t.path, "for-each-ref"), sorted(os.listdir(os.path.join(t.path, "logs", "refs", "heads")))) \
        == before
    os.unlink(lock)


def test_empty_branch_name_is_invalid(t, cli, refs_of):
    t.user("a")
    before = refs_of(t.path)
    r = cli("branch", "", store=t.path)
    assert (r.code, r.out, r.err) == (128, "", "fatal: '' is not a valid branch name\n")
    assert refs_of(t.path) == before


def test_rename(t, cli, git, fsck):
    _setup(t)
    t.branch("old")
    tip = t.head
    r = cli("branch", "-m", "old", "new")
    assert (r.code, r.out, r.err) == (0, "", "")
    assert git(t.path, "branch", "--format=%(refname:short)").split() == ["main", "new"]
    r = cli("branch", "-m", "main", "new")
    assert (r.code, r.err) == (128, "fatal: a branch named 'new' already exists\n")
    r = cli("branch", "-m", "new", "bad..name")
    assert (r.code, r.err) == (128, "fatal: 'bad..name' is not a valid branch name\n")
    r = cli("branch", "-m", "trunk")  # the current branch; HEAD follows
    assert r.code == 0
    assert git(t.path, "symbolic-ref", "HEAD").strip() == "refs/heads/trunk"
    assert t.branch == "trunk" and t.head == tip
    r = cli("branch", "-M", "new", "trunk")
    assert (r.code, r.err) == (1, "error: cannot force update the current branch 'trunk'\n")
    t.switch("new")
    r = cli("branch", "-M", "trunk", "new")
    assert (r.code, r.err) == (1, "error: cannot force update the current branch 'new'\n")
    t.switch("trunk")
    r = cli("branch", "-M", "new", "trunk2")
    assert r.code == 0
    assert git(t.path, "branch", "--format=%(refname:short)").split() == ["trunk", "trunk2"]
    fsck(t.path)
