"""Benchmark branches, merge and rebase on a 10,000-entry context.

    python bench/bench_branches.py [--quick] [--runs N] [--entries N]

Figures (targets from issue 3):
  branch create        one new ref on a 10,000-entry base      (< 5 ms, in-process)
  merge 1000+1000      two branches that each added 1,000 entries (< 1 s)
  rebase 1000 commits  replay 1,000 one-entry commits            (< 2 s)

Each figure is measured over several runs (each on fresh objects) and
printed as median, min and max; for merge and rebase also the process's CPU
time, which leaves out waiting on a busy disk (a merge commit writes a
few loose objects; a rebase writes one pack, see docs/performance.md).  The setup's writes are flushed (``os.sync()``) before
anything is timed, so the base's 10,000 loose objects being written back
do not land on the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tract_git.model import Entry  # noqa: E402
from tract_git.ops import branch as _branch  # noqa: E402
from tract_git.ops import commit as _commit  # noqa: E402
from tract_git.ops import init as _init  # noqa: E402
from tract_git.ops import merge as _merge  # noqa: E402
from tract_git.ops import rebase as _rebase  # noqa: E402
from tract_git.ops.repo import Repo  # noqa: E402



def _scratch(d: str | None) -> str:
    """Where stores are made: ``d``, else ``$TRACT_BENCH_DIR``, else
    ``bench/.scratch/`` (see ``bench/common.py``: not the system tmp)."""
    d = d or os.environ.get("TRACT_BENCH_DIR") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", ".scratch")
    os.makedirs(d, exist_ok=True)
    return d

def report(name: str, times: list[float], target: float, cpu: list[float] | None = None) -> None:
    med = statistics.median(times)
    ok = "ok" if med < target else "OVER TARGET"
    print(f"{name:30s} median {med * 1000:9.2f} ms  min {min(times) * 1000:9.2f}  "
          f"max {max(times) * 1000:9.2f}  (n={len(times)}, target < {target * 1000:.0f} ms: {ok})",
          flush=True)
    if cpu:
        # CPU time of this process: the wall time less waiting on a busy disk
        print(f"{'  (cpu time)':30s} median {statistics.median(cpu) * 1000:9.2f} ms  min "
              f"{min(cpu) * 1000:9.2f}  max {max(cpu) * 1000:9.2f}", flush=True)


def entries(prefix: str, n: int) -> list[Entry]:
    roles = ("user", "assistant")
    return [Entry(role=roles[i % 2], content=f"{prefix} message {i}: " + "lorem ipsum " * 8)
            for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer runs and smaller sides (a smoke test)")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--entries", type=int, default=10_000, help="size of the base context")
    args = ap.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    side = 100 if args.quick else 1000
    tmp = tempfile.mkdtemp(prefix="tract-bench-branches-", dir=_scratch(None))
    try:
        repo: Repo = _init.init(os.path.join(tmp, "store"))
        t0 = time.perf_counter()
        _commit.append(repo, [Entry(role="system", content="You are a benchmark.")]
                       + entries("base", args.entries - 1))
        print(f"base: {args.entries} entries in one commit ({time.perf_counter() - t0:.2f} s)", flush=True)
        os.sync()

        # --- branch creation
        times = []
        for i in range(max(runs, 50)):
            t = time.perf_counter()
            _branch.create(repo, f"b{i}")
            times.append(time.perf_counter() - t)
        report("branch create", times, 0.005)

        # --- merge: both sides add `side` entries (10 per commit)
        store = repo.store
        _branch.create(repo, "theirs")
        for chunk in range(side // 10):
            _commit.append(repo, entries(f"ours {chunk}", 10))
        ours_tip = store.read_ref("refs/heads/main")
        store.set_head("refs/heads/theirs")
        for chunk in range(side // 10):
            _commit.append(repo, entries(f"theirs {chunk}", 10))
        store.set_head("refs/heads/main")
        os.sync()
        for strategy in ("ours-first", "theirs-first", "interleave"):
            times, cpu = [], []
            for i in range(runs):
                t, c = time.perf_counter(), time.process_time()
                res = _merge.merge(repo, "theirs", strategy=strategy, message=f"merge run {strategy} {i}")
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                assert res.status == "merged" and res.commit.note.entries == args.entries + 2 * side
                store.update_ref("refs/heads/main", ours_tip, res.new, "bench: reset")
            report(f"merge {side}+{side} {strategy}", times, 1.0, cpu)

        # --- rebase: `side` one-entry commits onto an upstream that moved
        _branch.create(repo, "feature", "theirs~%d" % (side // 10))
        store.set_head("refs/heads/feature")
        for i in range(side):
            _commit.append(repo, entries(f"feature {i}", 1))
        feature_tip = store.read_ref("refs/heads/feature")
        os.sync()
        times, cpu = [], []
        for i in range(runs):
            store.set_head("refs/heads/main")
            _commit.append(repo, entries(f"upstream run {i}", 1))  # fresh objects every run
            store.set_head("refs/heads/feature")
            t, c = time.perf_counter(), time.process_time()
            res = _rebase.rebase(repo, "main")
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            assert res.status == "done" and len(res.picked) == side, res.status
            store.update_ref("refs/heads/feature", feature_tip, res.new, "bench: reset")
        report(f"rebase {side} commits", times, 2.0, cpu)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
