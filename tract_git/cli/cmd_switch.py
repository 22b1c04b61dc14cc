"""Switch to a branch.

HEAD points at refs/heads/NAME, and the context is that branch's.  With -c, create NAME first (at START, default HEAD).
NAME `-` is the branch HEAD was on before the last checkout, as in git.
Refused while a merge, rebase, cherry-pick or revert is stopped on
conflicts.
"""

import click

from ..ops import branch as _branch
from ._common import echo, emit_json, pass_ctx

MAN_EXAMPLES = """
tract switch explore
    Make explore the current branch.

tract switch -c retry HEAD~2
    Create branch retry two commits back and switch to it.

tract switch -c tangent && tract user "Side question..." && tract switch main
    Explore on a branch, then come back: main's context is unchanged.
"""


@click.command("switch", help=__doc__)
@click.argument("name")
@click.argument("start", required=False)
@click.option("-c", "--create", is_flag=True, help="Create branch NAME (at START, default HEAD) first.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, name, start, create, as_json):
    """Switch to branch NAME."""
    res = _branch.switch(ctx.repo(), name, create_branch=create, start=start)
    if as_json:
        emit_json(res.to_json())
    elif res.created:
        echo(f"Switched to a new branch '{res.branch}'")
    elif res.already:
        echo(f"Already on '{res.branch}'")
    else:
        echo(f"Switched to branch '{res.branch}'")
