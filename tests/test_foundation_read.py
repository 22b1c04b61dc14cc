"""Acceptance: the read path — compile formats and its cache, log, status
with budget warnings, show, diff."""

from __future__ import annotations

import json

import pytest
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)

CALLS = [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]


@pytest.fixture
def convo(t):
    t.system("You are terse.")
    t.system("Answer in English.")
    t.user("Weather in Oslo?", name="ann")
    t.assistant("Let me look.", tool_calls=CALLS)
    t.tool('{"temp": 3}', tool_call_id="call_1", name="get_weather")
    t.user("dropped", priority="skip")
    t.user("And tomorrow?")
    t.assistant("Colder.")
    return t


def test_compile_openai(convo):
    assert convo.compile().to_openai() == [
        {"role": "system", "content": "You are terse."},
        {"role": "system", "content": "Answer in English."},
        {"role": "user", "content": "Weather in Oslo?", "name": "ann"},
        {"role": "assistant", "content": "Let me look.", "tool_calls": CALLS},
        {"role": "tool", "content": '{"temp": 3}', "tool_call_id": "call_1"},
        {"role": "user", "content": "And tomorrow?"},
        {"role": "assistant", "content": "Colder."},
    ]


def test_tool_result_without_a_call_id_is_a_user_turn(t, cli):
    """tract-tool(1): without --tool-call-id, compile sends the result as
    a user turn (a Chat Completions ``tool`` message needs the id of the
    call it answers)."""
    t.user("run grep")
    r = cli("tool", "--name", "grep", "3 matches", store=t.path)
    assert r.code == 0, r.err
    expect = [{"role": "user", "content": "run grep"}, {"role": "user", "content": "3 matches", "name": "grep"}]
    assert t.compile().to_openai() == expect
    r = cli("compile", "-f", "openai", store=t.path)
    assert json.loads(r.out) == expect
    assert t.compile().to_anthropic()["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "run grep"}, {"type": "text", "text": "3 matches"}]}]


def test_compile_anthropic(convo):
    assert convo.compile().to_anthropic() == {
        "system": "You are terse.\n\nAnswer in English.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"}}]},
            # the tool result and the next user turn merge into one user turn
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": '{"temp": 3}'},
                {"type": "text", "text": "And tomorrow?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Colder."}]},
        ],
    }


def test_compile_dicts_and_text(convo):
    d = convo.compile().to_dicts()
    assert [m["role"] for m in d] == ["system", "system", "user", "assistant", "tool", "user", "assistant"]
    assert d[3]["tool_calls"] == CALLS and d[4]["tool_call_id"] == "call_1"
    assert {"id", "role", "type", "priority", "content"} <= set(d[0])
    assert d[0]["type"] == "instruction" and d[4]["type"] == "tool_io"
    assert convo.compile().to_text() == (
        "[system]\nYou are terse.\n\n[system]\nAnswer in English.\n\n[user ann]\nWeather in Oslo?\n\n"
        "[assistant]\nLet me look.\n-> get_weather({\"city\":\"Oslo\"})\n\n"
        "[tool get_weather call_1]\n{\"temp\": 3}\n\n[user]\nAnd tomorrow?\n\n[assistant]\nColder.\n")


def test_compile_cli_formats_match_api(convo, cli):
    api = convo.compile()
    for fmt, expect in (("openai", api.to_openai()), ("anthropic", api.to_anthropic()),
                        ("dicts", api.to_dicts())):
        r = cli("compile", "--format", fmt, store=convo.path)
        assert r.code == 0 and r.err == ""
        assert json.loads(r.out) == expect
    r = cli("compile", "-f", "text", store=convo.path)
    assert r.out == api.to_text()
    r = cli("compile", "--tokens", store=convo.path)
    assert r.err == f"{api.token_count} tokens, 7 messages, o200k_base\n"


def test_compile_skip_dropped_order_kept_and_rev(convo):
    c = convo.compile()
    assert "dropped" not in [m.content for m in c.messages]
    assert len(c) == 7
    assert c.token_count == convo.status().tokens
    old = convo.compile("HEAD~4")
    assert [m.content for m in old.messages][-1] == "Let me look."
    convo.unpin(5)  # un-skip
    assert [m["content"] for m in convo.compile().to_openai()][5] == "dropped"


def test_compile_anthropic_assistant_without_text(t):
    t.user("q")
    t.assistant("", tool_calls=CALLS)
    t.tool("r")  # no tool call id: plain text in a user turn
    msgs = t.compile().to_anthropic()["messages"]
    assert msgs[1] == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"}}]}
    assert msgs[2] == {"role": "user", "content": [{"type": "text", "text": "r"}]}
    assert t.compile().to_openai()[1]["content"] is None


def test_compile_unborn_branch(t, cli):
    c = t.compile()
    assert (c.to_openai(), c.to_anthropic(), c.token_count, c.commit) == ([], {"system": "", "messages": []}, 0, None)
    r = cli("compile", store=t.path)
    assert (r.code, r.out, r.err) == (0, "[]\n", "")
    r = cli("compile", "-f", "text", store=t.path)
    assert (r.code, r.out) == (0, "")


def test_compile_cache_hit_same_tree(t, git, monkeypatch):
    t.user("a")
    t.assistant("b")
    repo = t.repo
    first = t.compile()
    calls = []
    from tract_git.store import entrycache

    real = entrycache.read_entries
    monkeypatch.setattr(entrycache, "read_entries", lambda store, tree: calls.append(tree) or real(store, tree))
    second = t.compile()
    assert calls == []  # nothing read again
    assert second.messages is first.messages
    assert second.to_openai() == first.to_openai()
    # another commit with the same tree (made by plain git) hits the cache too
    same = git(t.path, "commit-tree", "-p", "HEAD", "-m", "same tree", "HEAD^{tree}").strip()
    third = t.compile(same)
    assert calls == [] and third.commit == same and third.messages is first.messages
    # a new tree is compiled
    t.user("c")
    assert len(t.compile()) == 3 and len(calls) >= 1


# ----------------------------------------------------------------- log
def test_log_formats(t, cli):
    t.user("hello")
    t.assistant("world")
    t.pin(0)
    s = t.path
    r = cli("log", "--oneline", store=s)
    lines = r.out.splitlines()
    assert len(lines) == 3 and r.err == ""
    h = [c.commit[:7] for c in t.log()]
    assert lines[0] == f"{h[0]} (HEAD -> main) pin          +0        2  pin user {t.entries()[0].id[:8]}: hello"
    assert lines[1] == f"{h[1]} append       +1        2  assistant: world"
    assert lines[2] == f"{h[2]} append       +1        1  user: hello"
    r = cli("log", "-n", "1", store=s)
    assert r.out.splitlines()[0] == f"commit {t.head} (HEAD -> main)"
    assert "Author: Test Agent <agent@example.com>" in r.out
    assert "Date:   Tue Nov 14 22:13:20 2023 +0000" in r.out
    assert "Op:     pin  tokens +0, context 2 in 2 entries" in r.out
    assert r.out.count("commit ") == 1
    r = cli("log", "--oneline", "HEAD~1", store=s)
    assert r.out.splitlines() == lines[1:]
    r = cli("log", "-n", "0", store=s)
    assert (r.code, r.out) == (0, "")


def test_log_json(t, cli):
    r1 = t.user("hello")
    r = cli("log", "--json", store=t.path)
    assert json.loads(r.out) == [{
        "commit": r1.commit, "parents": [], "op": "append", "subject": "user: hello", "body": "",
        "trailers": [["Tract-Op", "append"], ["Tract-Entry", r1.entry_ids[0]]],
        "author": "Test Agent", "email": "agent@example.com", "time": 1700000000,
        "tokens_added": 1, "context_tokens": 1, "entries": 1, "entry_ids": r1.entry_ids,
    }]


def test_log_unborn(t, cli):
    r = cli("log", store=t.path)
    assert (r.code, r.out, r.err) == (0, "", "")
    r = cli("log", "--json", store=t.path)
    assert (r.code, r.out) == (0, "[]\n")


# -------------------------------------------------------------- status
def test_status_unborn_branch_detached(t, cli):
    r = cli("status", store=t.path)
    assert r.out == "On branch main\nNo commits yet\n0 entries, 0 tokens\nno budget set (tract config budget N)\n"
    t.user("hello there")
    first = t.head
    t.user("more")
    r = cli("status", store=t.path)
    assert r.out == "On branch main\n2 entries, 3 tokens\nno budget set (tract config budget N)\n"
    t.checkout(first)
    r = cli("status", store=t.path)
    assert r.out == f"HEAD detached at {first[:7]}\n1 entry, 2 tokens\nno budget set (tract config budget N)\n"
    st = json.loads(cli("status", "--json", store=t.path).out)
    assert st == {"branch": None, "detached": True, "commit": first, "entries": 1, "tokens": 2,
                  "budget": None, "percent": None, "warn_at": [80, 100], "level": "none",
                  "encoding": "o200k_base", "approximate": False, "in_progress": []}


def _tokens(text):
    from tract_git import tokens

    return len(tokens.encoder("o200k_base").encode(text))


def test_status_budget_levels_default(t, cli):
    text = "one two three four five six seven eight nine ten"
    n = _tokens(text)
    assert n == 10
    t.user(text)
    t.config("budget", 20)
    r = cli("status", store=t.path)
    assert (r.code, r.out, r.err) == (0, "On branch main\n1 entry, 10 tokens\nbudget 20: 50.0% used\n", "")
    t.user("one two three four five six seven")  # 7 -> 17 = 85%
    r = cli("status", store=t.path)
    assert r.out.endswith("2 entries, 17 tokens\nbudget 20: 85.0% used\n")
    assert r.err == "warning: context is at 85% of its budget (80% warning level)\n"
    assert json.loads(cli("status", "--json", store=t.path).out)["level"] == "warn"
    t.user("one two three")  # 20 = 100%
    r = cli("status", store=t.path)
    assert r.out.endswith("budget 20: 100.0% used\n")
    assert r.err == "warning: context is at 100% of its budget of 20 tokens\n"
    assert json.loads(cli("status", "--json", store=t.path).out)["level"] == "over"


def test_status_budget_warn_configurable(t, cli):
    t.user("one two three four five six seven eight nine ten")
    r = cli("config", "budget", "20", store=t.path)
    assert r.code == 0 and r.out.startswith("[main ") and "set budget = 20" in r.out
    r = cli("config", "warn", "40,60", store=t.path)
    assert r.code == 0
    r = cli("status", store=t.path)
    assert r.err == "warning: context is at 50% of its budget (40% warning level)\n"
    cli("config", "warn", "30", store=t.path)  # one value: warn at 30, over at 100
    assert cli("config", "warn", store=t.path).out == "30,100\n"
    assert cli("config", "budget", store=t.path).out == "20\n"
    r = cli("status", "--json", store=t.path)
    assert json.loads(r.out)["warn_at"] == [30, 100]
    # budget is per branch and versioned: an older commit has none
    assert json.loads(cli("status", "--json", store=t.path).out)["budget"] == 20
    t.checkout("HEAD~3")
    assert json.loads(cli("status", "--json", store=t.path).out)["budget"] is None


@pytest.mark.parametrize("key, value, err", [
    ("budget", "0", "error: '0' must be greater than 0\n"),
    ("budget", "lots", "error: 'lots' is not a whole number\n"),
    ("warn", "x,y", "error: 'x,y' is not a list of percentages such as 80,100\n"),
])
def test_config_bad_values(t, cli, refs_of, key, value, err):
    t.user("a")
    before = refs_of(t.path)
    r = cli("config", key, value, store=t.path)
    assert (r.code, r.out, r.err) == (129, "", err)
    assert refs_of(t.path) == before


# ---------------------------------------------------------------- show
def test_show_commit_and_entry(t, cli):
    t.user("hello")
    r2 = t.assistant("line one\nline two", name="bot")
    r = cli("show", store=t.path)
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == f"commit {r2.commit}"
    assert "    Tract-Op: append" in lines and f"    Tract-Entry: {r2.entry_ids[0]}" in lines
    n = r2.note.tokens_added
    assert f"+ added     #1    assistant {r2.entry_ids[0]}  +{n} tokens" in lines
    assert cli("show", "HEAD~1", store=t.path).out.splitlines()[0] == f"commit {t.log()[1].commit}"
    r = cli("show", "1", store=t.path)
    assert r.out == (f"entry {r2.entry_ids[0]} (position 1, at {r2.commit[:7]})\nRole: assistant\n"
                     f"Type: dialogue\nPriority: normal\nName: bot\nTokens: {n}\n\nline one\nline two\n")
    assert cli("show", r2.entry_ids[0][:6], store=t.path).out == r.out
    j = json.loads(cli("show", "-1", "--json", store=t.path).out)
    assert (j["id"], j["position"], j["tokens"], j["content"]) == (r2.entry_ids[0], 1, n, "line one\nline two")
    r = cli("show", "nope", store=t.path)
    assert (r.code, r.out, r.err) == (128, "", "fatal: 'nope' is neither a revision nor an entry\n")


# ---------------------------------------------------------------- diff
def _reorder_last_to_front(t):
    """A reorder commit made with the store API (no reorder command yet)."""
    from tract_git.ops.repo import Change
    from tract_git.store import keys

    repo = t.repo

    def build(tip):
        items = repo.items(tip)
        last = items[-1]
        newkey = keys.between(None, items[0].key)
        name = f"{newkey}-{last.id}-{last.role}"
        tree = repo.store.build_tree(repo.store.commit(tip).tree, {last.name: None, name: last.blob})
        return Change(tree, "move last to front", trailers=[("Tract-Entry", last.id)])

    return repo.commit_loop(build, op="reorder")


def test_diff_kinds_and_tokens(t, cli):
    a = t.user("alpha").entry_ids[0]
    b = t.assistant("beta").entry_ids[0]
    c = t.user("gamma").entry_ids[0]
    start = t.head
    t.edit(a, "alpha two")
    t.pin(b)
    t.skip(c)
    d = t.user("delta").entry_ids[0]
    _reorder_last_to_front(t)
    assert [e.content for e in t.entries()] == ["delta", "alpha two", "beta", "gamma"]
    res = t.diff(start)
    kinds = sorted((ch.kind, ch.id) for ch in res.changes)
    # delta is new since start: added (not moved), wherever it sits
    assert kinds == sorted([("edited", a), ("pinned", b), ("skipped", c), ("added", d)])
    j = json.loads(cli("diff", start, "--json", store=t.path).out)
    assert j["old"] == start and j["new"] == t.head
    by = {(ch["kind"], ch["id"]): ch for ch in j["changes"]}
    assert by[("edited", a)]["tokens_delta"] == 1
    assert by[("skipped", c)]["tokens_delta"] == -1
    assert by[("added", d)]["tokens_delta"] == 1
    assert j["tokens_delta"] == j["new_tokens"] - j["old_tokens"] == 1
    # removed: reset back and diff the other way
    r = cli("diff", "HEAD", start, store=t.path)
    assert f"- removed   #0    user      {d}  -1 tokens" in r.out.splitlines()
    r = cli("diff", "--stat", start, store=t.path)
    assert r.out == "1 added, 1 edited, 1 pinned, 1 skipped; tokens +1\n"


def test_diff_shows_a_type_or_name_only_edit(t, cli, git):
    """An edit that changes only the type (or name) says what changed,
    as ``git diff`` shows the header line of the blob."""
    t.assistant("plan: x")
    r = cli("edit", "-t", "reasoning", "0", "plan: x", store=t.path)
    assert r.code == 0, r.err
    eid = t.entries()[0].id
    r = cli("diff", store=t.path)
    assert r.out == f"~ edited    #0    assistant {eid}\n    type: dialogue -> reasoning\ntokens: 3 -> 3 (+0)\n"
    (c,) = json.loads(cli("diff", "--json", store=t.path).out)["changes"]
    assert (c["old_type"], c["new_type"], c["fields_changed"]) == ("dialogue", "reasoning", ["type"])
    assert "-Type: dialogue\n+Type: reasoning" in git(t.path, "diff", "HEAD~1", "HEAD")


def test_diff_moved(t):
    ids = [t.user(x).entry_ids[0] for x in ("a", "b", "c")]
    before = t.head
    _reorder_last_to_front(t)
    res = t.diff(before)
    assert [(ch.kind, ch.id, ch.old_position, ch.new_position, ch.tokens_delta) for ch in res.changes] == [
        ("moved", ids[2], 2, 0, 0)]


def test_diff_default_exit_code_and_text(t, cli):
    t.user("one")
    t.assistant("two")
    r = cli("diff", store=t.path)
    eid = t.entries()[1].id
    assert (r.code, r.out, r.err) == (0, f"+ added     #1    assistant {eid}  +1 tokens\n    two\n"
                                         "tokens: 1 -> 2 (+1)\n", "")
    r = cli("diff", "--exit-code", store=t.path)
    assert r.code == 1
    r = cli("diff", "HEAD", "HEAD", "--exit-code", store=t.path)
    assert (r.code, r.out) == (0, "")
    r = cli("diff", "HEAD", "--exit-code", "--json", store=t.path)
    assert r.code == 0 and json.loads(r.out)["changes"] == []
    t.edit(0, "one\nand more")
    r = cli("diff", store=t.path)
    assert r.out.splitlines()[1:] == ["    @@ -1 +1,2 @@", "     one", "    +and more",
                                      "tokens: 2 -> 5 (+3)"]
