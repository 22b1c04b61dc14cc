"""Rendering shared by merge, rebase, cherry-pick and revert."""

from __future__ import annotations

import click

from ._common import echo, emit_json, short

_KIND = {
    "edit/edit": "edited differently on both sides",
    "edit/remove": "edited on ours, removed on theirs",
    "remove/edit": "removed on ours, edited on theirs",
    "add/add": "added on both sides with different content",
}


def conflict_lines(conflicts) -> None:
    for c in conflicts:
        echo(f"CONFLICT ({c.kind}): entry {c.id} ({c.role}) {_KIND.get(c.kind, '')}".rstrip())


def stopped(conflicts, cmd: str) -> None:
    """Conflicts: say so on stdout (like git) and exit 1."""
    conflict_lines(conflicts)
    echo(f"Stopped on {len(conflicts)} conflict{'s' if len(conflicts) != 1 else ''}; fix them with "
         f"'tract resolve ENTRY --ours|--theirs|--content TEXT', then run '{cmd} --continue' "
         f"(or '{cmd} --abort').")
    click.get_current_context().exit(1)


def sequence(res, as_json: bool, cmd: str) -> None:
    """The result of rebase / cherry-pick / revert."""
    if as_json:
        emit_json(res.to_json())
        if res.status == "conflicts":
            click.get_current_context().exit(1)
        return
    if res.status == "up-to-date":
        echo(f"Current branch {res.branch or 'HEAD'} is up to date.")
        return
    if res.status == "aborted":
        echo(f"{res.op} aborted; {res.branch or 'HEAD'} is at {short(res.new)}")
        return
    for orig, new in res.picked:
        echo(f"{res.op}: {short(orig)} -> {short(new)}")
    for orig, why in res.skipped:
        echo(f"{res.op}: dropped {short(orig)} ({why})")
    if res.status == "conflicts":
        echo(f"could not apply {short(res.current)}")
        stopped(res.conflicts, cmd)
        return
    if res.op == "rebase":
        echo(f"Successfully rebased and updated {res.branch or 'HEAD'} "
             f"({short(res.old)} -> {short(res.new)}).")
    else:
        echo(f"[{res.branch or 'detached HEAD'} {short(res.new)}] {len(res.picked)} "
             f"commit{'s' if len(res.picked) != 1 else ''} applied")
