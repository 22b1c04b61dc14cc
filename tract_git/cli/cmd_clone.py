"""Copy a tract store from a remote.

Creates the store at DIR (default .tract in the current directory, as
tract-init(1) does) with every branch, the sub-agent refs and the token
notes, and sets up `origin` as tract-remote(1) would.  URL is any git URL
or a path to a bare repository.
"""

import click

from ..ops import sync as _sync
from ._common import echo, emit_json, json_option

MAN_EXAMPLES = """
tract clone /srv/ctx.git
    Clone into ./.tract.

tract clone git://host/ctx.git other/.tract && tract -C other log --oneline
    Clone elsewhere and read it.
"""


@click.command("clone")
@click.argument("url")
@click.argument("dir", required=False)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing.")
@json_option
def command(url, dir, quiet, as_json):
    """Clone the store at URL into DIR (default .tract)."""
    repo = _sync.clone(url, dir)
    if as_json:
        head = repo.head()
        emit_json({"path": repo.path, "url": url, "branch": head.short_branch, "commit": head.commit})
    elif not quiet:
        echo(f"Cloned {url} into {repo.path}/")
