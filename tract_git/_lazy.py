"""A module imported on first use of one of its attributes.

The Python facade (``tract_git.api``) reaches every operation; importing
them all up front cost ~100 ms of every ``from tract_git import Tract``
(the operations, and what they import in turn), when a script that
appends and compiles needs a handful of them."""

from __future__ import annotations

import importlib


class LazyModule:
    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"


def lazy(name: str) -> LazyModule:
    return LazyModule(name)
