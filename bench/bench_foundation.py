"""Benchmark of the foundation (issue 2): appends, bulk import, compile,
CLI latency and store size, against a plain SQLite baseline run on the
same workload in the same run.

    python bench/bench_foundation.py            # full: N=10,000, ~5 minutes
    python bench/bench_foundation.py --quick    # N=1,000, well under a minute
    python bench/bench_foundation.py --compile-only LOOSE PACKED [--baseline DIR]
                                                # compile figures only, on existing stores
    python bench/bench_foundation.py --size     # only the store size (and SQLite's)

Workload: N alternating user/assistant messages of ~400 characters of
varied text (deterministic, seeded).  Every figure is measured at least
five times; median, min and max are printed and written to
``bench/results/foundation.json``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import Report, section  # noqa: E402

COMPILE_SNIPPET = r"""
import json, sys, time
t0 = time.perf_counter()
from tract_git import Tract
t = Tract.open(sys.argv[1], create=False)
msgs = t.compile().to_openai()
t1 = time.perf_counter()
msgs2 = t.compile().to_openai()
t2 = time.perf_counter()
assert len(msgs) == len(msgs2) == int(sys.argv[2]), (len(msgs), sys.argv[2])
print(json.dumps({"first": t1 - t0, "second": t2 - t1}))
"""

SQLITE_COMPILE_SNIPPET = r"""
import json, sqlite3, sys, time
t0 = time.perf_counter()
def compile(db):
    return [{"role": r, "content": c} for r, c in
            db.execute("SELECT role, content FROM messages ORDER BY position")]
db = sqlite3.connect(sys.argv[1])
msgs = compile(db)
t1 = time.perf_counter()
msgs2 = compile(db)
t2 = time.perf_counter()
assert len(msgs) == len(msgs2) == int(sys.argv[2])
print(json.dumps({"first": t1 - t0, "second": t2 - t1}))
"""


# ------------------------------------------------------------ SQLite baseline
class SqliteStore:
    """A minimal context store in SQLite: a messages table and a commits
    table, one transaction per append, tokens counted with the same
    tokenizer as tract.  ``synchronous`` is SQLite's own default (FULL,
    fsync on every commit) unless told otherwise."""

    SCHEMA = """
    CREATE TABLE commits (id INTEGER PRIMARY KEY, parent INTEGER, message TEXT NOT NULL,
                          time REAL NOT NULL, tokens_added INTEGER NOT NULL,
                          context_tokens INTEGER NOT NULL);
    CREATE TABLE messages (id INTEGER PRIMARY KEY, commit_id INTEGER NOT NULL REFERENCES commits(id),
                           position INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
                           tokens INTEGER NOT NULL);
    CREATE INDEX messages_position ON messages(position);
    """

    def __init__(self, path: str, counter, synchronous: str | None = None):
        self.db = sqlite3.connect(path, isolation_level=None)
        if synchronous:
            self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.executescript(self.SCHEMA)
        self.counter = counter
        self.head = None
        self.total = 0
        self.pos = 0

    def append(self, role: str, content: str) -> None:
        n = self.counter.count_text(content)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        cur = db.execute("INSERT INTO commits (parent, message, time, tokens_added, context_tokens) "
                         "VALUES (?, ?, ?, ?, ?)",
                         (self.head, f"{role}: {content[:60]}", time.time(), n, self.total + n))
        cid = cur.lastrowid
        db.execute("INSERT INTO messages (commit_id, position, role, content, tokens) VALUES (?, ?, ?, ?, ?)",
                   (cid, self.pos, role, content, n))
        db.execute("COMMIT")
        self.head, self.total, self.pos = cid, self.total + n, self.pos + 1

    def close(self) -> None:
        self.db.execute("VACUUM")
        self.db.close()


# ------------------------------------------------------------------ helpers
def _extra_args(p) -> None:
    p.add_argument("--compile-only", nargs=2, metavar=("LOOSE", "PACKED"),
                   help="only the compile figures, on two existing stores (appended, bulk-imported)")
    p.add_argument("--baseline", metavar="DIR",
                   help="also time the compile with the tract_git under DIR (e.g. an export of main)")


def append_run(path: str, work, window: int):
    """Append ``work`` one message at a time through the API; returns
    (total seconds, seconds of the first window, seconds of the last)."""
    from tract_git import Tract

    t = Tract.open(path)
    marks = [0.0]
    t0 = time.perf_counter()
    for i, (role, text) in enumerate(work, 1):
        t.commit(text, role=role)
        if i == window or i == len(work) - window or i == len(work):
            marks.append(time.perf_counter() - t0)
    t.close()
    total = marks[-1]
    return total, marks[1] - marks[0], marks[-1] - marks[-2]


def sqlite_append_run(path: str, work, counter, synchronous=None):
    s = SqliteStore(path, counter, synchronous)
    t0 = time.perf_counter()
    for role, text in work:
        s.append(role, text)
    dt = time.perf_counter() - t0
    s.close()
    return dt


def git(store: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", store, *args], check=True, capture_output=True,
                          text=True, env=common.bench_env()).stdout



WARM_SNIPPET = r"""
import sys
from tract_git import Tract
Tract.open(sys.argv[1], create=False).compile(sys.argv[2])
"""


def _entry_cache(store: str) -> str:
    return os.path.join(store, "tract-cache", "entries")


def compile_section(rep: Report, stores, n_big: int, runs: int, env: dict, baseline: str | None = None) -> None:
    """Cold compile in a new process (issue 2), for each (label, store):

    * with the entry cache files of an earlier compile of the same tree
      (what any compile after the first sees);
    * the first compile ever (no cache files: every blob read and decoded,
      the files written);
    * with the files of an earlier compile of an older tree (10 and 300
      commits behind: the last bucket, or the last two, decoded again);
    * with ``baseline`` (a directory holding another tract_git, e.g. main
      before the entry cache), that code on the same store in the same run.

    The package is byte-compiled first, as an installed one is."""
    import compileall
    import shutil

    compileall.compile_dir(os.path.join(common.ROOT, "tract_git"), quiet=1)
    py = sys.executable

    cwd = os.path.dirname(os.path.abspath(stores[0][1]))  # not a checkout: '' on sys.path finds no tract_git

    def no_cache(st):
        return lambda: shutil.rmtree(_entry_cache(st), ignore_errors=True)

    def behind(st, k):
        def prep():
            shutil.rmtree(_entry_cache(st), ignore_errors=True)
            common.run_subprocess([py, "-c", WARM_SNIPPET, st, f"HEAD~{k}"], env=env, cwd=cwd)
        return prep

    def warm(st):
        return lambda: common.run_subprocess([py, "-c", COMPILE_SNIPPET, st, str(n_big)], env=env, cwd=cwd)

    for label, st in stores:
        section(f"cold compile of {n_big:,} entries to OpenAI dicts in a new process ({label})")
        # the variants take turns, run by run, so a change of load hits them alike
        variants = [("cached", warm(st), env), ("none", no_cache(st), env),
                    ("behind10", behind(st, 10), env), ("behind300", behind(st, 300), env)]
        if baseline:
            compileall.compile_dir(os.path.join(baseline, "tract_git"), quiet=1)
            variants.append(("baseline", None, dict(env, PYTHONPATH=baseline)))
        got: dict = {v[0]: ([], [], []) for v in variants}
        for _ in range(runs):
            for name, prepare, run_env in variants:
                if prepare:
                    prepare()
                dt, p = common.run_subprocess([py, "-c", COMPILE_SNIPPET, st, str(n_big)], env=run_env, cwd=cwd)
                d = json.loads(p.stdout)
                for xs, v in zip(got[name], (dt * 1000, d["first"] * 1000, d["second"] * 1000)):
                    xs.append(v)
        walls, firsts, seconds = got["cached"]
        rep.add(f"cold compile wall, interpreter included [{label}]", "ms", walls, target="<= 250")
        rep.add(f"cold compile in-process (import+open+compile) [{label}]", "ms", firsts)
        rep.add(f"second compile, same process [{label}]", "ms", seconds, target="<= 5")
        walls, firsts, _ = got["none"]
        rep.add(f"first compile ever (no cache files), wall [{label}]", "ms", walls)
        rep.add(f"first compile ever (no cache files), in-process [{label}]", "ms", firsts)
        for k in (10, 300):
            walls, firsts, _ = got[f"behind{k}"]
            rep.add(f"cache files from a compile {k} commits behind, wall [{label}]", "ms", walls)
            rep.add(f"cache files from a compile {k} commits behind, in-process [{label}]", "ms", firsts)
        if baseline:
            walls, firsts, seconds = got["baseline"]
            rep.add(f"baseline {os.path.basename(baseline.rstrip('/'))}: cold compile wall [{label}]", "ms", walls)
            rep.add(f"baseline: cold compile in-process [{label}]", "ms", firsts)
            rep.add(f"baseline: second compile, same process [{label}]", "ms", seconds)
        warm(st)()  # leave the files


def compile_only(args) -> int:
    """``--compile-only LOOSE PACKED``: just the compile figures, on
    existing 10,000-entry stores (one appended, one bulk-imported)."""
    env = common.bench_env()
    common.apply_env(env)
    loose, packed = args.compile_only
    n = int(subprocess.run(["git", "--git-dir", packed, "rev-list", "--count", "HEAD"], capture_output=True,
                           text=True, check=True).stdout)
    rep = Report("foundation-compile", args.quick)
    rep.meta.update({"n": n, "runs": args.runs, "loadavg_start": os.getloadavg()[0]})
    # an import check: the baseline must not be this checkout
    if args.baseline:
        probe = subprocess.run([sys.executable, "-c", "import tract_git; print(tract_git.__file__)"],
                               env=dict(env, PYTHONPATH=args.baseline), cwd=os.path.dirname(packed),
                               capture_output=True, text=True, check=True).stdout.strip()
        assert probe.startswith(os.path.abspath(args.baseline)), probe
        print(f"baseline: {probe}")
    compile_section(rep, (("as appended through the API", loose), ("after bulk import (pack)", packed)),
                    n, args.runs, env, args.baseline)
    rep.meta["loadavg_end"] = os.getloadavg()[0]
    print(f"load average: {rep.meta['loadavg_start']:.1f} at the start, {rep.meta['loadavg_end']:.1f} at the end")
    rep.write(args.out)
    return 0


def gc_size(rep: Report, store: str, runs: int) -> None:
    """``git gc --prune=now`` on ``store`` ``runs`` times (the first packs
    everything, the later ones repack the same objects); the figure, and
    the breakdown of the last one."""
    rep.meta["loose_store_mb"] = common.dir_size(store) / 1e6
    cache_dir = os.path.join(store, "tract-cache")
    sizes, whole = [], []
    for r in range(runs):
        git(store, "gc", "--quiet", "--prune=now")
        total = common.dir_size(store) / 1e6
        whole.append(total)
        # tract-cache/ holds derived data (decoded entries of compiled
        # buckets, token counts by blob), rebuilt on demand and not part of
        # git's store: reported on its own line
        sizes.append(total - common.dir_size(cache_dir) / 1e6)
    parts = {part: common.dir_size(os.path.join(store, part)) / 1e6 for part in ("objects", "logs")}
    pack = os.path.join(store, "objects", "pack")
    for ext in ("pack", "idx", "bitmap"):
        parts[ext] = sum(os.path.getsize(os.path.join(pack, f)) for f in os.listdir(pack)
                         if f.endswith("." + ext)) / 1e6
    parts["commit-graph"] = common.dir_size(os.path.join(store, "objects", "info")) / 1e6
    parts["notes commits"] = int(git(store, "rev-list", "--count", "refs/notes/tract").strip())
    rep.meta["gc_size_breakdown_mb"] = parts
    print("  (breakdown: objects {objects:.2f} MB = pack {pack:.2f} + idx {idx:.2f} + bitmap {bitmap:.2f}"
          " + commit-graph {commit-graph:.2f}; reflogs {logs:.2f} MB; {notes commits} notes commits)"
          .format(**parts))
    rep.add("store size after git gc", "MB", sizes, target="<= 8")
    rep.add("  plus derived caches (tract-cache/, rebuilt on demand)", "MB",
            [w - s for w, s in zip(whole, sizes)])


def size_only(args) -> int:
    """``--size``: only the size figure (one store of N one-at-a-time
    appends, ``git gc`` --runs times) and SQLite's size for the same
    workload; sizes do not depend on the machine's load."""
    n = args.n or (1_000 if args.quick else 10_000)
    common.apply_env(common.bench_env())
    from tract_git import tokens

    counter = tokens.Counter(tokens.DEFAULT_ENCODING)
    work = common.workload(n)
    rep = Report("foundation-size", args.quick)
    rep.meta.update({"n": n, "runs": args.runs})
    tmp = common.tempdir("tract-bench-")
    try:
        section(f"store size after git gc ({n:,} one-at-a-time appends, notes included)")
        store = os.path.join(tmp, "append0")
        total, _, _ = append_run(store, work, max(1, n // 10))
        print(f"  (built in {total:.0f} s)")
        gc_size(rep, store, args.runs)
        sq = os.path.join(tmp, "sq0.db")
        sqlite_append_run(sq, work, counter, "OFF")
        rep.add("sqlite store size (after VACUUM)", "MB", [os.path.getsize(sq) / 1e6] * args.runs)
        ratio = rep.get("store size after git gc").median / rep.get("sqlite store size (after VACUUM)").median
        print(f"  gc'd size vs sqlite size: {ratio:.2f}x")
        rep.meta["ratios"] = {"gc'd size vs sqlite size": ratio}
        rep.write(args.out)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            common.rmtree(tmp)
    return 0


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if "--size" in argv:
        return size_only(common.parse_args(__doc__.splitlines()[0], [a for a in argv if a != "--size"],
                                           extra=_extra_args))
    args = common.parse_args(__doc__.splitlines()[0], argv, extra=_extra_args)
    if args.compile_only:
        return compile_only(args)
    runs = args.runs
    n_big = args.n or (1_000 if args.quick else 10_000)
    n_small = max(1, n_big // 10)
    env = common.bench_env()
    common.apply_env(env)
    from tract_git import tokens

    counter = tokens.Counter(tokens.DEFAULT_ENCODING)
    t_load, _ = common.timed(tokens.encoder, tokens.DEFAULT_ENCODING)
    work = common.workload(n_big)
    rep = Report("foundation", args.quick)
    rep.meta.update({"n": n_big, "window": n_small, "runs": runs, "encoding": counter.label,
                     "message_chars": sum(len(t) for _, t in work) / len(work)})
    tmp = common.tempdir("tract-bench-")
    fs_create, fs_replace = common.file_create_cost()
    rep.meta.update({"fs_create_us": fs_create, "fs_replace_us": fs_replace,
                     "loadavg_start": os.getloadavg()[0]})
    print(f"workload: {n_big:,} messages of ~{rep.meta['message_chars']:.0f} chars; {runs} runs per figure;"
          f" tokenizer {counter.label} (loaded in {t_load * 1000:.0f} ms); stores in {tmp}")
    print(f"file-system floor there: create+write of a small file {fs_create:.0f} us, "
          f"lock file renamed over a ref {fs_replace:.0f} us (an append makes 9 objects and moves 2 refs); "
          f"load average {rep.meta['loadavg_start']:.1f}")
    try:
        # ------------------------------------------------ one-at-a-time appends
        section(f"durable one-at-a-time appends through the API (N={n_big:,}, token notes)")
        totals, firsts, lasts = [], [], []
        stores = []
        for r in range(runs):
            p = os.path.join(tmp, f"append{r}")
            total, first, last = append_run(p, work, n_small)
            totals.append(n_big / total)
            firsts.append(n_small / first)
            lasts.append(n_small / last)
            stores.append(p)
        rep.add(f"append rate, first {n_small:,} (N=0..{n_small:,})", "commits/s", firsts)
        rep.add(f"append rate, last {n_small:,} (N={n_big - n_small:,}..{n_big:,})", "commits/s", lasts,
                target=">= 800")
        rep.add(f"append rate, all {n_big:,}", "commits/s", totals)
        ratios = [f / lst for f, lst in zip(firsts, lasts)]
        rep.add(f"per-commit cost at N={n_big:,} / at N={n_small:,}", "x", ratios, target="<= 1.25")
        store = stores[0]
        for p in stores[1:]:
            common.rmtree(p)

        # ----------------------------------------------------------- bulk
        from tract_git import Tract

        section(f"bulk appends: Tract.import_messages, one commit per message, written as a pack (N={n_big:,})")
        from tract_git.ops import bulk as _bulk

        msgs = [{"role": r, "content": c} for r, c in work]
        rates, cpus, ref_rates, ref_cpus = [], [], [], []
        for r in range(runs):
            p = os.path.join(tmp, f"bulk{r}")
            t = Tract.open(p)
            c0 = time.process_time()
            dt, _ = common.timed(t.import_messages, msgs)
            cpus.append((time.process_time() - c0) * 1000)
            t.close()
            rates.append(n_big / dt)
            if r:
                common.rmtree(p)
            # same-run reference: the same objects through `git fast-import`
            # (the writer before the pack was written in Python), CPU of
            # both processes
            p = os.path.join(tmp, f"bulkfi{r}")
            t = Tract.open(p)
            c0, ch0 = time.process_time(), os.times()
            entries = [_bulk.entry_from_message(m) for m in msgs]
            dt, _ = common.timed(_bulk.append_many, t.repo, entries, writer="fast-import")
            ch1 = os.times()
            ref_cpus.append((time.process_time() - c0 + ch1.children_user + ch1.children_system
                             - ch0.children_user - ch0.children_system) * 1000)
            ref_rates.append(n_big / dt)
            t.close()
            common.rmtree(p)
        rep.add(f"bulk import rate (N={n_big:,})", "commits/s", rates, target=">= 3000")
        rep.add(f"bulk import CPU (N={n_big:,}, one process)", "ms", cpus)
        rep.add(f"reference: git fast-import writer rate (N={n_big:,})", "commits/s", ref_rates)
        rep.add(f"reference: git fast-import writer CPU, both processes (N={n_big:,})", "ms", ref_cpus)
        bulk_store = os.path.join(tmp, "bulk0")
        rep.meta["bulk_commits"] = int(git(bulk_store, "rev-list", "--count", "HEAD").strip())

        # token counting without tiktoken: the per-machine rank table
        # (tract_git.fasttokens), with its memo of pieces
        from tract_git import fasttokens

        table_path = fasttokens.build(tokens.DEFAULT_ENCODING, tokens.encoder(tokens.DEFAULT_ENCODING),
                                      os.path.join(tmp, "o200k.bpe1"))
        if table_path:
            sample = [c for _, c in work[:1000]]
            per_msg, per_msg_nomemo = [], []
            for _ in range(runs):
                tab = fasttokens.Table(table_path)  # a fresh memo, as in a new process
                c0 = time.process_time()
                for text in sample:
                    tab.count(text)
                per_msg.append((time.process_time() - c0) / len(sample) * 1e6)
                tab = fasttokens.Table(table_path)
                c0 = time.process_time()
                for text in sample[:200]:
                    tab._memo.clear()
                    tab.count(text)
                per_msg_nomemo.append((time.process_time() - c0) / 200 * 1e6)
            rep.add("fast token table: count, 1,000 messages, fresh memo", "us/msg", per_msg)
            rep.add("fast token table: count, memo emptied before each", "us/msg", per_msg_nomemo)
            enc = tokens.encoder(tokens.DEFAULT_ENCODING)
            tk = []
            for _ in range(runs):
                c0 = time.process_time()
                for text in sample:
                    enc.encode_ordinary(text)
                tk.append((time.process_time() - c0) / len(sample) * 1e6)
            rep.add("tiktoken encode_ordinary (loaded), 1,000 messages", "us/msg", tk)

        # ---------------------------------------------------------- compile
        compile_section(rep, (("as appended through the API", store), ("after bulk import (pack)", bulk_store)),
                        n_big, runs, env, args.baseline)
        py = sys.executable

        # --------------------------------------------------------------- CLI
        tract = common.tract_cmd()
        section(f"CLI on a {n_big:,}-commit store (wall, interpreter included)")
        for name, cmd in (("tract status", ["status"]), ("tract log -n 20", ["log", "-n", "20"])):
            common.run_subprocess(tract + ["--tract-dir", store] + cmd, env=env)  # page cache
            walls = common.repeat_subprocess(tract + ["--tract-dir", store] + cmd, runs, env=env)
            rep.add(name, "ms", [w * 1000 for w in walls], target="<= 150")
        # one untimed commit first: builds the per-machine token table once
        # (tract_git.fasttokens), as any earlier tract command on this machine would have
        common.run_subprocess(tract + ["--tract-dir", store, "user", "warm-up"], env=env)
        walls = [common.run_subprocess(tract + ["--tract-dir", store, "user", common.message_text(n_big + i)],
                                       env=env)[0] * 1000 for i in range(runs)]
        rep.add("tract user TEXT (one commit, token count included)", "ms", walls, target="<= 250")
        walls = common.repeat_subprocess([py, "-c", "pass"], runs, env=env)
        rep.add("python -c pass (interpreter start, for reference)", "ms", [w * 1000 for w in walls])
        walls = common.repeat_subprocess([py, "-c", "import pygit2, click"], runs, env=env)
        rep.add("python -c 'import pygit2, click' (floor, for reference)", "ms", [w * 1000 for w in walls])

        # -------------------------------------------------------------- size
        section(f"store size after git gc ({n_big:,} messages, notes included)")
        # in place (the CLI figures above are done with this store)
        gc_size(rep, store, runs)
        rep.meta["bulk_store_mb"] = common.dir_size(bulk_store) / 1e6

        # ------------------------------------------------------------ SQLite
        section(f"plain SQLite baseline, same workload (N={n_big:,})")
        sq_rates, sq_rates_off = [], []
        for r in range(runs):
            p = os.path.join(tmp, f"sq{r}.db")
            sq_rates.append(n_big / sqlite_append_run(p, work, counter))
            if r:
                os.unlink(p)
            p2 = os.path.join(tmp, f"sqoff{r}.db")
            sq_rates_off.append(n_big / sqlite_append_run(p2, work, counter, "OFF"))
            os.unlink(p2)
        rep.add("sqlite append rate (synchronous=FULL, its default)", "commits/s", sq_rates)
        rep.add("sqlite append rate (synchronous=OFF, no fsync like git)", "commits/s", sq_rates_off)
        sq = os.path.join(tmp, "sq0.db")
        walls, seconds = [], []
        for _ in range(runs):
            dt, p = common.run_subprocess([py, "-c", SQLITE_COMPILE_SNIPPET, sq, str(n_big)], env=env)
            walls.append(dt * 1000)
            seconds.append(json.loads(p.stdout)["second"] * 1000)
        rep.add("sqlite cold compile wall, interpreter included", "ms", walls)
        rep.add("sqlite second compile, same process", "ms", seconds)
        rep.add("sqlite store size (after VACUUM)", "MB", [os.path.getsize(sq) / 1e6] * runs)

        section("ratios, tract / SQLite (medians of this run)")
        g = lambda name: rep.get(name).median  # noqa: E731
        ratios = {
            "append rate vs sqlite FULL": g(f"append rate, all {n_big:,}") / g("sqlite append rate (synchronous=FULL, its default)"),
            "append rate vs sqlite OFF": g(f"append rate, all {n_big:,}") / g("sqlite append rate (synchronous=OFF, no fsync like git)"),
            "bulk import rate vs sqlite FULL": g(f"bulk import rate (N={n_big:,})") / g("sqlite append rate (synchronous=FULL, its default)"),
            "cold compile wall (pack) vs sqlite": g("cold compile wall, interpreter included [after bulk import (pack)]") / g("sqlite cold compile wall, interpreter included"),
            "cold compile wall (appended) vs sqlite": g("cold compile wall, interpreter included [as appended through the API]") / g("sqlite cold compile wall, interpreter included"),
            "gc'd size vs sqlite size": g("store size after git gc") / g("sqlite store size (after VACUUM)"),
        }
        for k, v in ratios.items():
            print(f"  {k:<48} {v:6.2f}x")
        rep.meta["ratios"] = ratios
        rep.write(args.out)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            common.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
