import click

from ..ops import checkout as _checkout
from ._common import echo, emit_json, pass_ctx, short


@click.command("checkout")
@click.argument("rev")
@click.option("--detach", is_flag=True, help="Detach HEAD even if REV is a branch.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, rev, detach, as_json):
    """Point HEAD at a branch, or detach it at a commit.

    A branch name switches to that branch; any other revision detaches HEAD
    there (commits then move HEAD alone, as in git).  `-` (or `@{-1}`;
    `@{-N}` further back) is where HEAD was before the last checkout, a
    branch or a commit, as in git (read from HEAD's reflog: a sub-agent's
    HEAD keeps none).  Refused while a merge, rebase,
    cherry-pick or revert is stopped on conflicts, like switch.
    """
    res = _checkout.checkout(ctx.repo(), rev, detach=detach)
    if as_json:
        emit_json({"branch": res.branch, "commit": res.commit, "detached": res.detached})
    elif res.detached:
        echo(f"HEAD is now at {short(res.commit)} (detached)")
    elif res.already:
        echo(f"Already on '{res.branch}'")
    else:
        echo(f"Switched to branch '{res.branch}'")


MAN_EXAMPLES = """
Look at the context as it was three commits ago (HEAD detaches):

    $ tract checkout HEAD~3
    HEAD is now at b2b04f0 (detached)

Go back to the branch (or: tract checkout -):

    $ tract checkout main
    Switched to branch 'main'
"""

MAN_SEE_ALSO = "git-checkout(1)"
