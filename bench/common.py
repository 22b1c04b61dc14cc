"""Shared helpers for the benchmarks under ``bench/``.

Every benchmark runs each figure at least five times and reports the
median, min and max; ``--quick`` shrinks the workload (not the number of
runs) so a whole bench finishes in seconds.  Results are printed as a table
and written as JSON to ``bench/results/`` (git-ignored).

Timing is wall clock (``time.perf_counter``).  Subprocess figures include
interpreter start, as a user at a terminal would see them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
MIN_RUNS = 5

if ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, ROOT)


# ---------------------------------------------------------------- arguments
def parse_args(description: str, argv=None, extra=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    if extra:
        extra(p)
    p.add_argument("--quick", action="store_true",
                   help="small workload (same number of runs), for a smoke test")
    p.add_argument("--runs", type=int, default=MIN_RUNS,
                   help=f"runs per figure (at least {MIN_RUNS})")
    p.add_argument("--keep", action="store_true", help="keep the temporary stores")
    p.add_argument("--n", type=int, default=0, metavar="N", help="workload size (overrides the default)")
    p.add_argument("--out", metavar="FILE", help="JSON output file (default bench/results/<bench>.json)")
    if not any(a.dest == "dir" for a in p._actions):
        p.add_argument("--dir", metavar="DIR", default=None,
                       help="where the stores are made (default: $TRACT_BENCH_DIR, else bench/.scratch/)")
    a = p.parse_args(argv)
    if getattr(a, "dir", None):
        os.environ["TRACT_BENCH_DIR"] = a.dir
    a.runs = max(a.runs, MIN_RUNS)
    return a


# ---------------------------------------------------------------- workload
_COMMON = """the of and to a in is it you that he was for on are with as I his they be at
one have this from or had by hot word but what some we can out other were all there when up use
your how said an each she which do their time if will way about many then them write would like
so these her long make thing see him two has look more day could go come did number sound no most
people my over know water than call first who may down side been now find any new work part take
get place made live where after back little only round man year came show every good me give our
under name very through just form sentence great think say help low line differ turn cause much
mean before move right boy old too same tell does set three want air well also play small end put
home read hand port large spell add even land here must big high such follow act why ask men
change went light kind off need house picture try us again animal point mother world near build
self earth father head stand own page should country found answer school grow study still learn
plant cover food sun four between state keep eye never last let thought city tree cross farm hard
start might story saw far sea draw left late run while press close night real life few north open
seem together next white children begin got walk example ease paper group always music those both
mark often letter until mile river car feet care second book carry took science eat room friend
began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain
girl usual young ready above ever red list though feel talk bird soon body dog family direct pose
leave song measure door product black short numeral class wind question happen complete ship area
half rock order fire south problem piece told knew pass since top whole king space heard best hour
better true during hundred five remember step early hold west ground interest reach fast verb sing
listen six table travel less morning ten simple several vowel toward war lay against pattern slow
center love person money serve appear road map rain rule govern pull cold notice voice unit power
town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest
correct able pound done beauty drive stood contain front teach week final gave green oh quick
develop ocean warm free minute strong special mind behind clear tail produce fact street inch
multiply nothing course stay wheel full force blue object decide surface deep moon island foot
system busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran
check game shape equate miss brought heat snow tire bring yes distant fill east paint language
among context token commit branch model agent tract compile budget summary function return value
error request response message history merge rebase config""".split()
_WORDS = None


def _vocab() -> list[str]:
    """Common English words, plus some identifiers, numbers, URLs and
    non-ASCII words, plus 500 random letter strings (rare words)."""
    global _WORDS
    if _WORDS is None:
        rnd = random.Random(1234)
        letters = "etaoinshrdlucmfwypvbgkjqxz"
        rare = ["".join(rnd.choices(letters, k=rnd.randint(4, 11))) for _ in range(500)]
        extra = ["None", "self.items", "def", "42", "2024", "http://example.com/x", "über",
                 "naïve", "日本語", "données", "e.g.", "(see", "above)", "[1]", '{"k":', "1}",
                 "->", "`x`", "x_count", "HTTP/1.1", "3.14", "café", "Ελλάδα", "—"]
        _WORDS = (_COMMON * 6, rare, extra)
    return _WORDS


def message_text(i: int, size: int = 400, seed: int = 7) -> str:
    """A deterministic message of about ``size`` characters of varied
    text (words, numbers, punctuation, some non-ASCII)."""
    rnd = random.Random(seed * 1_000_003 + i)
    common, rare, extra = _vocab()
    out: list[str] = []
    n = 0
    while n < size:
        r0 = rnd.random()
        w = rnd.choice(common if r0 < 0.9 else rare if r0 < 0.96 else extra)
        r = rnd.random()
        if r < 0.08:
            w += rnd.choice([",", ".", ";", ":", "?", "!"])
        elif r < 0.10:
            w = w.capitalize()
        elif r < 0.12:
            w = str(rnd.randrange(100000))
        out.append(w)
        n += len(w) + 1
        if rnd.random() < 0.03:
            out.append("\n")
    return " ".join(out)[:size].rstrip()


def workload(n: int, size: int = 400, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` alternating user/assistant messages."""
    return [("user" if i % 2 == 0 else "assistant", message_text(i, size, seed)) for i in range(n)]


# ------------------------------------------------------------------ timing
def timed(fn, *args, **kw) -> tuple[float, object]:
    t0 = time.perf_counter()
    r = fn(*args, **kw)
    return time.perf_counter() - t0, r


def repeat(fn, runs: int, *, setup=None) -> list[float]:
    """Wall seconds of ``fn(setup())`` (or ``fn()``) over ``runs`` runs;
    setup is not timed."""
    out = []
    for _ in range(runs):
        arg = setup() if setup else None
        t0 = time.perf_counter()
        fn(arg) if setup else fn()
        out.append(time.perf_counter() - t0)
    return out


def run_subprocess(argv: list[str], *, env: dict | None = None, cwd: str | None = None,
                   input: bytes | None = None, check: bool = True) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, input=input, capture_output=True)
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    return dt, p


def repeat_subprocess(argv: list[str], runs: int, **kw) -> list[float]:
    return [run_subprocess(argv, **kw)[0] for _ in range(runs)]


def bench_env(**extra) -> dict:
    """An environment for subprocesses: fixed identity, no user git config,
    litellm kept offline."""
    env = dict(os.environ)
    env.update({
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": ROOT + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""),
    })
    env.pop("TRACT_DIR", None)
    env.update(extra)
    return env


def apply_env(env: dict) -> None:
    """Use ``env`` in this process too (identity, no user config)."""
    for k in ("GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
              "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "LITELLM_LOCAL_MODEL_COST_MAP"):
        os.environ[k] = env[k]
    os.environ.pop("TRACT_DIR", None)


def tract_cmd() -> list[str]:
    """The installed ``tract`` next to this interpreter, else ``python -m``."""
    exe = os.path.join(os.path.dirname(sys.executable), "tract")
    if os.path.exists(exe):
        return [exe]
    return [sys.executable, "-m", "tract_git.cli.main"]


def dir_size(path: str) -> int:
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except OSError:
                pass
    return total


def scratch_root() -> str:
    """Where benches make their stores: ``$TRACT_BENCH_DIR`` (``--dir``),
    else ``bench/.scratch/`` in the checkout, beside the project as a user's
    ``.tract/`` would be.  Not the system temporary directory by default:
    on the machines this was measured on, creating a file in a long-used
    ``/tmp`` cost ~200 us against ~30 us elsewhere on the same disk (a full
    directory's inode allocation), which swamps everything measured here;
    :func:`file_create_cost` reports the figure for the directory used."""
    root = os.environ.get("TRACT_BENCH_DIR") or os.path.join(ROOT, "bench", ".scratch")
    os.makedirs(root, exist_ok=True)
    return root


def tempdir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix, dir=scratch_root())


def file_create_cost(n: int = 500) -> tuple[float, float]:
    """(create+write, rename over an existing file) in microseconds, median
    of ``n``, in the scratch directory: the file-system floor of a loose
    object and of a ref update, for reading the other figures."""
    import statistics

    d = tempfile.mkdtemp(prefix="fs-probe-", dir=scratch_root())
    try:
        create, replace = [], []
        target = os.path.join(d, "ref")
        with open(target, "wb") as f:
            f.write(b"x" * 41)
        for i in range(n):
            p = os.path.join(d, f"o{i}")
            t0 = time.perf_counter()
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            os.write(fd, b"x" * 300)
            os.close(fd)
            t1 = time.perf_counter()
            lock = target + ".lock"
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, b"%040d\n" % i)
            os.close(fd)
            os.rename(lock, target)
            t2 = time.perf_counter()
            create.append((t1 - t0) * 1e6)
            replace.append((t2 - t1) * 1e6)
        return statistics.median(create), statistics.median(replace)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ report
@dataclass
class Figure:
    name: str
    unit: str
    samples: list
    target: str = ""
    ok: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_json(self) -> dict:
        return {"name": self.name, "unit": self.unit, "median": self.median,
                "min": min(self.samples), "max": max(self.samples), "runs": len(self.samples),
                "samples": self.samples, "target": self.target, "ok": self.ok, "note": self.note}


def _fmt(v: float, unit: str) -> str:
    if unit == "ms":
        return f"{v:,.1f}"
    if unit in ("/s", "commits/s"):
        return f"{v:,.0f}"
    if unit == "MB":
        return f"{v:,.2f}"
    return f"{v:,.3g}"


@dataclass
class Report:
    bench: str
    quick: bool
    figures: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def add(self, name: str, unit: str, samples, *, target: str = "", ok=None, note: str = "") -> Figure:
        """Record one figure; ``target`` like ``'<= 250'`` or ``'>= 800'``
        is checked against the median."""
        samples = [float(s) for s in samples]
        fig = Figure(name, unit, samples, target, ok, note)
        if target and ok is None:
            op, _, val = target.partition(" ")
            v = float(val)
            fig.ok = fig.median <= v if op == "<=" else fig.median >= v
        self.figures.append(fig)
        mark = "" if fig.ok is None else ("  ok" if fig.ok else "  MISSED")
        tgt = f"  (target {target} {unit})" if target else ""
        print(f"  {name:<48} median {_fmt(fig.median, unit):>9} {unit:<9} "
              f"min {_fmt(min(samples), unit):>9}  max {_fmt(max(samples), unit):>9}{tgt}{mark}"
              + (f"  [{note}]" if note else ""), flush=True)
        return fig

    def get(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)

    def write(self, path: str | None = None) -> str:
        os.makedirs(RESULTS, exist_ok=True)
        path = path or os.path.join(RESULTS, f"{self.bench}{'-quick' if self.quick else ''}.json")
        data = {
            "bench": self.bench, "quick": self.quick,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count(), "meta": self.meta,
            "figures": [f.to_json() for f in self.figures],
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
        print(f"results written to {os.path.relpath(path)}")
        return path


def section(title: str) -> None:
    print(f"\n== {title}", flush=True)
