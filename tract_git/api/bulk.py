"""Bulk appends for the facade: many messages, one commit each, one pack."""

from __future__ import annotations

from .._lazy import lazy as _lazy

_bulk = _lazy("tract_git.ops.bulk")


class BulkMixin:
    def import_messages(self, messages) -> _bulk.BulkResult:
        """Append OpenAI-style message dicts (``{"role", "content",
        "name", "tool_call_id", "tool_calls"}``, plus tract's ``type`` and
        ``priority``) or ``Entry`` objects: one ``append`` commit per
        message, exactly as ``t.user(...)``/``t.assistant(...)`` one by one
        would make them, but written in one pass as a pack (fast: see
        docs/performance.md)."""
        return _bulk.import_messages(self.repo, messages)  # type: ignore[attr-defined]

    def append_many(self, entries) -> _bulk.BulkResult:
        """Alias of :meth:`import_messages`."""
        return self.import_messages(entries)
