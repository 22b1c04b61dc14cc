"""Regressions from the black-box review of the model layer (docs/llm.md):
keys with a base URL, malformed replies, streaming checks, error lines."""

import json
import os
import subprocess

import pytest

OPENAI_KEY = "sk-OPENAI-ENV-KEY-0123456789abcdefXYZ"
ANTHROPIC_KEY = "sk-ant-REALKEY-0123456789abcdefghijk"


def store_state(store: str) -> tuple[str, str, str]:
    """Refs, HEAD and every object of the store: unchanged after a failure."""
    def run(*args):
        return subprocess.run(["git", "--git-dir", store, *args], capture_output=True, text=True).stdout

    return (run("for-each-ref", "--format=%(refname) %(objectname)"), run("symbolic-ref", "-q", "HEAD"),
            run("cat-file", "--batch-all-objects", "--batch-check"))


def assert_no_secret(store: str, *secrets: str) -> None:
    """No object and no file of the store holds any of ``secrets``."""
    objs = subprocess.run(["git", "--git-dir", store, "cat-file", "--batch-all-objects", "--batch"],
                          capture_output=True).stdout
    files = b""
    for root, _dirs, names in os.walk(store):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                files += f.read()
    for s in secrets:
        assert s.encode() not in objs and s.encode() not in files, s


@pytest.fixture
def store(cli, tmp_path):
    assert cli("init").code == 0
    assert cli("user", "hello").code == 0
    return str(tmp_path / "store")


def headers_of(request) -> dict:
    return {k.lower(): v for k, v in request.headers.items()}


# --------------------- 1. the provider's own key is sent to a base URL
@pytest.mark.parametrize("model", ["gpt-4o-mini", "openai/gpt-4o-mini", "meta-llama/Llama-3-8B"])
@pytest.mark.parametrize("url_var", ["TRACT_BASE_URL", "OPENAI_BASE_URL"])
def test_openai_key_from_the_environment_is_sent_to_a_base_url(cli, fake_llm, store, model, url_var):
    env = {url_var: fake_llm.base_url, "OPENAI_API_KEY": OPENAI_KEY}
    r = cli("generate", "--model", model, env=env)
    assert (r.code, r.out, r.err) == (0, "ok\n", "")
    assert len(fake_llm.requests) == 1
    assert headers_of(fake_llm.requests[0])["authorization"] == f"Bearer {OPENAI_KEY}"
    assert_no_secret(store, OPENAI_KEY)


def test_tract_api_key_wins_over_the_provider_key(cli, fake_llm, store):
    env = {"TRACT_BASE_URL": fake_llm.base_url, "OPENAI_API_KEY": OPENAI_KEY,
           "TRACT_API_KEY": "sk-TRACT-KEY-0123456789abcdefghij"}
    r = cli("generate", "--model", "gpt-4o-mini", env=env)
    assert (r.code, r.out, r.err) == (0, "ok\n", "")
    assert headers_of(fake_llm.requests[0])["authorization"] == "Bearer sk-TRACT-KEY-0123456789abcdefghij"


def test_anthropic_key_from_the_environment_is_sent_to_a_base_url(cli, fake_llm, store):
    """The fake server speaks only OpenAI's protocol: the Anthropic request
    gets a 404, but it shows which key was sent."""
    base = fake_llm.base_url[:-len("/v1")]
    model = "anthropic/claude-3-5-sonnet-20240620"
    before = store_state(store)
    env = {"TRACT_BASE_URL": base, "ANTHROPIC_API_KEY": ANTHROPIC_KEY, "TRACT_LLM_RETRIES": "0"}
    r = cli("generate", "--model", model, env=env)
    assert (r.code, r.out) == (128, "")
    assert r.err.startswith(f"fatal: model call failed: {model}: not found (HTTP 404): ")
    assert [q.path for q in fake_llm.requests] == ["/v1/messages"]
    assert headers_of(fake_llm.requests[0])["x-api-key"] == ANTHROPIC_KEY
    # no key anywhere: the placeholder
    r = cli("generate", "--model", model, env={"TRACT_BASE_URL": base, "TRACT_LLM_RETRIES": "0"})
    assert r.code == 128
    assert headers_of(fake_llm.requests[1])["x-api-key"] == "no-key"
    assert store_state(store) == before
    assert_no_secret(store, ANTHROPIC_KEY)


# --------------- 2. JSON that is not a chat completion: malformed, once
@pytest.mark.parametrize("body", [
    b'{"foo": 1}',
    b'{"choices": [{"index": 0}]}',
    b'[]',
    b'null',
    b'{"choices": "x"}',
    b'{"choices": [{"index": 0, "message": "hi"}]}',
    b'{"object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", '
    b'"content": "hi"}, "finish_reason": "stop"}], "usage": "bogus"}',
])
def test_json_that_is_not_a_chat_completion_is_malformed_and_not_retried(cli, fake_llm, store, body):
    before = store_state(store)
    fake_llm.raw(body, times=3)
    r = cli("chat", "--no-stream", "m", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (
        128, "", "fatal: model call failed: openai/gpt-4o-mini: malformed reply: "
                 "the response body is not a valid chat completion\n")
    assert len(fake_llm.requests) == 1
    assert store_state(store) == before


def test_a_malformed_reply_is_not_swallowed_by_a_retry(cli, fake_llm, store):
    before = store_state(store)
    fake_llm.raw(b'{"foo": 1}')  # then the default reply, "ok"
    r = cli("chat", "--no-stream", "m", env=fake_llm.env)
    assert (r.code, r.out) == (128, "")
    assert "malformed reply" in r.err and "Traceback" not in r.err
    assert len(fake_llm.requests) == 1
    assert store_state(store) == before


# ------------- 6. no HTTP exchange: "connection failed", no litellm chain
URL_HINT = "hint: check the endpoint's URL (tract config baseUrl, $TRACT_BASE_URL, $OPENAI_BASE_URL)\n"


@pytest.mark.parametrize("url,text", [
    ("not a url", "Request URL is missing an 'http://' or 'https://' protocol."),
    ("ftp://127.0.0.1/v1", "Request URL has an unsupported protocol 'ftp://'."),
])
def test_an_invalid_url_fails_at_once_as_a_connection_error(cli, store, url, text):
    before = store_state(store)
    r = cli("generate", "--model", "my-model", env={"TRACT_BASE_URL": url, "TRACT_LLM_RETRIES": "2",
                                                    "TRACT_LLM_BACKOFF": "0.001"})
    assert (r.code, r.out, r.err) == (128, "", f"fatal: model call failed: my-model: connection failed: {text}\n"
                                               + URL_HINT)
    assert store_state(store) == before


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_retried_and_said_as_such(cli, store):
    before = store_state(store)
    r = cli("generate", "--model", "my-model", env={"TRACT_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
                                                    "TRACT_LLM_BACKOFF": "0.001"})
    assert (r.code, r.out, r.err) == (
        128, "", "fatal: model call failed after 3 attempts: my-model: connection failed: "
                 "[Errno 111] Connection refused\n")
    assert store_state(store) == before


def test_a_reply_cut_short_is_a_connection_error(cli, fake_llm, store):
    before = store_state(store)
    fake_llm.cut("The first half", times=3)
    r = cli("generate", "--no-stream", env=fake_llm.env)
    assert (r.code, r.out) == (128, "")
    assert r.err.startswith("fatal: model call failed after 3 attempts: openai/gpt-4o-mini: connection failed: ")
    assert r.err.count("\n") == 1 and "litellm" not in r.err.lower() and "exception" not in r.err.lower()
    # a stream that showed text is not retried
    fake_llm.clear()
    fake_llm.cut("The first half", times=3)
    r = cli("generate", "--stream", env=fake_llm.env)
    assert r.code == 128
    assert r.err == ("fatal: model call failed: openai/gpt-4o-mini: connection failed: "
                     "Stream ended before a finish_reason was received\n")
    assert len(fake_llm.requests) == 1
    assert store_state(store) == before


# ----------------------------- 7. an HTTP 408 is not a timeout of ours
def test_http_408_is_reported_as_the_http_error_it_is(cli, fake_llm, store):
    before = store_state(store)
    fake_llm.error(408, times=3)
    r = cli("chat", "--no-stream", "q", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (
        128, "", "fatal: model call failed after 3 attempts: openai/gpt-4o-mini: request timeout (HTTP 408): "
                 "fake error 408\n")
    assert len(fake_llm.requests) == 3
    assert store_state(store) == before


# ------------- 3. a streamed tool call with no name or id is an error
@pytest.mark.parametrize("calls,line", [
    ([{"id": "c9", "name": "", "arguments": "{}"}], "fatal: malformed reply: tool call 0 has no function name\n"),
    ([{"id": "", "name": "f", "arguments": "{}"}], "fatal: malformed reply: tool call 0 (f) has no id\n"),
    ([{"id": "c1", "name": "f", "arguments": "{}"}, {"id": "", "name": "g", "arguments": "{}"}],
     "fatal: malformed reply: tool call 1 (g) has no id\n"),
])
@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_tool_call_with_no_name_or_id_is_malformed_streamed_or_not(cli, fake_llm, store, calls, line, stream):
    before = store_state(store)
    fake_llm.reply("", tool_calls=calls)
    r = cli("chat", stream, "q", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (128, "", line)
    assert len(fake_llm.requests) == 1
    assert store_state(store) == before


def test_a_streamed_bad_tool_call_after_text_is_an_error_too(cli, fake_llm, store):
    before = store_state(store)
    fake_llm.reply("y", tool_calls=[{"id": "c9", "name": "", "arguments": "{}"}])
    r = cli("chat", "--stream", "q", env=fake_llm.env)
    assert (r.code, r.err) == (128, "fatal: malformed reply: tool call 0 has no function name\n")
    assert store_state(store) == before


def test_streamed_tool_calls_are_still_recorded(cli, fake_llm, store, git):
    fake_llm.reply("", tool_calls=[{"id": "c1", "name": "f", "arguments": {"x": 1}},
                                   {"id": "c2", "name": "g", "arguments": "{}"}])
    r = cli("chat", "--stream", "q", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (0, '-> f({"x": 1})\n-> g({})\n', "")


# --------------- 4. a streamed reply without usage is flagged estimated
@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_a_reply_without_usage_is_estimated_streamed_or_not(cli, fake_llm, store, git, stream):
    fake_llm.reply("no usage here", usage=None)
    r = cli("chat", stream, "q", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (0, "no usage here\n", "")
    usage = git(store, "log", "-1", "--format=%(trailers:key=Tract-Usage,valueonly)").strip()
    assert usage.endswith(" estimated"), usage
    note = json.loads(git(store, "notes", "--ref=refs/notes/tract", "show", "HEAD"))
    assert note["llm"]["usage"]["estimated"] is True
    assert note["llm"]["usage"]["completion_tokens"] == 3  # "no usage here"


def test_a_streamed_reply_with_usage_is_exact(cli, fake_llm, store, git):
    fake_llm.reply("with usage", usage=(20, 2))
    r = cli("chat", "--stream", "q", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (0, "with usage\n", "")
    assert git(store, "log", "-1", "--format=%(trailers:key=Tract-Usage,valueonly)").strip() == \
        "prompt=20 completion=2 total=22"
    note = json.loads(git(store, "notes", "--ref=refs/notes/tract", "show", "HEAD"))
    assert note["llm"]["usage"] == {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}


def test_chat_stream_without_usage_is_estimated(store_path, fake_llm):
    from tract_git import Tract

    with Tract.open(store_path, model=fake_llm.model, base_url=fake_llm.base_url, api_key="k") as t:
        fake_llm.reply("one two", usage=None)
        s = t.chat_stream("count")
        assert "".join(s) == "one two"
        assert s.result.usage.estimated is True
        assert str(s.result.usage).endswith(" estimated")
        assert s.result.cost is not None  # counted tokens of a priced model


# ------------------------------------------- 8. a timeout of 0 is refused
@pytest.mark.parametrize("value", ["0", "-0", "0.0", "nan"])
def test_a_timeout_that_is_not_positive_is_refused_before_any_request(cli, fake_llm, store, git, value):
    before = store_state(store)
    env = dict(fake_llm.env, TRACT_LLM_TIMEOUT=value)
    r = cli("chat", "q", env=env)
    assert (r.code, r.out, r.err) == (129, "", f"error: environment TRACT_LLM_TIMEOUT: '{value}' must be "
                                               "greater than 0\n")
    # a value written by other means (git config) is caught when used
    git(store, "config", "tract.timeout", value)
    r = cli("generate", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (129, "", f"error: config tract.timeout: '{value}' must be greater than 0\n")
    assert fake_llm.requests == []
    git(store, "config", "--unset", "tract.timeout")
    assert store_state(store) == before


@pytest.mark.parametrize("value", ["inf", "1e400"])
def test_an_endless_timeout_is_refused_before_any_request(cli, fake_llm, store, value):
    before = store_state(store)
    r = cli("generate", env=dict(fake_llm.env, TRACT_LLM_TIMEOUT=value))
    assert (r.code, r.out, r.err) == (129, "", f"error: environment TRACT_LLM_TIMEOUT: '{value}' is not a "
                                               "number of seconds\n")
    assert fake_llm.requests == [] and store_state(store) == before


def test_tract_config_refuses_a_timeout_of_0(cli, store, git):
    before = store_state(store)
    for value in ("0", "0.0"):
        r = cli("config", "timeout", value)
        assert (r.code, r.out, r.err) == (129, "", f"error: '{value}' must be greater than 0\n")
    assert store_state(store) == before
    assert git(store, "config", "--get", "tract.timeout", check=False).returncode == 1
    assert cli("config", "timeout", "2.5").code == 0


def test_a_timeout_argument_of_0_is_refused(store_path, fake_llm):
    from tract_git import Tract
    from tract_git.errors import ConfigError

    with Tract.open(store_path) as t:
        fake_llm.attach(t)
        t.user("hello")
        with pytest.raises(ConfigError) as ei:
            t.generate(timeout=0)
        assert str(ei.value) == "argument: '0' must be greater than 0"
    assert fake_llm.requests == []


# ------------------ 9. a tool whose "function" is no object: usage error
@pytest.mark.parametrize("tools", ['[{"type": "function", "function": "x"}]',
                                   '[{"type": "function", "function": null}]',
                                   '[{"type": "function", "function": ["f"]}]'])
def test_a_tool_whose_function_is_not_an_object_is_a_usage_error(cli, fake_llm, store, tmp_path, tools):
    before = store_state(store)
    (tmp_path / "bad.json").write_text(tools)
    for cmd in (("chat", "q"), ("generate",)):
        r = cli(*cmd, "--tools", "bad.json", env=fake_llm.env)
        assert (r.code, r.out, r.err) == (129, "", "error: bad.json: expected a JSON list of tool schemas, "
                                                   "each with a function name\n")
    assert fake_llm.requests == []
    assert store_state(store) == before


# ---------- 10. a stream failing after text: the error on its own line
def test_a_failed_stream_ends_the_partial_line_before_the_error(cli, fake_llm, store):
    before = store_state(store)
    fake_llm.cut("The first half")
    r = cli("chat", "--stream", "q", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (
        128, "The first half\n", "fatal: model call failed: openai/gpt-4o-mini: connection failed: "
                                 "Stream ended before a finish_reason was received\n")
    fake_llm.reply("y", tool_calls=[{"id": "c9", "name": "", "arguments": "{}"}])
    r = cli("generate", "--stream", env=fake_llm.env)
    assert (r.code, r.out, r.err) == (128, "y\n", "fatal: malformed reply: tool call 0 has no function name\n")
    assert store_state(store) == before


def test_a_stream_failing_before_any_text_prints_nothing(cli, fake_llm, store):
    fake_llm.error(500)
    r = cli("chat", "--stream", "q", env=dict(fake_llm.env, TRACT_LLM_RETRIES="0"))
    assert (r.code, r.out, r.err) == (128, "", "fatal: model call failed: openai/gpt-4o-mini: "
                                               "server error (HTTP 500): fake error 500\n")
