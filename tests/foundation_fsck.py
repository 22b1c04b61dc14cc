"""Shared by the tests/test_foundation_*.py modules: after every test,
``git fsck --strict`` must be clean on the test's store (tmp_path/store),
whatever the test did to it.  Import ``fsck_after`` into a module to use it."""

from __future__ import annotations

import subprocess

import pytest


@pytest.fixture(autouse=True)
def fsck_after(tmp_path, fsck):
    yield
    store = tmp_path / "store"
    if not (store / "objects").is_dir():
        return
    p = subprocess.run(["git", "--git-dir", str(store), "for-each-ref", "--count=1"],
                       capture_output=True, text=True)
    if p.returncode == 0 and p.stdout.strip():  # fsck notices an unborn store
        fsck(str(store))
