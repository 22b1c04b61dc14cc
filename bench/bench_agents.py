"""Benchmarks of issue 6: sub-agents, concurrent writers, push.

    python bench/bench_agents.py            # the figures of the issue
    python bench/bench_agents.py --quick    # small sizes, a smoke run

Figures (median, min, max over the runs):
1. spawn at a 10,000-entry parent, in-process (target: <= 10 ms);
2. 8 concurrent writer processes x 500 commits on one branch: all 4,000
   present, throughput in commits/s (and the same with each writer on its
   own sub-agent);
3. push of a 10,000-commit store (with its notes) to a local bare remote:
   time and bytes.
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
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from tract_git import Tract  # noqa: E402
from tract_git.model import Entry  # noqa: E402
from tract_git.ops import sync  # noqa: E402
from tract_git.ops.repo import TokenNote  # noqa: E402
from tract_git.store import codec, keys  # noqa: E402
from tract_git.store.trailers import format_message  # noqa: E402


def stats(name: str, values: list[float], unit: str) -> None:
    print(f"{name}: median {statistics.median(values):.2f} {unit}, min {min(values):.2f}, "
          f"max {max(values):.2f} ({len(values)} runs)")


def bench_spawn(tmp: str, entries: int, runs: int) -> None:
    t = Tract.init(os.path.join(tmp, "spawn"))
    t.commit_many([Entry(role="user", content=f"message {i} " + "x" * 40) for i in range(entries)])
    assert len(t.repo.items(t.head)) == entries
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        t.spawn(f"agent{i}")
        times.append((time.perf_counter() - t0) * 1000)
    stats(f"spawn at a {entries:,}-entry parent", times, "ms")


WRITER = r"""
import sys
from tract_git import Tract
path, agent, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = Tract.open(path, create=False)
if agent != "-":
    t = t.agent(agent)
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
for i in range(n):
    t.user(f"{agent} {sys.argv[4]} {i}")
"""


def bench_writers(tmp: str, writers: int, n: int, runs: int, agents: bool) -> None:
    rates = []
    for r in range(runs):
        path = os.path.join(tmp, f"writers-{agents}-{r}")
        t = Tract.init(path, encoding="approx-bytes/4")
        t.system("start")
        names = [f"w{i}" for i in range(writers)] if agents else ["-"] * writers
        if agents:
            for a in names:
                t.spawn(a, inherit="none")
        env = dict(os.environ, PYTHONPATH=ROOT, TRACT_LOCK_TIMEOUT="30")
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, path, a, str(n), str(i)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
                 for i, a in enumerate(names)]
        for p in procs:
            assert p.stdout.readline() == "ready\n"
        t0 = time.perf_counter()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            p.wait()
            assert p.returncode == 0
        dt = time.perf_counter() - t0
        fresh = Tract.open(path, create=False)
        if agents:
            total = sum(len(fresh.agent(a).entries()) for a in names)
        else:
            total = len(fresh.entries()) - 1
        assert total == writers * n, (total, writers * n)
        rates.append(writers * n / dt)
        shutil.rmtree(path)
    where = "each on its own sub-agent" if agents else "one branch"
    stats(f"{writers} writers x {n} commits ({where}; all {writers * n:,} present)", rates, "commits/s")


def build_history(path: str, commits: int) -> Tract:
    """A store of ``commits`` append commits with their notes, written
    through the store layer in one go (the same objects tract writes)."""
    t = Tract.init(path, encoding="approx-bytes/4")
    repo, store = t.repo, t.repo.store
    tip, tree, key, total = None, None, None, 0
    notes = {}
    for i in range(commits):
        e = Entry(role="user" if i % 2 else "assistant", content=f"message {i}: " + "lorem ipsum " * 8)
        blob = store.write_blob(codec.encode(e))
        key = keys.after(key)
        eid = repo.new_entry_id(tip, key, blob)
        tree = store.build_tree(tree, {f"{key}-{eid}-{e.role}": blob})
        n = repo.counter.count_entry(e, blob)
        total += n
        tip = store.create_commit(tree, [tip] if tip else [], format_message(
            f"{e.role}: message {i}", "", [("Tract-Op", "append"), ("Tract-Entry", eid)]))
        notes[tip] = TokenNote(n, total, i + 1, repo.counter.label, True).to_json()
    store.update_ref("refs/heads/main", tip, None, "bench")
    store.add_notes(notes)
    return t


def dir_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def bench_push(tmp: str, commits: int, runs: int) -> None:
    t0 = time.perf_counter()
    t = build_history(os.path.join(tmp, "big"), commits)
    print(f"(built a {commits:,}-commit store in {time.perf_counter() - t0:.1f} s)")
    times, sizes = [], []
    for r in range(runs):
        remote = os.path.join(tmp, f"remote{r}.git")
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", remote], check=True)
        name = f"r{r}"
        sync.remote_add(t.repo, name, remote)
        t1 = time.perf_counter()
        sync.push(t.repo, name)
        times.append(time.perf_counter() - t1)
        sizes.append(dir_bytes(os.path.join(remote, "objects")) / 1e6)
        count = subprocess.run(["git", "--git-dir", remote, "rev-list", "--count", "main"],
                               capture_output=True, text=True).stdout.strip()
        assert count == str(commits), count
        shutil.rmtree(remote)
    stats(f"push of a {commits:,}-commit store to a local bare remote", times, "s")
    stats("  bytes on the remote (objects/)", sizes, "MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    ap.add_argument("--writer-runs", type=int, default=None, help="repeats of the 8-writer run")
    args = ap.parse_args()
    q = args.quick
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    with tempfile.TemporaryDirectory(prefix="tract-bench-agents-") as tmp:
        bench_spawn(tmp, 1_000 if q else 10_000, 10 if q else 20)
        wr = args.writer_runs or (1 if q else 3)
        bench_writers(tmp, 8, 20 if q else 500, wr, agents=False)
        bench_writers(tmp, 8, 20 if q else 500, wr, agents=True)
        bench_push(tmp, 500 if q else 10_000, 3 if q else 5)


if __name__ == "__main__":
    main()
