"""Fetch from a remote and bring the current branch up to date.

After a fetch (see tract-fetch(1)), the current branch moves to the
remote's when that is a fast-forward; when both sides have new commits they
are merged (tract-merge(1)).  Sub-agent refs the remote has are created or
fast-forwarded locally; ones that diverged are left alone and listed.
Works in a sub-agent's context too (`tract -A NAME pull`).
"""

import click

from ..ops import sync as _sync
from ._common import echo, emit_json, pass_ctx, short
from ._render import commit_line

MAN_EXAMPLES = """
tract pull
    Fetch from origin and fast-forward (or merge) the current branch.

tract pull backup --json
    The same from 'backup', for scripts.
"""

MAN_EXIT_STATUS = """
0   the branch is up to date, fast-forwarded or merged.
1   the merge stopped on conflicts (resolve them, then tract merge --continue).
128 the remote cannot be reached.
"""


@click.command("pull")
@click.argument("remote", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, remote, as_json):
    """Fetch from REMOTE (default origin) and integrate the current branch."""
    res = _sync.pull(ctx.repo(), remote)
    if as_json:
        emit_json(res.to_json())
        if res.status == "conflicts":
            click.get_current_context().exit(1)
        return
    for a in res.agents_updated:
        echo(f" updated {a}")
    for a in res.agents_diverged:
        echo(f"warning: {a} diverged from {res.fetch.remote.name}'s; left as it is", err=True)
    if res.status == "conflicts":
        from ._seqrender import stopped

        stopped(res.merge.conflicts, "tract merge")
    if res.status == "up-to-date":
        echo("Already up to date.")
    elif res.status == "fast-forward":
        echo(f"Updating {short(res.old)}..{short(res.new)}\nFast-forward")
    elif res.status == "created":
        echo(f"Branch '{res.branch}' set to {short(res.new)} from {res.fetch.remote.name}")
    elif res.status == "merged":
        echo(f"Merge made by the '{res.merge.strategy}' strategy.")
        commit_line(ctx, res.merge.commit)
    else:
        echo(f"{res.fetch.remote.name} has no branch '{res.branch}'")
