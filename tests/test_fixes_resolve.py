"""``tract resolve`` takes every entry reference form: a position, an id or
a prefix of one, a commit that touched the entry."""

from __future__ import annotations

import pytest


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


def _done(cli, eid, how):
    return f"Resolved entry {eid} ({'edit/edit'}) with {how}; all conflicts resolved: run 'tract merge --continue'.\n"


@pytest.mark.parametrize("ref", ["1", "-2", "#1", "ID", "ID8", "#ID8", "HEAD", "feat~1"])
def test_resolve_by_any_reference(merging, cli, refs_of, git, fsck, ref):
    t = merging
    eid = t.entries()[1].id
    ref = {"ID": eid, "ID8": eid[:8], "#ID8": "#" + eid[:8]}.get(ref, ref)
    before = refs_of(t.path)
    r = cli("resolve", ref, "--theirs")
    assert (r.code, r.out, r.err) == (0, _done(cli, eid, "theirs"), "")
    assert refs_of(t.path) == before
    assert cli("merge", "--continue").code == 0
    assert [e.content for e in t.entries()] == ["You are terse.", "feat version", "a1", "feat q2"]
    fsck(t.path)


@pytest.mark.parametrize("ref, err", [
    ("0", "fatal: entry '0' is not in conflict\nhint: tract status lists the entries in conflict\n"),
    ("2", "fatal: entry '2' is not in conflict\nhint: tract status lists the entries in conflict\n"),
    ("HEAD~1", "fatal: entry 'HEAD~1' is not in conflict\nhint: tract status lists the entries in conflict\n"),
    ("9", "fatal: no entry at position 9 (the context has 3 entries)\n"),
    ("zzzz", "fatal: entry 'zzzz' is not in conflict\nhint: tract status lists the entries in conflict\n"),
])
def test_resolve_not_in_conflict(merging, cli, refs_of, ref, err):
    t = merging
    before = refs_of(t.path)
    state = open(t.path + "/TRACT_OP_STATE").read()
    r = cli("resolve", ref, "--ours")
    assert (r.code, r.out, r.err) == (128, "", err)
    assert refs_of(t.path) == before
    assert open(t.path + "/TRACT_OP_STATE").read() == state
