"""tract chat / tract generate, and litellm's import cost kept off other commands."""

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture
def env(fake_llm):
    return fake_llm.env


def test_chat_prints_the_reply_and_commits(cli, fake_llm, env, git, tmp_path, fsck):
    assert cli("init").code == 0
    assert cli("system", "Be brief.").code == 0
    fake_llm.reply("Paris.", usage=(20, 2))
    r = cli("chat", "Capital of France?", env=env)
    assert (r.code, r.out, r.err) == (0, "Paris.\n", "")
    store = str(tmp_path / "store")
    assert git(store, "log", "--format=%s").splitlines() == [
        "assistant: Paris.", "user: Capital of France?", "system: Be brief."]
    assert git(store, "log", "-1", "--format=%(trailers:key=Tract-Model,valueonly)").strip() == \
        "openai/gpt-4o-mini"
    assert fake_llm.requests[-1].headers["Authorization"] == f"Bearer {env['TRACT_API_KEY']}"
    fsck(store)


def test_chat_reads_stdin_and_options_reach_the_model(cli, fake_llm, env):
    cli("init")
    r = cli("chat", "--model", "gpt-4o", "--temperature", "0.5", "--max-tokens", "7", input=b"from stdin",
            env=env)
    assert r.code == 0, r.err
    assert r.out == "ok\n"
    body = fake_llm.last
    assert body["messages"] == [{"role": "user", "content": "from stdin"}]
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("gpt-4o", 0.5, 7)


def test_chat_json(cli, fake_llm, env):
    cli("init")
    fake_llm.reply("Hi!", usage=(3, 1))
    r = cli("chat", "--json", "hello", env=env)
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["text"] == "Hi!"
    assert d["usage"] == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    assert d["generation_config"] == {"model": "openai/gpt-4o-mini"}
    assert d["cost"] == pytest.approx(3 * 0.15e-6 + 0.6e-6)
    assert d["tool_calls"] is None
    assert len(d["commit"]) == 40 and d["user_commit"] == d["context_commit"]
    assert d["context_tokens"] > 0


def test_streamed_output(cli, fake_llm, env):
    cli("init")
    fake_llm.reply("one two three")
    r = cli("chat", "--stream", "count", env=env)
    assert (r.code, r.out) == (0, "one two three\n")
    assert fake_llm.last["stream"] is True


def test_generate_prints_tool_calls(cli, fake_llm, env):
    cli("init")
    cli("user", "weather?")
    fake_llm.reply(tool_calls=[{"id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}])
    r = cli("generate", env=env)
    assert (r.code, r.out, r.err) == (0, '-> get_weather({"city": "Paris"})\n', "")
    r = cli("log", "--oneline", "-n", "1")
    assert r.out.rstrip().endswith("assistant: tool calls: get_weather")


def test_tools_file(cli, fake_llm, env, tmp_path, refs_of):
    cli("init")
    cli("user", "weather?")
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    (tmp_path / "tools.json").write_text(json.dumps(tools))
    fake_llm.reply(tool_calls=[{"id": "c1", "name": "get_weather", "arguments": {}}])
    r = cli("generate", "--tools", "tools.json", env=env)
    assert (r.code, r.out) == (0, "-> get_weather({})\n"), r.err
    assert fake_llm.last["tools"] == tools
    before = refs_of(str(tmp_path / "store"))
    n = len(fake_llm.requests)
    (tmp_path / "bad.json").write_text('{"not": "a list"}')
    r = cli("generate", "--tools", "bad.json", env=env)
    assert (r.code, r.err) == (129, "error: bad.json: expected a JSON list of tool schemas, "
                                    "each with a function name\n")
    r = cli("generate", "--tools", "missing.json", env=env)
    assert (r.code, r.err) == (129, "error: cannot read missing.json: No such file or directory\n")
    assert len(fake_llm.requests) == n and refs_of(str(tmp_path / "store")) == before


def test_failure_is_one_line_exit_128_and_writes_nothing(cli, fake_llm, env, tmp_path, refs_of):
    cli("init")
    cli("user", "hello")
    store = str(tmp_path / "store")
    before = refs_of(store)
    fake_llm.error(500, times=10)
    r = cli("chat", "again", env=dict(env, TRACT_LLM_RETRIES="2"))
    assert (r.code, r.out) == (128, "")
    assert r.err == ("fatal: model call failed after 3 attempts: openai/gpt-4o-mini: "
                     "server error (HTTP 500): fake error 500\n")
    assert refs_of(store) == before
    r = cli("generate", env=dict(env, TRACT_LLM_RETRIES="0"))
    assert (r.code, r.err) == (128, "fatal: model call failed: openai/gpt-4o-mini: "
                                    "server error (HTTP 500): fake error 500\n")
    assert refs_of(store) == before


def test_timeout_on_the_cli(cli, fake_llm, env, tmp_path, refs_of):
    cli("init")
    before = refs_of(str(tmp_path / "store"))
    fake_llm.hang(10)
    r = cli("chat", "hi", env=dict(env, TRACT_LLM_TIMEOUT="0.3", TRACT_LLM_RETRIES="0"))
    assert (r.code, r.err) == (128, "fatal: model call failed: openai/gpt-4o-mini: timed out after 0.3s\n")
    assert refs_of(str(tmp_path / "store")) == before


def test_no_model_configured(cli, tmp_path, refs_of):
    cli("init")
    before = refs_of(str(tmp_path / "store"))
    r = cli("chat", "hello")
    assert (r.code, r.out) == (128, "")
    assert r.err == ("fatal: no model configured for 'chat'\n"
                     "hint: set one with 'tract config model NAME' (or 'tract config chat.model NAME'), "
                     "pass --model, or export TRACT_MODEL\n")
    assert refs_of(str(tmp_path / "store")) == before


def test_model_from_store_config(cli, fake_llm):
    cli("init")
    assert cli("config", "model", "gpt-4o").code == 0
    assert cli("config", "baseUrl", fake_llm.base_url).code == 0
    assert cli("config", "chat.temperature", "0.25").code == 0
    r = cli("chat", "hi")
    assert r.code == 0, r.err
    assert (fake_llm.last["model"], fake_llm.last["temperature"]) == ("gpt-4o", 0.25)
    r = cli("config", "apiKey", "sk-123")
    assert r.code == 129
    assert r.err.startswith("error: refusing to store 'apiKey': secrets are never written into a store\n")


def test_bad_config_value_is_a_usage_error(cli, fake_llm, env, git, tmp_path):
    cli("init")
    r = cli("config", "chat.maxTokens", "lots")
    assert (r.code, r.err) == (129, "error: 'lots' is not a whole number\n")
    # a value written by other means (git config) is caught when used
    git(str(tmp_path / "store"), "config", "tract.chat.maxTokens", "lots")
    r = cli("chat", "hi", env=env)
    assert (r.code, r.err) == (129, "error: config tract.chat.maxtokens: 'lots' is not a valid max_tokens\n")


def test_empty_message_is_refused(cli, env):
    cli("init")
    r = cli("chat", "", env=env)
    assert (r.code, r.err) == (129, "error: empty content for a user entry\n")


CHECK = r"""
import json, sys
from tract_git.cli.main import main
from tract_git import Tract
out = {}
for args in json.loads(sys.argv[1]):
    try:
        main(args)
    except SystemExit as e:
        out[" ".join(args)] = [e.code, "litellm" in sys.modules]
t = Tract.open(None, model="m", base_url="http://127.0.0.1:9/v1")
t.user("api"); t.compile().to_openai(); t.log()
import tract_git.cli.cmd_chat, tract_git.cli.cmd_generate, tract_git.ops.chat, tract_git.llm
out["api"] = [0, "litellm" in sys.modules]
out["sanity"] = [0, "pygit2" in sys.modules]
sys.stderr.write("\nRESULT=" + json.dumps(out) + "\n")
"""


def test_commands_without_a_model_never_import_litellm(tmp_path):
    """One subprocess runs the commands in turn and reports, after each,
    whether litellm has been imported (it costs seconds to import)."""
    store = str(tmp_path / "store")
    from tract_git import Tract

    with Tract.open(store) as t:
        t.user("hello")
        t.assistant("hi")
    cmds = [["status"], ["log"], ["log", "--oneline"], ["compile"], ["compile", "-f", "anthropic"],
            ["user", "more"], ["config", "model", "gpt-4o"], ["show"], ["diff", "HEAD~1"], ["chat", "--help"]]
    p = subprocess.run([sys.executable, "-c", CHECK, json.dumps(cmds)], capture_output=True, text=True,
                       env=dict(os.environ, TRACT_DIR=store), cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stderr.rsplit("RESULT=", 1)[1])
    expected = {" ".join(c): [0, False] for c in cmds}
    expected.update({"api": [0, False], "sanity": [0, True]})
    assert result == expected
