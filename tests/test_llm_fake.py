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


def test_server_reports_its_handling_time_and_sets_nodelay(t, fake_llm):
    import json
    import urllib.request

    fake_llm.attach(t)
    t.complete([{"role": "user", "content": "a"}])
    t.complete([{"role": "user", "content": "b"}])
    assert len(fake_llm.timings) == 2 and all(0 < s < 60 for s in fake_llm.timings)
    root = fake_llm.base_url.rsplit("/v1", 1)[0]
    with urllib.request.urlopen(root + "/_fake/timings") as r:
        got = json.loads(r.read())
    assert len(got) == 2 and all(isinstance(s, float) and s > 0 for s in got)
    assert fake_llm.timings == []  # read and cleared; a GET is not a chat request
    assert len(fake_llm.requests) == 2
    handler = fake_llm._server.RequestHandlerClass
    assert handler.disable_nagle_algorithm is True
