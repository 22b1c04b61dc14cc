"""Options shared by `tract commit` and the role shorthands."""

from __future__ import annotations

import click

from ..model import Entry
from ..ops import commit as _commit
from ._common import emit_json, pass_ctx, read_content
from ._render import commit_line


def make_command(name: str, role: str | None, help_text: str):
    params = []

    @click.command(name, help=help_text)
    @click.argument("content", required=False)
    @click.option("-F", "--file", metavar="FILE", help="Read the content from FILE ('-' for stdin).")
    @click.option("-t", "--type", "ctype", metavar="TYPE",
                  help="Content type: instruction, dialogue, tool_io, reasoning, artifact, "
                       "output, freeform, or a custom name.")
    @click.option("--pin", "pin", is_flag=True, help="Commit the entry pinned.")
    @click.option("--skip", "skip", is_flag=True, help="Commit the entry skipped (kept, not compiled).")
    @click.option("-m", "--message", metavar="MSG", help="Commit message (default: generated).")
    @click.option("--name", metavar="NAME", help="Participant or tool name.")
    @click.option("--tool-call-id", metavar="ID", help="For tool results: the call answered.")
    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
    @pass_ctx
    def cmd(ctx, content, file, ctype, pin, skip, message, name, tool_call_id, as_json, role=role, **kw):
        r = kw.pop("role_opt", None) or role
        if pin and skip:
            from ..errors import UsageError

            raise UsageError("--pin and --skip cannot be used together")
        text = read_content(content, file)
        entry = Entry(role=r, content=text, type=ctype or "",
                      priority="pinned" if pin else "skip" if skip else "normal",
                      name=name, tool_call_id=tool_call_id)
        res = _commit.append(ctx.repo(), [entry], message=message)
        if as_json:
            emit_json(res.to_json())
        else:
            commit_line(ctx, res)

    if role is None:
        cmd = click.option("-r", "--role", "role_opt", required=True,
                           type=click.Choice(["system", "user", "assistant", "tool"]),
                           help="Role of the entry.")(cmd)
    return cmd
