"""``Tract.open`` on a directory named ``.tract`` that is not a store
refuses like ``tract init`` instead of nesting ``.tract/.tract``."""

from __future__ import annotations

import os

import pytest

from tract_git import Tract
from tract_git.errors import StoreExistsError


@pytest.mark.parametrize("suffix", ["", "/"])
def test_open_non_store_dot_tract_refuses(tmp_path, suffix):
    d = tmp_path / "d2" / ".tract"
    d.mkdir(parents=True)
    (d / "notes.txt").write_text("mine\n")
    with pytest.raises(StoreExistsError) as ei:
        Tract.open(str(d) + suffix)
    assert str(ei.value) == f"refusing to init a tract store in {d}: it is already a non-empty directory"
    assert ei.value.exit_code == 128
    assert sorted(os.listdir(d)) == ["notes.txt"]


def test_open_project_dir_still_makes_dot_tract(tmp_path, fsck):
    d = tmp_path / "proj"
    d.mkdir()
    (d / "README").write_text("x\n")
    with Tract.open(str(d)) as t:
        t.user("hi")
    assert os.path.isdir(d / ".tract" / "objects")
    fsck(str(d / ".tract"))
    # and an empty .tract directory becomes the store itself
    e = tmp_path / "e" / ".tract"
    e.mkdir(parents=True)
    with Tract.open(str(e)) as t:
        assert t.path == str(e)
