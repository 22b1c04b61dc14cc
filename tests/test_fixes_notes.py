"""Token notes: a note blob ends with a newline (old ones without still
read), gc prunes the notes of the commits it pruned, and a note lost to a
crash is written back by the next commit on that branch."""

from __future__ import annotations

import json
import os

import pygit2


def _raw_note(store, commit):
    r = pygit2.Repository(store)
    tip = r.references["refs/notes/tract"].target
    tree = r[tip].tree
    for path in (f"{commit[:2]}/{commit[2:]}", commit):
        try:
            return r[tree[path].id].data
        except KeyError:
            continue
    return None


def test_note_ends_with_newline(t, git, fsck):
    t.user("one two three")
    raw = _raw_note(t.path, t.head)
    assert raw.endswith(b"}\n") and raw.count(b"\n") == 1
    out = git(t.path, "log", "-1", "--notes=tract", "--format=%N|")
    assert out.endswith("}\n|\n")  # the note does not run into what follows
    t.import_messages([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert _raw_note(t.path, t.head).endswith(b"}\n")
    fsck(t.path)


def test_old_note_without_newline_still_read(t, git):
    t.user("one two three")
    head = t.head
    note = json.loads(_raw_note(t.path, head))
    # as tract wrote notes before: a blob without a final newline
    blob = git(t.path, "hash-object", "-w", "--stdin", input=json.dumps(note)).strip()
    git(t.path, "notes", "--ref", "tract", "add", "-f", "-C", blob, head)
    assert not _raw_note(t.path, head).endswith(b"\n")
    from tract_git import Tract

    t2 = Tract.open(t.path, create=False)
    assert t2.repo.note(head).context_tokens == note["context_tokens"]


def test_gc_prunes_notes_of_pruned_commits(t, cli, git, fsck):
    t.user("keep me")
    t.user("drop me")
    dropped = t.head
    t.reset("HEAD~1")
    assert dropped in git(t.path, "notes", "--ref", "tract", "list")
    git(t.path, "reflog", "expire", "--expire-unreachable=now", "--all")
    r = cli("gc", "--keep-days", "0", "--json", store=t.path)
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["notes_pruned"] == 1 and d["after"]["loose_objects"] == 0
    assert git(t.path, "cat-file", "-e", dropped, check=False).returncode != 0
    listed = git(t.path, "notes", "--ref", "tract", "list")
    assert dropped not in listed and len(listed.splitlines()) == 1  # keep me
    assert git(t.path, "notes", "--ref", "tract", "prune", "-n").strip() == ""  # git agrees
    # a second gc prunes nothing
    assert json.loads(cli("gc", "--keep-days", "0", "--json", store=t.path).out)["notes_pruned"] == 0
    fsck(t.path)


def test_lost_note_is_written_back_by_next_commit(t, git, fsck):
    t.user("first")
    t.user("second")
    lost = t.head
    # a crash between the commit and its note: drop the note
    git(t.path, "notes", "--ref", "tract", "remove", lost)
    from tract_git import Tract

    t2 = Tract.open(t.path, create=False)
    t2.user("third")
    n = json.loads(git(t.path, "notes", "--ref", "tract", "show", lost))
    fresh = Tract.open(t.path, create=False).repo.compute_note(lost)
    assert (n["context_tokens"], n["entries"], n["tokens_added"]) == \
        (fresh.context_tokens, fresh.entries, fresh.tokens_added)
    # one notes commit carried both
    assert git(t.path, "show", "--stat", "--format=", "refs/notes/tract").count("|") == 2
    fsck(t.path)
