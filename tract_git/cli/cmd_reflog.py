import click

from ..ops import reflog as _reflog
from ._common import echo, emit_json, pass_ctx, short, style


@click.command("reflog")
@click.argument("ref", required=False)
@click.option("-n", "--max-count", type=click.IntRange(min=0), metavar="N", help="Show at most N entries.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, ref, max_count, as_json):
    """Show where a ref (default HEAD) has pointed, newest first.

    Every commit, reset, undo and checkout is recorded; REF@{N} names the
    Nth previous position (e.g. `tract reset --hard main@{1}`).
    """
    entries = _reflog.reflog(ctx.repo(), ref)
    if max_count is not None:
        entries = entries[:max_count]
    name = ref or "HEAD"
    if as_json:
        emit_json([{"old": e.old, "new": e.new, "message": e.message, "time": e.time} for e in entries])
        return
    for i, e in enumerate(entries):
        echo(f"{style(ctx, short(e.new), fg='yellow')} {name}@{{{i}}}: {e.message}")


MAN_EXAMPLES = """
Every position of HEAD, newest first:

    $ tract reflog -n 3
    551e319 HEAD@{0}: config: set budget = 1000
    02964ca HEAD@{1}: edit: edit assistant 8dbe5a7c: 4.
    0c18a22 HEAD@{2}: append: assistant: 4

Go back to where main was before its last change:

    $ tract reset --hard main@{1}
"""

MAN_SEE_ALSO = "git-reflog(1)"
