"""Benchmarks of issue 6: sub-agents, concurrent writers, push.

    python bench/bench_agents.py            # the figures of the issue
    python bench/bench_agents.py --quick    # small sizes, a smoke run
    python bench/bench_agents.py --only spawn --dir /some/fast/disk

Figures (median, min, max over the runs):
1. spawn at a 10,000-entry parent, in-process (target: <= 10 ms), >= 10
   runs; the parent is built with ``import_messages`` (one commit per
   message, as a real conversation has), and the objects and refs one
   spawn writes are counted with git; the same with ``--task``;
2. 8 concurrent writer processes x 500 commits on one branch: all 4,000
   present, throughput in commits/s (and the same with each writer on its
   own sub-agent).  One run each by default: a run takes minutes on a
   loaded 2-core machine (``--writer-runs N`` for more);
3. push of a 10,000-commit store (with its notes) to a local bare remote:
   time and bytes.

Stores go under ``--dir`` (default: ``$TRACT_BENCH_DIR``, else the system
temporary directory; file creation there may be much slower than on the
disk the stores normally live on).
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



def _scratch(d: str | None) -> str:
    """Where stores are made: ``d``, else ``$TRACT_BENCH_DIR``, else
    ``bench/.scratch/`` (see ``bench/common.py``: not the system tmp)."""
    d = d or os.environ.get("TRACT_BENCH_DIR") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", ".scratch")
    os.makedirs(d, exist_ok=True)
    return d

def stats(name: str, values: list[float], unit: str) -> None:
    print(f"{name}: median {statistics.median(values):.2f} {unit}, min {min(values):.2f}, "
          f"max {max(values):.2f} ({len(values)} runs)")


def _loose_objects(path: str) -> int:
    out = subprocess.run(["git", "--git-dir", path, "count-objects", "-v"], capture_output=True,
                         text=True, check=True).stdout
    return int(next(ln.split()[1] for ln in out.splitlines() if ln.startswith("count:")))


def _refs(path: str) -> dict:
    out = subprocess.run(["git", "--git-dir", path, "for-each-ref", "--format=%(refname) %(objectname)"],
                         capture_output=True, text=True, check=True).stdout
    return dict(ln.split(" ", 1) for ln in out.splitlines())


def _writes(t, agent: str, **kw) -> str:
    """What one spawn writes, with git as the oracle: new objects, and the
    refs created or moved."""
    objects, refs = _loose_objects(t.path), _refs(t.path)
    t.spawn(agent, **kw)
    after = _refs(t.path)
    moved = sorted(k.replace(f"/{agent}/", "/<agent>/") for k, v in after.items() if refs.get(k) != v)
    return f"{_loose_objects(t.path) - objects} objects, {len(moved)} refs ({', '.join(moved)})"


def bench_spawn(tmp: str, entries: int, runs: int) -> None:
    t0 = time.perf_counter()
    # the approximate count: building the parent would otherwise spend most
    # of its time counting tokens, which a spawn never does
    t = Tract.init(os.path.join(tmp, "spawn"), encoding="approx-bytes/4")
    t.import_messages([Entry(role="user" if i % 2 else "assistant",
                             content=f"message {i} " + "lorem ipsum " * 6) for i in range(entries)])
    assert t.repo.note(t.head).entries == entries
    print(f"(built a {entries:,}-entry parent, one commit per entry, in "
          f"{time.perf_counter() - t0:.1f} s)")
    t = Tract.open(t.path, create=False)  # a fresh process's caches
    print(f"one spawn writes: {_writes(t, 'count')}")
    print(f"one spawn --task writes: {_writes(t, 'count-task', task='Find the release date.')}")
    for label, tag, kw in (("spawn", "plain", {}),
                           ("spawn --task", "task", {"task": "Find the release date of X."}),
                           ("spawn --inherit none", "none", {"inherit": "none"})):
        times = []
        for i in range(runs):
            name = f"{tag}{i}"
            t1 = time.perf_counter()
            t.spawn(name, **kw)
            times.append((time.perf_counter() - t1) * 1000)
        stats(f"{label} at a {entries:,}-entry parent, in-process", times, "ms")


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
        notes = subprocess.run(["git", "--git-dir", remote, "notes", "--ref", "tract", "list"],
                               capture_output=True, text=True).stdout.count("\n")
        assert notes == commits, notes  # every commit's note went too
        shutil.rmtree(remote)
    stats(f"push of a {commits:,}-commit store to a local bare remote", times, "s")
    stats("  bytes on the remote (objects/)", sizes, "MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    ap.add_argument("--runs", type=int, default=None, help="spawns timed per figure (at least 10)")
    ap.add_argument("--writer-runs", type=int, default=None, help="repeats of the 8-writer run")
    ap.add_argument("--only", default="spawn,writers,push",
                    help="comma-separated figures to run: spawn, writers, push")
    ap.add_argument("--dir", default=os.environ.get("TRACT_BENCH_DIR"),
                    help="where to put the stores (default $TRACT_BENCH_DIR, else the temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the stores")
    args, _ = ap.parse_known_args()  # bench/run.py passes its own flags on
    q = args.quick
    only = {w.strip() for w in args.only.split(",")}
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tract-bench-agents-", dir=_scratch(args.dir))
    try:
        if "spawn" in only:
            bench_spawn(tmp, 1_000 if q else 10_000, max(args.runs or 20, 10))
        wr = args.writer_runs or 1
        if "writers" in only:
            bench_writers(tmp, 8, 20 if q else 500, wr, agents=False)
            bench_writers(tmp, 8, 20 if q else 500, wr, agents=True)
        if "push" in only:
            bench_push(tmp, 500 if q else 10_000, 3 if q else 5)
    finally:
        if args.keep:
            print(f"(stores kept in {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
