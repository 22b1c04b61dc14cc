"""Moving a store between machines: the real ``git`` binary does transport.

libgit2 can push and fetch, but git's own transport is the one every
remote speaks (file paths, ``file://``, ``git://`` daemons, ssh, smart
http with the user's credential helpers), with its negative refspecs,
atomic ref updates on the receiving side and well-known messages.  So this
module runs ``git --git-dir <store> push|fetch|clone`` and reads its
machine-readable output; nothing else in tract starts git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from ..errors import PushRejectedError, RemoteError, TractError

#: the ref a sub-agent's HEAD lives at is local state, like HEAD itself
AGENT_HEADS = "^refs/tract/agents/*/HEAD"


def git_exe() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise TractError("git is not installed: it is needed to talk to remotes")
    return exe


def _env() -> dict:
    env = dict(os.environ)
    for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        env.pop(k, None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


def run(store: str | None, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [git_exe()] + (["--git-dir", store] if store else []) + args
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise RemoteError(_first_error(p.stderr) or f"git {args[0]} failed (exit {p.returncode})")
    return p


def _first_error(stderr: str) -> str:
    """git's most telling line: its ``fatal:`` message, else the last line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        for prefix in ("fatal: ", "error: "):
            if ln.startswith(prefix):
                return ln[len(prefix):]
    return lines[-1] if lines else ""


# --------------------------------------------------------------- remotes
def _config(store: str):
    import pygit2  # the store layer's own; the config file is plain git config

    return pygit2.Config(os.path.join(store, "config"))


def remotes(store: str) -> list[tuple[str, str]]:
    out = []
    for entry in _config(store):
        n = entry.name
        if n.startswith("remote.") and n.endswith(".url"):
            out.append((n[len("remote."):-len(".url")], entry.value))
    return out


def set_config(store: str, items: list[tuple[str, str]], multi: list[tuple[str, str]] = ()) -> None:
    """Set ``items`` (key, value) and add the values of ``multi`` (key,
    value) to multi-valued keys, in the store's own config file."""
    cfg = _config(store)
    for k, v in items:
        cfg[k] = v
    for k, v in multi:
        cfg.set_multivar(k, "^$", v)  # matches no existing value: adds one


def add_remote(store: str, name: str, url: str, fetch_specs: list[str]) -> None:
    set_config(store, [(f"remote.{name}.url", url)], [(f"remote.{name}.fetch", s) for s in fetch_specs])


def remove_remote(store: str, name: str) -> None:
    run(store, ["remote", "remove", name])


# ------------------------------------------------------------------ push
@dataclass
class PushedRef:
    flag: str  # git's: ' ' fast-forward, '+' forced, '-' deleted, '*' new, '!' rejected, '=' up to date
    src: str
    dst: str
    summary: str

    @property
    def rejected(self) -> bool:
        return self.flag == "!"

    def to_json(self) -> dict:
        return {"flag": self.flag, "src": self.src, "dst": self.dst, "summary": self.summary,
                "rejected": self.rejected}


def push(store: str, remote: str, refspecs: list[str]) -> list[PushedRef]:
    p = run(store, ["push", "--porcelain", remote, *refspecs], check=False)
    refs = []
    for line in p.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and len(parts[0]) == 1:
            src, _, dst = parts[1].partition(":")
            refs.append(PushedRef(parts[0], src, dst, parts[2]))
    rejected = [r for r in refs if r.rejected]
    if rejected:
        r = rejected[0]
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        reason = r.summary.strip("[]")
        if "(" in r.summary:
            reason = r.summary[r.summary.index("(") + 1:].rstrip(")")
        nff = reason in ("fetch first", "non-fast-forward")
        err = PushRejectedError(
            f"rejected {_short(r.src)} -> {_short(r.dst)} ({'non-fast-forward' if nff else reason}){more}",
            hints=("the remote has commits you do not have: run 'tract pull', then push again",)
            if nff else (),
        )
        err.refs = refs  # type: ignore[attr-defined]
        raise err
    if p.returncode != 0:
        raise RemoteError(_first_error(p.stderr) or f"git push failed (exit {p.returncode})")
    return refs


def _short(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tract/agents/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


# ----------------------------------------------------------------- fetch
def fetch(store: str, remote: str, refspecs: list[str] | None = None) -> None:
    run(store, ["fetch", "--quiet", "--no-write-fetch-head", remote, *(refspecs or [])])


def clone(url: str, path: str) -> None:
    """A bare clone; a local path is copied through the pack protocol
    (``--no-local``), not hard-linked, so the two stores share nothing."""
    args = ["clone", "--bare", "--quiet"] + ([] if "://" in url else ["--no-local"])
    run(None, args + [url, path])
