"""Apply the changes of existing commits onto HEAD.

Each REV's entry-level change (against its first parent) is re-applied on
the current tip as a new commit with the same message and kind plus a
Tract-Cherry-Picked-From trailer; entry ids are kept.  A commit whose change
is already there is dropped.  HEAD's branch moves once, at the end.
Conflicts stop with exit status 1: `tract resolve`, then `--continue`
(`--skip` drops the commit, `--abort` gives up).
"""

import click

from ..ops import cherry_pick as _cp
from ._common import pass_ctx
from ._seqcmd import run_sequence, sequence_options
from ._seqrender import sequence

MAN_EXAMPLES = """
tract cherry-pick explore
    Apply the last commit of branch explore onto the current branch.

tract cherry-pick 1a2b3c4 5d6e7f8
    Apply two commits, in that order.

tract cherry-pick --continue
    Go on after resolving a conflict.
"""

MAN_EXIT_STATUS = """
0   applied.
1   stopped on conflicts; or nothing to apply (every change is already there).
128 unknown revision, another operation in progress, no cherry-pick to continue.
129 usage error.
"""


@click.command("cherry-pick", help=__doc__)
@click.argument("revs", nargs=-1)
@sequence_options
@pass_ctx
def command(ctx, revs, cont, skip, abort, as_json):
    """Apply the changes of existing commits onto HEAD."""
    repo = ctx.repo()
    res = run_sequence(_cp, repo, list(revs), cont, skip, abort,
                       lambda: _cp.cherry_pick(repo, list(revs)))
    sequence(res, as_json, "tract cherry-pick")
