import click

from ..ops import reflog as _reflog
from ._common import echo, emit_json, pass_ctx, short


@click.command("undo")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, as_json):
    """Move the current branch back to where it was before its last change.

    Reads the branch's reflog; repeated undo keeps walking back (an undo is
    itself recorded, and undone changes are passed over).  Nothing is
    deleted: `tract reflog` shows every position.
    """
    res = _reflog.undo(ctx.repo())
    if as_json:
        emit_json({"ref": res.ref, "old": res.old, "new": res.new, "undone": res.undone,
                   "reattached": res.reattached})
    elif res.reattached:  # the branch did not move: HEAD is back on it
        echo(f"Undid '{res.undone}': HEAD is back on {res.ref}, at {short(res.new)} "
             f"(was detached at {short(res.old)})")
    else:
        echo(f"Undid '{res.undone}': {res.ref} is now at {short(res.new)} (was {short(res.old)})")


MAN_EXAMPLES = """
Undo the last change to the current branch (a commit, a reset...):

    $ tract undo
    Undid 'pin: pin user 3e3f2b94: What is 2+2?': main is now at bfe0fb6 (was 3594840)

Undo twice walks two changes back (it does not toggle):

    $ tract undo && tract undo
"""

MAN_EXIT_STATUS = """
1   there is nothing to undo on this branch
"""
