"""What a spawn writes (one commit, two refs; a note only when a reader
could not derive it cheaply) and that every reader still gets the right
token note: git as the oracle for objects, refs and notes."""

import json

import pytest

from tract_git import Tract
from tract_git.errors import AgentExistsError


@pytest.fixture
def parent(t):
    t.system("You are the lead.")
    t.user("Find the release date of X.")
    t.assistant("Looking.")
    return t


def _loose_objects(git, path) -> int:
    out = git(path, "count-objects", "-v")
    return int(next(ln.split()[1] for ln in out.splitlines() if ln.startswith("count:")))


def _note(git, path, commit):
    r = git(path, "notes", "--ref", "tract", "show", commit, check=False)
    return json.loads(r.stdout) if r.returncode == 0 else None


def _refs(git, path, prefix="refs/"):
    return dict(ln.split(" ", 1)[::-1] for ln in
                git(path, "for-each-ref", "--format=%(objectname) %(refname)", prefix).splitlines())


def test_spawn_writes_one_commit_and_two_refs(parent, git, fsck):
    pnote = parent.repo.note(parent.head)
    objects, refs = _loose_objects(git, parent.path), _refs(git, parent.path)
    child = parent.spawn("r")
    spawn = child.head
    assert _loose_objects(git, parent.path) == objects + 1  # the spawn commit, nothing else
    after = _refs(git, parent.path)
    assert {k: v for k, v in after.items() if k not in refs} == {
        "refs/tract/agents/r/base": spawn, "refs/tract/agents/r/heads/main": spawn}
    assert {k: after[k] for k in refs} == refs  # the notes ref did not move
    assert _note(git, parent.path, spawn) is None
    assert git(parent.path, "cat-file", "-t", "refs/tract/agents/r/HEAD", check=False).returncode != 0
    # the note every reader sees: the parent's counts, nothing added
    n = child.repo.note(spawn)
    assert (n.tokens_added, n.context_tokens, n.entries) == (0, pnote.context_tokens, 3)
    assert child.branch == "main"
    fsck(parent.path)


def test_spawn_note_is_derived_without_reading_the_context(parent, monkeypatch):
    pnote = parent.repo.note(parent.head)
    spawn = parent.spawn("r").head
    fresh = Tract.open(parent.path, create=False)  # another process: no cached note
    store_cls = type(fresh.repo.store)

    def no_reads(*a, **k):
        raise AssertionError("read the whole context")

    monkeypatch.setattr(store_cls, "read_items", no_reads)
    monkeypatch.setattr(store_cls, "read_blobs", no_reads)
    n = fresh.repo.note(spawn)
    assert (n.tokens_added, n.context_tokens, n.entries, n.encoding) == (
        0, pnote.context_tokens, 3, pnote.encoding)
    info = fresh.agent("r").repo  # agents, collapse and expand read the same note
    assert fresh.agents()[0].tokens == pnote.context_tokens and fresh.agents()[0].entries == 3
    assert info.note(spawn) == n


def test_first_agent_commit_writes_the_spawn_note(parent, git, fsck):
    ptotal = parent.repo.note(parent.head).context_tokens
    spawn = parent.spawn("r").head
    # in another process (a fresh open), as `tract -A r assistant ...` would
    child = Tract.open(parent.path, create=False).agent("r")
    child.assistant("X 1.0 was released on 2021-03-04.")
    assert _note(git, parent.path, spawn) == {
        "tokens_added": 0, "context_tokens": ptotal, "entries": 3, "encoding": child.repo.counter.label}
    top = _note(git, parent.path, child.head)
    assert top["entries"] == 4 and top["context_tokens"] > ptotal
    assert top["context_tokens"] - top["tokens_added"] == ptotal
    # in the same process too
    c2 = parent.spawn("s")
    c2.user("more")
    assert _note(git, parent.path, c2.repo.resolve("HEAD~1"))["context_tokens"] == ptotal
    fsck(parent.path)


def test_spawn_inherit_none_note_and_task_notes(parent, git):
    ptotal = parent.repo.note(parent.head).context_tokens
    a = parent.spawn("a", inherit="none")
    assert _note(git, parent.path, a.head) is None
    n = Tract.open(parent.path, create=False).repo.note(a.head)
    assert (n.tokens_added, n.context_tokens, n.entries) == (-ptotal, 0, 0)
    # a task in an empty context: still derived at once (one entry)
    b = parent.spawn("b", inherit="none", task="Look it up.")
    assert _note(git, parent.path, b.head) is None
    n = Tract.open(parent.path, create=False).repo.note(b.head)
    assert n.entries == 1 and n.context_tokens > 0 and n.tokens_added == n.context_tokens - ptotal
    # a task added to the whole inherited context: its note is written now
    c = parent.spawn("c", task="Look it up.")
    written = _note(git, parent.path, c.head)
    assert written["entries"] == 4
    assert written["context_tokens"] == ptotal + written["tokens_added"] and written["tokens_added"] > 0


def test_collapse_of_a_spawn_with_no_written_note(parent, git, fsck):
    child = parent.spawn("r", inherit="none", task="Look it up.")
    tip = child.head
    fresh = Tract.open(parent.path, create=False)
    res = fresh.collapse("r", summary="looked")
    note = _note(git, parent.path, res.commit.commit)
    assert (note["agent"], note["agent_entries"], note["agent_commits"]) == ("r", 1, 1)
    assert note["agent_tokens"] == fresh.repo.note(tip).context_tokens > 0
    assert [c.commit for c in fresh.expand("HEAD").commits] == [tip]
    fsck(parent.path)


def test_spawn_refuses_names_of_agents_without_main(parent, refs_of):
    child = parent.spawn("r")
    child.switch("alt", create=True)  # writes its HEAD
    child.assistant("on alt")
    child.repo.store.delete_ref("refs/tract/agents/r/heads/main")
    child.repo.store.delete_ref("refs/tract/agents/r/base")
    before = refs_of(parent.path)
    with pytest.raises(AgentExistsError):
        parent.spawn("r")
    # a pruned agent keeps only its collapse marker: its name stays taken
    other = parent.spawn("p", inherit="none")
    other.assistant("work")
    parent.collapse("p", summary="done")
    for name in ("refs/tract/agents/p/heads/main", "refs/tract/agents/p/base"):
        parent.repo.store.delete_ref(name)
    with pytest.raises(AgentExistsError):
        parent.spawn("p")
    def of_r(snap):
        return [ln for ln in snap["refs"].splitlines() if "/agents/r/" in ln]

    assert of_r(refs_of(parent.path)) == of_r(before)


def test_agent_without_head_works_on_main_then_switch_writes_it(parent, git, cli):
    parent.spawn("r")
    r = cli("-A", "r", "status", store=parent.path)
    assert r.code == 0, r.err
    r = cli("-A", "r", "assistant", "hi", store=parent.path)
    assert r.code == 0 and r.out.startswith("[r:main ")
    r = cli("-A", "r", "switch", "-c", "alt", store=parent.path)
    assert r.code == 0, r.err
    assert git(parent.path, "symbolic-ref", "refs/tract/agents/r/HEAD").strip() == \
        "refs/tract/agents/r/heads/alt"
