"""Counted nouns for messages: ``1 commit``, ``2 commits``, ``1 entry``."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries"}


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1 (``many`` for an
    irregular plural; ``entry`` is known)."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {many or _IRREGULAR.get(word) or word + 's'}"
