"""The Python facade: ``Tract``.

Each area of operations contributes a mixin (``core``, and later branches,
llm, compression, agents), so the facade stays a thin layer over
``tract_git.ops``.
"""

from __future__ import annotations

from .agents import AgentsMixin
from .branches import BranchesMixin
from .compress import CompressMixin
from .bulk import BulkMixin
from .core import CoreMixin
from .llm import LLMMixin


class Tract(AgentsMixin, BranchesMixin, CompressMixin, LLMMixin, BulkMixin, CoreMixin):
    """An agent's context, kept in a tract store.

    >>> with Tract.open("/tmp/ctx") as t:          # doctest: +SKIP
    ...     t.system("You are terse.")
    ...     t.user("Hi")
    ...     t.compile().to_openai()
    """


__all__ = ["Tract"]
