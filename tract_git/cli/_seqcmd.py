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


def sequence_options(f):
    """``--continue``, ``--skip``, ``--abort`` and ``--json``, as rebase,
    cherry-pick and revert take them (in that order)."""
    import click

    for opt in (
        click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON."),
        click.option("--abort", is_flag=True, help="Give up; the branch stays where it was."),
        click.option("--skip", is_flag=True, help="Drop the commit that stopped and go on."),
        click.option("--continue", "cont", is_flag=True, help="Go on after resolving the conflicts."),
    ):
        f = opt(f)
    return f


def run_sequence(ops_module, repo, args, cont: bool, skip: bool, abort: bool, start):
    """``ops_module.cont/skip/abort(repo)`` for a flag, else ``start()``."""
    action = pick_action(args, cont, skip, abort)
    if action is None:
        return start()
    return {"continue": ops_module.cont, "skip": ops_module.skip, "abort": ops_module.abort}[action](repo)
