"""Acceptance: `tract init` and how commands find their store."""

from __future__ import annotations

import os
import subprocess

import pytest
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)

NO_DIR = {"TRACT_DIR": None}  # CliRunner deletes a variable set to None


def _git_config(git, store, key):
    return git(store, "config", "--get", key).strip()


def test_init_default_dot_tract_in_cwd(cli, tmp_path, git, fsck):
    r = cli("init", env=NO_DIR)
    store = tmp_path / ".tract"
    assert (r.code, r.out, r.err) == (0, f"Initialized empty tract store in {store}/\n", "")
    assert git(str(store), "rev-parse", "--is-bare-repository").strip() == "true"
    assert git(str(store), "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert cli("user", "hi", env=NO_DIR).code == 0
    fsck(str(store))


def test_init_records_format_and_notes_display_ref(cli, tmp_path, git):
    assert cli("init").code == 0
    store = str(tmp_path / "store")
    assert _git_config(git, store, "tract.formatVersion") == "1"
    assert _git_config(git, store, "notes.displayRef") == "refs/notes/tract"
    assert _git_config(git, store, "tract.encoding") == "o200k_base"


def test_init_installs_sample_hooks_only(cli, tmp_path):
    assert cli("init").code == 0
    hooks = sorted(os.listdir(tmp_path / "store" / "hooks"))
    assert hooks == ["commit-msg.sample", "post-commit.sample", "pre-commit.sample"]
    for h in hooks:
        p = tmp_path / "store" / "hooks" / h
        assert os.access(p, os.X_OK)
        head = p.read_text().splitlines()
        assert head[0] == "#!/bin/sh"
        text = "\n".join(head[:15])
        assert "When it runs" in text and "What it receives" in text and "non-zero exit" in text


def test_init_path_argument(cli, tmp_path):
    r = cli("init", "ctx/here", env=NO_DIR)
    assert (r.code, r.out, r.err) == (0, f"Initialized empty tract store in {tmp_path}/ctx/here/\n", "")
    r = cli("--tract-dir", "ctx/here", "status", env=NO_DIR)
    assert (r.code, r.out) == (0, "On branch main\nNo commits yet\n0 entries, 0 tokens\n"
                                  "no budget set (tract config budget N)\n")


def test_init_tract_dir_env_and_option(cli, tmp_path):
    r = cli("init", env={"TRACT_DIR": str(tmp_path / "fromenv")})
    assert r.out == f"Initialized empty tract store in {tmp_path}/fromenv/\n"
    r = cli("--tract-dir", str(tmp_path / "fromopt"), "init", env=NO_DIR)
    assert r.out == f"Initialized empty tract store in {tmp_path}/fromopt/\n"
    assert not (tmp_path / ".tract").exists()
    # --tract-dir selects the store for every command
    r = cli("--tract-dir", str(tmp_path / "fromenv"), "user", "hi", env=NO_DIR)
    assert r.code == 0, r.err
    assert cli("log", "--oneline", env={"TRACT_DIR": str(tmp_path / "fromenv")}).out.endswith("user: hi\n")


def test_init_quiet_and_json(cli, tmp_path):
    r = cli("init", "-q")
    assert (r.code, r.out, r.err) == (0, "", "")
    import json
    r = cli("init", "--json", store=str(tmp_path / "s2"))
    assert json.loads(r.out) == {"path": str(tmp_path / "s2"), "encoding": "o200k_base",
                                 "approximate": False}


def test_chdir_option_and_discovery_from_subdirectory(cli, tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    r = cli("-C", "proj", "init", env=NO_DIR)
    assert r.out == f"Initialized empty tract store in {proj}/.tract/\n"
    deep = proj / "a" / "b"
    deep.mkdir(parents=True)
    assert cli("-C", "proj/a/b", "user", "from deep", env=NO_DIR).code == 0
    r = cli("-C", "proj", "-C", "a", "log", "--oneline", env=NO_DIR)
    assert r.code == 0 and r.out.endswith("user: from deep\n")
    # the store directory itself is found too
    r = cli("-C", "proj/.tract", "status", env=NO_DIR)
    assert r.out.startswith("On branch main\n1 entry")


def test_chdir_missing_directory(cli):
    r = cli("-C", "nowhere", "status", env=NO_DIR)
    assert (r.code, r.out, r.err) == (128, "", "fatal: cannot change to 'nowhere': No such file or directory\n")


def test_no_store_anywhere(cli, tmp_path):
    r = cli("status", env=NO_DIR)
    assert (r.code, r.out) == (128, "")
    assert r.err == ("fatal: not a tract store (or any of the parent directories): .tract\n"
                     "hint: run 'tract init' to create one\n")


def test_no_store_subprocess(run_tract, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ)
    env.pop("TRACT_DIR", None)
    exe = os.path.join(os.path.dirname(__import__("sys").executable), "tract")
    p = subprocess.run([exe, "log"], cwd=empty, env=env, capture_output=True, text=True)
    assert (p.returncode, p.stdout) == (128, "")
    assert p.stderr.splitlines()[0] == "fatal: not a tract store (or any of the parent directories): .tract"


def test_tract_dir_pointing_elsewhere(cli, tmp_path):
    (tmp_path / "plain").mkdir()
    r = cli("status", env={"TRACT_DIR": str(tmp_path / "plain")})
    assert (r.code, r.err) == (128, f"fatal: not a tract store: {tmp_path}/plain\n")


@pytest.mark.parametrize("setup, what", [
    ("nonempty", "a non-empty directory"),
    ("gitrepo", "a git repository"),
    ("barerepo", "a git repository"),
])
def test_init_refuses_other_directories(cli, tmp_path, setup, what):
    target = tmp_path / "target"
    if setup == "nonempty":
        target.mkdir()
        (target / "notes.txt").write_text("mine\n")
    elif setup == "gitrepo":
        subprocess.run(["git", "init", "-q", str(target)], check=True)
    else:
        subprocess.run(["git", "init", "-q", "--bare", str(target)], check=True)
    before = sorted(os.listdir(target))
    r = cli("init", str(target), env=NO_DIR)
    assert (r.code, r.out) == (128, "")
    assert r.err == f"fatal: refusing to init a tract store in {target}: it is already {what}\n"
    assert sorted(os.listdir(target)) == before


def test_init_refuses_existing_store_and_file(cli, tmp_path, refs_of):
    assert cli("init").code == 0
    assert cli("user", "keep me").code == 0
    before = refs_of(str(tmp_path / "store"))
    r = cli("init")
    assert (r.code, r.out, r.err) == (128, "", f"fatal: tract store already exists in {tmp_path}/store\n")
    assert refs_of(str(tmp_path / "store")) == before
    (tmp_path / "afile").write_text("x")
    r = cli("init", "afile", env=NO_DIR)
    assert (r.code, r.err) == (128, f"fatal: cannot init a store at {tmp_path}/afile: not a directory\n")


def test_init_unknown_encoding_is_refused(cli, tmp_path):
    r = cli("init", "--encoding", "no_such_enc")
    assert (r.code, r.out, r.err) == (129, "", "error: unknown or unavailable encoding 'no_such_enc'\n")
    assert not (tmp_path / "store").exists()


def test_api_open_creates_and_resumes(tmp_path, git):
    from tract_git import Tract

    p = tmp_path / "api"
    with Tract.open(p) as t:
        t.system("sys")
        first = t.user("hello").commit
    with Tract.open(p) as t:
        assert t.head == first
        assert t.branch == "main"
        assert [m["content"] for m in t.compile().to_openai()] == ["sys", "hello"]
        t.assistant("hi")
    assert git(str(p), "rev-list", "--count", "main").strip() == "3"


def test_api_open_in_project_directory_uses_dot_tract(tmp_path):
    from tract_git import Tract

    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "README").write_text("project\n")
    with Tract.open(proj) as t:
        assert t.path == str(proj / ".tract")
    with Tract.open(proj) as t:  # reopened through the project directory
        assert t.path == str(proj / ".tract")


def test_api_open_without_create_raises(tmp_path):
    from tract_git import Tract
    from tract_git.errors import NotAStoreError

    with pytest.raises(NotAStoreError):
        Tract.open(tmp_path / "none", create=False)


def test_api_open_without_path(tmp_path, monkeypatch):
    from tract_git import Tract

    monkeypatch.delenv("TRACT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with Tract.open() as t:
        assert t.path == str(tmp_path / ".tract")
        t.user("hi")
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    with Tract.open() as t:  # found walking up
        assert t.path == str(tmp_path / ".tract")
        assert [e.content for e in t.entries()] == ["hi"]
    monkeypatch.setenv("TRACT_DIR", str(tmp_path / "env-store"))
    with Tract.open() as t:
        assert t.path == str(tmp_path / "env-store")


def test_every_command_has_help(cli):
    from tract_git.cli.main import command_names

    names = command_names()
    assert {"init", "commit", "system", "user", "assistant", "tool", "edit", "pin", "unpin", "skip",
            "compile", "log", "status", "show", "diff", "reset", "checkout", "reflog", "undo",
            "config"} <= set(names)
    for name in names:
        r = cli(name, "--help", env=NO_DIR)
        assert (r.code, r.err) == (0, ""), name
        assert r.out.startswith(f"Usage: tract {name} "), name
