"""Regressions found by black-box QA of the model-calling commands."""

import socket

import pytest

NO_KEY = ("fatal: no API key for openai/gpt-4o-mini: set OPENAI_API_KEY (or TRACT_API_KEY)\n"
          "hint: for a local OpenAI-compatible server, set its URL instead: "
          "'tract config baseUrl URL' or export TRACT_BASE_URL\n")


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    tried = []

    def refuse(*args, **kw):
        tried.append(args)
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return tried


# -------------------------------------------------- 1. a missing API key
def test_missing_api_key_is_refused_before_any_request(cli, tmp_path, refs_of, no_network):
    assert cli("init").code == 0
    assert cli("user", "hello").code == 0
    assert cli("assistant", "hi there").code == 0
    store = str(tmp_path / "store")
    before = refs_of(store)
    r = cli("chat", "--model", "openai/gpt-4o-mini", "hi", env={"TRACT_LLM_RETRIES": "2"})
    assert (r.code, r.out, r.err) == (128, "", NO_KEY)
    r = cli("compress", "--model", "openai/gpt-4o-mini", "0..1")
    assert (r.code, r.out, r.err) == (128, "", NO_KEY)
    r = cli("chat", "--model", "anthropic/claude-3-5-haiku-latest", "hi")
    assert r.code == 128
    assert r.err.splitlines()[0] == ("fatal: no API key for anthropic/claude-3-5-haiku-latest: "
                                     "set ANTHROPIC_API_KEY (or TRACT_API_KEY)")
    assert no_network == []
    assert refs_of(store) == before


def test_missing_credentials_raised_by_the_client_is_not_retried(monkeypatch):
    """When the provider's library itself refuses for want of a key (litellm
    reports that as a server error), the call is not retried."""
    from tract_git import llm
    from tract_git.errors import LLMError

    litellm = llm.load_litellm()
    calls = []

    def completion(**kw):
        calls.append(kw)
        raise litellm.InternalServerError(
            "OpenAIException - Missing credentials. Please pass an `api_key`, or set the "
            "`OPENAI_API_KEY` environment variable.", llm_provider="openai", model="gpt-4o-mini")

    monkeypatch.setattr(llm, "_check_key", lambda litellm, cfg: None)
    monkeypatch.setattr(llm, "_check_key_quick", lambda cfg: None)
    monkeypatch.setattr(litellm, "completion", completion)
    with pytest.raises(LLMError) as ei:
        llm.complete(None, [{"role": "user", "content": "hi"}], model="openai/gpt-4o-mini",
                     retries=3, sleep=lambda s: None)
    assert str(ei.value) == "no API key for openai/gpt-4o-mini: set OPENAI_API_KEY (or TRACT_API_KEY)"
    assert ei.value.exit_code == 128
    assert len(calls) == 1


@pytest.mark.parametrize("status,kind", [(401, "authentication failed"), (403, "permission denied")])
def test_rejected_key_is_not_retried(cli, fake_llm, tmp_path, refs_of, status, kind):
    cli("init")
    cli("user", "hello")
    store = str(tmp_path / "store")
    before = refs_of(store)
    fake_llm.error(status, "Incorrect API key provided", times=5)
    r = cli("chat", "again", env=dict(fake_llm.env, TRACT_LLM_RETRIES="3"))
    assert (r.code, r.out) == (128, "")
    assert r.err == (f"fatal: model call failed: openai/gpt-4o-mini: {kind} (HTTP {status}): "
                     "Incorrect API key provided\n")
    assert len(fake_llm.requests) == 1
    assert refs_of(store) == before


def test_a_key_in_the_environment_or_a_base_url_is_not_refused(cli, fake_llm):
    cli("init")
    fake_llm.reply("fine")
    env = {"TRACT_BASE_URL": fake_llm.base_url}  # a local server: no key needed
    r = cli("chat", "--model", "openai/gpt-4o-mini", "hi", env=env)
    assert (r.code, r.out, r.err) == (0, "fine\n", "")
    assert fake_llm.requests[-1].headers["Authorization"] == "Bearer no-key"


# ------------------------------------------- 2. tract merge --model
@pytest.fixture
def diverged(t):
    t.system("You are a travel agent.")
    t.user("Plan a trip.")
    t.branch("feat")
    t.edit(1, "Plan a trip to Rome.")
    t.switch("feat")
    t.edit(1, "Plan a trip to Paris.")
    t.switch("main")
    return t


def test_semantic_merge_takes_model_option(diverged, fake_llm, cli, git, refs_of, fsck):
    import json

    t = diverged
    env = {"TRACT_BASE_URL": fake_llm.base_url}  # no TRACT_MODEL: the option names it
    before = refs_of(t.path)
    r = cli("merge", "-s", "semantic", "feat", env=env)
    assert r.code == 128
    assert r.err == ("fatal: no model configured for 'merge'\n"
                     "hint: set one with 'tract config model NAME' (or 'tract config merge.model NAME'), "
                     "pass --model, or export TRACT_MODEL\n")
    r = cli("merge", "--model", "gpt-4o", "feat", env=env)
    assert (r.code, r.out, r.err) == (129, "", "error: --model is only used by --strategy semantic\n")
    r = cli("merge", "--abort", "--model", "gpt-4o", env=env)
    assert (r.code, r.err) == (129, "error: --abort takes no --model\n")
    assert refs_of(t.path) == before
    cid = t.entries()[1].id
    fake_llm.reply(json.dumps({"decisions": [{"id": cid, "action": "theirs"}], "summary": "Paris"}))
    r = cli("merge", "-s", "semantic", "--model", "gpt-4o", "feat", env=env)
    assert r.code == 0, r.err
    assert fake_llm.last["model"] == "gpt-4o"
    assert git(t.path, "log", "-1", "--format=%(trailers:key=Tract-Model,valueonly)").strip() == "gpt-4o"
    assert [e.content for e in t.entries()] == ["You are a travel agent.", "Plan a trip to Paris."]
    fsck(t.path)


# ------------------------------------------- 5. one format for Tract-Cost
def test_cost_is_written_the_same_way_everywhere(diverged, fake_llm, cli, git):
    import json

    t = diverged
    env = dict(fake_llm.env, TRACT_LLM_RETRIES="0")

    def cost_of(rev="HEAD"):
        return git(t.path, "log", "-1", "--format=%(trailers:key=Tract-Cost,valueonly)", rev).strip()

    # chat: 3 prompt + 1 completion tokens of gpt-4o-mini
    fake_llm.reply("Hi!", usage=(3, 1))
    assert cli("chat", "hello", env=env).code == 0
    assert cost_of() == "0.00000105 USD"
    # semantic merge: 120 + 30 tokens
    cid = t.entries()[1].id
    fake_llm.reply(json.dumps({"decisions": [{"id": cid, "action": "ours"}]}), usage=(120, 30))
    r = cli("merge", "-s", "semantic", "feat", env=env)
    assert r.code == 0, r.err
    assert cost_of() == "0.000036 USD"
    assert r.out.splitlines()[-1] == (" model openai/gpt-4o-mini: 120 prompt + 30 completion tokens, "
                                      "cost 0.000036 USD; 1 conflict resolved, 0 entries dropped, "
                                      "0 rewritten")
    # a model's compress summary: 100 + 10 tokens
    fake_llm.reply("A travel plan.", usage=(100, 10))
    r = cli("compress", "--model", "openai/gpt-4o-mini", "1..2", env=env)
    assert r.code == 0, r.err
    assert cost_of() == "0.000021 USD"
    # an unpriced model: no Tract-Cost at all (never "unknown")
    fake_llm.reply("fine", usage=(3, 1))
    assert cli("chat", "--model", "my-local-model", "again", env=env).code == 0
    assert "Tract-Cost" not in git(t.path, "log", "-1", "--format=%B")


# ------------------------------------- 3. collapse --model records the call
def test_collapse_with_model_records_model_usage_and_cost(cli, fake_llm, git, tmp_path, fsck):
    import json

    env = dict(fake_llm.env, TRACT_LLM_RETRIES="0")
    store = str(tmp_path / "store")
    assert cli("init").code == 0
    assert cli("user", "task").code == 0
    assert cli("spawn", "r").code == 0
    assert cli("-A", "r", "assistant", "the answer is 42", env=env).code == 0
    fake_llm.reply("Found 42.", usage=(40, 4))
    r = cli("collapse", "r", "--model", fake_llm.model, env=env)
    assert r.code == 0, r.err
    tr = git(store, "log", "-1", "--format=%(trailers:key=Tract-Model,key=Tract-Usage,key=Tract-Cost)")
    assert tr.strip().splitlines() == [
        "Tract-Model: openai/gpt-4o-mini",
        "Tract-Usage: prompt=40 completion=4 total=44",
        "Tract-Cost: 0.0000084 USD"]
    note = json.loads(git(store, "notes", "--ref=refs/notes/tract", "show", "HEAD"))
    assert note["agent"] == "r"
    assert note["llm"]["operation"] == "collapse"
    assert note["llm"]["model"] == "openai/gpt-4o-mini"
    assert note["llm"]["usage"] == {"prompt_tokens": 40, "completion_tokens": 4, "total_tokens": 44}
    assert note["llm"]["cost"] == pytest.approx(40 * 0.15e-6 + 4 * 0.6e-6)
    fsck(store)


def test_collapse_with_model_empty_reply_writes_nothing(cli, fake_llm, tmp_path, refs_of):
    env = dict(fake_llm.env, TRACT_LLM_RETRIES="0")
    assert cli("init").code == 0
    assert cli("user", "task").code == 0
    assert cli("spawn", "r").code == 0
    assert cli("-A", "r", "assistant", "the answer is 42", env=env).code == 0
    before = refs_of(str(tmp_path / "store"))
    fake_llm.reply("   ")
    r = cli("collapse", "r", "--model", fake_llm.model, env=env)
    assert (r.code, r.out, r.err) == (128, "", "fatal: model openai/gpt-4o-mini returned an empty summary\n")
    assert refs_of(str(tmp_path / "store")) == before


# --------------------- 4. a second collapse brings in only the new work
def test_second_collapse_brings_in_only_the_new_work(cli, git, tmp_path, fsck):
    import json

    store = str(tmp_path / "store")
    assert cli("init").code == 0
    assert cli("user", "Find the release date of X.").code == 0
    assert cli("spawn", "researcher").code == 0
    assert cli("-A", "researcher", "assistant", "Searching the changelog.").code == 0
    assert cli("-A", "researcher", "assistant", "X was released on 2021-03-04.").code == 0
    r = cli("collapse", "researcher")
    assert r.code == 0, r.err
    first = git(store, "rev-parse", "HEAD").strip()
    first_tip = git(store, "rev-parse", "refs/tract/agents/researcher/heads/main").strip()
    # nothing new: nothing to do
    r = cli("collapse", "researcher")
    assert (r.code, r.out, r.err) == (1, "", f"error: agent 'researcher' is already collapsed in {first[:7]}\n")
    # more work, then a second collapse: only that work comes in
    assert cli("-A", "researcher", "assistant", "Also: X 2.0 came out in 2023.").code == 0
    r = cli("collapse", "researcher")
    assert r.code == 0, r.err
    subject = git(store, "log", "-1", "--format=%s").strip()
    assert subject == f"collapse researcher: 1 new commits, 1 entries since {first[:7]}"
    assert git(store, "log", "-1", "--format=%(trailers:key=Tract-Collapsed-Since,valueonly)").strip() \
        == first_tip
    from tract_git import Tract

    with Tract.open(store, create=False) as t:
        outputs = [e.content for e in t.entries() if e.type == "output"]
    assert len(outputs) == 2
    content = outputs[1]
    assert content.startswith(f"Sub-agent 'researcher' continued since its last collapse ({first[:7]}): "
                              "1 new commits, 1 new entries, ")
    assert "Final output:\nAlso: X 2.0 came out in 2023." in content
    assert "Searching the changelog." not in content and "2021-03-04" not in content
    note = json.loads(git(store, "notes", "--ref=refs/notes/tract", "show", "HEAD"))
    assert (note["agent_commits"], note["collapsed_since"]) == (1, first_tip)
    # expand shows the new commits only
    r = cli("expand", "HEAD", "--json")
    assert r.code == 0, r.err
    assert [c["subject"] for c in json.loads(r.out)["commits"]] == ["assistant: Also: X 2.0 came out in 2023."]
    # and again: nothing new to bring in
    r = cli("collapse", "researcher")
    assert r.code == 1 and r.err.startswith("error: agent 'researcher' is already collapsed in ")
    fsck(store)


# ------------------------------------- 6. an agent's status names the agent
def test_agent_status_and_repr_name_the_agent(cli, t):
    import json

    t.user("task")
    child = t.spawn("researcher")
    child.assistant("working")
    assert repr(child) == f"<Tract {t.path} agent researcher main>"
    assert repr(t) == f"<Tract {t.path} main>"
    r = cli("-A", "researcher", "status", store=t.path)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "On branch main of agent researcher"
    d = json.loads(cli("-A", "researcher", "status", "--json", store=t.path).out)
    assert (d["agent"], d["branch"]) == ("researcher", "main")
    r = cli("status", store=t.path)
    assert r.out.splitlines()[0] == "On branch main"
    assert "agent" not in json.loads(cli("status", "--json", store=t.path).out)


def test_missing_openai_key_is_refused_without_loading_litellm(tmp_path):
    import os
    import subprocess
    import sys

    from tract_git import Tract

    store = str(tmp_path / "store")
    with Tract.open(store) as t:
        t.user("hello")
    code = ("import sys\nfrom tract_git.cli.main import main\n"
            "try:\n    main(['chat', '--model', 'openai/gpt-4o-mini', 'hi'])\n"
            "except SystemExit as e:\n    print('exit', e.code, 'litellm' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "TRACT_API_KEY")}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(env, TRACT_DIR=store), cwd=str(tmp_path))
    assert (p.stdout, p.stderr) == ("exit 128 False\n", NO_KEY)
