"""The model adapter (tract_git.llm) against the local fake server: the real
litellm over real HTTP, no network."""

import pytest

from tract_git import llm
from tract_git.errors import ConfigError, LLMError, ModelNotConfiguredError
from tract_git.llm.config import resolve

MSGS = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                           "parameters": {"type": "object",
                                                          "properties": {"city": {"type": "string"}}}}}]


def call(fake, **kw):
    kw.setdefault("model", fake.model)
    kw.setdefault("base_url", fake.base_url)
    kw.setdefault("api_key", "sk-test")
    return llm.complete(None, MSGS, **kw)


def test_text_reply_usage_cost_and_request(fake_llm):
    fake_llm.reply("Hello there", usage=(12, 3))
    c = call(fake_llm, temperature=0.2, max_tokens=50)
    assert c.text == "Hello there"
    assert c.tool_calls is None
    assert c.usage.to_json() == {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    assert c.cost == pytest.approx(12 * 0.15e-6 + 3 * 0.6e-6)  # gpt-4o-mini is priced
    assert c.model == "openai/gpt-4o-mini"
    assert c.generation_config == {"model": "openai/gpt-4o-mini", "max_tokens": 50, "temperature": 0.2}
    assert c.attempts == 1 and c.finish_reason == "stop"
    body = fake_llm.last
    assert body["messages"] == MSGS
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50
    assert fake_llm.requests[-1].headers["Authorization"] == "Bearer sk-test"
    assert c.to_json()["usage"]["total_tokens"] == 15


def test_bare_model_name_at_a_custom_endpoint_is_openai_compatible(fake_llm):
    fake_llm.reply("hi", usage=(1, 1))
    c = call(fake_llm, model="my-local-model")
    assert c.text == "hi" and c.cost is None  # unpriced: no cost, no error
    assert fake_llm.last["model"] == "my-local-model"


def test_tool_calls_come_back_in_openai_shape(fake_llm):
    fake_llm.reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}])
    c = call(fake_llm, tools=TOOLS)
    assert c.text == ""
    assert c.tool_calls == [{"id": "call_1", "type": "function",
                             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    assert fake_llm.last["tools"] == TOOLS
    assert c.finish_reason == "tool_calls"


def test_retries_429_and_500_then_succeeds(fake_llm):
    fake_llm.error(429).error(500).reply("finally")
    c = call(fake_llm)
    assert c.text == "finally"
    assert c.attempts == 3
    assert len(fake_llm.requests) == 3


def test_honours_retry_after(fake_llm):
    slept = []
    fake_llm.error(429, headers={"Retry-After": "3"}).reply("ok")
    c = call(fake_llm, sleep=slept.append)
    assert c.attempts == 2
    assert slept == [pytest.approx(3.0)]


def test_backoff_grows_and_is_bounded(fake_llm):
    slept = []
    fake_llm.error(503, times=3)
    with pytest.raises(LLMError) as ei:
        call(fake_llm, retries=2, backoff=1.0, sleep=slept.append)
    assert len(slept) == 2
    assert 0.8 <= slept[0] <= 1.2 and 1.6 <= slept[1] <= 2.4
    assert str(ei.value) == ("model call failed after 3 attempts: openai/gpt-4o-mini: "
                             "server error (HTTP 503): fake error 503")
    assert len(fake_llm.requests) == 3


def test_fails_after_retries_with_one_line(fake_llm):
    fake_llm.error(500, times=5)
    with pytest.raises(LLMError) as ei:
        call(fake_llm, retries=1)
    assert str(ei.value) == ("model call failed after 2 attempts: openai/gpt-4o-mini: "
                             "server error (HTTP 500): fake error 500")
    assert ei.value.exit_code == 128
    assert len(fake_llm.requests) == 2


@pytest.mark.parametrize("status,text", [
    (400, "bad request (HTTP 400): fake error 400"),
    (401, "authentication failed (HTTP 401): fake error 401"),
    (404, "not found (HTTP 404): fake error 404"),
])
def test_client_errors_are_not_retried(fake_llm, status, text):
    fake_llm.error(status, times=3)
    with pytest.raises(LLMError) as ei:
        call(fake_llm)
    assert str(ei.value) == f"model call failed: openai/gpt-4o-mini: {text}"
    assert len(fake_llm.requests) == 1


def test_timeout(fake_llm):
    fake_llm.hang(10)
    with pytest.raises(LLMError) as ei:
        call(fake_llm, timeout=0.3, retries=0)
    assert str(ei.value) == "model call failed: openai/gpt-4o-mini: timed out after 0.3s"


def test_timeout_is_retried(fake_llm):
    fake_llm.hang(10).reply("after the hang")
    c = call(fake_llm, timeout=0.3, retries=1)
    assert c.text == "after the hang" and c.attempts == 2


def test_malformed_body_is_an_error(fake_llm):
    fake_llm.raw(b"this is not json{", times=3)
    with pytest.raises(LLMError) as ei:
        call(fake_llm)
    assert str(ei.value) == ("model call failed: openai/gpt-4o-mini: malformed reply: "
                             "the response body is not a valid chat completion")
    assert len(fake_llm.requests) == 1


def test_empty_choices_is_an_error(fake_llm):
    fake_llm.empty_choices()
    with pytest.raises(LLMError) as ei:
        call(fake_llm)
    assert str(ei.value) == "malformed reply from openai/gpt-4o-mini: no choices"


def test_bad_tool_call_json_is_an_error(fake_llm):
    fake_llm.reply(tool_calls=[{"id": "c1", "name": "get_weather", "arguments": '{"city": "Par'}])
    with pytest.raises(LLMError) as ei:
        call(fake_llm, tools=TOOLS)
    assert str(ei.value) == "malformed reply: arguments of tool call 0 (get_weather) are not valid JSON"


def test_streaming_delivers_pieces_and_the_whole(fake_llm):
    fake_llm.reply("one two three", usage=(5, 3))
    pieces = []
    c = call(fake_llm, on_text=pieces.append)
    assert pieces == ["one ", "two ", "three"]
    assert c.text == "one two three"
    assert c.usage.total_tokens == 8
    assert fake_llm.last["stream"] is True


def test_no_model_configured():
    with pytest.raises(ModelNotConfiguredError) as ei:
        llm.complete(None, MSGS, operation="compress")
    assert str(ei.value) == "no model configured for 'compress'"
    assert ei.value.exit_code == 128
    assert ei.value.hints == ("set one with 'tract config model NAME' (or 'tract config compress.model NAME'), "
                              "pass --model, or export TRACT_MODEL",)


def test_unknown_parameter_is_refused():
    with pytest.raises(ConfigError) as ei:
        llm.complete(None, MSGS, model="m", tempreature=1)
    assert str(ei.value) == "unknown model parameter 'tempreature'"


# ------------------------------------------------------- resolution order
def test_resolution_order(t, monkeypatch):
    repo = t.repo
    monkeypatch.setenv("TRACT_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.invalid/v1")
    assert resolve(repo, "compress").model == "env-model"
    assert resolve(repo, "compress").sources["model"] == "environment TRACT_MODEL"
    t.config("model", "store-model")
    t.config("baseUrl", "http://store.invalid/v1")
    t.config("temperature", "0.7")
    cfg = resolve(repo, "compress")
    assert (cfg.model, cfg.base_url, cfg.params) == ("store-model", "http://store.invalid/v1",
                                                     {"temperature": 0.7})
    session = {"model": "session-model", "api_key": "sk-session"}
    cfg = resolve(repo, "compress", session=session)
    assert (cfg.model, cfg.api_key) == ("session-model", "sk-session")
    t.config("compress.model", "cheap-model")
    t.config("compress.maxTokens", "300")
    t.config("compress.temperature", "0")
    cfg = resolve(repo, "compress", session=session)
    assert cfg.model == "cheap-model"
    assert cfg.params == {"max_tokens": 300, "temperature": 0.0}
    assert cfg.sources["model"] == "config tract.compress.model"
    # other operations keep the store default
    assert resolve(repo, "chat").model == "store-model"
    assert resolve(repo, "chat").params == {"temperature": 0.7}
    # the call beats everything
    cfg = resolve(repo, "compress", model="call-model", params={"temperature": 1.5}, session=session)
    assert (cfg.model, cfg.params["temperature"]) == ("call-model", 1.5)
    assert cfg.generation_config == {"model": "call-model", "max_tokens": 300, "temperature": 1.5}


def test_controls_from_config_and_environment(t, monkeypatch):
    cfg = resolve(t.repo, "chat", model="m")
    assert (cfg.timeout, cfg.retries, cfg.backoff) == (60.0, 2, 1.0)
    monkeypatch.setenv("TRACT_LLM_RETRIES", "5")
    monkeypatch.setenv("TRACT_LLM_TIMEOUT", "9")
    t.config("chat.timeout", "12.5")
    cfg = resolve(t.repo, "chat", model="m")
    assert (cfg.timeout, cfg.retries) == (12.5, 5)
    assert "timeout" not in cfg.generation_config


def test_bad_config_value(t):
    with pytest.raises(ConfigError, match="^'hot' is not a number$"):
        t.config("chat.temperature", "hot")  # refused when set...
    t.repo.store.set_config("tract.chat.temperature", "hot")  # ...and when written by other means
    with pytest.raises(ConfigError) as ei:
        resolve(t.repo, "chat", model="m")
    assert str(ei.value) == "config tract.chat.temperature: 'hot' is not a valid temperature"


def test_operation_model_is_what_is_sent(t, fake_llm):
    t.config("model", "gpt-4o")
    t.config("merge.model", "gpt-4o-mini")
    t.config("baseUrl", fake_llm.base_url)
    llm.complete(t.repo, MSGS, operation="merge")
    assert fake_llm.last["model"] == "gpt-4o-mini"
    llm.complete(t.repo, MSGS, operation="chat")
    assert fake_llm.last["model"] == "gpt-4o"


def test_missing_usage_is_counted_locally_and_flagged(fake_llm):
    fake_llm.reply("hello world", usage=None)
    c = call(fake_llm)
    assert c.usage.estimated is True
    assert c.usage.prompt_tokens > 0 and c.usage.completion_tokens == 2
    assert c.usage.total_tokens == c.usage.prompt_tokens + 2
    assert c.usage.to_json()["estimated"] is True
    assert str(c.usage).endswith(" estimated")
    assert c.cost and c.cost > 0


def test_litellm_logging_payload_does_not_scan_messages():
    """tract loads litellm with MAX_BASE64_LENGTH_FOR_LOGGING=0 (unless the
    user set it): its per-call logging payload keeps the messages as they
    are instead of copying and regex-scanning every one (milliseconds a turn
    at 1,000 entries); the variable is not left in the environment for hooks."""
    import os
    import subprocess
    import sys

    code = ("import os; from tract_git import llm; llm.load_litellm(); "
            "from litellm.litellm_core_utils import logging_utils as u; "
            "print(u.MAX_BASE64_LENGTH_FOR_LOGGING, 'MAX_BASE64_LENGTH_FOR_LOGGING' in os.environ)")
    env = {k: v for k, v in os.environ.items() if k != "MAX_BASE64_LENGTH_FOR_LOGGING"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]


def test_drop_params_only_when_the_call_carries_parameters(fake_llm, monkeypatch):
    """litellm's drop_params (a parameter the provider lacks is dropped, not
    an error) is asked for only when there is a parameter to drop: with it
    litellm also copies every message to strip prompt-cache breakpoints,
    which tract's text messages never carry (~1 ms a turn at 1,000 entries)."""
    litellm = llm.load_litellm()
    seen = []
    real = litellm.completion

    def spy(**kw):
        seen.append({k: v for k, v in kw.items() if k != "messages"})
        return real(**kw)

    monkeypatch.setattr(litellm, "completion", spy)
    call(fake_llm)
    assert "drop_params" not in seen[-1] and fake_llm.last["messages"] == MSGS
    call(fake_llm, temperature=0.3)
    assert seen[-1]["drop_params"] is True and fake_llm.last["temperature"] == 0.3
    call(fake_llm, tools=TOOLS)
    assert seen[-1]["drop_params"] is True
    call(fake_llm, on_text=lambda piece: None)
    assert seen[-1]["drop_params"] is True and seen[-1]["stream"] is True


def test_store_config_read_from_the_parsed_file_stays_current(t, git, tmp_path):
    """The model config comes from the store's config file as this process
    keeps it parsed (no libgit2 iteration per call): a value another
    process writes is seen by the next call, and a file with an include
    (which only libgit2 reads exactly) still resolves through libgit2."""
    import time

    repo = t.repo
    t.config("model", "store-model")
    assert resolve(repo, "chat").model == "store-model"
    git(t.path, "config", "tract.chat.model", "Other-Process-Model")
    git(t.path, "config", "tract.chat.maxTokens", "123")
    time.sleep(0.01)  # past the config's stat window
    cfg = resolve(repo, "chat")
    assert (cfg.model, cfg.params) == ("Other-Process-Model", {"max_tokens": 123})
    extra = tmp_path / "extra.cfg"
    extra.write_text("[tract]\n\ttemperature = 0.25\n")
    git(t.path, "config", "include.path", str(extra))
    time.sleep(0.01)
    cfg = resolve(repo, "chat")
    assert (cfg.model, cfg.params) == ("Other-Process-Model", {"max_tokens": 123, "temperature": 0.25})
