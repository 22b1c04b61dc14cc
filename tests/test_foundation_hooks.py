"""Acceptance: pre-commit, commit-msg and post-commit hooks, run by tract the
way git runs them (libgit2 runs none)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)


def hook(store_or_dir, name, body, *, hooks_dir=None):
    d = hooks_dir or os.path.join(store_or_dir, "hooks")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(p, 0o755)
    return p


def objects_of(store):
    """Every file under objects/ (loose objects and packs)."""
    out = []
    for d, _, fs in os.walk(os.path.join(store, "objects")):
        out += [os.path.join(d, f) for f in fs]
    return sorted(out)


def state(store, refs_of, git):
    return (refs_of(store), objects_of(store), git(store, "count-objects", "-v"))


@pytest.fixture
def store(t):
    t.user("first")
    return t.path


def test_failing_pre_commit_writes_nothing(store, cli, refs_of, git):
    hook(store, "pre-commit", 'echo "checking" >&2\necho "no secrets please" >&2\nexit 3\n')
    before = state(store, refs_of, git)
    for args in (("user", "second"), ("pin", "0"), ("edit", "0", "changed"), ("skip", "-1"),
                 ("commit", "-r", "system", "x")):
        r = cli(*args, store=store)
        op = {"user": "append", "commit": "append"}.get(args[0], args[0])
        assert (r.code, r.out) == (1, "")
        assert r.err == f"error: pre-commit hook refused the {op} (exit 3): no secrets please\n"
        assert state(store, refs_of, git) == before


def test_pre_commit_receives_entries_and_env(store, cli, tmp_path, git):
    seen = tmp_path / "seen"
    hook(store, "pre-commit", f'cat > "{seen}.in"\nenv > "{seen}.env"\npwd > "{seen}.pwd"\n'
                              f'echo "$#" > "{seen}.argc"\n')
    r = cli("assistant", "hello\nworld", "--name", "bot", store=store)
    assert r.code == 0, r.err
    assert (tmp_path / "seen.in").read_text() == (
        "Role: assistant\nType: dialogue\nPriority: normal\nName: bot\n\nhello\nworld\n")
    env = dict(line.split("=", 1) for line in (tmp_path / "seen.env").read_text().splitlines() if "=" in line)
    assert env["GIT_DIR"] == store and env["TRACT_DIR"] == store and env["TRACT_OP"] == "append"
    assert (tmp_path / "seen.pwd").read_text().strip() == os.path.realpath(store)
    assert (tmp_path / "seen.argc").read_text().strip() == "0"
    cli("pin", "-1", store=store)
    assert (tmp_path / "seen.env").read_text().count("TRACT_OP=pin") == 1


def test_commit_msg_may_edit_the_message(store, cli, git):
    hook(store, "commit-msg", 'printf "Edited by hook\\n\\n" > "$1.new"\n'
                              'sed 1d "$1" >> "$1.new"\nmv "$1.new" "$1"\n')
    r = cli("user", "second", store=store)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0].endswith("] Edited by hook")
    msg = git(store, "log", "-1", "--format=%B")
    assert msg.startswith("Edited by hook\n\n\nTract-Op: append\nTract-Entry: ")
    assert git(store, "log", "-1", "--format=%(trailers:key=Tract-Op,valueonly)").strip() == "append"


def test_failing_commit_msg_writes_nothing(store, cli, refs_of, git):
    hook(store, "commit-msg", 'grep -q "^ok" "$1" || { echo "subject must start with ok" >&2; exit 1; }\n')
    before = state(store, refs_of, git)
    r = cli("user", "second", store=store)
    assert (r.code, r.out) == (1, "")
    assert r.err == "error: commit-msg hook refused the append (exit 1): subject must start with ok\n"
    # refs, notes and objects as before: the commit's blob and trees were never written
    assert state(store, refs_of, git) == before
    r = cli("user", "-m", "ok fine", "second", store=store)
    assert r.code == 0, r.err


def test_commit_msg_that_empties_the_message_aborts(store, cli, refs_of, git):
    """git: "Aborting commit due to empty commit message." (exit 1)."""
    hook(store, "commit-msg", ': > "$1"\n')
    before = state(store, refs_of, git)
    for args, op in ((("user", "hello"), "append"), (("pin", "0"), "pin")):
        r = cli(*args, store=store)
        assert (r.code, r.out) == (1, ""), r.err
        assert r.err == f"error: aborting the {op}: the commit-msg hook left an empty message\n"
    assert state(store, refs_of, git) == before


def test_hook_output_comes_before_the_refusal(store, cli, refs_of, git):
    """What the hooks printed is shown in the order they ran, and the
    error that ends the command comes last, as git shows it."""
    hook(store, "pre-commit", 'echo "pre-commit: scanned ok" >&2\nexit 0\n')
    hook(store, "commit-msg", 'echo "commit-msg: refused" >&2\nexit 1\n')
    before = state(store, refs_of, git)
    r = cli("user", "two", store=store)
    assert (r.code, r.out) == (1, "")
    assert r.err == ("pre-commit: scanned ok\n"
                     "error: commit-msg hook refused the append (exit 1): commit-msg: refused\n")
    assert state(store, refs_of, git) == before


def test_failing_commit_msg_on_an_edit_writes_nothing(store, cli, refs_of, git):
    hook(store, "commit-msg", 'grep -q "^ok" "$1" || { echo "subject must start with ok" >&2; exit 1; }\n')
    before = state(store, refs_of, git)
    r = cli("edit", "--", "-1", "changed text", store=store)  # the last entry
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith("error: commit-msg hook refused the edit (exit 1)"), r.err
    assert state(store, refs_of, git) == before  # not even the new blob


def test_failing_commit_msg_on_a_compress_writes_nothing(store, cli, refs_of, git):
    for i in range(4):
        assert cli("user", f"ok message {i}", store=store).code == 0
    hook(store, "commit-msg", 'grep -q "^ok" "$1" || { echo "subject must start with ok" >&2; exit 1; }\n')
    before = state(store, refs_of, git)
    r = cli("compress", "0..2", "--summary", "a summary nobody had written before", store=store)
    assert (r.code, r.out) == (1, "")
    assert r.err.startswith("error: commit-msg hook refused the compress (exit 1)"), r.err
    assert state(store, refs_of, git) == before  # not even the summary's blob


def test_post_commit_runs_after_and_cannot_refuse(store, cli, git):
    log = os.path.join(store, "post.log")
    hook(store, "post-commit", f'git --git-dir "$GIT_DIR" log -1 --format="%s" >> "{log}"\nexit 5\n')
    r = cli("user", "second", store=store)
    assert (r.code, r.err) == (0, "")
    r = cli("pin", "0", store=store)
    assert r.code == 0
    # the hook saw the new commit already landed
    assert open(log).read().splitlines() == ["user: second", git(store, "log", "-1", "--format=%s").strip()]


def test_core_hooks_path(store, cli, tmp_path, git):
    shared = tmp_path / "shared-hooks"
    hook(store, "pre-commit", "exit 1\n", hooks_dir=str(shared))
    git(store, "config", "core.hooksPath", str(shared))
    r = cli("user", "x", store=store)
    assert (r.code, r.err) == (1, "error: pre-commit hook refused the append (exit 1)\n")
    # relative to the store, as git does for a bare repository
    os.makedirs(os.path.join(store, "myhooks"))
    git(store, "config", "core.hooksPath", "myhooks")
    assert cli("user", "x", store=store).code == 0
    hook(store, "pre-commit", "echo relative >&2; exit 2\n", hooks_dir=os.path.join(store, "myhooks"))
    r = cli("user", "y", store=store)
    assert (r.code, r.err) == (1, "error: pre-commit hook refused the append (exit 2): relative\n")


def test_non_executable_hook_is_not_run(store, cli):
    p = hook(store, "pre-commit", "exit 1\n")
    os.chmod(p, 0o644)
    assert cli("user", "x", store=store).code == 0


SECRETS = [
    "my key is sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXyz012345",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
    "aws AKIAIOSFODNN7EXAMPLE ok",
    "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
]


def test_sample_pre_commit_refuses_secrets(store, cli, refs_of, git):
    hooks = os.path.join(store, "hooks")
    shutil.copy(os.path.join(hooks, "pre-commit.sample"), os.path.join(hooks, "pre-commit"))
    os.chmod(os.path.join(hooks, "pre-commit"), 0o755)
    before = state(store, refs_of, git)
    for s in SECRETS:
        r = cli("user", input=s.encode(), store=store)
        assert (r.code, r.out) == (1, ""), s
        assert r.err == ("error: pre-commit hook refused the append (exit 1): "
                         "content looks like it contains an API key or private key\n")
        r = cli("edit", "0", input=s.encode(), store=store)
        assert r.code == 1
    assert state(store, refs_of, git) == before
    assert cli("user", "talking about sk- prefixes and AKIA in prose is fine", store=store).code == 0
    assert "sk-proj-ABCDEF" not in git(store, "log", "-p", "--all")


def test_sample_commit_msg_and_post_commit(store, cli, git):
    hooks = os.path.join(store, "hooks")
    for name in ("commit-msg", "post-commit"):
        shutil.copy(os.path.join(hooks, f"{name}.sample"), os.path.join(hooks, name))
    r = cli("user", "-m", "x" * 201, "long subject", store=store)
    assert (r.code, r.err) == (1, "error: commit-msg hook refused the append (exit 1): "
                                  "commit subject longer than 200 characters\n")
    assert cli("user", "fine", store=store).code == 0
    lines = open(os.path.join(store, "tract-commits.log")).read().splitlines()
    assert lines == [f"{git(store, 'rev-parse', 'HEAD').strip()} user: fine"]


def test_api_raises_hook_refused(t):
    from tract_git.errors import HookRefusedError

    t.user("a")
    hook(t.path, "pre-commit", "exit 1\n")
    with pytest.raises(HookRefusedError) as ei:
        t.user("b")
    assert ei.value.exit_code == 1
    assert [e.content for e in t.entries()] == ["a"]
    assert json.loads(t.repo.store.read_note(t.head))["entries"] == 1
