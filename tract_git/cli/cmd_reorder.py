"""Move entries, keeping their ids.

`tract reorder ENTRY... --before TARGET` (or `--after TARGET`) moves the
entries, in the order given, next to TARGET; `tract reorder ENTRY...` with
every entry of the context gives a whole new order.  Entries are named as
elsewhere: a position (0, -1), an id or a unique prefix of one.  A moved
entry gets a new position key between its new neighbours, so its path in
the tree changes but its id stays (and `tract diff` shows it as moved).

A move that breaks the conversation is refused (exit status 1, one
warning line per problem) unless --force is given: a tool result before
the assistant turn that called it, an assistant turn before the message it
answers, the system instruction leaving the front.
"""

import click

from ..errors import ReorderRefusedError
from ..ops import reorder as _reorder
from ._common import emit_json, pass_ctx, warn
from ._render import commit_line

MAN_EXAMPLES = """
tract reorder -1 --after 0
    Move the last entry right after the first.

tract reorder 3f9a2b1c 77aa01de --before 5d6e7f80
    Move two entries, in that order, before a third.

tract reorder 2 0 1
    A whole new order for a three-entry context.

tract reorder 0 --after -1 --force
    Move the system instruction to the end even though that breaks the conversation.
"""

MAN_EXIT_STATUS = """
0   moved.
1   refused (the move breaks the conversation; see the warnings), or nothing to move.
128 unknown entry.
129 usage error.
"""


@click.command("reorder", help=__doc__, context_settings={"ignore_unknown_options": True})
@click.argument("entries", nargs=-1, required=True)
@click.option("--before", metavar="ENTRY", help="Put the entries before ENTRY.")
@click.option("--after", metavar="ENTRY", help="Put the entries after ENTRY.")
@click.option("-f", "--force", is_flag=True, help="Move even if it breaks the conversation.")
@click.option("-m", "--message", metavar="MSG", help="Commit message (default: generated).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, entries, before, after, force, message, as_json):
    """Move entries, keeping their ids."""
    try:
        res = _reorder.reorder(ctx.repo(), list(entries), before=before, after=after, force=force,
                               message=message)
    except ReorderRefusedError as e:
        for p in e.problems:
            warn(p)
        raise
    if as_json:
        emit_json(res.to_json())
        return
    for p in res.problems:
        warn(f"forced: {p}")
    commit_line(ctx, res.commit)
