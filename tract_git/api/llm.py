"""Talking to models from the facade: ``Tract.open(model=..., api_key=...,
base_url=...)``, ``t.chat()``, ``t.generate()``, ``t.complete()``."""

from __future__ import annotations

from .. import llm as _llm
from ..llm.config import SAMPLING
from ..ops import chat as _chat

_PARAM_TO_CONFIG = {pname: cname for cname, (pname, _) in SAMPLING.items()}


class LLMMixin:
    def _configure(self, model: str | None = None, api_key: str | None = None,
                   base_url: str | None = None, **kw) -> None:
        """Session defaults for every model call made through this object
        (in memory only; the API key is never written anywhere).  Sampling
        parameters (temperature, max_tokens...) may be given too."""
        session = self.repo.llm_session  # type: ignore[attr-defined]
        if model is not None:
            session["model"] = model
        if api_key is not None:
            session["api_key"] = api_key
        if base_url is not None:
            session["baseUrl"] = base_url
        for p in list(kw):
            if p in _PARAM_TO_CONFIG:
                session[_PARAM_TO_CONFIG[p]] = kw.pop(p)
        super()._configure(**kw)  # type: ignore[misc]

    def chat(self, text: str, *, model: str | None = None, tools: list | None = None,
             on_text=None, **params) -> _chat.ChatResult:
        """Commit ``text`` as a user message, send the context, commit the
        reply (with its tool calls, model, parameters and usage) and return
        it.  If the call fails nothing is written: the store is as before.

        ``params``: temperature, max_tokens, top_p, seed..., timeout,
        retries; ``on_text(piece)`` streams the reply as it arrives."""
        return _chat.chat(self.repo, text, model=model, tools=tools,  # type: ignore[attr-defined]
                          on_text=on_text, **params)

    def generate(self, *, model: str | None = None, tools: list | None = None,
                 on_text=None, **params) -> _chat.ChatResult:
        """Send the context as it stands and commit the model's reply.
        A failure writes nothing, so calling it again retries cleanly."""
        return _chat.generate(self.repo, model=model, tools=tools,  # type: ignore[attr-defined]
                              on_text=on_text, **params)

    def complete(self, messages: list[dict], *, operation: str = "chat", model: str | None = None,
                 tools: list | None = None, **params) -> _llm.Completion:
        """One model call on explicit messages, with this store's model
        configuration; commits nothing."""
        return _llm.complete(self.repo, messages, operation=operation, model=model,  # type: ignore[attr-defined]
                             tools=tools, **params)
