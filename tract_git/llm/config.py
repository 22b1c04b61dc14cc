"""Which model, endpoint and parameters a model call uses.

Resolution, first match wins, per setting (see docs/llm.md):

1. the call's own arguments (``complete(..., model=..., temperature=...)``,
   ``t.chat(..., model=...)``, ``tract chat --model``);
2. the operation's default in the store config: ``tract.<operation>.model``,
   ``tract.<operation>.temperature``, ``tract.<operation>.baseUrl``...
3. the session: what ``Tract.open(model=..., api_key=..., base_url=...)``
   was given (kept in memory only);
4. the store default: ``tract.model``, ``tract.baseUrl``, ``tract.temperature``...
5. the environment: ``TRACT_MODEL``; ``TRACT_BASE_URL`` or
   ``OPENAI_BASE_URL`` / ``OPENAI_API_BASE``; ``TRACT_LLM_TIMEOUT``,
   ``TRACT_LLM_RETRIES``, ``TRACT_LLM_BACKOFF``.

API keys come only from the call, the session or the environment
(``TRACT_API_KEY``, else whatever the provider's library reads, such as
``OPENAI_API_KEY``): never from, nor into, the store.

No litellm here: resolving a config is cheap and import-free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import ConfigError, ModelNotConfiguredError

#: config name (camelCase, as git config wants) -> (litellm parameter, parser)
SAMPLING = {
    "temperature": ("temperature", float),
    "topp": ("top_p", float),
    "maxtokens": ("max_tokens", int),
    "seed": ("seed", int),
    "presencepenalty": ("presence_penalty", float),
    "frequencypenalty": ("frequency_penalty", float),
    "stop": ("stop", str),
    "reasoningeffort": ("reasoning_effort", str),
}
CONTROL = {
    "timeout": ("timeout", float),
    "retries": ("retries", int),
    "backoff": ("backoff", float),
}
DEFAULTS = {"timeout": 60.0, "retries": 2, "backoff": 1.0}
#: controls that must be greater than 0 (a call with no time to answer fails oddly)
POSITIVE = {"timeout"}
ENV_CONTROL = {"timeout": "TRACT_LLM_TIMEOUT", "retries": "TRACT_LLM_RETRIES", "backoff": "TRACT_LLM_BACKOFF"}
#: the litellm parameter names a call may pass straight through
PASS_THROUGH = {p for p, _ in SAMPLING.values()} | {
    "n", "logit_bias", "response_format", "tool_choice", "parallel_tool_calls", "user",
    "max_completion_tokens", "logprobs", "top_logprobs", "extra_headers", "stream_options",
}
OPERATIONS = ("chat", "merge", "compress", "commitMessages", "orchestrator", "collapse")


@dataclass
class CallConfig:
    """Everything one model call needs, resolved."""

    operation: str
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    params: dict = field(default_factory=dict)  # sampling parameters for litellm
    timeout: float = DEFAULTS["timeout"]
    retries: int = DEFAULTS["retries"]
    backoff: float = DEFAULTS["backoff"]
    sources: dict = field(default_factory=dict)  # setting -> where it came from

    @property
    def generation_config(self) -> dict:
        """What is recorded in git for a turn: the model and its sampling
        parameters (never the endpoint or the key)."""
        d = {"model": self.model}
        d.update(sorted(self.params.items()))
        return d


def _store_values(repo) -> dict[str, str]:
    """Every ``tract.*`` config value, keys lowercased."""
    if repo is None:
        return {}
    try:
        items = repo.store.config_values_local("tract.")
    except Exception:  # an unreadable config is the same as none
        return {}
    return {k[len("tract."):].lower(): v for k, v in items.items()}


def _parse(name: str, parser, value, where: str):
    try:
        v = parser(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: '{value}' is not a valid {name}") from None
    if parser in (int, float) and v < 0:
        raise ConfigError(f"{where}: '{value}' must not be negative")
    if name in POSITIVE and not 0 < v < float("inf"):  # also NaN
        raise ConfigError(f"{where}: '{value}' must be greater than 0" if not v > 0 else
                          f"{where}: '{value}' is not a number of seconds")
    return v


def resolve(repo, operation: str = "chat", *, model: str | None = None, base_url: str | None = None,
            api_key: str | None = None, params: dict | None = None, session: dict | None = None,
            env: dict | None = None) -> CallConfig:
    """Resolve the model, endpoint, key and parameters of one call."""
    env = os.environ if env is None else env
    session = dict(session if session is not None else (getattr(repo, "llm_session", None) or {}))
    store = _store_values(repo)
    op = operation.lower()
    sources: dict[str, str] = {}

    def pick(name: str, call_value, env_names: tuple[str, ...] = ()):
        if call_value is not None:
            sources[name] = "argument"
            return call_value
        key = name.lower()
        if f"{op}.{key}" in store:
            sources[name] = f"config tract.{operation}.{name}"
            return store[f"{op}.{key}"]
        if session.get(name) is not None:
            sources[name] = "session"
            return session[name]
        if key in store:
            sources[name] = f"config tract.{name}"
            return store[key]
        for e in env_names:
            if env.get(e):
                sources[name] = f"environment {e}"
                return env[e]
        return None

    params = dict(params or {})
    m = pick("model", model, ("TRACT_MODEL",))
    if not m:
        raise ModelNotConfiguredError(
            f"no model configured for '{operation}'",
            hints=(f"set one with 'tract config model NAME' (or 'tract config {operation}.model NAME'), "
                   "pass --model, or export TRACT_MODEL",),
        )
    url = pick("baseUrl", base_url, ("TRACT_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE"))
    key = api_key if api_key is not None else session.get("api_key") or env.get("TRACT_API_KEY") or None
    cfg = CallConfig(operation, str(m), url or None, key)
    # sampling parameters: a call's value wins, then operation, session, store
    for cname, (pname, parser) in SAMPLING.items():
        call_value = params.pop(pname, None)
        if call_value is None:
            call_value = params.pop(cname, None)
        v = pick(cname, call_value)
        if v is not None:
            src = sources.get(cname, "argument")
            cfg.params[pname] = v if src == "argument" else _parse(pname, parser, v, src)
    for cname, (pname, parser) in CONTROL.items():
        v = pick(cname, params.pop(pname, None), (ENV_CONTROL[cname],))
        if v is not None:
            setattr(cfg, pname, _parse(pname, parser, v, sources.get(cname, "argument")))
    for k, v in params.items():
        if v is None:
            continue
        if k not in PASS_THROUGH:
            raise ConfigError(f"unknown model parameter '{k}'")
        cfg.params[k] = v
    cfg.sources = sources
    return cfg
