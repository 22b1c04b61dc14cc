"""First checks of the foundation through the API, the CLI and plain git."""

from tract_git.store import keys


def test_append_compile_roundtrip(t, git, fsck):
    t.system("You are terse.")
    t.user("héllo\nwörld 🌍\r\n")
    t.assistant("", tool_calls=[{"id": "c1", "function": {"name": "f", "arguments": {"x": 1}}}])
    t.tool("42", tool_call_id="c1")
    c = t.compile()
    assert c.to_openai() == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "héllo\nwörld 🌍\r\n"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}}]},
        {"role": "tool", "content": "42", "tool_call_id": "c1"},
    ]
    assert git(t.path, "log", "--format=%s").splitlines() == [
        "tool: 42", "assistant: tool calls: f", "user: héllo wörld 🌍", "system: You are terse.",
    ]
    fsck(t.path)


def test_cli_commit_and_log(cli):
    assert cli("init").code == 0
    r = cli("user", "hello")
    assert r.code == 0, r.err
    assert r.out.startswith("[main ")
    r = cli("log", "--oneline")
    assert r.code == 0
    assert r.out.rstrip().endswith("user: hello")


def test_keys_between_orders():
    a = keys.first()
    b = keys.after(a)
    m = keys.between(a, b)
    assert a < m < b
    m2 = keys.between(a, m)
    assert a < m2 < m
    assert keys.bucket(a) == a[:10]
