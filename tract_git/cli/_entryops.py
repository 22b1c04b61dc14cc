from __future__ import annotations

import click

from ..ops import commit as _commit
from ._common import EntryRefCommand, emit_json, pass_ctx
from ._render import commit_line


def priority_command(name: str, priority: str, help_text: str):
    @click.command(name, help=help_text, cls=EntryRefCommand)
    @click.argument("entry")
    @click.option("-m", "--message", metavar="MSG", help="Commit message (default: generated).")
    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
    @pass_ctx
    def cmd(ctx, entry, message, as_json):
        res = _commit.set_priority(ctx.repo(), entry, priority, message=message)
        if as_json:
            emit_json(res.to_json())
        else:
            commit_line(ctx, res)

    return cmd
