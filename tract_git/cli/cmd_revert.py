"""Undo the changes of existing commits with new commits.

For each REV, a commit that applies the reverse of REV's entry-level change
(of a merge: against its first parent) on the current tip, with subject
`Revert "..."`, `Tract-Op: revert` and `Tract-Reverts: REV`.  History is
kept; to drop commits instead, see tract-reset(1).  Conflicts stop with
exit status 1: `tract resolve`, then `--continue` (`--abort` gives up).
"""

import click

from ..ops import revert as _revert
from ._common import pass_ctx
from ._seqcmd import run_sequence, sequence_options
from ._seqrender import sequence

MAN_EXAMPLES = """
tract revert HEAD
    Undo the last commit's change with a new commit.

tract revert 1a2b3c4
    Bring back an entry that commit removed (or remove one it added).
"""

MAN_EXIT_STATUS = """
0   reverted.
1   stopped on conflicts; or nothing to revert.
128 unknown revision, another operation in progress, no revert to continue.
129 usage error.
"""


@click.command("revert", help=__doc__)
@click.argument("revs", nargs=-1)
@sequence_options
@pass_ctx
def command(ctx, revs, cont, skip, abort, as_json):
    """Undo the changes of existing commits with new commits."""
    repo = ctx.repo()
    res = run_sequence(_revert, repo, list(revs), cont, skip, abort,
                       lambda: _revert.revert(repo, list(revs)))
    sequence(res, as_json, "tract revert")
