"""Download branches, sub-agent refs and notes from a remote.

Branches land in refs/remotes/REMOTE/*, sub-agent refs in
refs/remotes/REMOTE/tract/*, notes in refs/notes/remotes/REMOTE/*; the
remote's token notes are then merged into refs/notes/tract (a union keyed
by commit id).  Nothing of yours moves: see tract-pull(1) for that.
"""

import click

from ..ops import sync as _sync
from ._common import echo, emit_json, pass_ctx, short

MAN_EXAMPLES = """
tract fetch
    Fetch from origin.

tract fetch backup && tract log backup/main --oneline
    Fetch, then read the remote's branch.
"""


@click.command("fetch")
@click.argument("remote", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, remote, as_json):
    """Fetch from REMOTE (default origin)."""
    res = _sync.fetch(ctx.repo(), remote)
    if as_json:
        emit_json(res.to_json())
        return
    if res.changes:
        echo(f"From {res.remote.url}", err=True)
    for c in res.changes:
        what = "[new]" if c.old is None else "[deleted]" if c.new is None else \
            f"{short(c.old)}..{short(c.new)}"
        echo(f"   {what:<18} {c.ref}", err=True)
