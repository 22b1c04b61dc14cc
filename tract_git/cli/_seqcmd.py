"""The --continue/--skip/--abort handling shared by rebase, cherry-pick and
revert."""

from __future__ import annotations

from ..errors import UsageError


def pick_action(args, cont: bool, skip: bool, abort: bool) -> str | None:
    flags = [n for n, v in (("continue", cont), ("skip", skip), ("abort", abort)) if v]
    if len(flags) > 1:
        raise UsageError(f"--{flags[0]} and --{flags[1]} cannot be used together")
    if flags and args:
        raise UsageError(f"--{flags[0]} takes no arguments")
    return flags[0] if flags else None
