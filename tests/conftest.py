"""Test conventions.

* Every test runs in an isolated environment: HOME in a temp dir, no global
  or system git config, a fixed author and clock, so object ids are stable.
* ``cli(...)`` runs the real CLI entry point in-process and returns
  (exit code, stdout, stderr); ``run_tract(...)`` runs the installed
  command in a subprocess (for pipes, stdin, and import-cost checks).
* ``git(...)`` runs the real git binary against a store: the oracle.
"""

from __future__ import annotations

pytest_plugins = ["fakellm"]

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

FIXED_DATE = "1700000000 +0000"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    # machine-wide caches (tract_git.fasttokens' rank table) shared by the session
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    for k in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{k}_NAME", "Test Agent")
        monkeypatch.setenv(f"{k}_EMAIL", "agent@example.com")
        monkeypatch.setenv(f"{k}_DATE", FIXED_DATE)
    for k in ("TRACT_DIR", "TRACT_TRACE", "TRACT_NO_HOOKS", "GIT_DIR", "NO_COLOR",
              "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TRACT_MODEL", "TRACT_BASE_URL", "TRACT_API_KEY",
              "OPENAI_BASE_URL", "OPENAI_API_BASE", "TRACT_LLM_TIMEOUT", "TRACT_LLM_RETRIES",
              "TRACT_LLM_BACKOFF"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("TRACT_LOCK_TIMEOUT", "0.2")
    # pygit2 reads the global config through libgit2's search path
    import pygit2

    for level in (pygit2.enums.ConfigLevel.GLOBAL, pygit2.enums.ConfigLevel.XDG,
                  pygit2.enums.ConfigLevel.SYSTEM):
        pygit2.settings.search_path[level] = str(home)
    yield


@pytest.fixture
def store_path(tmp_path):
    return str(tmp_path / "store")


@pytest.fixture
def t(store_path):
    from tract_git import Tract

    with Tract.open(store_path) as tr:
        yield tr


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __iter__(self):
        return iter((self.code, self.out, self.err))


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """``cli("log", "--oneline", input=b"...", store=...)``; runs in tmp_path
    with TRACT_DIR pointing at ``store`` (default tmp_path/store)."""
    from tract_git.cli.main import main

    def run(*args, input=None, store=None, env=None):
        runner = CliRunner()
        e = {"TRACT_DIR": store or str(tmp_path / "store")}
        if env:
            e.update(env)
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            with runner.isolation(input=input, env=e) as (out, err, *_):
                try:
                    main(list(args))
                    code = 0
                except SystemExit as ex:
                    code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
                so = out.getvalue().decode("utf-8", "replace")
                se = err.getvalue().decode("utf-8", "replace") if err is not None else ""
        finally:
            os.chdir(cwd)
        return Result(code, so, se)

    return run


@pytest.fixture
def run_tract(tmp_path):
    """Run the installed ``tract`` in a subprocess."""
    exe = os.path.join(os.path.dirname(sys.executable), "tract")

    def run(*args, input=None, store=None, env=None, cwd=None):
        e = dict(os.environ)
        e["TRACT_DIR"] = store or str(tmp_path / "store")
        if env:
            e.update(env)
        p = subprocess.run([exe, *args], input=input, capture_output=True, env=e,
                           cwd=cwd or str(tmp_path))
        return Result(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))

    return run


@pytest.fixture
def git():
    """``git(store, "log", "--oneline")`` -> stdout (asserts exit 0);
    ``git(store, ..., check=False)`` -> CompletedProcess."""

    def run(store, *args, check=True, input=None):
        p = subprocess.run(["git", "--git-dir", store, *args], capture_output=True, text=True,
                           input=input)
        if check:
            assert p.returncode == 0, f"git {' '.join(args)} failed: {p.stderr}"
            return p.stdout
        return p

    return run


@pytest.fixture
def fsck(git):
    def check(store):
        p = git(store, "fsck", "--strict", "--no-dangling", check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stderr.strip() == "", p.stderr

    return check


def snapshot_refs(store: str) -> dict:
    """Every ref and its target plus the notes: to check that a failed
    command left the store exactly as it was."""
    p = subprocess.run(["git", "--git-dir", store, "for-each-ref", "--format=%(refname) %(objectname)"],
                       capture_output=True, text=True)
    head = subprocess.run(["git", "--git-dir", store, "symbolic-ref", "-q", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    return {"refs": p.stdout, "head": head}


@pytest.fixture
def refs_of():
    return snapshot_refs
