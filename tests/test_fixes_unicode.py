"""Text UTF-8 cannot encode (a lone surrogate) is an invalid entry, not a
raw UnicodeEncodeError: exit 129 on the CLI, store untouched."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tract_git.errors import InvalidEntryError


def test_api_refuses_lone_surrogate(t, refs_of):
    t.user("ok")
    before = refs_of(t.path)
    with pytest.raises(InvalidEntryError) as ei:
        t.user("bad \udcff")
    assert str(ei.value) == "content is not valid Unicode (a lone surrogate at character 4)"
    assert ei.value.exit_code == 129
    with pytest.raises(InvalidEntryError, match="^name is not valid Unicode"):
        t.user("x", name="a\ud800")
    with pytest.raises(InvalidEntryError, match="^content is not valid Unicode"):
        t.edit(0, "\udcffx")
    with pytest.raises(InvalidEntryError, match="^a tool call is not valid Unicode"):
        t.assistant("", tool_calls=[{"id": "a", "function": {"name": "f\udcff", "arguments": "{}"}}])
    assert refs_of(t.path) == before


def test_cli_refuses_invalid_utf8_argument(t, refs_of, fsck):
    t.user("ok")
    before = refs_of(t.path)
    exe = os.path.join(os.path.dirname(sys.executable), "tract")
    p = subprocess.run([exe, "user", b"bad \xff"], capture_output=True,
                       env=dict(os.environ, TRACT_DIR=t.path))
    assert (p.returncode, p.stdout, p.stderr) == (
        129, b"", b"error: content is not valid Unicode (a lone surrogate at character 4)\n")
    p = subprocess.run([exe, "edit", "0", b"\xfe"], capture_output=True, env=dict(os.environ, TRACT_DIR=t.path))
    assert (p.returncode, p.stderr) == (
        129, b"error: content is not valid Unicode (a lone surrogate at character 0)\n")
    assert refs_of(t.path) == before
    fsck(t.path)
