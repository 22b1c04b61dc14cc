"""Manage the remotes a store syncs with.

`tract remote add NAME URL` records a remote (any git URL: a path, file://,
git://, ssh, https) with fetch refspecs that also bring sub-agent refs
(refs/tract/*) and token notes (refs/notes/tract), which git leaves behind
by default.  `remove` forgets it and its remote-tracking refs; `list` (the
default) shows each remote and its URL.  A local path is stored absolute.
"""

import click

from ..ops import sync as _sync
from ._common import echo, emit_json, pass_ctx

MAN_EXAMPLES = """
git init --bare /srv/ctx.git && tract remote add origin /srv/ctx.git
    Use a plain bare git repository as the remote.

tract remote add backup git://127.0.0.1:9418/ctx.git
    A git daemon (push needs `git daemon --enable=receive-pack`).

tract remote
    List the remotes.

tract remote remove backup
    Forget a remote.
"""


@click.group("remote", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def command(click_ctx, as_json):
    """Add, remove and list remotes."""
    if click_ctx.invoked_subcommand is None:
        _list(click_ctx.obj, as_json)


def _list(ctx, as_json):
    rs = _sync.remote_list(ctx.repo())
    if as_json:
        emit_json([r.to_json() for r in rs])
    else:
        for r in rs:
            echo(f"{r.name}\t{r.url}")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def list_cmd(ctx, as_json):
    """List the remotes and their URLs."""
    _list(ctx, as_json)


@command.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def add_cmd(ctx, name, url, as_json):
    """Add remote NAME at URL."""
    r = _sync.remote_add(ctx.repo(), name, url)
    if as_json:
        emit_json(r.to_json())


@command.command("remove")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def remove_cmd(ctx, name, as_json):
    """Remove remote NAME and its remote-tracking refs."""
    r = _sync.remote_remove(ctx.repo(), name)
    if as_json:
        emit_json(r.to_json())
