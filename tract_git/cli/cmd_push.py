"""Send commits, sub-agent refs and token notes to a remote.

Pushes the current branch (or BRANCH, or every branch with --all), every
ref under refs/tract/ (sub-agents, not forced) and refs/notes/tract.  The
remote's notes are fetched and merged (a union: notes are keyed by commit
id) first, so notes written on two machines never overwrite each other.
REMOTE defaults to origin (or the only remote).  A branch the remote has
moved on is rejected, not overwritten: pull first.  The remote can be read
with plain git: `git --git-dir URL log`.
"""

import click

from ..ops import sync as _sync
from ._common import echo, emit_json, pass_ctx

MAN_EXAMPLES = """
tract push
    Push the current branch, sub-agents and notes to origin.

tract push backup --all
    Push every branch to the remote 'backup'.

tract push origin experiment
    Push one branch.

git --git-dir /srv/ctx.git log --notes=tract
    Read the pushed history, with token notes, with plain git.
"""

MAN_EXIT_STATUS = """
0   the push succeeded (or there was nothing to push).
1   the remote rejected a ref (for example not a fast-forward): pull, then push.
128 the remote cannot be reached, or no remote is configured.
"""


@click.command("push")
@click.argument("remote", required=False)
@click.argument("branch", required=False)
@click.option("--all", "all_branches", is_flag=True, help="Push every branch.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, remote, branch, all_branches, as_json):
    """Push to REMOTE (default origin): a branch, sub-agents, notes."""
    res = _sync.push(ctx.repo(), remote, branch, all_branches=all_branches)
    if as_json:
        emit_json(res.to_json())
        return
    moved = [r for r in res.refs if r.flag != "="]
    if not moved:
        echo("Everything up-to-date", err=True)
        return
    echo(f"To {res.remote.url}", err=True)
    for r in moved:
        echo(f" {r.flag} {r.summary:<18} {r.src} -> {r.dst}", err=True)
