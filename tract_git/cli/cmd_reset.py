import click

from ..ops import reset as _reset
from ._common import echo, emit_json, pass_ctx, short
from ._render import commit_line


@click.command("reset")
@click.argument("rev")
@click.option("--hard", "mode", flag_value="hard", default=True,
              help="Move the branch to REV; the context becomes REV's (default).")
@click.option("--soft", "mode", flag_value="soft",
              help="Move the branch to REV but keep the current context, as one new commit on top.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, rev, mode, as_json):
    """Move the current branch to REV.

    --hard (the default): the branch moves to REV and the context becomes
    REV's; the commits after REV leave the branch.

    --soft: the context stays as it is now, but the history since REV is
    squashed into one new commit on top of REV (kind "reset", with a
    Tract-Squashed-From trailer naming the old tip).  A store has no index
    or working tree, so this is what keeping your changes means here.

    With a detached HEAD, HEAD itself moves.  Nothing is lost before gc: the
    old tip stays in the reflog (tract reflog), and `tract undo` or
    `tract reset --hard @{1}` brings it back.
    """
    repo = ctx.repo()
    old = repo.resolve(None)
    res = _reset.reset(repo, rev, mode=mode)
    if isinstance(res, str):
        if as_json:
            emit_json({"mode": mode, "old": old, "new": res})
        else:
            subject = repo.store.commit(res).message.splitlines()[0]
            echo(f"HEAD is now at {short(res)} {subject}")
    else:
        if as_json:
            d = res.to_json()
            d.update({"mode": mode, "old": old, "new": res.commit})
            emit_json(d)
        else:
            commit_line(ctx, res)


MAN_EXAMPLES = """
Drop the last two commits from the branch (their entries leave the context):

    $ tract reset --hard HEAD~2

Squash the history since main~5 into one commit, keeping today's context:

    $ tract reset --soft main~5

Changed your mind? The old tip is in the reflog:

    $ tract undo
"""

MAN_SEE_ALSO = "git-reset(1)"
