"""Acceptance: bad input gives git's exit code, exactly one line on stderr
(plus hints), no traceback, and the store exactly as before."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)


@pytest.fixture
def store(t):
    t.system("sys")
    t.user("hello")
    return t.path


def check_error(r, code, err):
    assert (r.code, r.out, r.err) == (code, "", err)
    assert "Traceback" not in r.err


def unchanged(store, refs_of, git, before=None):
    now = (refs_of(store), git(store, "notes", "--ref", "tract", "list"))
    if before is not None:
        assert now == before
    return now


@pytest.mark.parametrize("args, input, code, err", [
    (("commit", "-r", "bogus", "x"), None, 129,
     "error: invalid value for '-r' / '--role': 'bogus' is not one of 'system', 'user', 'assistant', "
     "'tool' (see 'tract commit -h')\n"),
    (("commit", "x"), None, 129,
     "error: missing option '-r' / '--role'. Choose from: system, user, assistant, tool "
     "(see 'tract commit -h')\n"),
    (("user", "-t", "Bad Type", "x"), None, 129,
     "error: invalid content type 'Bad Type' (lowercase letters, digits, '_', '.', '-'; starting with a "
     "letter; built in: instruction, dialogue, tool_io, reasoning, artifact, output, freeform, summary)\n"),
    (("user", ""), None, 129, "error: empty content for a user entry\n"),
    (("assistant",), b"", 129, "error: empty content for a assistant entry\n"),
    (("user",), b"ok\xff\xfe", 129, "error: stdin is not valid UTF-8 (byte 2)\n"),
    (("user", "-F", "-"), b"\xc3(", 129, "error: stdin is not valid UTF-8 (byte 0)\n"),
    (("user",), b"a\x00b", 129, "error: content contains a NUL byte\n"),
    (("user", "--pin", "--skip", "x"), None, 129, "error: --pin and --skip cannot be used together\n"),
    (("tool", "x", "--tool-call-id", "a\nb"), None, 129,
     "error: invalid tool call id 'a\\nb': one line of 1 to 512 characters\n"),
    (("edit", "0"), b"", 129, "error: empty content for a system entry\n"),
    (("edit", "9", "x"), None, 128, "fatal: no entry at position 9 (the context has 2 entries)\n"),
    (("pin", "abcdef"), None, 128, "fatal: unknown entry 'abcdef'\n"),
    (("show", "zzz"), None, 128, "fatal: 'zzz' is neither a revision nor an entry\n"),
    (("log", "nosuch"), None, 128, "fatal: bad revision 'nosuch'\n"),
    (("reset", "--hard", "HEAD~7"), None, 128, "fatal: bad revision 'HEAD~7'\n"),
    (("frob",), None, 129, "error: no such command 'frob' (see 'tract -h')\n"),
    (("log", "--frob"), None, 129, "error: no such option '--frob' (see 'tract log -h')\n"),
    (("pin", "--frob", "0"), None, 129, "error: no such option '--frob' (see 'tract pin -h')\n"),
    (("show", "-x"), None, 129, "error: no such option '-x' (see 'tract show -h')\n"),
    (("log", "-n", "many"), None, 129,
     "error: invalid value for '-n' / '--max-count': 'many' is not a valid integer range (see 'tract log -h')\n"),
    (("compile", "-f", "xml"), None, 129,
     "error: invalid value for '-f' / '--format': 'xml' is not one of 'openai', 'anthropic', 'dicts', "
     "'text' (see 'tract compile -h')\n"),
    (("reset",), None, 129, "error: missing argument 'REV' (see 'tract reset -h')\n"),
    (("config", "budget", "-5"), None, 129, "error: no such option '-5' (see 'tract config -h')\n"),
])
def test_bad_input(store, cli, refs_of, git, args, input, code, err):
    before = unchanged(store, refs_of, git)
    r = cli(*args, input=input, store=store)
    check_error(r, code, err)
    unchanged(store, refs_of, git, before)


def test_invalid_utf8_in_file(store, cli, tmp_path, refs_of, git):
    before = unchanged(store, refs_of, git)
    (tmp_path / "bad.txt").write_bytes("héllo".encode("latin-1"))
    check_error(cli("user", "--file", "bad.txt", store=store), 129, "error: bad.txt is not valid UTF-8 (byte 1)\n")
    check_error(cli("edit", "0", "-F", "bad.txt", store=store), 129,
                "error: bad.txt is not valid UTF-8 (byte 1)\n")
    check_error(cli("user", "--file", "missing.txt", store=store), 129,
                "error: cannot read missing.txt: No such file or directory\n")
    unchanged(store, refs_of, git, before)


def test_api_validation(t):
    from tract_git.errors import InvalidEntryError

    for kw, msg in (({"role": "robot"}, "invalid role 'robot'"), ({"type": "No"}, "invalid content type 'No'"),
                    ({"priority": "high"}, "invalid priority 'high'")):
        with pytest.raises(InvalidEntryError, match=msg) as ei:
            t.commit("x", **kw)
        assert ei.value.exit_code == 129
    with pytest.raises(InvalidEntryError, match="empty content"):
        t.user("")
    with pytest.raises(InvalidEntryError, match="only assistant entries carry tool calls"):
        t.user("x", tool_calls=[{"id": "a", "function": {"name": "f", "arguments": "{}"}}])
    with pytest.raises(InvalidEntryError, match="arguments are not valid JSON"):
        t.assistant("", tool_calls=[{"id": "a", "function": {"name": "f", "arguments": "{nope"}}])
    assert t.head is None


def test_no_arguments_prints_usage(cli):
    r = cli()
    assert (r.code, r.out) == (129, "")
    assert r.err.startswith("Usage: tract [OPTIONS] COMMAND [ARGS]...\n")


LOCKED = ("fatal: cannot lock ref refs/heads/main: another tract or git process holds the lock\n"
          "hint: if no other process is running, remove the stale lock file\n")


@pytest.mark.parametrize("args", [("user", "x"), ("pin", "0"), ("edit", "0", "y"), ("config", "budget", "9"),
                                  ("reset", "--hard", "HEAD~1"), ("undo",)])
def test_locked_branch_ref(store, cli, refs_of, git, args):
    lock = os.path.join(store, "refs", "heads", "main.lock")
    open(lock, "w").close()
    before = unchanged(store, refs_of, git)
    r = cli(*args, store=store)  # TRACT_LOCK_TIMEOUT is 0.2 s in tests
    check_error(r, 128, LOCKED)
    unchanged(store, refs_of, git, before)
    os.unlink(lock)
    assert cli(*args, store=store).code == 0


def test_locked_notes_ref_still_commits(store, cli, git, refs_of):
    lock = os.path.join(store, "refs", "notes", "tract.lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    open(lock, "w").close()
    r = cli("user", "one two three", store=store)
    assert (r.code, r.err) == (0, "")
    # the commit landed without its note; the note is computed on demand
    p = git(store, "notes", "--ref", "tract", "show", "HEAD", check=False)
    assert p.returncode != 0
    assert cli("status", store=store).out.splitlines()[1] == "3 entries, 5 tokens"
    os.unlink(lock)


def _read_only_runner(store):
    """A way to run tract on a read-only store.  Tests run as root, so chmod
    does not stop writes: use a read-only bind mount in a private mount
    namespace, or run as an unprivileged user."""
    exe = os.path.join(os.path.dirname(sys.executable), "tract")
    probe = subprocess.run(["unshare", "-m", "sh", "-c",
                            f'mount --bind "{store}" "{store}" && mount -o remount,bind,ro "{store}" '
                            f'&& ! touch "{store}/probe" 2>/dev/null'], capture_output=True)
    if probe.returncode == 0:
        def run(*args):
            cmd = (f'mount --bind "{store}" "{store}" && mount -o remount,bind,ro "{store}" && exec "$0" "$@"')
            return subprocess.run(["unshare", "-m", "sh", "-c", cmd, exe, *args], capture_output=True, text=True)
        return run
    if shutil.which("setpriv"):
        pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run(pre + [sys.executable, "-c", "import tract_git"], capture_output=True)
        if probe.returncode == 0:
            subprocess.run(["chmod", "-R", "a+rX", os.path.dirname(store)], check=True)

            def run(*args):
                return subprocess.run(pre + [sys.executable, "-m", "tract_git.cli.main", *args],
                                      capture_output=True, text=True)
            return run
    pytest.skip("cannot make a read-only store here: no private mount namespace and "
                "no unprivileged user that can run this Python")


def test_read_only_store(store, refs_of, git):
    run = _read_only_runner(store)
    before = unchanged(store, refs_of, git)
    # (a commit's objects are written once its ref is locked: the lock fails first)
    for args, what in ((("user", "x"), "ref refs/heads/main"),
                       (("reset", "--hard", "HEAD~1"), "ref refs/heads/main"),
                       (("checkout", "HEAD~1"), "HEAD"),
                       (("config", "encoding", "cl100k_base"), "config")):
        p = run("--tract-dir", store, *args)
        assert (p.returncode, p.stdout) == (128, ""), args
        assert p.stderr == f"fatal: cannot write {what}: store is read-only\n"
    unchanged(store, refs_of, git, before)
    # reading still works
    p = run("--tract-dir", store, "log", "--oneline")
    assert p.returncode == 0 and p.stdout.count("\n") == 2


def test_internal_errors_are_one_line(store, cli, monkeypatch):
    from tract_git.ops import status as st

    def boom(repo):
        raise RuntimeError("kaput")

    monkeypatch.setattr(st, "status", boom)
    r = cli("status", store=store)
    check_error(r, 128, "fatal: internal error: RuntimeError: kaput (set TRACT_TRACE=1 for a traceback)\n")
