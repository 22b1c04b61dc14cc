"""tract-git: version control for the context window of an LLM agent,
built on real git."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Tract", "Entry", "TractError", "__version__"]


def __getattr__(name):  # lazy: `import tract_git` stays cheap for the CLI
    if name == "Tract":
        from .api import Tract

        return Tract
    if name == "Entry":
        from .model import Entry

        return Entry
    if name == "TractError":
        from .errors import TractError

        return TractError
    raise AttributeError(name)
