"""The fake server's own helpers (others' tests rely on them)."""

from tract_git import llm


def test_attach_and_responder(t, fake_llm):
    fake_llm.attach(t)
    fake_llm.responder = lambda body: f"saw {len(body['messages'])} messages"
    c = llm.complete(t.repo, [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
                     operation="compress")
    assert c.text == "saw 2 messages"
    assert fake_llm.last["model"] == "gpt-4o-mini"
    fake_llm.responder = lambda body: {"tool_calls": [{"id": "x", "name": "f", "arguments": {}}],
                                       "usage": (7, 1)}
    c = t.complete([{"role": "user", "content": "go"}])
    assert c.tool_calls[0]["function"] == {"name": "f", "arguments": "{}"}
    assert c.usage.total_tokens == 8
    fake_llm.reply("queued first")
    assert t.complete([{"role": "user", "content": "x"}]).text == "queued first"
    assert fake_llm.pending() == 0


def test_models_listing(fake_llm):
    import json
    import urllib.request

    with urllib.request.urlopen(fake_llm.base_url + "/models") as r:
        assert json.loads(r.read())["data"] == [{"id": "gpt-4o-mini", "object": "model"}]
