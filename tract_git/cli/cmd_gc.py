"""Prune unreachable history older than the retention, then pack the store.

Kept: everything a branch, HEAD, the token notes (refs/notes/tract) or any
refs/tract/* ref reaches; everything a reflog entry younger than the
retention reaches (reset-away tips, undone commits and compresses, so
`tract reset` can still bring them back); unreachable objects younger than
the retention (in a cruft pack).  Reflog entries of commits a branch still
reaches are kept at least 90 days, so `tract undo` keeps working.  What a compress replaced stays as long as
its summary's commit is reachable (it is that commit's parent).  The
retention is --keep-days, else the store setting gc.keepDays, else 30
days; 0 prunes every unreachable object now.

The token notes' history is not kept: the notes ref is first squashed to
one commit holding every note (no reader needs the older notes commits),
so they go with the retention like any unreachable object.

Prints the object database size before and after.  Done by the real git
binary (reflog expire, gc --cruft): the store is `git fsck --strict` clean
afterwards, and a plain `git gc` on the store is equally safe.
"""

import sys

import click

from ..ops import gc as _gc
from ._common import echo, emit_json, pass_ctx

MAN_EXAMPLES = """
Prune what is unreachable and older than gc.keepDays (default 30 days), then
pack:

    $ tract gc

Keep undone and reset-away history for a week only:

    $ tract config gc.keepDays 7
    $ tract gc

Prune everything unreachable now, and print the sizes as JSON:

    $ tract gc --keep-days 0 --json
"""


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@click.command("gc", help=__doc__)
@click.option("--keep-days", type=click.FloatRange(min=0), metavar="DAYS",
              help="Retention for unreachable history (default: gc.keepDays, else 30).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, keep_days, quiet, as_json):
    if keep_days is not None and not keep_days < float("inf"):  # nan, inf: FloatRange lets them by
        raise click.BadParameter(f"{keep_days!r} is not a number of days", param_hint="'--keep-days'")
    tty = not quiet and sys.stderr.isatty()

    def progress(stage):
        echo(f"gc: {stage}...", err=True)

    res = _gc.gc(ctx.repo(), keep_days=keep_days, progress=progress if tty else None, git_progress=tty)
    if as_json:
        emit_json(res.to_json())
        return
    b, a = res.before, res.after
    for name in res.agents_pruned:
        echo(f"dropped the refs of collapsed agent '{name}' (agents.history = detach)")
    echo(f"objects: {_size(b.bytes)} -> {_size(a.bytes)} ({b.bytes} -> {a.bytes} bytes; "
         f"loose {b.loose_objects} -> {a.loose_objects}, packs {b.packs} -> {a.packs}); "
         f"retention {res.keep_days:g} days")
