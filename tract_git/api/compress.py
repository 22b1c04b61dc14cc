"""Compression, budget-aware compile and gc on the facade."""

from __future__ import annotations

from .._lazy import lazy as _lazy

_budget = _lazy("tract_git.ops.budget")
_compress = _lazy("tract_git.ops.compress")
_gc = _lazy("tract_git.ops.gc")


class CompressMixin:
    def compress(self, range: str | None = None, *, summary: str | None = None,
                 model: str | None = None, offline: bool = False, target_tokens: int | None = None,
                 keep_last: int | None = None, include_pins: bool = False, plan: str | None = None,
                 role: str = "user", message: str | None = None,
                 dry_run: bool = False) -> _compress.CompressResult:
        """Replace a range of entries (default: all but the last few) with one
        summary entry; pinned entries are kept verbatim.  The summary is
        ``summary``, else a model's (``model``, or ``compress.model`` when
        configured), else the offline summarizer's.  See ``tract compress``."""
        summarizer = None
        if summary is None and not offline:
            from ..compress_llm import model_summarizer, wants_model

            if model or wants_model(self.repo):
                summarizer = model_summarizer(self.repo, model)
        return _compress.compress(self.repo, range, keep_last=keep_last, plan=plan, summary=summary,
                                  summarizer=summarizer, target_tokens=target_tokens,
                                  include_pins=include_pins, role=role, message=message,
                                  dry_run=dry_run)

    def compress_plan(self, range: str | None = None, *, keep_last: int | None = None,
                      plan: str | None = None, include_pins: bool = False) -> _compress.CompressPlan:
        """What ``compress`` would do, entry by entry (``.to_text()`` is the
        plan format ``plan=`` reads back)."""
        return _compress.make_plan(self.repo, range, keep_last=keep_last, plan=plan,
                                   include_pins=include_pins)

    def dropped(self, rev: str | None = None, *, recursive: bool = False) -> _compress.DroppedResult:
        """Exactly what the compress commit ``rev`` replaced."""
        return _compress.dropped(self.repo, rev, recursive=recursive)

    def compile_budget(self, budget: int | None = None, strategy: str | None = None,
                       rev: str | None = None):
        """Compile within ``budget`` tokens (default: the branch budget) with
        ``strategy`` full, window or compress (default: the branch's
        ``compile.strategy``, else full)."""
        summarizer = None
        eff = strategy or self.repo.settings(self.repo.head().commit).get("compile.strategy")
        if eff == "compress":
            from ..compress_llm import model_summarizer, wants_model

            if wants_model(self.repo):
                summarizer = model_summarizer(self.repo)
        return _budget.compile_budget(self.repo, rev, budget, strategy, summarizer=summarizer)

    def gc(self, *, keep_days: float | None = None, progress=None):
        """Prune unreachable history older than the retention, then pack."""
        return _gc.gc(self.repo, keep_days=keep_days, progress=progress)
