"""Benchmarks for compression, budget compile and gc (issue 5).

    python bench/bench_compress.py [--quick] [--runs N] [--entries N]

On a context of 10,000 entries (2,000 with --quick):

* compress: a manual-summary compress of 9,000 entries (90%), in-process,
  (a) with a freshly opened store each run (cold caches, tokenizer loaded)
  and (b) warm (the same open store); target <= 300 ms;
* window compile: ``tract compile --budget 8000 --strategy window`` in a
  new process each run (cold), and in-process on a fresh Repo; target
  <= 150 ms cold (after one warm-up run that writes the .pyc files and
  the blob-facts cache, as any earlier command on the store would);
* store size: objects after gc with the compress commits (a 9,000-entry
  compress and a hierarchical one on top) against the same store packed
  before them plus the summaries' bytes; target <= 1.2x.

Prints median / min / max over the runs (>= 5).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tract_git import Entry, Tract  # noqa: E402
from tract_git.ops import compress as C  # noqa: E402
from tract_git.ops.repo import Repo  # noqa: E402
from tract_git.store import maintenance  # noqa: E402

SENTENCES = [
    "The deployment pipeline failed at the integration step because the cache key changed.",
    "We agreed to rotate logs daily and keep fourteen compressed copies on the host.",
    "The user asked whether the migration to PostgreSQL 16 can run without downtime.",
    "Tool output: 128 tests passed, 3 skipped, 0 failed in 41.2 seconds.",
    "Next step is to benchmark the parser on the 2 GB sample and compare with the old one.",
    "The API returns 429 when more than 50 requests per second come from one key.",
    "Refactor the settings loader so environment variables override the file values.",
]



def _scratch(d: str | None) -> str:
    """Where stores are made: ``d``, else ``$TRACT_BENCH_DIR``, else
    ``bench/.scratch/`` (see ``bench/common.py``: not the system tmp)."""
    d = d or os.environ.get("TRACT_BENCH_DIR") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", ".scratch")
    os.makedirs(d, exist_ok=True)
    return d

def stats(xs: list[float]) -> str:
    ms = [x * 1000 for x in xs]
    return f"median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f}   max {max(ms):8.1f}   (n={len(ms)})"


def build(path: str, n: int) -> Tract:
    """A context of ``n`` entries, one commit per entry (bulk append through
    git fast-import where this build has it), every 997th entry pinned."""
    t = Tract.open(path)
    entries = [Entry(role="system", content="You are a careful assistant. Never delete data without asking.",
                     priority="pinned")]
    for i in range(1, n):
        role = "user" if i % 2 else "assistant"
        text = f"[{i}] " + " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(1 + i % 3))
        entries.append(Entry(role=role, content=text, priority="pinned" if i % 997 == 0 else "normal"))
    try:
        from tract_git.ops.bulk import append_many
    except ImportError:  # pragma: no cover - older builds: ten entries per commit
        for k in range(0, n, 10):
            t.commit_many(entries[k:k + 10])
    else:
        append_many(t.repo, entries)
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2,000 entries, 5 runs")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--entries", type=int)
    ap.add_argument("--baseline", metavar="DIR", help="also time the new-process window compile with the "
                    "tract_git under DIR (e.g. an export of main)")
    ap.add_argument("--window-only", action="store_true", help="skip the compress and size figures")
    a = ap.parse_args()
    n = a.entries or (2000 if a.quick else 10000)
    runs = max(5, a.runs)
    k = n * 9 // 10
    tmp = tempfile.mkdtemp(prefix="bench-compress-", dir=_scratch(None))
    store = os.path.join(tmp, "store")
    try:
        t0 = time.perf_counter()
        t = build(store, n)
        print(f"built {n} entries ({len(t.log())} commits) in {time.perf_counter() - t0:.1f} s; packing")
        maintenance.gc(store, 30)
        base = maintenance.store_size(store).bytes
        tip = t.head
        summary = "Summary of the first part: " + " ".join(SENTENCES) * 3
        rng = f"1..{k}"

        if not a.window_only:
            # --- compress, fresh Repo each run (cold caches, tokenizer already loaded)
            t.repo.counter.count_text("warm the tokenizer")
            cold, warm, cold_cpu = [], [], []
            for _ in range(runs):
                r = Repo.open(store)
                s, c = time.perf_counter(), time.process_time()
                C.compress(r, rng, summary=summary)
                cold.append(time.perf_counter() - s)
                cold_cpu.append(time.process_time() - c)
                r.store.update_ref("refs/heads/main", tip, r.resolve(None), "bench: back")
            r = Repo.open(store)
            for _ in range(runs + 1):
                s = time.perf_counter()
                C.compress(r, rng, summary=summary)
                warm.append(time.perf_counter() - s)
                r.store.update_ref("refs/heads/main", tip, r.resolve(None), "bench: back")
            warm = warm[1:]
            print(f"compress {k} entries (manual), fresh store object: {stats(cold)}   target <= 300 ms")
            print(f"compress {k} entries (manual), warm:               {stats(warm)}")
            print(f"  (fresh store object, CPU time of this process:  {stats(cold_cpu)})")

        # --- budget window compile, new process each run
        exe = os.path.join(os.path.dirname(sys.executable), "tract")
        env = dict(os.environ, TRACT_DIR=store)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed tract has its .pyc files
        cmd = [exe, "compile", "--budget", "8000", "--strategy", "window"]
        subprocess.run(cmd, env=env, capture_output=True)  # writes .pyc files; fills the blob-facts cache
        proc, base_proc = [], []
        if a.baseline:  # another tract_git (e.g. an export of main), same launcher, same store
            base_cmd = [sys.executable, "-c", "import sys; from tract_git.cli.main import main; sys.exit(main())",
                        *cmd[1:]]
            base_env = dict(env, PYTHONPATH=os.path.abspath(a.baseline))
            subprocess.run(base_cmd, env=base_env, capture_output=True, cwd=tmp)
        for _ in range(runs):  # taking turns, so a change of load hits both alike
            s = time.perf_counter()
            p = subprocess.run(cmd, env=env, capture_output=True, cwd=tmp)
            proc.append(time.perf_counter() - s)
            assert p.returncode == 0, p.stderr
            if a.baseline:
                s = time.perf_counter()
                p = subprocess.run(base_cmd, env=base_env, capture_output=True, cwd=tmp)
                base_proc.append(time.perf_counter() - s)
                assert p.returncode == 0, p.stderr
        base_cmd = [sys.executable, "-c", "import tract_git.cli.main"]
        start = []
        for _ in range(runs):
            s = time.perf_counter()
            subprocess.run(base_cmd, env=env, capture_output=True)
            start.append(time.perf_counter() - s)
        inproc, inproc_cpu, nofiles = [], [], []
        from tract_git.ops.budget import compile_budget

        try:  # the entry cache's in-memory part is per process: empty it for a cold run
            from tract_git.store import entrycache as _ec
        except ImportError:  # pragma: no cover - builds without it
            _ec = None
        for _ in range(runs):
            if _ec:
                _ec.clear_memo()
            r = Repo.open(store)
            s, c = time.perf_counter(), time.process_time()
            res = compile_budget(r, None, 8000, "window")
            inproc.append(time.perf_counter() - s)
            inproc_cpu.append(time.process_time() - c)
            if _ec:  # and with no cache files at all (the first compile ever)
                _ec.clear_memo()
                shutil.rmtree(_ec.cache_dir(store), ignore_errors=True)
                r = Repo.open(store)
                s = time.perf_counter()
                compile_budget(r, None, 8000, "window")
                nofiles.append(time.perf_counter() - s)
        assert res.token_count <= 8000
        print(f"window compile --budget 8000, new process:        {stats(proc)}   target <= 150 ms")
        print(f"  (python + import of the CLI alone:              {stats(start)})")
        if base_proc:
            print(f"  (baseline {a.baseline}, new process:  {stats(base_proc)})")
        print(f"window compile --budget 8000, in-process cold:    {stats(inproc)}")
        print(f"  (in-process cold, CPU time:                     {stats(inproc_cpu)})")
        if nofiles:
            print(f"  (in-process, no entry cache files yet:          {stats(nofiles)})")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

        if not a.window_only:
            # --- store size after gc with the compress commits
            t = Tract.open(store)
            first = t.compress(rng, summary=summary)
            t.user("one more turn")
            second = t.compress(f"1..{len(t.entries()) - 50}", summary="Summary of summaries: " + summary)
            sbytes = len(first.summary.content.encode()) + len(second.summary.content.encode())
            maintenance.gc(store, 30)
            after = maintenance.store_size(store).bytes
            ratio = after / (base + sbytes)
            print(f"store: {base} bytes packed before; {after} after 2 compresses + gc; "
                  f"summaries {sbytes} bytes; ratio {ratio:.3f}   target <= 1.2")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
