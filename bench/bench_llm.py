"""Adapter overhead per conversational turn.

Everything tract does around a model call — compile the context, resolve
the model config, litellm's request building and response parsing, the
HTTP round trip on loopback, checking the reply, the two commits with
their trailers and notes — measured against the local fake
OpenAI-compatible server (tests/fakellm.py, in its own process so the CPU
figures are the client's alone).  Context: 1,000 entries.

Target (issue 4): <= 20 ms per turn at 1,000 entries, "everything except
the model's own latency".  The model's latency here is the fake server's
own handling time of each request (from its request line read to its
response written: reading and JSON-decoding the ~150 KB body, building the
reply, writing it), which the server measures and reports (``GET
/_fake/timings``); the adapter overhead of a turn is its wall time minus
that.  The server sets TCP_NODELAY as real servers do (without it each
response stalled ~40 ms on the client's delayed ACK, which earlier
versions of this bench counted as overhead).  A raw HTTP round trip of the same body (http.client, the
body already encoded) is measured in the same run as a floor: what any
client pays for loopback transport plus the server.

Each figure is median, min and max over --runs runs (at least 5).  The
breakdown times each step of the real ``chat()`` (its module functions
wrapped with timers, ~1 us each): compile of the context, config
resolution, litellm (its logging/callback setup, message validation,
request transform, HTTP post minus server time, the rest: optional
params, response parsing, cost), reply validation and usage/cost, the
turn's trailers and note record, the two commits, seeding the compile
cache for the next turn, and what is left (message building, glue).

    python bench/bench_llm.py [--quick] [--entries N] [--runs N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, ".."))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tract_git import Tract, llm  # noqa: E402
from tract_git.ops import chat as _chat  # noqa: E402
from tract_git.ops import commit as _commit  # noqa: E402

SERVER = """
import sys
from fakellm import FakeLLM
f = FakeLLM().start()
f.default = FakeLLM._reply_body("A short reply from the fake model.", None, (1000, 8), None, "stop")
print(f.base_url, flush=True)
sys.stdin.read()
f.stop()
"""



def _scratch(d: str | None) -> str:
    """Where stores are made: ``d``, else ``$TRACT_BENCH_DIR``, else
    ``bench/.scratch/`` (see ``bench/common.py``: not the system tmp)."""
    d = d or os.environ.get("TRACT_BENCH_DIR") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", ".scratch")
    os.makedirs(d, exist_ok=True)
    return d

def stats(name: str, xs: list[float], cpu: list[float] | None = None) -> None:
    ms = [x * 1000 for x in xs]
    tail = f"   cpu {statistics.median(cpu) * 1000:6.2f}" if cpu is not None else f"   (n={len(ms)})"
    print(f"{name:<52} median {statistics.median(ms):7.2f} ms   min {min(ms):7.2f}   max {max(ms):7.2f}{tail}")


class Server:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=os.path.join(HERE, "..", "tests"))
        self.base_url = self.proc.stdout.readline().strip()
        u = urllib.parse.urlsplit(self.base_url)
        self.host, self.port = u.hostname, u.port

    def timings(self) -> list[float]:
        """Handling times of the chat requests since the last call (seconds)."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        c.request("GET", "/_fake/timings")
        out = json.loads(c.getresponse().read())
        c.close()
        return out

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


class Phases:
    """Wall and CPU time (this process, litellm's logging thread included)
    spent in wrapped functions, per run."""

    def __init__(self):
        self.cur: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.runs: list[dict[str, float]] = []
        self.cpu_runs: list[dict[str, float]] = []
        self._undo = []

    def wrap(self, obj, attr: str, label: str) -> None:
        orig = getattr(obj, attr)
        cur, cpu = self.cur, self.cpu
        clock, pclock = time.perf_counter, time.process_time

        def timed(*a, **k):
            t0, c0 = clock(), pclock()
            try:
                return orig(*a, **k)
            finally:
                cur[label] += clock() - t0
                cpu[label] += pclock() - c0

        self._undo.append((obj, attr, obj.__dict__[attr] if attr in vars(obj) else None))
        setattr(obj, attr, timed)

    def next_run(self) -> None:
        self.runs.append(dict(self.cur))
        self.cpu_runs.append(dict(self.cpu))
        self.cur.clear()
        self.cpu.clear()

    def unwrap(self) -> None:
        for obj, attr, orig in reversed(self._undo):
            if orig is None:
                delattr(obj, attr)
            else:
                setattr(obj, attr, orig)
        self._undo.clear()


def wrap_turn(p: Phases) -> None:
    """Time each step of a real chat() turn."""
    import litellm
    import litellm.main
    import litellm.utils
    from litellm.llms.custom_httpx.http_handler import HTTPHandler
    from litellm.llms.openai.chat.gpt_transformation import OpenAIGPTConfig

    import tract_git.llm as L

    p.wrap(_chat, "context", "compile (context at HEAD)")
    p.wrap(L, "resolve", "config resolution")
    p.wrap(litellm, "completion", "litellm.completion")
    p.wrap(litellm.utils, "function_setup", "litellm: logging/callback setup")
    p.wrap(litellm.main, "validate_and_fix_openai_messages", "litellm: message validation")
    p.wrap(OpenAIGPTConfig, "transform_request", "litellm: request transform")
    p.wrap(HTTPHandler, "post", "litellm: HTTP post (json, send, receive)")
    p.wrap(OpenAIGPTConfig, "transform_response", "litellm: response parsing")
    p.wrap(L, "_completion", "reply checks, usage, cost")
    p.wrap(_chat, "reply_entry", "reply entry validation")
    p.wrap(_chat, "turn_record", "trailers and note record")
    p.wrap(_commit, "append", "two commits")  # with a hook installed: one append after the other
    p.wrap(_commit, "append_chain", "two commits")  # else both landed with one move of the branch
    p.wrap(_chat, "_seed_compile", "seed next turn's compile")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--dir", default=None, help="where to put the store (default: $TRACT_BENCH_DIR, else bench/.scratch/)")
    a = ap.parse_args()
    runs = max(a.runs or (7 if a.quick else 20), 5)

    server = Server()
    d = tempfile.mkdtemp(prefix="bench-llm-", dir=_scratch(a.dir))
    try:
        run(a, runs, server, d)
    finally:
        server.stop()
        shutil.rmtree(d, ignore_errors=True)


def run(a, runs: int, server: Server, d: str) -> None:
    t = Tract.open(os.path.join(d, "store"), model="openai/gpt-4o-mini", base_url=server.base_url,
                   api_key="sk-bench")
    t.system("You are a helpful assistant.")
    batch = []
    for i in range(a.entries - 1):
        role = "user" if i % 2 == 0 else "assistant"
        batch.append({"role": role, "content": f"message {i}: " + "lorem ipsum dolor sit amet " * 4})
        if len(batch) == 200:
            t.commit_many(batch)
            batch = []
    if batch:
        t.commit_many(batch)
    n = len(t.entries())
    print(f"context: {n} entries, {t.compile().token_count} tokens; litellm import + warm-up ...")
    t0 = time.perf_counter()
    llm.load_litellm()
    t.chat("warm up")
    t.chat("warm up again")
    print(f"first turns (import + warm-up): {time.perf_counter() - t0:.2f} s\n")
    server.timings()

    # the floor: a raw HTTP round trip of the same request body, already encoded
    msgs = t.compile().to_openai() + [{"role": "user", "content": "question"}]
    body = json.dumps({"model": "gpt-4o-mini", "messages": msgs}).encode()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw = []
    for i in range(runs):
        w = time.perf_counter()
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json",
                                                             "Authorization": "Bearer sk-bench"})
        conn.getresponse().read()
        raw.append(time.perf_counter() - w)
    conn.close()
    raw_server = server.timings()

    def turns(fn, phases: Phases | None = None):
        wall, cpu, srv = [], [], []
        for i in range(runs):
            w, c = time.perf_counter(), time.process_time()
            fn(i)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
            if phases is not None:
                phases.next_run()
            s = server.timings()
            srv.append(sum(s))
        return wall, cpu, srv

    chat, chat_cpu, chat_srv = turns(lambda i: t.chat(f"question {i}"))
    gen, gen_cpu, gen_srv = turns(lambda i: t.generate())
    ph = Phases()
    wrap_turn(ph)
    try:
        pchat, pchat_cpu, pchat_srv = turns(lambda i: t.chat(f"timed question {i}"), ph)
    finally:
        ph.unwrap()

    print(f"request body: {len(body) / 1024:.0f} KiB, {len(msgs)} messages\n")
    stats("raw HTTP round trip, same body (wall)", raw)
    stats("  of which the fake server's handling", raw_server)
    stats("  loopback transport (raw - server)", [r - s for r, s in zip(raw, raw_server)])
    print()
    stats(f"chat() turn, {n}+ entries (wall)", chat)
    stats(f"chat() turn (cpu, this process)", chat_cpu)
    stats("  of which the fake server's handling", chat_srv)
    over = [w - s for w, s in zip(chat, chat_srv)]
    stats("  ADAPTER OVERHEAD (wall - server)", over)
    stats(f"generate() turn, {n}+ entries (wall)", gen)
    stats(f"generate() turn (cpu)", gen_cpu)
    stats("  ADAPTER OVERHEAD (wall - server)", [w - s for w, s in zip(gen, gen_srv)])

    print("\nbreakdown of a chat() turn (wall, timers on each step; cpu: median of this process's):")
    stats("chat() turn with timers", pchat, pchat_cpu)
    for r, s in zip(ph.runs, pchat_srv):
        r["fake server's handling"] = s
    keys = list(ph.runs[0])

    def col(k, runs=ph.runs):
        return [r.get(k, 0.0) for r in runs]

    def ccol(k):
        return col(k, ph.cpu_runs)

    # exclusive times: litellm's parts are inside litellm.completion, which
    # is inside complete(); reply_entry and turn_record run inside nothing timed
    lit = col("litellm.completion")
    post = col("litellm: HTTP post (json, send, receive)")
    srv = col("fake server's handling")
    inner = ["litellm: logging/callback setup", "litellm: message validation", "litellm: request transform",
             "litellm: HTTP post (json, send, receive)", "litellm: response parsing"]
    rest = [lit[i] - sum(col(k)[i] for k in inner) for i in range(runs)]
    for k in keys:
        if k in ("litellm.completion", "fake server's handling"):
            continue
        if k == "litellm: HTTP post (json, send, receive)":
            stats("    " + k + " - server", [a - b for a, b in zip(post, srv)], ccol(k))
            continue
        stats(("    " if k.startswith("litellm") else "  ") + k, col(k), ccol(k))
        if k == "config resolution":
            stats("  litellm.completion (all of it) - server", [a - b for a, b in zip(lit, srv)],
                  ccol("litellm.completion"))
    stats("    litellm: the rest (params, cost, logging...)", rest,
          [ccol("litellm.completion")[i] - sum(ccol(k)[i] for k in inner) for i in range(runs)])
    timed = ["compile (context at HEAD)", "config resolution", "litellm.completion", "reply checks, usage, cost",
             "reply entry validation", "trailers and note record", "two commits", "seed next turn's compile"]
    glue = [pchat[i] - sum(col(k)[i] for k in timed) for i in range(runs)]
    stats("  the rest (message building, glue)", glue,
          [pchat_cpu[i] - sum(ccol(k)[i] for k in timed) for i in range(runs)])
    stats("  fake server's handling (not overhead)", srv)

    med = statistics.median(over) * 1000
    print(f"\ntarget <= 20 ms adapter overhead per turn: {'met' if med <= 20 else 'NOT met'} "
          f"(median {med:.2f} ms, wall - server; chat cpu {statistics.median(chat_cpu) * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
