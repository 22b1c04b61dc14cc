"""A local OpenAI-compatible chat server for tests: the real litellm code
path runs over real HTTP, on 127.0.0.1, with no network.

Use the ``fake_llm`` fixture (registered in ``conftest.py`` with
``pytest_plugins = ["fakellm"]``)::

    def test_something(fake_llm):
        fake_llm.reply("Hello!", usage=(12, 3))           # queue one canned reply
        fake_llm.reply(tool_calls=[{"id": "c1", "name": "get_weather",
                                    "arguments": {"city": "Paris"}}])
        fake_llm.error(429)                                # next call: HTTP 429
        fake_llm.error(500, times=2)                       # the two after: HTTP 500
        fake_llm.hang(5)                                   # the next call hangs 5 s
        fake_llm.raw(b"not json")                          # a malformed 200 body
        fake_llm.empty_choices()                           # {"choices": []}
        fake_llm.cut("The first")                          # the reply is cut short
        ...
        fake_llm.base_url          # "http://127.0.0.1:PORT/v1"
        fake_llm.model             # "openai/gpt-4o-mini": a priced model name
        fake_llm.env               # {"TRACT_MODEL", "TRACT_BASE_URL", "TRACT_API_KEY"} for the CLI
        fake_llm.requests          # list of Request(path, headers, body): every call received
        fake_llm.last              # the last request's JSON body
        fake_llm.attach(t)         # point a Tract (or a Repo) at this server, in memory
        fake_llm.responder = lambda body: "summary of %d messages" % len(body["messages"])
        fake_llm.timings           # seconds each chat request spent in the server (benchmarks)

Replies are served in the order they were queued (one per request); when
the queue is empty a request gets ``fake_llm.responder(body)`` if set (a
text, or a dict of ``reply()`` arguments), else ``fake_llm.default``
(text "ok").
A request with ``"stream": true`` gets the same reply as server-sent events
(one chunk per word, a final chunk with usage when the client asked for it
with ``stream_options.include_usage``).

The server answers with TCP_NODELAY, as real servers (uvicorn, vLLM) do:
without it a response's body waits for the client's delayed ACK of its
headers, ~40 ms a request on Linux, which is no client's cost.  Each chat
request's handling time (from its request line read to its response
written) is kept in ``timings``; ``GET /_fake/timings`` returns them and clears them,
so a benchmark can subtract the server's own time from a turn.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

DEFAULT_MODEL = "openai/gpt-4o-mini"
API_KEY = "sk-fake-TEST-KEY-0123456789abcdef"


@dataclass
class Request:
    path: str
    headers: dict
    body: dict | None


@dataclass
class Canned:
    kind: str  # reply | error | hang | raw | cut
    status: int = 200
    body: object = None  # dict for reply/error, bytes for raw
    delay: float = 0.0
    headers: dict = field(default_factory=dict)


def _tool_call(i: int, call: dict) -> dict:
    """Accept ``{"id", "name", "arguments"}`` (arguments a dict or a raw
    string, passed through unchecked) or the full OpenAI shape."""
    if "function" in call:
        return {"id": call.get("id", f"call_{i}"), "type": "function", "function": dict(call["function"])}
    args = call.get("arguments", {})
    if not isinstance(args, str):
        args = json.dumps(args)
    return {"id": call.get("id", f"call_{i}"), "type": "function",
            "function": {"name": call["name"], "arguments": args}}


class FakeLLM:
    def __init__(self):
        self.queue: deque[Canned] = deque()
        self.requests: list[Request] = []
        self.default = self._reply_body("ok", None, (10, 1), None, "stop")
        self.model = DEFAULT_MODEL
        self.responder = None  # body -> str | dict of reply() arguments, when the queue is empty
        self.timings: list[float] = []  # seconds per chat request, request line to response written
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control
    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def env(self) -> dict:
        """Environment that points the CLI (or the library) at this server."""
        return {"TRACT_MODEL": self.model, "TRACT_BASE_URL": self.base_url, "TRACT_API_KEY": API_KEY}

    @property
    def last(self) -> dict | None:
        return self.requests[-1].body if self.requests else None

    def _push(self, c: Canned, times: int) -> None:
        with self._lock:
            for _ in range(times):
                self.queue.append(c)

    @staticmethod
    def _reply_body(text, tool_calls, usage, model, finish_reason) -> dict:
        msg: dict = {"role": "assistant", "content": text if text is not None else None}
        if tool_calls:
            msg["tool_calls"] = [_tool_call(i, c) for i, c in enumerate(tool_calls)]
            if not text:
                msg["content"] = None
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1700000000,
            "model": model,
            "choices": [{"index": 0, "message": msg,
                         "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop")}],
        }
        if usage is not None:
            if isinstance(usage, dict):
                body["usage"] = dict(usage)
            else:
                p, c = usage
                body["usage"] = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        return body

    def reply(self, text: str | None = "", *, tool_calls: list | None = None,
              usage: tuple | dict | None = (10, 5), model: str | None = None,
              finish_reason: str | None = None, delay: float = 0.0, times: int = 1) -> "FakeLLM":
        """Queue a completion.  ``usage`` is (prompt, completion) or a dict
        (or None for a reply without usage); ``model`` defaults to the model
        the request named."""
        self._push(Canned("reply", 200, self._reply_body(text, tool_calls, usage, model, finish_reason),
                          delay), times)
        return self

    def error(self, status: int, message: str | None = None, *, times: int = 1,
              headers: dict | None = None) -> "FakeLLM":
        """Queue an HTTP error with an OpenAI-style error body."""
        body = {"error": {"message": message or f"fake error {status}", "type": "fake_error",
                          "code": status}}
        self._push(Canned("error", status, body, headers=dict(headers or {})), times)
        return self

    def hang(self, seconds: float, *, times: int = 1) -> "FakeLLM":
        """The next request waits ``seconds`` before answering (a timeout
        for any client with a shorter one), then gets the default reply."""
        self._push(Canned("hang", 200, None, seconds), times)
        return self

    def raw(self, body: bytes, *, status: int = 200, content_type: str = "application/json",
            times: int = 1) -> "FakeLLM":
        """Queue raw bytes as the response body (malformed replies)."""
        self._push(Canned("raw", status, body, headers={"Content-Type": content_type}), times)
        return self

    def cut(self, text: str = "", *, times: int = 1) -> "FakeLLM":
        """The next reply is cut short: a stream sends ``text`` (one chunk
        per word), then the connection closes with no finish_reason and no
        ``[DONE]``; a plain request gets half a body, then the close."""
        self._push(Canned("cut", 200, self._reply_body(text, None, None, None, "stop")), times)
        return self

    def empty_choices(self, *, times: int = 1) -> "FakeLLM":
        body = {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000,
                "model": "fake", "choices": [],
                "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}}
        self._push(Canned("reply", 200, body), times)
        return self

    def attach(self, t) -> "FakeLLM":
        """Point a ``Tract`` (or an ``ops.repo.Repo``) at this server for
        every operation, in memory, as ``Tract.open(model=..., base_url=...,
        api_key=...)`` would."""
        repo = getattr(t, "repo", t)
        repo.llm_session.update({"model": self.model, "baseUrl": self.base_url, "api_key": API_KEY})
        return self

    def pending(self) -> int:
        with self._lock:
            return len(self.queue)

    def clear(self) -> None:
        with self._lock:
            self.queue.clear()
            self.requests.clear()

    # ------------------------------------------------------------ serving
    def _next(self, body: dict | None = None) -> Canned:
        with self._lock:
            if self.queue:
                return self.queue.popleft()
        if self.responder is not None:
            out = self.responder(body or {})
            kw = {"text": out} if isinstance(out, str) else dict(out)
            text = kw.pop("text", "")
            return Canned("reply", 200, self._reply_body(text, kw.get("tool_calls"), kw.get("usage", (10, 5)),
                                                         kw.get("model"), kw.get("finish_reason")))
        return Canned("reply", 200, self.default)

    def start(self) -> "FakeLLM":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # TCP_NODELAY, as real servers set it

            def log_message(self, *a):  # quiet
                pass

            def parse_request(self):  # the request line has just arrived
                self._t0 = time.perf_counter()
                return super().parse_request()

            def _send(self, status: int, data: bytes, headers: dict | None = None):
                self.send_response(status)
                hs = {"Content-Type": "application/json"}
                hs.update(headers or {})
                for k, v in hs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path.rstrip("/") == "/_fake/timings":
                    with fake._lock:
                        out, fake.timings[:] = list(fake.timings), []
                    self._send(200, json.dumps(out).encode())
                elif self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [
                        {"id": fake.model.split("/")[-1], "object": "model"}]}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                t0 = self._t0
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                with fake._lock:
                    fake.requests.append(Request(self.path, dict(self.headers), body))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "unknown path"}}')
                    return
                c = fake._next(body)
                if c.kind == "hang":
                    if fake._stop.wait(c.delay):
                        return
                    c = Canned("reply", 200, fake.default)
                elif c.delay:
                    fake._stop.wait(c.delay)
                try:
                    if c.kind == "raw":
                        self._send(c.status, c.body, c.headers)  # type: ignore[arg-type]
                    elif c.kind == "error":
                        self._send(c.status, json.dumps(c.body).encode(), c.headers)
                    else:
                        out = json.loads(json.dumps(c.body))
                        if out.get("model") is None:
                            out["model"] = (body or {}).get("model") or "fake"
                        if body and body.get("stream"):
                            self._stream(out, bool((body.get("stream_options") or {}).get("include_usage")),
                                         cut=c.kind == "cut")
                        elif c.kind == "cut":
                            data = json.dumps(out).encode()
                            self.send_response(200)
                            self.send_header("Content-Type", "application/json")
                            self.send_header("Content-Length", str(len(data)))
                            self.end_headers()
                            self.wfile.write(data[:len(data) // 2])
                            self.wfile.flush()
                            self.close_connection = True
                        else:
                            self._send(200, json.dumps(out).encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass
                spent = time.perf_counter() - t0
                with fake._lock:
                    fake.timings.append(spent)

            def _stream(self, out: dict, include_usage: bool, cut: bool = False):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                base = {k: out[k] for k in ("id", "created", "model")}
                base["object"] = "chat.completion.chunk"

                def chunk(choices, **extra):
                    d = dict(base, choices=choices, **extra)
                    self.wfile.write(b"data: " + json.dumps(d).encode() + b"\n\n")
                    self.wfile.flush()

                if not out.get("choices"):
                    chunk([])
                else:
                    ch = out["choices"][0]
                    msg = ch["message"]
                    chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
                    text = msg.get("content") or ""
                    words = text.split(" ")
                    for i, w in enumerate(words):
                        if not text:
                            break
                        piece = w if i == len(words) - 1 else w + " "
                        chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
                    if cut:  # the connection closes here: no finish_reason, no [DONE]
                        return
                    for i, tc in enumerate(msg.get("tool_calls") or []):
                        chunk([{"index": 0, "delta": {"tool_calls": [dict(tc, index=i)]},
                                "finish_reason": None}])
                    chunk([{"index": 0, "delta": {}, "finish_reason": ch.get("finish_reason", "stop")}])
                if include_usage and out.get("usage"):
                    chunk([], usage=out["usage"])
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fake-llm")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


@pytest.fixture
def fake_llm(monkeypatch):
    """A started ``FakeLLM``; retries back off fast (``TRACT_LLM_BACKOFF``)."""
    monkeypatch.setenv("TRACT_LLM_BACKOFF", "0.001")
    fake = FakeLLM().start()
    try:
        yield fake
    finally:
        fake.stop()
