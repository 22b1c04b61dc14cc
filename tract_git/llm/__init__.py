"""The one door to models: litellm behind a small adapter.

``complete(repo, messages, operation="chat", model=None, tools=None, **params)``
resolves the model and parameters for the operation (``llm.config``), calls
litellm with bounded retries and a timeout, checks the reply and returns a
``Completion``.  Errors are ``LLMError`` (exit 128) with a one-line message,
``ModelNotConfiguredError`` when no model resolves.

litellm costs seconds to import, so it is imported here, lazily, on the
first call, and nowhere else in tract: commands that need no model never
load it.  ``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set first so it never
reaches for the network for its price map, and
``MAX_BASE64_LENGTH_FOR_LOGGING=0`` (unless set) so its per-call logging
payload does not copy and scan every message (see ``load_litellm``).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import warnings
from dataclasses import dataclass, field

from ..errors import LLMError, ModelNotConfiguredError
from .config import CallConfig, resolve

__all__ = ["complete", "Completion", "Usage", "CallConfig", "resolve", "LLMError",
           "ModelNotConfiguredError", "load_litellm", "format_cost"]

_lock = threading.Lock()
_litellm = None
_skip_mcp = False


def load_litellm():
    """Import litellm once, quietly and offline."""
    global _litellm, _skip_mcp
    if _litellm is not None:
        return _litellm
    with _lock:
        if _litellm is None:
            os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # never fetch the price map
            os.environ.setdefault("LITELLM_LOG", "ERROR")
            # after every call litellm builds a logging payload (in a thread)
            # with a copy of the messages whose base64 data URIs it
            # truncates: a regex over every string of every message, ~3 ms
            # of CPU a turn at 1,000 entries, for callbacks tract never
            # sets.  0 keeps the payload's messages as they are, uncopied.
            # litellm reads it once, at import; hooks and other children
            # do not inherit it.
            own_b64 = "MAX_BASE64_LENGTH_FOR_LOGGING" not in os.environ
            if own_b64:
                os.environ["MAX_BASE64_LENGTH_FOR_LOGGING"] = "0"
            import inspect
            import logging

            try:
                import litellm
            except ImportError as e:
                raise LLMError(f"cannot load litellm: {e}",
                               hints=("install it with: pip install 'litellm>=1.50,<2'",)) from None
            finally:
                if own_b64:
                    os.environ.pop("MAX_BASE64_LENGTH_FOR_LOGGING", None)

            litellm.suppress_debug_info = True
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx"):
                logging.getLogger(name).setLevel(logging.ERROR)
            # litellm >= 1.7x routes any call with tools through an MCP
            # gateway check that needs the optional `mcp` package; tract's
            # tools are plain functions, so skip that check where the
            # installed litellm knows the switch (see docs/llm.md).
            try:
                consts = inspect.unwrap(litellm.completion).__code__.co_consts
                _skip_mcp = "_skip_mcp_handler" in consts
            except AttributeError:
                _skip_mcp = False
            _litellm = litellm
    return _litellm


def format_cost(cost: float) -> str:
    """The one way tract writes a cost (``Tract-Cost`` trailers): US dollars
    in plain decimal notation, up to 10 decimals, trailing zeros dropped,
    then `` USD``: ``0.0000042 USD``, ``0.000054 USD``, ``1.5 USD``."""
    s = f"{float(cost):.10f}".rstrip("0")
    return (s + "0" if s.endswith(".") else s) + " USD"


@dataclass
class Usage:
    """Token usage of a call, as the provider reported it, or, when it
    reported none, counted locally (``estimated``)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False

    def to_json(self) -> dict:
        d = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
             "total_tokens": self.total_tokens}
        if self.estimated:
            d["estimated"] = True
        return d

    def __str__(self) -> str:
        s = f"prompt={self.prompt_tokens} completion={self.completion_tokens} total={self.total_tokens}"
        return s + " estimated" if self.estimated else s


@dataclass
class Completion:
    """One model reply, checked."""

    text: str
    tool_calls: list[dict] | None
    usage: Usage
    cost: float | None
    model: str  # the model asked for
    generation_config: dict
    response_model: str = ""  # the model the provider says answered
    finish_reason: str | None = None
    attempts: int = 1
    latency: float = 0.0  # seconds spent in the provider call(s)
    operation: str = "chat"
    raw: object = field(default=None, repr=False)

    def to_json(self) -> dict:
        d = {
            "text": self.text,
            "tool_calls": self.tool_calls,
            "model": self.model,
            "response_model": self.response_model,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_json(),
            "cost": self.cost,
            "generation_config": dict(self.generation_config),
            "attempts": self.attempts,
            "operation": self.operation,
        }
        return d


# ------------------------------------------------------------------ errors
_RETRY_STATUS = {408, 409, 429}


def _status(err) -> int | None:
    s = getattr(err, "status_code", None)
    try:
        return int(s) if s is not None else None
    except (TypeError, ValueError):
        return None


#: what litellm says when a 200 body is JSON but not a chat completion (no
#: ``choices``, a choice without a message, a list, a bogus ``usage``...):
#: it reports those as a server error (status 500), or a connection error
#: carrying its own traceback
_NOT_A_COMPLETION_TEXTS = ("Invalid response object", "provider returned a response with no 'choices'",
                           "provider returned 'choices' that is not a list")


def _malformed_200(err) -> bool:
    """A 200 response whose body is not a chat completion.  litellm's HTTP
    path says so with status 200 (not JSON at all), or in its own words
    with status 500 (JSON of the wrong shape); the OpenAI client's turns
    it into an InternalServerError showing the 200 response (JSON that is
    not JSON) or saying "Empty or invalid response" (not JSON at all)."""
    if _status(err) == 200:
        return True
    text = str(err)
    return ("[200 OK]" in text or "Empty or invalid response from LLM endpoint" in text
            or any(t in text for t in _NOT_A_COMPLETION_TEXTS))


#: what the OpenAI client (and others) say when no key was found, before any request
_NO_KEY_TEXTS = ("Missing credentials", "api_key client option must be set", "Missing API Key",
                 "API key is required", "api_key must be set")


def _missing_key(err) -> bool:
    """The provider's library refused to call for want of a key (nothing
    was sent): litellm wraps that as a server error or an AuthenticationError."""
    text = str(err)
    return any(t.lower() in text.lower() for t in _NO_KEY_TEXTS)


def _auth_error(litellm, err) -> bool:
    """A missing, wrong or unauthorised key: never worth retrying."""
    if _missing_key(err) or _status(err) in (401, 403):
        return True
    classes = tuple(c for c in (getattr(litellm, "AuthenticationError", None),
                                getattr(litellm, "PermissionDeniedError", None)) if isinstance(c, type))
    return bool(classes) and isinstance(err, classes)


def _key_vars(model: str) -> str:
    """The environment variables that would give ``model`` a key."""
    litellm = load_litellm()
    try:
        missing = litellm.validate_environment(model=model).get("missing_keys") or []
    except Exception:
        missing = []
    names = [k for k in missing if k.endswith("API_KEY")]
    if not names:  # set but empty, say: name the provider's variable anyway
        try:
            provider = litellm.get_llm_provider(model=model)[1]
        except Exception:
            provider = None
        names = [_QUICK_KEYS.get(provider or "", "the provider's API key variable")]
    return " or ".join(names[:2])


def _no_key_error(model: str, variables: str) -> LLMError:
    return LLMError(f"no API key for {model}: set {variables} (or TRACT_API_KEY)",
                    hints=("for a local OpenAI-compatible server, set its URL instead: "
                           "'tract config baseUrl URL' or export TRACT_BASE_URL",))


#: providers whose key variable is known without loading litellm (seconds saved)
_QUICK_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def _check_key_quick(cfg: CallConfig) -> None:
    """``_check_key`` for an ``openai/...`` or ``anthropic/...`` model,
    before litellm is even imported."""
    if cfg.api_key or cfg.base_url:
        return
    prefix, sep, _ = cfg.model.partition("/")
    var = _QUICK_KEYS.get(prefix) if sep else None
    if var and not os.environ.get(var):
        raise _no_key_error(cfg.model, var)


def _check_key(litellm, cfg: CallConfig) -> None:
    """Refuse, before any request, a call to a provider whose API key is
    nowhere (not given, not in the environment): litellm would otherwise
    report it as a server error, and retry it."""
    if cfg.api_key or cfg.base_url:
        return
    try:
        v = litellm.validate_environment(model=cfg.model)
    except Exception:  # an unknown provider: let the call say what it wants
        return
    missing = list(v.get("missing_keys") or [])
    # only plain API keys: OLLAMA_API_BASE, AWS credentials (profiles), Azure
    # endpoints have defaults or other sources tract cannot see
    if v.get("keys_in_environment") or not missing or not all(k.endswith("API_KEY") for k in missing):
        return
    raise _no_key_error(cfg.model, " or ".join(missing[:2]))


def _causes(err):
    """``err`` and the exceptions behind it: its cause, its context and
    litellm's ``original_exception`` (a failed stream's)."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "original_exception", None)]


def _transport_error(litellm, err):
    """The error behind ``err`` when no (whole) response came: the HTTP
    client's (refused, unreachable, reset, cut short, an invalid URL), or
    litellm's connection error (a stream that ended early); else None.
    litellm reports most of these as server errors (status 500).  A timeout
    is not one of them (it is said as a timeout), nor an HTTP error."""
    import httpx  # litellm's HTTP client, loaded with it

    causes = list(_causes(err))
    if any(isinstance(e, (httpx.TimeoutException, httpx.HTTPStatusError, litellm.Timeout)) for e in causes):
        return None
    for e in causes:
        if isinstance(e, (httpx.TransportError, httpx.InvalidURL)):
            return e
    for e in causes:
        if isinstance(e, litellm.APIConnectionError):
            return e
    return None


def _invalid_url(litellm, err) -> bool:
    """The endpoint's URL cannot be used (no or an unsupported protocol, a
    malformed URL): a configuration error, never worth retrying."""
    import httpx

    return isinstance(_transport_error(litellm, err), (httpx.UnsupportedProtocol, httpx.InvalidURL))


def _http_response(err) -> bool:
    """Whether ``err`` came with an HTTP response (an HTTP 408, say, as
    opposed to a timeout of ours, which litellm gives the same class and
    status)."""
    import httpx

    return bool(getattr(err, "litellm_response_headers", None)) or any(
        isinstance(e, httpx.HTTPStatusError) for e in _causes(err))


def _retryable(litellm, err) -> bool:
    if _malformed_200(err) or _auth_error(litellm, err) or _invalid_url(litellm, err):
        return False
    if isinstance(err, (litellm.Timeout, litellm.APIConnectionError, litellm.RateLimitError,
                        litellm.InternalServerError, litellm.ServiceUnavailableError)):
        return True
    s = _status(err)
    return s is not None and (s in _RETRY_STATUS or s >= 500)


def _message(err) -> str:
    """The gist of an exception's text, one line, without litellm's
    wrapping (class names, provider tags, its tracebacks)."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = text.split("Traceback (most recent call last)")[0].strip()
    # "litellm.RateLimitError: RateLimitError: OpenAIException - msg" -> "msg"
    for sep in (" - ", "Exception: "):
        if sep in text:
            text = text.split(sep, 1)[1]
            break
    text = " ".join(text.split()) or type(err).__name__
    if text.startswith("{"):  # the provider's JSON error body: take its message
        try:
            body = json.loads(text)
            e = body.get("error", body)
            text = str(e.get("message") or text) if isinstance(e, dict) else str(e)
        except (ValueError, AttributeError):
            pass
    return text[:197] + "..." if len(text) > 200 else text


def _describe(litellm, err, cfg: CallConfig) -> str:
    """One line for an exception from litellm."""
    if _malformed_200(err):
        return "malformed reply: the response body is not a valid chat completion"
    s = _status(err)
    if isinstance(err, litellm.Timeout) and not _http_response(err):
        return f"timed out after {cfg.timeout:g}s"
    transport = _transport_error(litellm, err)
    if transport is not None:  # no HTTP exchange (or half of one): no status to report
        return f"connection failed: {_message(transport)}"
    text = _message(err)
    kind = {401: "authentication failed", 403: "permission denied", 404: "not found",
            408: "request timeout", 429: "rate limited", 400: "bad request"}.get(s or 0)
    if kind is None and isinstance(err, litellm.APIConnectionError) and not s:
        kind = "connection failed"
    if kind is None and s and s >= 500:
        kind = "server error"
    head = f"{kind} (HTTP {s})" if (kind and s) else (kind or (f"HTTP {s}" if s else type(err).__name__))
    return f"{head}: {text}"


def _retry_after(err) -> float | None:
    for headers in (getattr(err, "litellm_response_headers", None),
                    getattr(getattr(err, "response", None), "headers", None)):
        try:
            v = headers.get("retry-after") if headers else None
            if v is not None:
                return float(v)
        except (TypeError, ValueError, AttributeError):
            return None
    return None


# -------------------------------------------------------------- the call
def _checked_tool_calls(raw_calls) -> list[dict] | None:
    if not raw_calls:
        return None
    out = []
    for i, c in enumerate(raw_calls):
        fn = getattr(c, "function", None) if not isinstance(c, dict) else c.get("function")
        if fn is None:
            raise LLMError(f"malformed reply: tool call {i} has no function")
        name = fn.get("name") if isinstance(fn, dict) else getattr(fn, "name", None)
        args = fn.get("arguments") if isinstance(fn, dict) else getattr(fn, "arguments", None)
        cid = c.get("id") if isinstance(c, dict) else getattr(c, "id", None)
        if not name:
            raise LLMError(f"malformed reply: tool call {i} has no function name")
        if not cid:
            raise LLMError(f"malformed reply: tool call {i} ({name}) has no id")
        if args is None or args == "":
            args = "{}"
        if not isinstance(args, str):
            args = json.dumps(args, ensure_ascii=False)
        try:
            json.loads(args)
        except ValueError:
            raise LLMError(f"malformed reply: arguments of tool call {i} ({name}) are not valid JSON") from None
        out.append({"id": str(cid), "type": "function", "function": {"name": str(name), "arguments": args}})
    return out


def _usage(litellm, resp, cfg: CallConfig, messages: list[dict], text: str, tool_calls) -> Usage:
    u = getattr(resp, "usage", None)
    if u is not None:
        get = (lambda k: u.get(k)) if isinstance(u, dict) else (lambda k: getattr(u, k, None))
        p = int(get("prompt_tokens") or 0)
        c = int(get("completion_tokens") or 0)
        t = int(get("total_tokens") or (p + c))
        if t or p or c:
            return Usage(p, c, t)
    # the provider reported no usage: count it here, and say so
    try:
        p = int(litellm.token_counter(model=cfg.model, messages=messages))
        out = text + (json.dumps(tool_calls) if tool_calls else "")
        c = int(litellm.token_counter(model=cfg.model, text=out)) if out else 0
    except Exception:  # no tokenizer for it: unknown stays zero, flagged
        p = c = 0
    return Usage(p, c, p + c, estimated=True)


def _cost(litellm, resp, cfg: CallConfig, usage: Usage) -> float | None:
    """USD for the call, from litellm's local price map, by the model name
    asked for; None for a model it does not price."""
    hidden = getattr(resp, "_hidden_params", None) or {}
    c = None if usage.estimated else hidden.get("response_cost")
    if c is None:
        try:
            p, q = litellm.cost_per_token(model=cfg.model, prompt_tokens=usage.prompt_tokens,
                                          completion_tokens=usage.completion_tokens)
            c = p + q
        except Exception:  # an unpriced model: no cost, not an error
            c = None
    try:
        return float(f"{float(c):.10g}") if c is not None else None
    except (TypeError, ValueError):
        return None


def _generic_endpoint(litellm, cfg: CallConfig) -> str | None:
    """The model name to send when ``cfg`` names an OpenAI-compatible
    endpoint to speak to through litellm's plain HTTP path, else None.

    With a base URL, a bare name (``my-model``), an ``openai/`` one or a
    name whose prefix is no litellm provider (``meta-llama/Llama-3-8B``)
    goes through litellm's generic OpenAI-compatible handler
    (``hosted_vllm``): the OpenAI client that the ``openai`` provider uses
    re-validates every message against its type schema, which costs about
    a millisecond per message, a second per turn at 1,000 entries."""
    if not cfg.base_url:
        return None
    prefix, sep, rest = cfg.model.partition("/")
    if not sep:
        return cfg.model
    if prefix == "openai":
        return rest
    if prefix not in getattr(litellm, "provider_list", ()):
        return cfg.model
    return None


#: the key sent to an endpoint when none is found anywhere (local servers want some key)
PLACEHOLDER_KEY = "no-key"


def _endpoint_key(litellm, cfg: CallConfig, generic: bool) -> str | None:
    """The key to pass for a call to ``cfg.base_url`` when neither the call,
    the session nor TRACT_API_KEY gave one: the provider's own key from the
    environment, else a placeholder; None to let litellm read it itself.

    An OpenAI-compatible endpoint (``generic``) goes through litellm's
    ``hosted_vllm`` provider, which does not read OPENAI_API_KEY: it is read
    here.  A named provider (``anthropic/...``) reads its own variable; the
    placeholder is sent only when that variable is not set."""
    if generic:
        return os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_KEY
    try:
        v = litellm.validate_environment(model=cfg.model)
    except Exception:  # cannot tell: a placeholder, as for any endpoint
        return PLACEHOLDER_KEY
    if v.get("keys_in_environment"):
        return None
    missing = v.get("missing_keys") or []
    return PLACEHOLDER_KEY if any(k.endswith("API_KEY") for k in missing) else None


def _kwargs(litellm, cfg: CallConfig, messages: list[dict], tools, stream: bool = False) -> dict:
    kw: dict = {"model": cfg.model, "messages": messages, "timeout": cfg.timeout, "max_retries": 0}
    name = None
    if cfg.base_url:
        kw["api_base"] = cfg.base_url
        name = _generic_endpoint(litellm, cfg)
        if name is not None:
            kw["model"] = name
            kw["custom_llm_provider"] = "hosted_vllm"
    if cfg.api_key:
        kw["api_key"] = cfg.api_key
    elif cfg.base_url:
        key = _endpoint_key(litellm, cfg, generic=name is not None)
        if key:
            kw["api_key"] = key
    kw.update(cfg.params)
    if tools:
        kw["tools"] = list(tools)
        if _skip_mcp:
            kw["_skip_mcp_handler"] = True
    if cfg.params or tools or stream:
        # drop_params: a parameter a provider lacks is dropped, not an
        # error.  Only asked for when the call carries any (sampling
        # parameters, tools, streaming's stream_options): with it litellm
        # also copies every message to strip prompt-cache breakpoints,
        # which tract's text messages never have, ~0.5-1 ms a turn at
        # 1,000 entries for nothing to drop
        kw["drop_params"] = True
    return kw


def _call_once(litellm, kw: dict, on_text):
    """One attempt: ``(response, usage_reported)``; ``usage_reported`` is
    False for a stream whose provider sent no usage (litellm then counts
    it itself, and says nothing)."""
    # litellm and pydantic warn about their own internals; not the user's concern
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _call_once_quiet(litellm, kw, on_text)


def _chunk_usage(chunk):
    return chunk.get("usage") if isinstance(chunk, dict) else getattr(chunk, "usage", None)


def _gather_tool_call(calls: dict, tc) -> None:
    """Add a streamed tool-call delta to ``calls`` (index -> id and name)."""
    get = (lambda o, k: o.get(k)) if isinstance(tc, dict) else getattr
    i = get(tc, "index", None)
    c = calls.setdefault(i if isinstance(i, int) else len(calls), {"id": "", "function": {"name": ""}})
    c["id"] = c["id"] or get(tc, "id", None) or ""
    fn = get(tc, "function", None)
    name = (fn.get("name") if isinstance(fn, dict) else getattr(fn, "name", None)) if fn is not None else None
    c["function"]["name"] = c["function"]["name"] or name or ""


def _call_once_quiet(litellm, kw: dict, on_text):
    if on_text is None:
        return litellm.completion(**kw), True
    kw = dict(kw, stream=True, stream_options={"include_usage": True})
    chunks = []
    calls: dict = {}
    stream = litellm.completion(**kw)
    for ch in stream:
        chunks.append(ch)
        choices = getattr(ch, "choices", None) or []
        if choices:
            delta = getattr(choices[0], "delta", None)
            piece = getattr(delta, "content", None) if delta is not None else None
            if piece:
                on_text(piece)
            for tc in (getattr(delta, "tool_calls", None) if delta is not None else None) or ():
                _gather_tool_call(calls, tc)
    if not chunks:
        return None, True
    # litellm's builder drops a tool call with no name or id: check them
    # here, as a reply that is not streamed is checked (same messages)
    _checked_tool_calls([calls[i] for i in sorted(calls)])
    # asked for usage, litellm always ends the stream with some: the
    # provider's, or its own count when the provider sent none.  Which one
    # shows in the chunks it kept (the provider's usage chunk among them)
    kept = getattr(stream, "chunks", None)
    reported = True if not isinstance(kept, list) else any(_chunk_usage(c) is not None for c in kept)
    return litellm.stream_chunk_builder(chunks, messages=kw["messages"]), reported


def complete(repo, messages: list[dict], *, operation: str = "chat", model: str | None = None,
             tools: list | None = None, api_key: str | None = None, base_url: str | None = None,
             on_text=None, sleep=time.sleep, **params) -> Completion:
    """Call the model configured for ``operation`` on ``messages`` (OpenAI
    chat messages) and return the checked reply.

    ``params`` are sampling parameters (temperature, max_tokens, top_p,
    seed...) and controls (timeout seconds, retries, backoff seconds); a
    value given here beats every configured one.  ``on_text(piece)``, if
    given, streams the reply's text as it arrives.  Retries with
    exponential backoff (honouring Retry-After) on 408/409/429/5xx,
    timeouts and connection errors; never on other errors.
    """
    cfg = resolve(repo, operation, model=model, base_url=base_url, api_key=api_key, params=params)
    if not messages:
        raise LLMError("nothing to send: the context is empty")
    _check_key_quick(cfg)
    litellm = load_litellm()
    _check_key(litellm, cfg)
    kw = _kwargs(litellm, cfg, messages, tools, stream=on_text is not None)
    attempts = 0
    t0 = time.perf_counter()
    shown = []
    if on_text is not None:
        user_on_text = on_text

        def on_text(piece: str) -> None:
            shown.append(True)
            user_on_text(piece)
    while True:
        attempts += 1
        try:
            resp, usage_reported = _call_once(litellm, kw, on_text)
            break
        except LLMError:
            raise
        except Exception as err:  # litellm raises its own classes, and sometimes others
            # a stream that already showed text is not retried (it would show twice)
            if attempts <= cfg.retries and not shown and _retryable(litellm, err):
                delay = cfg.backoff * (2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
                ra = _retry_after(err)
                if ra is not None:
                    delay = max(delay, min(ra, 60.0))
                sleep(min(delay, 60.0))
                continue
            if _missing_key(err):
                raise _no_key_error(cfg.model, _key_vars(cfg.model)) from None
            what = _describe(litellm, err, cfg)
            tries = f" after {attempts} attempts" if attempts > 1 else ""
            hints = (("check the endpoint's URL (tract config baseUrl, $TRACT_BASE_URL, $OPENAI_BASE_URL)",)
                     if _invalid_url(litellm, err) else ())
            raise LLMError(f"model call failed{tries}: {cfg.model}: {what}", hints=hints) from None
    latency = time.perf_counter() - t0
    c = _completion(litellm, resp, cfg, attempts, latency, messages, usage_reported)
    names = [t.get("function", t).get("name") for t in tools or () if isinstance(t, dict)]
    if names:
        c.generation_config["tools"] = [n for n in names if n]
    return c


def _completion(litellm, resp, cfg: CallConfig, attempts: int, latency: float,
                messages: list[dict], usage_reported: bool = True) -> Completion:
    choices = getattr(resp, "choices", None) if resp is not None else None
    if not choices:
        raise LLMError(f"malformed reply from {cfg.model}: no choices")
    ch = choices[0]
    msg = getattr(ch, "message", None)
    if msg is None:
        raise LLMError(f"malformed reply from {cfg.model}: a choice without a message")
    text = getattr(msg, "content", None)
    if text is not None and not isinstance(text, str):
        raise LLMError(f"malformed reply from {cfg.model}: message content is not text")
    tool_calls = _checked_tool_calls(getattr(msg, "tool_calls", None))
    usage = _usage(litellm, resp if usage_reported else None, cfg, messages, text or "", tool_calls)
    return Completion(
        text=text or "",
        tool_calls=tool_calls,
        usage=usage,
        cost=_cost(litellm, resp, cfg, usage),
        model=cfg.model,
        generation_config=cfg.generation_config,
        response_model=str(getattr(resp, "model", "") or ""),
        finish_reason=getattr(ch, "finish_reason", None),
        attempts=attempts,
        latency=latency,
        operation=cfg.operation,
        raw=resp,
    )
