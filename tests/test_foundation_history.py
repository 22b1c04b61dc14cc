"""Acceptance: reset, checkout, reflog, undo and git's revision syntax."""

from __future__ import annotations

import json
import os

import pytest
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)


@pytest.fixture
def five(t):
    for x in ("one", "two", "three", "four", "five"):
        t.user(x)
    return t, [c.commit for c in t.log()]  # newest first


def contents(t, rev=None):
    return [m["content"] for m in t.compile(rev).to_openai()]


def test_reset_hard(five, cli, git, fsck):
    t, c = five
    r = cli("reset", "--hard", "HEAD~2", store=t.path)
    assert (r.code, r.out, r.err) == (0, f"HEAD is now at {c[2][:7]} user: three\n", "")
    assert git(t.path, "rev-parse", "main").strip() == c[2]
    assert contents(t) == ["one", "two", "three"]
    # the old tip is still there (reflog) and undo brings it back
    assert git(t.path, "rev-parse", "main@{1}").strip() == c[0]
    r = cli("undo", store=t.path)
    assert (r.code, r.out) == (0, f"Undid 'reset: moving to HEAD~2': main is now at {c[0][:7]} (was {c[2][:7]})\n")
    assert contents(t) == ["one", "two", "three", "four", "five"]
    fsck(t.path)


def test_reset_default_is_hard_and_json(five, cli):
    t, c = five
    r = cli("reset", "HEAD~1", "--json", store=t.path)
    assert json.loads(r.out) == {"mode": "hard", "old": c[0], "new": c[1]}
    assert t.head == c[1]


def test_reset_soft_squashes_keeping_context(five, cli, git, fsck):
    t, c = five
    tree = git(t.path, "rev-parse", "HEAD^{tree}").strip()
    r = cli("reset", "--soft", "HEAD~3", store=t.path)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].startswith("[main ") and r.out.splitlines()[0].endswith(
        "] squash to HEAD~3: user: five")
    # one new commit on top of REV, same context (same tree) as before
    assert git(t.path, "rev-parse", "HEAD~1").strip() == c[3]
    assert git(t.path, "rev-parse", "HEAD^{tree}").strip() == tree
    assert contents(t) == ["one", "two", "three", "four", "five"]
    assert git(t.path, "log", "-1", "--format=%(trailers:key=Tract-Squashed-From,valueonly)").strip() == c[0]
    assert git(t.path, "log", "-1", "--format=%(trailers:key=Tract-Op,valueonly)").strip() == "reset"
    # it names the entries it brings, as any commit does (three, four, five)
    ids = [e.id for e in t.entries()]
    assert git(t.path, "log", "-1", "--format=%(trailers:key=Tract-Entry,valueonly)").split() == ids[2:]
    assert git(t.path, "rev-list", "--count", "HEAD").strip() == "3"
    note = json.loads(git(t.path, "notes", "--ref", "tract", "show", "HEAD"))
    assert (note["context_tokens"], note["entries"]) == (5, 5)
    assert note["tokens_added"] == 3
    assert t.undo().new == c[0]
    fsck(t.path)


def test_checkout_detached_and_back(five, cli, git, fsck):
    t, c = five
    r = cli("checkout", "HEAD~2", store=t.path)
    assert (r.code, r.out) == (0, f"HEAD is now at {c[2][:7]} (detached)\n")
    assert git(t.path, "symbolic-ref", "-q", "HEAD", check=False).returncode == 1
    r = cli("user", "on a detached head", store=t.path)
    assert r.out.startswith("[detached HEAD ")
    new = t.head
    assert git(t.path, "rev-parse", "HEAD~1").strip() == c[2]
    assert git(t.path, "rev-parse", "main").strip() == c[0]  # the branch did not move
    assert cli("log", "-n", "1", "--oneline", store=t.path).out.startswith(f"{new[:7]} (HEAD) append")
    r = cli("checkout", "main", store=t.path)
    assert (r.code, r.out) == (0, "Switched to branch 'main'\n")
    assert git(t.path, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert contents(t) == ["one", "two", "three", "four", "five"]
    # the detached commit is still reachable by id and in HEAD's reflog
    assert contents(t, new)[-1] == "on a detached head"
    assert git(t.path, "rev-parse", "HEAD@{1}").strip() == new
    r = cli("checkout", "--detach", "main", "--json", store=t.path)
    assert json.loads(r.out) == {"branch": None, "commit": c[0], "detached": True}
    fsck(t.path)


def test_reset_while_detached_moves_head_only(five, git):
    t, c = five
    t.checkout(c[1])
    t.reset("HEAD~1")
    assert t.head == c[2]
    assert git(t.path, "rev-parse", "main").strip() == c[0]


def test_reflog_and_repeated_undo(t, cli, git):
    for x in ("a", "b", "c"):
        t.user(x)
    t.pin(0)
    c = [x.commit for x in t.log()]
    r = cli("reflog", store=t.path)
    lines = r.out.splitlines()
    assert len(lines) == 4
    assert lines[0] == f"{c[0][:7]} HEAD@{{0}}: pin: pin user {t.entries()[0].id[:8]}: a"
    assert lines[3] == f"{c[3][:7]} HEAD@{{3}}: append: user: a"
    assert cli("reflog", "main", "-n", "2", store=t.path).out.splitlines() == [
        ln.replace("HEAD@", "main@") for ln in lines[:2]]
    j = json.loads(cli("reflog", "--json", store=t.path).out)
    assert j[0]["new"] == c[0] and j[0]["old"] == c[1]
    # repeated undo walks back: pin, then c, then b, then a
    assert t.undo().new == c[1]
    assert t.undo().new == c[2]
    assert t.undo().new == c[3]
    assert contents(t) == ["a"]
    r = cli("undo", store=t.path)
    assert (r.code, r.out, r.err) == (1, "", "error: nothing to undo on main\n")
    # and nothing was lost: every position is still in the reflog
    assert git(t.path, "rev-parse", "main@{3}").strip() == c[0]


def test_reflog_read_as_git_shows_it_and_never_written(t, cli, git):
    """The reflog lines are git's (``git reflog`` agrees), a misspelt
    branch is an error as in git, and reading a fresh store's reflog
    creates no file."""
    r = cli("reflog", store=t.path)
    assert (r.code, r.out, r.err) == (0, "", "")
    assert not os.path.exists(os.path.join(t.path, "logs"))
    t.user("a")
    t.user("b")
    ours = [(e["new"][:7], e["message"]) for e in json.loads(cli("reflog", "--json", store=t.path).out)]
    theirs = [tuple(ln.split(" ", 1)) for ln in
              git(t.path, "reflog", "--format=%h %gs", "main").splitlines()]
    assert ours == theirs and len(ours) == 2
    for args in (("reflog", "mian"), ("reflog", "--json", "no/such/ref")):
        r = cli(*args, store=t.path)
        assert (r.code, r.out, r.err) == (128, "", f"fatal: bad revision '{args[-1]}'\n")
    p = git(t.path, "reflog", "show", "mian", check=False)
    assert p.returncode == 128


def test_checkout_previous_as_git(t, cli):
    """``-`` and ``@{-N}`` name where HEAD was before the Nth-last
    checkout (HEAD's reflog), so ``tract checkout -`` goes back to the
    branch, not to its commit detached; ``tract switch -`` too."""
    t.user("one")
    t.user("two")
    head = os.path.join(t.path, "HEAD")
    for rev in ("HEAD~1", "main", "HEAD~1"):
        assert cli("checkout", rev, store=t.path).code == 0
    detached = open(head).read().strip()
    r = cli("checkout", "@{-1}", store=t.path)
    assert (r.code, r.out, open(head).read()) == (0, "Switched to branch 'main'\n", "ref: refs/heads/main\n")
    r = cli("checkout", "-", store=t.path)
    assert (r.code, open(head).read().strip()) == (0, detached)
    r = cli("switch", "-", store=t.path)
    assert (r.code, r.out, open(head).read()) == (0, "Switched to branch 'main'\n", "ref: refs/heads/main\n")
    r = cli("checkout", "@{-9}", store=t.path)
    assert (r.code, r.out, r.err) == (128, "", "fatal: bad revision '@{-9}'\n")


def test_reflog_lines_are_read_as_git_reads_them(t, git):
    """Lines git skips are skipped (a last line with no newline, a zero or
    zoneless time, ids that are not plain hex), lines git takes are taken
    (a message after the zone with no tab, a name with '>' before the
    email): tract's list matches ``git reflog`` line for line."""
    t.user("one")
    t.user("two")
    a, b = git(t.path, "rev-parse", "HEAD~1", "HEAD").split()
    cases = {
        "torn": f"{a} {b} N <e> 1700000000 +0000\tone\n{b} {a} N <e> 1700000001 +0000\ttwo",
        "zero": f"{a} {b} N <e> 1700000000 +0000\tone\n{b} {a} N <e> 0 +0000\tzero\n",
        "nozone": f"{a} {b} N <e> 1700000000 +0000\tone\n{b} {a} N <e> 1700000001\tnotz\n",
        "badzone": f"{a} {b} N <e> 1700000000 +00x0\tbad\n",
        "notab": f"{a} {b} N <e> 1700000000 +0000 a> b\n",
        "gtname": f"{a} {b} N>x <e> 1700000000 +0000\tgt\n",
        "0x": f"0x{a[2:]} {b} N <e> 1700000000 +0000\tohx\n",
        "upper": f"{a.upper()} {b} N <e> 1700000000 +0000\tup\n",
    }
    for name, text in cases.items():
        ref = f"refs/heads/odd_{name}"
        git(t.path, "update-ref", ref, a)
        with open(os.path.join(t.path, "logs", "refs", "heads", f"odd_{name}"), "w") as f:
            f.write(text)
        theirs = git(t.path, "reflog", "show", "--format=%H%x00%gs", ref).split("\n")[:-1]
        ours = [f"{e.new}\x00{e.message}" for e in t.repo.store.reflog(ref)]
        assert ours == theirs, name


def test_checkout_previous_when_the_reflog_is_odd_or_absent(t, cli):
    """``-`` takes the first " to " of a checkout line, as git does; a
    sub-agent's HEAD keeps no reflog, and switch - onto a commit wants a
    branch."""
    t.user("one")
    cli("branch", "feat", store=t.path)
    for rev in ("feat", "main"):
        assert cli("checkout", rev, store=t.path).code == 0
    head = t.head
    with open(os.path.join(t.path, "logs", "HEAD"), "a") as f:  # a line being written: no newline yet
        f.write(f"{head} {head} X <x@y> 1700000000 +0000\tcheckout: moving from main to feat")
    r = cli("checkout", "-", store=t.path)
    assert (r.code, r.out) == (0, "Switched to branch 'feat'\n"), r.err
    assert cli("checkout", "HEAD", "--detach", store=t.path).code == 0
    assert cli("checkout", "main", store=t.path).code == 0
    r = cli("switch", "-", store=t.path)
    head = t.repo.store.read_ref("refs/heads/main")
    assert (r.code, r.out, r.err) == (128, "", f"fatal: a branch is expected, got commit '{head[:7]}'\n"
                                      "hint: to go back to it detached, run 'tract checkout -'\n")
    assert cli("spawn", "ag", store=t.path).code == 0
    r = cli("-A", "ag", "checkout", "-", store=t.path)
    assert (r.code, r.err) == (128, "fatal: bad revision '-'\n"
                                    "hint: a sub-agent's HEAD keeps no reflog: name the branch or commit\n")


def test_undo_on_unborn_or_fresh_store(t, cli):
    r = cli("undo", store=t.path)
    assert (r.code, r.out, r.err) == (1, "", "error: nothing to undo on main\n")


REVS = [("HEAD", 0), ("main", 0), ("refs/heads/main", 0), ("HEAD~3", 3), ("HEAD^", 1), ("HEAD^^", 2),
        ("HEAD~1^", 2), ("main~4", 4), ("@", 0), ("main@{1}", 1), ("@{1}", 1), ("HEAD@{2}", 2),
        ("@{3}", 3)]


def test_revision_syntax(five, cli):
    t, c = five
    for rev, idx in REVS:
        r = cli("log", "-n", "1", "--json", rev, store=t.path)
        assert r.code == 0, (rev, r.err)
        assert json.loads(r.out)[0]["commit"] == c[idx], rev


def test_revision_hashes(five, cli):
    t, c = five
    for rev in (c[2], c[2][:7], c[2][:12], c[2].upper()[:10]):
        r = cli("compile", "-f", "text", rev, store=t.path)
        assert r.code == 0, (rev, r.err)
        assert r.out.endswith("[user]\nthree\n")


def test_abbreviated_hash_shared_with_a_tree_or_blob_names_the_commit(t, cli, git, monkeypatch):
    """git reads a revision as a commit: among the objects an abbreviated
    hash matches, the one commit is taken (libgit2 alone refuses it as
    ambiguous).  Fixed identity and dates make the ids the same every run;
    messages are added until some 4-digit prefix is shared by exactly one
    commit and other objects."""
    for k, v in (("GIT_AUTHOR_NAME", "Ada"), ("GIT_AUTHOR_EMAIL", "ada@example.com"),
                 ("GIT_COMMITTER_NAME", "Ada"), ("GIT_COMMITTER_EMAIL", "ada@example.com"),
                 ("GIT_AUTHOR_DATE", "@1700000000 +0000"), ("GIT_COMMITTER_DATE", "@1700000000 +0000")):
        monkeypatch.setenv(k, v)
    prefix = None
    for batch in range(20):
        t.import_messages([{"role": "user", "content": f"m{batch}-{i}"} for i in range(100)])
        kinds = {}
        for line in git(t.path, "cat-file", "--batch-all-objects",
                        "--batch-check=%(objectname) %(objecttype)").splitlines():
            oid, kind = line.split()
            kinds.setdefault(oid[:4], []).append((kind, oid))
        found = [(p, [o for k, o in objs if k == "commit"][0]) for p, objs in sorted(kinds.items())
                 if len(objs) > 1 and [k for k, _ in objs].count("commit") == 1]
        if found:
            prefix, commit = found[0]
            break
    assert prefix is not None
    assert git(t.path, "rev-parse", "--verify", "--quiet", prefix + "^{commit}").strip() == commit
    for rev, want in ((prefix, commit), (prefix + "~0", commit),
                      (prefix + "^", git(t.path, "rev-parse", commit + "^").strip())):
        r = cli("log", "-n", "1", "--json", rev, store=t.path)
        assert r.code == 0, (rev, r.err)
        assert json.loads(r.out)[0]["commit"] == want
    r = cli("show", "--json", prefix, store=t.path)
    assert r.code == 0, r.err
    r = cli("log", f"{prefix}~5000", store=t.path)  # an error names the revision as it was written
    assert (r.code, r.err) == (128, f"fatal: bad revision '{prefix}~5000'\n")


@pytest.mark.parametrize("rev", ["HEAD~9", "nosuch", "main@{99}", "0000000", "HEAD^{tree}x", "-p"])
def test_bad_revisions(five, cli, refs_of, rev):
    t, _ = five
    before = refs_of(t.path)
    for cmd in (["log", rev], ["compile", rev], ["reset", "--hard", rev], ["checkout", rev],
                ["diff", rev]):
        r = cli(*cmd, store=t.path)
        if rev == "-p":
            assert r.code == 129, (cmd, r.err)
            continue
        assert (r.code, r.out, r.err) == (128, "", f"fatal: bad revision '{rev}'\n"), cmd
    assert refs_of(t.path) == before


def test_unborn_head_revision(t, cli):
    r = cli("log", "HEAD", store=t.path)
    assert (r.code, r.err) == (128, "fatal: bad revision 'HEAD'\n")
    r = cli("reset", "--hard", "HEAD", store=t.path)
    assert r.code == 128


def test_reset_soft_to_head_is_a_no_op(five, cli):
    t, c = five
    r = cli("reset", "--soft", "HEAD", store=t.path)
    assert (r.code, r.out, r.err) == (0, f"HEAD is now at {c[0][:7]} user: five\n", "")
    assert t.head == c[0]


def test_reset_soft_squashes_a_commit_that_landed_meanwhile(five, git):
    """The squash is built on the tip it replaces: a commit another writer
    landed after reset read HEAD is kept in the squashed context."""
    from tract_git.ops import reset as _reset

    t, c = five
    repo = t.repo
    real_resolve = repo.resolve
    landed = []

    def resolve(rev):
        out = real_resolve(rev)
        if rev is None and not landed:  # reset has read HEAD: another writer commits
            from tract_git import Tract

            with Tract.open(t.path) as other:
                landed.append(other.user("landed meanwhile").commit)
        return out

    repo.resolve = resolve
    res = _reset.reset(repo, "HEAD~2", mode="soft")
    repo.resolve = real_resolve
    assert res.parent == c[2]  # the squash sits on REV ...
    squashed_from = git(t.path, "log", "-1", "--format=%(trailers:key=Tract-Squashed-From,valueonly)").strip()
    assert squashed_from == landed[0]  # ... and replaces the tip as it was when it landed
    assert contents(t) == ["one", "two", "three", "four", "five", "landed meanwhile"]
    assert git(t.path, "rev-parse", "HEAD~1").strip() == c[2]


def test_undo_a_checkout_returns_to_the_branch(five, cli, git):
    t, c = five
    cli("checkout", "HEAD~2", store=t.path)
    r = cli("undo", store=t.path)
    assert r.code == 0, r.err
    # the branch never moved: the message says HEAD went back onto it
    assert r.out == (f"Undid 'checkout: moving from main to {c[2]}': HEAD is back on main, at {c[0][:7]} "
                     f"(was detached at {c[2][:7]})\n")
    assert git(t.path, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert t.head == c[0]
    # a commit made while detached is undone on HEAD alone
    cli("checkout", "HEAD~1", store=t.path)
    t.user("detached work")
    assert t.undo().new == c[1]
    assert git(t.path, "symbolic-ref", "-q", "HEAD", check=False).returncode == 1
    assert git(t.path, "rev-parse", "main").strip() == c[0]


def test_unborn_branch_commands(t, cli):
    for args, out in ((("diff",), ""), (("show",), None), (("reflog",), ""), (("log", "--oneline"), "")):
        r = cli(*args, store=t.path)
        if out is None:
            assert (r.code, r.out, r.err) == (128, "", "fatal: HEAD has no commits yet (branch 'main' is unborn)\n"
                                                       "hint: add a message first, e.g. tract user 'hello'\n")
        else:
            assert (r.code, r.out) == (0, out), (args, r.err)
