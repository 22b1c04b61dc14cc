"""Create a store."""

from __future__ import annotations

import os

from .. import tokens
from ..errors import ConfigError
from ..store.repo import Store
from .repo import DEFAULT_DIR, Repo


def sample_hooks() -> dict[str, str]:
    """The sample hooks shipped with tract (``hooks/`` in the project)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for d in (os.path.join(here, "sample_hooks"), os.path.join(os.path.dirname(here), "hooks")):
        if os.path.isdir(d):
            out = {}
            for f in sorted(os.listdir(d)):
                p = os.path.join(d, f)
                if os.path.isfile(p) and not f.startswith(".") and not f.endswith(".md"):
                    with open(p, encoding="utf-8") as fh:
                        out[f] = fh.read()
            return out
    return {}


def init(path: str | None = None, *, encoding: str | None = None, cwd: str | None = None) -> Repo:
    cwd = cwd or os.getcwd()
    target = os.path.join(cwd, path) if path else os.path.join(cwd, DEFAULT_DIR)
    enc = encoding or tokens.DEFAULT_ENCODING
    if encoding and tokens.encoder(encoding) is None and encoding != tokens.APPROX:
        raise ConfigError(f"unknown or unavailable encoding '{encoding}'")
    return Repo(Store.init(target, encoding=enc, sample_hooks=sample_hooks()))
