"""Status: where HEAD is, how big the context is, against its budget."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .repo import Repo

DEFAULT_WARN = (80, 100)

#: functions (repo) -> str | None naming an operation in progress (merge,
#: rebase...); later operations register theirs here.
IN_PROGRESS_CHECKS: list = []


@dataclass
class Status:
    branch: str | None
    detached: bool
    commit: str | None
    entries: int
    tokens: int
    budget: int | None
    warn_at: tuple
    level: str  # ok | warn | over | none
    encoding: str
    approximate: bool
    in_progress: list = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        if not self.budget:
            return None
        return 100.0 * self.tokens / self.budget

    def to_json(self) -> dict:
        return {
            "branch": self.branch,
            "detached": self.detached,
            "commit": self.commit,
            "entries": self.entries,
            "tokens": self.tokens,
            "budget": self.budget,
            "percent": None if self.percent is None else round(self.percent, 1),
            "warn_at": list(self.warn_at),
            "level": self.level,
            "encoding": self.encoding,
            "approximate": self.approximate,
            "in_progress": self.in_progress,
        }


def budget_level(tokens: int, budget: int | None, warn_at: tuple) -> str:
    if not budget:
        return "none"
    pct = 100.0 * tokens / budget
    if pct >= warn_at[-1]:
        return "over"
    if pct >= warn_at[0]:
        return "warn"
    return "ok"


def parse_warn(value) -> tuple:
    if value is None:
        return DEFAULT_WARN
    if isinstance(value, (list, tuple)):
        parts = [float(v) for v in value]
    else:
        parts = [float(p) for p in str(value).replace("%", "").split(",") if p.strip()]
    parts = sorted(parts)
    if len(parts) == 1:
        parts = [parts[0], 100.0]
    return tuple(int(p) if float(p).is_integer() else p for p in parts[:2])


def status(repo: Repo) -> Status:
    head = repo.head()
    settings = repo.settings(head.commit)
    budget = settings.get("budget")
    warn = parse_warn(settings.get("warn"))
    if head.commit:
        note = repo.note(head.commit)
        entries, tokens, enc, approx = note.entries, note.context_tokens, note.encoding, note.approximate
    else:
        entries, tokens, enc, approx = 0, 0, repo.counter.encoding, False
    in_progress = [s for s in (chk(repo) for chk in IN_PROGRESS_CHECKS) if s]
    return Status(
        branch=head.short_branch, detached=head.branch is None, commit=head.commit,
        entries=entries, tokens=tokens, budget=budget, warn_at=warn,
        level=budget_level(tokens, budget, warn), encoding=enc, approximate=approx,
        in_progress=in_progress,
    )


# merge, rebase, cherry-pick and revert stopped on conflicts
from .opstate import describe as _describe_op_state  # noqa: E402

IN_PROGRESS_CHECKS.append(_describe_op_state)
