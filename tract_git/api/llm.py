"""Talking to models from the facade: ``Tract.open(model=..., api_key=...,
base_url=...)``, ``t.chat()``, ``t.generate()``, ``t.complete()``."""

from __future__ import annotations

import queue
import threading

from .._lazy import lazy as _lazy
from ..llm.config import SAMPLING

_llm = _lazy("tract_git.llm")
_chat = _lazy("tract_git.ops.chat")

_PARAM_TO_CONFIG = {pname: cname for cname, (pname, _) in SAMPLING.items()}


class ChatStream:
    """Iterate over the reply's text as it arrives; afterwards ``.result``
    is the turn's ``ChatResult`` (the commits have landed).  An error in
    the call is raised from the iteration, and nothing is written.

    >>> s = t.chat_stream("Tell me a story")      # doctest: +SKIP
    >>> for piece in s:
    ...     print(piece, end="", flush=True)
    >>> s.result.usage
    """

    _DONE = object()

    def __init__(self, run):
        self.result: _chat.ChatResult | None = None
        self._q: queue.Queue = queue.Queue()
        self._error: BaseException | None = None

        def work():
            try:
                self.result = run(self._q.put)
            except BaseException as e:  # handed to the reader
                self._error = e
            finally:
                self._q.put(self._DONE)

        self._thread = threading.Thread(target=work, name="tract-chat-stream", daemon=True)
        self._thread.start()

    def __iter__(self):
        while True:
            piece = self._q.get()
            if piece is self._DONE:
                break
            yield piece
        self._thread.join()
        if self._error is not None:
            raise self._error

    @property
    def text(self) -> str:
        """Consume the stream; the whole reply's text."""
        for _ in self:
            pass
        return self.result.text if self.result else ""


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

    def chat_stream(self, text: str, *, model: str | None = None, tools: list | None = None,
                    **params) -> ChatStream:
        """``chat()``, streamed: iterate over the returned object for the
        reply's text as it arrives; ``.result`` holds the ``ChatResult``."""
        return ChatStream(lambda put: _chat.chat(self.repo, text, model=model, tools=tools,  # type: ignore[attr-defined]
                                                 on_text=put, **params))

    def generate_stream(self, *, model: str | None = None, tools: list | None = None,
                        **params) -> ChatStream:
        """``generate()``, streamed (see ``chat_stream``)."""
        return ChatStream(lambda put: _chat.generate(self.repo, model=model, tools=tools,  # type: ignore[attr-defined]
                                                     on_text=put, **params))

    def complete(self, messages: list[dict], *, operation: str = "chat", model: str | None = None,
                 tools: list | None = None, **params) -> _llm.Completion:
        """One model call on explicit messages, with this store's model
        configuration; commits nothing."""
        return _llm.complete(self.repo, messages, operation=operation, model=model,  # type: ignore[attr-defined]
                             tools=tools, **params)
