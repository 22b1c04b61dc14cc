"""Spawn, collapse, expand and list sub-agents: API, CLI and git as oracle."""

import pytest

from tract_git.errors import (
    AgentExistsError,
    HistoryPrunedError,
    NothingToDoError,
    UnknownAgentError,
    TractError,
    UsageError,
)


@pytest.fixture
def parent(t):
    t.system("You are the lead.")
    t.user("Find the release date of X.")
    return t


def test_spawn_creates_child_refs_and_trailers(parent, git, fsck):
    origin = parent.head
    child = parent.spawn("researcher", task="Look it up.")
    assert child.agent_name == "researcher"
    assert child.branch == "main"
    refs = git(parent.path, "for-each-ref", "--format=%(refname)", "refs/tract/agents/").split()
    # two refs: its branch and its base; no HEAD until it switches (it works on main)
    assert refs == ["refs/tract/agents/researcher/base", "refs/tract/agents/researcher/heads/main"]
    spawn = child.head
    assert git(parent.path, "rev-parse", f"{spawn}^").strip() == origin
    tr = git(parent.path, "log", "-1", "--format=%(trailers)", spawn)
    assert f"Tract-Spawned-From: {origin}" in tr
    assert "Tract-Agent: researcher" in tr and "Tract-Op: spawn" in tr
    assert "Tract-Spawned-By: refs/heads/main" in tr
    # the child starts with the parent's context plus its task; the parent is unchanged
    assert [e.content for e in child.entries()] == [
        "You are the lead.", "Find the release date of X.", "Look it up."]
    assert parent.head == origin and len(parent.entries()) == 2
    fsck(parent.path)


def test_spawn_inherit_none_and_many_children(parent, git):
    origin = parent.head
    a = parent.spawn("a", inherit="none")
    b = parent.spawn("b", inherit="none", task="t")
    c = parent.spawn("c")
    assert a.entries() == [] and [e.content for e in b.entries()] == ["t"]
    assert len(c.entries()) == 2
    # nothing copied: the child's snapshot is the parent's very tree
    assert git(parent.path, "rev-parse", f"{c.head}^{{tree}}") == git(parent.path, "rev-parse", f"{origin}^{{tree}}")
    assert git(parent.path, "rev-parse", f"{a.head}^{{tree}}").strip() == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
    assert [x.spawned_from for x in parent.agents()] == [origin] * 3
    assert [x.name for x in parent.agents()] == ["a", "b", "c"]


def test_spawn_errors_leave_store_unchanged(parent, refs_of):
    parent.spawn("r")
    before = refs_of(parent.path)
    with pytest.raises(AgentExistsError):
        parent.spawn("r")
    with pytest.raises(UsageError):
        parent.spawn("bad/name")
    with pytest.raises(UsageError):
        parent.spawn("x.lock")
    assert refs_of(parent.path) == before


def test_child_context_is_independent(parent):
    child = parent.spawn("r")
    child.assistant("step 1")
    child.assistant("X was released in 2021.")
    parent.user("meanwhile in the parent")
    assert [e.content for e in child.entries()][-1] == "X was released in 2021."
    assert parent.entries()[-1].content == "meanwhile in the parent"
    # HEAD~1 and branch names mean the child's own
    assert child.log("HEAD~1", n=1)[0].subject == "assistant: step 1"
    assert parent.log("HEAD~1", n=1)[0].subject == "user: Find the release date of X."


def test_collapse_links_history(parent, git, fsck):
    child = parent.spawn("researcher", task="Look it up.")
    child.assistant("Searching.")
    child.assistant("X was released on 2021-03-04.")
    tip = child.head
    parent.user("meanwhile")
    before = parent.head
    res = parent.collapse(child)
    assert res.commits == 3 and res.linked
    c = res.commit.commit
    assert git(parent.path, "rev-list", "--parents", "-1", c).split() == [c, before, tip]
    tr = git(parent.path, "log", "-1", "--format=%(trailers)", c)
    assert f"Tract-Collapsed-From: {tip}" in tr and "Tract-Agent: researcher" in tr
    assert "Tract-Op: collapse" in tr
    last = parent.entries()[-1]
    assert (last.role, last.type, last.name) == ("assistant", "output", "researcher")
    assert "Final output:\nX was released on 2021-03-04." in last.content
    assert "3 commits, 3 entries" in last.content
    graph = git(parent.path, "log", "--graph", "--format=%s", "main")
    assert graph.splitlines()[:3] == [
        "*   collapse researcher: 3 commits, 3 entries",
        "|\\  ",
        "| * assistant: X was released on 2021-03-04.",
    ]
    [info] = parent.agents()
    assert (info.state, info.collapse, info.commits) == ("collapsed", c, 3)
    with pytest.raises(NothingToDoError):
        parent.collapse("researcher")
    # more work makes it active again; a second collapse brings that in
    child.assistant("Also: X 2.0 in 2023.")
    assert parent.agents()[0].state == "active"
    res2 = parent.collapse("researcher", summary="Dates of X and X 2.0.")
    assert "Summary of its work:\nDates of X and X 2.0." in parent.entries()[-1].content
    assert res2.commit.commit != c
    fsck(parent.path)


def test_collapse_errors(parent, refs_of):
    before = refs_of(parent.path)
    with pytest.raises(UnknownAgentError):
        parent.collapse("ghost")
    child = parent.spawn("r")
    with pytest.raises(UsageError):
        child.collapse("r")
    assert refs_of(parent.path)["head"] == before["head"]


def test_collapse_again_after_undo_or_on_another_branch(parent, cli):
    """A collapse undone (or on another branch) brought nothing into this
    context: collapsing again brings the whole work; the agent is 'active'
    meanwhile, and a detach-mode gc keeps it."""
    parent.branch("other")
    child = parent.spawn("r")
    child.assistant("result 42")
    parent.collapse("r", summary="s")
    parent.undo()
    assert [a.state for a in parent.agents()] == ["active"]
    assert cli("config", "agents.history", "detach", store=parent.path).code == 0
    assert parent.gc().agents_pruned == []  # its work is on no branch: kept
    res = parent.collapse("r", summary="s")
    assert res.commit.commit == parent.head and res.commits == 2
    assert parent.entries()[-1].content.endswith("result 42\n\nSummary of its work:\ns\n")
    with pytest.raises(NothingToDoError):
        parent.collapse("r", summary="s")
    parent.switch("other")  # the same agent's work, collapsed on main only
    parent.collapse("r", summary="s2")
    assert parent.entries()[-1].content.endswith("Summary of its work:\ns2\n")


def test_expand_lists_agent_commits(parent):
    child = parent.spawn("r", task="go")
    child.assistant("one")
    child.assistant("two")
    res = parent.collapse(child)
    ex = parent.expand("HEAD")
    assert ex.agent == "r" and ex.collapse.commit == res.commit.commit
    assert [e.subject for e in ex.commits] == ["assistant: two", "assistant: one",
                                              f"spawn r from {ex.spawned_from[:7]}: go"]
    assert [e.subject for e in parent.expand("r").commits] == [e.subject for e in ex.commits]
    with pytest.raises(TractError, match="is not a collapse commit$") as ei:
        parent.expand("HEAD~1")
    assert ei.value.exit_code == 128


def test_nested_agents(parent):
    child = parent.spawn("lead2")
    grandchild = child.spawn("helper", task="sub-task")
    grandchild.assistant("sub-result")
    res = child.collapse(grandchild)
    assert res.commit.branch == "refs/tract/agents/lead2/heads/main"
    assert "sub-result" in child.entries()[-1].content
    parent.collapse(child)
    states = {a.name: a.state for a in parent.agents()}
    assert states == {"helper": "collapsed", "lead2": "collapsed"}


def test_detached_history_prune_and_expand_says_so(parent, git, fsck):
    parent.config("agents.history", "detach")
    child = parent.spawn("r", inherit="none")
    child.assistant("private work")
    tip = child.head
    res = parent.collapse(child)
    assert not res.linked
    assert len(git(parent.path, "rev-list", "--parents", "-1", res.commit.commit).split()) == 2
    assert parent.expand("HEAD").commits[0].commit == tip
    assert parent.repo.store.list_refs("refs/tract/agents/r/heads/")
    other = parent.spawn("still-active")
    other.assistant("not collapsed: kept")
    from tract_git.ops import gc

    res = gc.gc(parent.repo, keep_days=0)
    assert res.agents_pruned == ["r"]
    assert git(parent.path, "for-each-ref", "--format=%(refname)", "refs/tract/agents/r/").split() == [
        "refs/tract/agents/r/collapsed"]
    assert git(parent.path, "cat-file", "-e", tip, check=False).returncode != 0
    assert git(parent.path, "cat-file", "-e", other.head, check=False).returncode == 0
    from tract_git import Tract

    fresh = Tract.open(parent.path)  # another process, after gc
    with pytest.raises(HistoryPrunedError) as ei:
        fresh.expand("HEAD")
    assert str(ei.value).startswith("the history of agent 'r' behind ")
    assert [(a.name, a.state) for a in fresh.agents()] == [("r", "pruned"), ("still-active", "active")]
    fsck(parent.path)


def test_cli_spawn_collapse_expand_agents(cli):
    assert cli("init").code == 0
    assert cli("user", "hi").code == 0
    r = cli("spawn", "r", "--task", "do it")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].startswith("[r:main ")
    assert r.out.splitlines()[1].startswith(" spawned from ")
    r = cli("-A", "r", "assistant", "done")
    assert r.code == 0 and r.out.startswith("[r:main ")
    r = cli("agents")
    assert r.code == 0 and r.out.split()[:3] == ["r", "active", "main"]
    r = cli("collapse", "r")
    assert r.code == 0 and r.out.startswith("[main ") and " collapse r: 2 commits" in r.out
    r = cli("expand", "r")
    lines = r.out.splitlines()
    assert r.code == 0 and len(lines) == 4
    assert lines[1].startswith("    | ") and lines[1].endswith("assistant: done")
    assert lines[3].startswith("    (2 commits of agent 'r' spawned from ")
    r = cli("collapse", "r")
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith("error: agent 'r' is already collapsed in ")
    r = cli("-A", "ghost", "log")
    assert (r.code, r.err) == (128, "fatal: no such agent 'ghost'\n"
                                    "hint: see 'tract agents' for the agents in this store\n")
    r = cli("spawn", "r")
    assert (r.code, r.err) == (128, "fatal: agent 'r' already exists\n")
    r = cli("collapse", "r", "--summary", "x", "--model", "m")
    assert r.code == 129
    r = cli("agents", "--json")
    import json

    assert json.loads(r.out)[0]["state"] == "collapsed"


def test_collapse_with_a_model_summary(store_path, fake_llm):
    from tract_git import Tract

    with Tract.open(store_path, model=fake_llm.model, base_url=fake_llm.base_url, api_key="sk-test") as t:
        t.user("task")
        child = t.spawn("r")
        child.assistant("the answer is 42")
        fake_llm.reply("Worked out the answer: 42.")
        res = t.collapse(child, model=fake_llm.model)
        assert res.summary == "Worked out the answer: 42."
        assert "Summary of its work:\nWorked out the answer: 42." in t.entries()[-1].content
        sent = fake_llm.last["messages"]
        assert sent[0]["role"] == "system" and "[assistant] the answer is 42" in sent[1]["content"]
        assert child.head == res.collapsed_from


def test_offline_summary_is_the_compression_summarizer(parent):
    child = parent.spawn("r", inherit="none", task="count to three")
    child.assistant("one two three")
    res = parent.collapse(child)
    from tract_git import summarize

    assert res.summary.splitlines()[0] == summarize.header(2)
    assert "one two three" in res.summary


def test_agent_has_its_own_branches(parent, git):
    child = parent.spawn("r")
    child.assistant("on main")
    child.switch("alt", create=True)
    child.assistant("on alt")
    assert child.branch == "alt"
    assert sorted(b.name for b in child.branches()) == ["alt", "main"]
    assert [b.name for b in parent.branches()] == ["main"]
    assert git(parent.path, "symbolic-ref", "refs/tract/agents/r/HEAD").strip() == \
        "refs/tract/agents/r/heads/alt"
    assert git(parent.path, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    child.switch("main")
    res = child.merge("alt")
    assert res.status == "fast-forward"
    assert child.entries()[-1].content == "on alt"
    assert child.log("alt", n=1)[0].subject == "assistant: on alt"
    assert [a.branch for a in parent.agents()] == ["main"]


def test_cli_collapse_with_model(cli, fake_llm, tmp_path):
    env = fake_llm.env
    assert cli("init").code == 0
    assert cli("user", "task").code == 0
    assert cli("spawn", "r").code == 0
    assert cli("-A", "r", "assistant", "42", env=env).code == 0
    fake_llm.reply("Found 42.")
    r = cli("collapse", "r", "--model", fake_llm.model, env=env)
    assert r.code == 0, r.err
    assert r.out.startswith("[main ")
    from tract_git import Tract

    last = Tract.open(str(tmp_path / "store"), create=False).entries()[-1].content
    assert last.endswith("Summary of its work:\nFound 42.\n")
    fake_llm.error(400)
    assert cli("-A", "r", "assistant", "more", env=env).code == 0
    before = cli("log", "--oneline").out
    r = cli("collapse", "r", "--model", fake_llm.model, env=env)
    assert r.code == 128 and r.err.startswith("fatal: ") and len(r.err.splitlines()) >= 1
    assert cli("log", "--oneline").out == before  # a failed model call writes nothing
