"""Adapter overhead per conversational turn.

Everything tract does around a model call — compile the context, resolve
the model config, litellm's request building and response parsing, the
HTTP round trip on loopback, checking the reply, the two commits with
their trailers and notes — measured against the local fake
OpenAI-compatible server (tests/fakellm.py), which answers at once, so
the model's own latency is zero.  Context: 1,000 entries.

Target (issue 4): <= 20 ms per turn at 1,000 entries.

    python bench/bench_llm.py [--quick] [--entries N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, ".."))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tract_git import Tract, llm  # noqa: E402


SERVER = """
import sys
from fakellm import FakeLLM
f = FakeLLM().start()
f.default = FakeLLM._reply_body("A short reply from the fake model.", None, (1000, 8), None, "stop")
print(f.base_url, flush=True)
sys.stdin.read()
f.stop()
"""


def stats(name: str, xs: list[float]) -> None:
    ms = [x * 1000 for x in xs]
    print(f"{name:<48} median {statistics.median(ms):7.2f} ms   min {min(ms):7.2f}   max {max(ms):7.2f}"
          f"   (n={len(ms)})")


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (this process: the client) seconds."""
    wall, cpu = [], []
    for i in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn(i)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer runs")
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=None)
    a = ap.parse_args()
    runs = a.runs or (5 if a.quick else 20)

    # the fake server runs in its own process, so the CPU figures are the client's alone
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=os.path.join(HERE, "..", "tests"))
    base_url = server.stdout.readline().strip()
    d = tempfile.mkdtemp(prefix="bench-llm-")
    t = Tract.open(os.path.join(d, "store"), model="openai/gpt-4o-mini", base_url=base_url,
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

    msgs = t.compile().to_openai()
    raw, raw_cpu = timed(lambda i: llm.complete(t.repo, msgs), runs)
    chat, chat_cpu = timed(lambda i: t.chat(f"question {i}"), runs)
    gen, gen_cpu = timed(lambda i: t.generate(), runs)
    comp, _ = timed(lambda i: t.compile().to_openai(), runs)

    def commits_only(i):
        t.user(f"u {i}")
        t.assistant(f"a {i}")

    com, com_cpu = timed(commits_only, runs)
    stats(f"chat() turn, {n}+ entries (wall)", chat)
    stats(f"chat() turn, {n}+ entries (cpu)", chat_cpu)
    stats(f"generate() turn, {n}+ entries (wall)", gen)
    stats(f"generate() turn, {n}+ entries (cpu)", gen_cpu)
    stats(f"  of which litellm: complete(), {len(msgs)} msgs (wall)", raw)
    stats(f"  of which litellm: complete(), {len(msgs)} msgs (cpu)", raw_cpu)
    stats("  of which two plain commits (wall)", com)
    stats("  of which two plain commits (cpu)", com_cpu)
    stats("  of which compile().to_openai() after a turn", comp)
    med = statistics.median(chat) * 1000
    own = med - statistics.median(raw) * 1000
    print(f"\ntract's own part of a chat turn (chat - complete): {own:.2f} ms (wall medians)")
    print(f"target <= 20 ms per turn: {'met' if med <= 20 else 'NOT met'} (chat median {med:.2f} ms wall, "
          f"{statistics.median(chat_cpu) * 1000:.2f} ms cpu)")
    server.stdin.close()
    server.wait()


if __name__ == "__main__":
    main()
