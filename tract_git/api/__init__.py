"""The Python facade: ``Tract``.

Each area of operations contributes a mixin (``core``, and later branches,
llm, compression, agents), so the facade stays a thin layer over
``tract_git.ops``.
"""

from __future__ import annotations

from .bulk import BulkMixin
from .core import CoreMixin


class Tract(CoreMixin, BulkMixin):
    """An agent's context, kept in a tract store.

    >>> with Tract.open("/tmp/ctx") as t:          # doctest: +SKIP
    ...     t.system("You are terse.")
    ...     t.user("Hi")
    ...     t.compile().to_openai()
    """


__all__ = ["Tract"]
