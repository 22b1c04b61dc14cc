"""Rough edges: 'Already on', fatal (not usage) exit codes for a revision of
the wrong kind, the option named in an error, counted nouns."""

from __future__ import annotations

import json

import pytest

from tract_git.words import plural


def test_switch_to_current_branch(t, cli, git, refs_of):
    t.user("hi")
    before = (refs_of(t.path), git(t.path, "reflog", "show", "HEAD"))
    r = cli("switch", "main")
    assert (r.code, r.out, r.err) == (0, "Already on 'main'\n", "")
    r = cli("checkout", "main")
    assert (r.code, r.out, r.err) == (0, "Already on 'main'\n", "")
    assert json.loads(cli("switch", "--json", "main").out)["already"] is True
    assert (refs_of(t.path), git(t.path, "reflog", "show", "HEAD")) == before  # no reflog entry
    t.branch("b")
    r = cli("switch", "b")
    assert (r.code, r.out) == (0, "Switched to branch 'b'\n")


def test_wrong_kind_of_commit_is_fatal(t, cli, refs_of):
    t.user("hi")
    head = t.head[:7]
    before = refs_of(t.path)
    r = cli("show", "--dropped", "HEAD")
    assert (r.code, r.out, r.err) == (128, "", f"fatal: commit {head} is not a compress (Tract-Op: append)\n")
    r = cli("expand", "HEAD")
    assert (r.code, r.out, r.err) == (128, "", f"fatal: {head} is not a collapse commit\n")
    assert refs_of(t.path) == before


def test_compress_summary_and_file_names_the_options(t, cli, tmp_path, refs_of):
    for i in range(4):
        t.user(f"m{i}")
    (tmp_path / "f").write_text("s\n")
    before = refs_of(t.path)
    r = cli("compress", "--summary", "x", "--summary-file", str(tmp_path / "f"))
    assert (r.code, r.out, r.err) == (
        129, "", "error: give the summary with --summary or with --summary-file, not both\n")
    assert refs_of(t.path) == before


def test_counted_nouns(t, cli, tmp_path):
    assert [plural(0, "commit"), plural(1, "commit"), plural(2, "commit")] == ["0 commits", "1 commit",
                                                                              "2 commits"]
    assert [plural(1, "entry"), plural(3, "entry")] == ["1 entry", "3 entries"]
    t.user("only")
    r = cli("edit", "5", "x")
    assert (r.code, r.err) == (128, "fatal: no entry at position 5 (the context has 1 entry)\n")
    r = cli("import", "-", input=b'[{"role": "user", "content": "a"}]')
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].endswith("] imported 1 message (1 commit)")
