"""t.chat() / t.generate(): turns recorded in git, failures write nothing."""

import json
import os
import subprocess

import pytest

from tract_git import Tract
from tract_git.errors import ConfigError, LLMError, ModelNotConfiguredError

KEY = "sk-fake-SECRET-9f8e7d6c5b4a"
TOOLS = [{"type": "function", "function": {"name": "get_weather",
                                           "parameters": {"type": "object",
                                                          "properties": {"city": {"type": "string"}}}}}]


@pytest.fixture
def tm(store_path, fake_llm):
    """A Tract talking to the fake server."""
    with Tract.open(store_path, model=fake_llm.model, base_url=fake_llm.base_url, api_key=KEY) as tr:
        yield tr


def state(store):
    """Refs, HEAD, notes and the object count: all of a store's state."""
    refs = subprocess.run(["git", "--git-dir", store, "for-each-ref", "--format=%(refname) %(objectname)"],
                          capture_output=True, text=True).stdout
    head = subprocess.run(["git", "--git-dir", store, "symbolic-ref", "-q", "HEAD"],
                          capture_output=True, text=True).stdout
    objs = subprocess.run(["git", "--git-dir", store, "count-objects", "-v"],
                          capture_output=True, text=True).stdout
    return refs, head, objs


def test_chat_commits_question_and_reply_with_usage(tm, fake_llm, git, fsck):
    tm.system("You are terse.")
    fake_llm.reply("Paris.", usage=(20, 2))
    r = tm.chat("Capital of France?", temperature=0.2)
    assert r.text == "Paris." and str(r) == "Paris."
    assert r.usage.to_json() == {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}
    assert r.cost == pytest.approx(4.2e-06)
    assert r.generation_config == {"model": "openai/gpt-4o-mini", "temperature": 0.2}
    assert r.commit_info.subject == "assistant: Paris."
    assert r.commit_info.commit == tm.head
    assert r.user_commit.commit == r.commit_info.parent == r.context_commit
    # what the model saw: the context plus the question
    assert fake_llm.last["messages"] == [{"role": "system", "content": "You are terse."},
                                         {"role": "user", "content": "Capital of France?"}]
    assert fake_llm.last["temperature"] == 0.2
    assert git(tm.path, "log", "--format=%s").splitlines() == [
        "assistant: Paris.", "user: Capital of France?", "system: You are terse."]
    body = git(tm.path, "log", "-1", "--format=%B")
    assert body == (
        "assistant: Paris.\n\n"
        "Tract-Op: append\n"
        f"Tract-Entry: {r.commit_info.entry_ids[0]}\n"
        "Tract-Model: openai/gpt-4o-mini\n"
        'Tract-Generation: {"model":"openai/gpt-4o-mini","temperature":0.2}\n'
        "Tract-Usage: prompt=20 completion=2 total=22\n"
        "Tract-Cost: 0.0000042 USD\n"
        f"Tract-Context: {r.user_commit.commit}\n\n")
    assert git(tm.path, "log", "-1", "--format=%(trailers:key=Tract-Usage,valueonly)").strip() == \
        "prompt=20 completion=2 total=22"
    note = json.loads(git(tm.path, "notes", "--ref", "tract", "show", "HEAD"))
    assert note["llm"] == {"operation": "chat", "model": "openai/gpt-4o-mini",
                           "generation": {"model": "openai/gpt-4o-mini", "temperature": 0.2},
                           "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22},
                           "cost": 4.2e-06, "response_model": "gpt-4o-mini", "finish_reason": "stop",
                           "attempts": 1}
    assert note["entries"] == 3
    # plain `git log` shows the note too (notes.displayRef)
    assert '"usage": {"prompt_tokens": 20' in git(tm.path, "log", "-1")
    assert tm.compile().to_openai()[-1] == {"role": "assistant", "content": "Paris."}
    assert r.to_json()["commit"] == tm.head
    fsck(tm.path)


def test_chat_turn_writes_both_notes_in_one_notes_commit(tm, fake_llm, git, fsck, tmp_path):
    tm.system("You are terse.")
    notes_before = int(git(tm.path, "rev-list", "--count", "refs/notes/tract").strip())
    fake_llm.reply("Paris.", usage=(20, 2))
    r = tm.chat("Capital of France?")
    # the question's note and the reply's land together: one notes commit for the turn
    assert int(git(tm.path, "rev-list", "--count", "refs/notes/tract").strip()) == notes_before + 1
    listed = {line.split()[1] for line in git(tm.path, "notes", "--ref", "tract", "list").splitlines()}
    assert {r.user_commit.commit, r.commit_info.commit} <= listed
    q = json.loads(git(tm.path, "notes", "--ref", "tract", "show", r.user_commit.commit))
    a = json.loads(git(tm.path, "notes", "--ref", "tract", "show", r.commit_info.commit))
    assert (q["entries"], a["entries"]) == (2, 3)
    assert q["context_tokens"] + a["tokens_added"] == a["context_tokens"]
    # another process reads the same notes (nothing was left only in memory)
    fresh = Tract.open(tm.path)
    assert [e.entries for e in fresh.log(n=2)] == [3, 2]
    fsck(tm.path)


def test_tool_calls_are_structured_and_compile_back(tm, fake_llm, fsck):
    tm.user("Weather in Paris?")
    fake_llm.reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}])
    r = tm.generate(tools=TOOLS)
    assert r.text == ""
    assert r.tool_calls == [{"id": "call_1", "type": "function",
                             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    assert r.generation_config == {"model": "openai/gpt-4o-mini", "tools": ["get_weather"]}
    assert r.commit_info.subject == "assistant: tool calls: get_weather"
    assert tm.compile().to_openai()[-1] == {
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}
    assert tm.compile().to_anthropic()["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]}
    tm.tool("18C and sunny", tool_call_id="call_1")
    fake_llm.reply("It is 18C and sunny.")
    r = tm.generate(tools=TOOLS)
    assert fake_llm.last["messages"][-1] == {"role": "tool", "content": "18C and sunny",
                                             "tool_call_id": "call_1"}
    assert fake_llm.last["tools"] == TOOLS
    assert r.text == "It is 18C and sunny."
    fsck(tm.path)


def test_chat_failure_leaves_the_store_as_it_was(tm, fake_llm):
    tm.user("first")
    fake_llm.error(500, times=3)
    before = state(tm.path)
    with pytest.raises(LLMError) as ei:
        tm.chat("second", retries=2)
    assert str(ei.value) == ("model call failed after 3 attempts: openai/gpt-4o-mini: "
                             "server error (HTTP 500): fake error 500")
    assert state(tm.path) == before
    assert [e.content for e in tm.entries()] == ["first"]


def test_generate_failure_then_clean_retry(tm, fake_llm, git):
    tm.user("hello")
    before = state(tm.path)
    fake_llm.error(429, times=2)
    with pytest.raises(LLMError):
        tm.generate(retries=1)
    assert state(tm.path) == before
    fake_llm.reply("hi!")
    r = tm.generate()
    assert r.text == "hi!"
    assert git(tm.path, "log", "--format=%s").splitlines() == ["assistant: hi!", "user: hello"]


@pytest.mark.parametrize("setup,message", [
    (lambda f: f.reply(""), "malformed reply from openai/gpt-4o-mini: an empty message (no text, no tool calls)"),
    (lambda f: f.empty_choices(), "malformed reply from openai/gpt-4o-mini: no choices"),
    (lambda f: f.reply(tool_calls=[{"id": "c", "name": "get_weather", "arguments": "{oops"}]),
     "malformed reply: arguments of tool call 0 (get_weather) are not valid JSON"),
    (lambda f: f.raw(b"<html>gateway</html>", content_type="text/html"),
     "model call failed: openai/gpt-4o-mini: malformed reply: the response body is not a valid chat completion"),
])
def test_malformed_replies_are_errors_not_commits(tm, fake_llm, setup, message):
    tm.user("q")
    before = state(tm.path)
    setup(fake_llm)
    with pytest.raises(LLMError) as ei:
        tm.chat("again", tools=TOOLS)
    assert str(ei.value) == message
    assert state(tm.path) == before


def test_no_model_configured_writes_nothing(store_path):
    with Tract.open(store_path) as t:
        t.user("q")
        before = state(store_path)
        with pytest.raises(ModelNotConfiguredError) as ei:
            t.chat("hello?")
        assert str(ei.value) == "no model configured for 'chat'"
        assert state(store_path) == before


def test_generate_on_an_empty_context(tm):
    with pytest.raises(LLMError) as ei:
        tm.generate()
    assert str(ei.value) == "nothing to generate from: the context is empty"


def test_streaming_through_the_api(tm, fake_llm):
    fake_llm.reply("one two three")
    pieces = []
    r = tm.chat("count", on_text=pieces.append)
    assert pieces == ["one ", "two ", "three"] and r.text == "one two three"
    assert tm.compile().to_openai()[-1]["content"] == "one two three"


def test_session_parameters_and_per_call_override(store_path, fake_llm):
    with Tract.open(store_path, model="gpt-4o", base_url=fake_llm.base_url, temperature=0.3) as t:
        r = t.chat("a")
        assert fake_llm.last["model"] == "gpt-4o" and fake_llm.last["temperature"] == 0.3
        assert r.generation_config == {"model": "gpt-4o", "temperature": 0.3}
        r = t.chat("b", model="gpt-4o-mini", temperature=1.0, max_tokens=5)
        assert fake_llm.last["model"] == "gpt-4o-mini"
        assert r.generation_config == {"model": "gpt-4o-mini", "max_tokens": 5, "temperature": 1.0}
        # an operation default in the store beats the session default
        t.config("chat.model", "gpt-4.1-mini")
        t.chat("c")
        assert fake_llm.last["model"] == "gpt-4.1-mini"


def test_open_rejects_unknown_arguments(store_path):
    with pytest.raises(TypeError):
        Tract.open(store_path, modle="x")


def test_api_key_is_never_written_into_the_store(store_path, fake_llm, monkeypatch, git):
    monkeypatch.setenv("TRACT_API_KEY", KEY + "-env")
    with Tract.open(store_path, model=fake_llm.model, base_url=fake_llm.base_url, api_key=KEY) as t:
        t.system("sys")
        fake_llm.reply("r1")
        t.chat("q1")
        fake_llm.reply(tool_calls=[{"id": "c1", "name": "get_weather", "arguments": {"city": "x"}}])
        t.generate(tools=TOOLS)
        fake_llm.error(500, times=9)
        with pytest.raises(LLMError):
            t.chat("q2", retries=1)
        t.config("model", fake_llm.model)
        with pytest.raises(ConfigError):
            t.config("apiKey", KEY)
        with pytest.raises(ConfigError):
            t.config("chat.api_key", KEY)
    assert fake_llm.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    # every object (commits, trees, blobs, notes), through git itself
    objs = subprocess.run(["git", "--git-dir", store_path, "cat-file", "--batch-all-objects", "--batch"],
                          capture_output=True).stdout
    assert b"Tract-Model" in objs and b"q1" in objs  # the scan sees the turns
    assert KEY.encode() not in objs and b"SECRET" not in objs
    assert b"skfakeSECRET" not in objs.replace(b"-", b"")
    notes = git(store_path, "log", "--notes=tract", "--format=%N")
    assert '"llm"' in notes and KEY not in notes
    # and every file of the store: config, refs, reflogs, hooks, packs...
    for root, _, files in os.walk(store_path):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert b"SECRET" not in fh.read(), os.path.join(root, f)


def test_compiled_context_after_turns_matches_a_fresh_compile(tm, fake_llm, store_path):
    """chat/generate seed the compile cache with the new context; it must
    be exactly what compiling the snapshot from scratch gives."""
    tm.system("sys")
    tm.chat("q1")
    tm.user("u2", type="reasoning")
    fake_llm.reply(tool_calls=[{"id": "c1", "name": "get_weather", "arguments": {"city": "x"}}])
    tm.generate(tools=TOOLS)
    tm.tool("out", tool_call_id="c1")
    tm.generate()
    tm.chat("q3")
    warm = tm.compile()
    with Tract.open(store_path) as fresh:
        cold = fresh.compile()
        assert warm.to_dicts() == cold.to_dicts()
        assert warm.to_openai() == cold.to_openai()
        assert warm.to_anthropic() == cold.to_anthropic()
        assert (warm.commit, warm.tree, warm.token_count) == (cold.commit, cold.tree, cold.token_count)
    assert [m.content for m in warm.messages][-2:] == ["q3", "ok"]


def test_chat_stream_iterates_then_holds_the_result(tm, fake_llm, git):
    fake_llm.reply("one two three", usage=(4, 3))
    s = tm.chat_stream("count")
    assert list(s) == ["one ", "two ", "three"]
    assert s.result.text == "one two three" and s.result.usage.total_tokens == 7
    assert s.result.commit == tm.head
    tm.user("more")
    fake_llm.reply("four five")
    assert tm.generate_stream().text == "four five"
    assert git(tm.path, "log", "-1", "--format=%s") == "assistant: four five\n"


def test_chat_stream_error_is_raised_and_nothing_written(tm, fake_llm):
    tm.user("q")
    before = state(tm.path)
    fake_llm.error(401)
    s = tm.chat_stream("again")
    with pytest.raises(LLMError) as ei:
        list(s)
    assert str(ei.value) == "model call failed: openai/gpt-4o-mini: authentication failed (HTTP 401): fake error 401"
    assert s.result is None
    assert state(tm.path) == before


def test_turns_send_what_compile_gives_under_a_branch_budget(tm, fake_llm):
    from tract_git.errors import BudgetError

    tm.system("sys", priority="pinned")
    for i in range(6):
        tm.user(f"message number {i} " + "word " * 20)
    tm.config("budget", "80")
    tm.config("compile.strategy", "window")
    expected = tm.compile_budget().to_openai()
    assert len(expected) < 7  # the window dropped the oldest
    tm.chat("latest?")
    assert fake_llm.last["messages"] == expected + [{"role": "user", "content": "latest?"}]
    tm.config("compile.strategy", "full")
    before = state(tm.path)
    n = len(fake_llm.requests)
    with pytest.raises(BudgetError):
        tm.generate()
    assert len(fake_llm.requests) == n and state(tm.path) == before


def test_chat_turn_moves_the_branch_once_with_a_reflog_line_per_commit(tm, fake_llm, git, fsck, monkeypatch):
    """Without hooks both commits of a turn land with one compare-and-swap
    of the branch: a reader sees the whole turn or none of it, and the
    branch's lock and rename are paid once.  The reflogs still get one line
    per commit, as two appends would write."""
    from tract_git.store import odb

    tm.system("You are terse.")
    before = tm.head
    moved = []
    real = odb.Refs.update

    def spy(self, name, *a, **k):
        moved.append(name)
        return real(self, name, *a, **k)

    monkeypatch.setattr(odb.Refs, "update", spy)
    fake_llm.reply("Paris.")
    r = tm.chat("Capital of France?")
    assert moved.count("refs/heads/main") == 1
    u = r.user_commit.commit
    assert r.commit_info.parent == u == r.context_commit and r.user_commit.parent == before
    for ref in ("refs/heads/main", "HEAD"):
        lines = git(tm.path, "reflog", "show", "--format=%H %gs", "-n", "3", ref).splitlines()
        assert lines == [f"{r.commit} append: assistant: Paris.", f"{u} append: user: Capital of France?",
                         f"{before} append: system: You are terse."]
        with open(os.path.join(tm.path, "logs", ref), "rb") as f:
            raw = f.read().splitlines()[-2:]
        assert [line.split()[:2] for line in raw] == [[before.encode(), u.encode()], [u.encode(), r.commit.encode()]]
    fsck(tm.path)


def test_chat_turn_lands_on_a_branch_another_writer_moved(tm, fake_llm, git, fsck, monkeypatch):
    """Another writer moving the branch just before the turn lands: both
    commits are made again on its commit.  The question's commit now holds
    an entry the model never saw, so the reply names the compiled commit
    as its context and the question's commit apart (Tract-Question): the
    record says what was sent."""
    from tract_git.store.repo import Store

    tm.system("You are terse.")
    real = Store.update_ref_via
    calls = []

    def racing(self, name, steps, old):
        calls.append(old)
        if len(calls) == 1:
            with Tract.open(tm.path) as other:
                other.user("meanwhile")
        return real(self, name, steps, old)

    monkeypatch.setattr(Store, "update_ref_via", racing)
    fake_llm.reply("Paris.")
    r = tm.chat("Capital of France?")
    assert len(calls) == 2 and calls[0] != calls[1]
    assert git(tm.path, "log", "--format=%s").splitlines() == [
        "assistant: Paris.", "user: Capital of France?", "user: meanwhile", "system: You are terse."]
    assert r.user_commit.parent == calls[1] and r.commit_info.parent == r.user_commit.commit
    assert r.context_commit == calls[0]  # the system prompt's commit: what was compiled
    body = git(tm.path, "log", "-1", "--format=%B")
    assert f"Tract-Context: {calls[0]}\nTract-Question: {r.user_commit.commit}\n" in body
    sent = [m["content"] for m in fake_llm.requests[-1].body["messages"]]
    assert sent == ["You are terse.", "Capital of France?"]
    assert [e.entries for e in Tract.open(tm.path).log(n=2)] == [4, 3]
    fsck(tm.path)


def test_chat_with_a_pre_commit_hook_commits_one_by_one(tm, fake_llm, git):
    """With a pre-commit hook the two commits land one after the other, as
    any appends do: a hook refusing only the reply leaves the question
    committed, and generate() then answers it (docs/llm.md)."""
    from tract_git.errors import HookRefusedError

    hook = os.path.join(tm.path, "hooks", "pre-commit")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\nif grep -q Paris; then echo 'no capitals' >&2; exit 1; fi\nexit 0\n")
    os.chmod(hook, 0o755)
    fake_llm.reply("Paris.")
    with pytest.raises(HookRefusedError):
        tm.chat("Capital of France?")
    assert git(tm.path, "log", "--format=%s").splitlines() == ["user: Capital of France?"]
    os.unlink(hook)
    fake_llm.reply("It is Paris.")
    tm.generate()
    assert git(tm.path, "log", "--format=%s").splitlines() == ["assistant: It is Paris.", "user: Capital of France?"]
