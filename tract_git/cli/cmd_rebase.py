"""Replay the current branch's commits onto UPSTREAM.

The commits reachable from HEAD and not from UPSTREAM are re-applied, oldest
first, each as its entry-level change (a three-way merge with the commit's
parent as base), keeping its message, its kind (append, edit, pin,
reorder... from the Tract-Op trailer) and its entry ids.  A commit whose
change is already upstream is dropped, and so are merge commits.  Token
notes are written for every new commit.  The branch moves once, at the
end; the old tip stays in the reflog, so `tract undo` (or
`tract reset --hard BRANCH@{1}`) brings it back.

A conflict stops the rebase with exit status 1 and the branch unmoved:
resolve with `tract resolve` ("ours" is the upstream side, "theirs" the
commit being replayed), then `--continue`; `--skip` drops the commit;
`--abort` gives up.
"""

import click

from ..ops import rebase as _rebase
from ._common import pass_ctx
from ._seqcmd import run_sequence, sequence_options
from ._seqrender import sequence

MAN_EXAMPLES = """
tract rebase main
    Replay the current branch's commits on top of main.

tract rebase main || tract status
    On conflicts (exit 1), see which entries conflict.

tract resolve 3f9a2b1c --theirs && tract rebase --continue
    Keep the replayed commit's version and go on.

tract rebase --skip
    Drop the commit that stopped and go on with the rest.

tract undo
    After a rebase, put the branch back where it was.
"""

MAN_EXIT_STATUS = """
0   rebased (or already up to date).
1   stopped on conflicts, or --continue with conflicts left.
128 unknown upstream, detached HEAD, another operation in progress, no rebase to continue,
    or the branch moved meanwhile.
129 usage error.
"""


@click.command("rebase", help=__doc__)
@click.argument("upstream", required=False)
@sequence_options
@pass_ctx
def command(ctx, upstream, cont, skip, abort, as_json):
    """Replay the current branch's commits onto UPSTREAM."""
    repo = ctx.repo()
    res = run_sequence(_rebase, repo, [upstream] if upstream else [], cont, skip, abort,
                       lambda: _start(repo, upstream))
    sequence(res, as_json, "tract rebase")


def _start(repo, upstream):
    if not upstream:
        from ..errors import UsageError

        raise UsageError("no upstream given")
    return _rebase.rebase(repo, upstream)
