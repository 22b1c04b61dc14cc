import click

from ..ops import init as _init
from ._common import echo, emit_json, json_option, pass_ctx


@click.command("init")
@click.argument("path", required=False)
@click.option("--encoding", metavar="NAME", help="tiktoken encoding for token counts (default o200k_base).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing.")
@json_option
@pass_ctx
def command(ctx, path, encoding, quiet, as_json):
    """Create an empty tract store (a bare git repository).

    PATH is the store directory (default: .tract in the current directory,
    or --tract-dir / $TRACT_DIR).  Refuses a directory that is already
    something else.
    """
    path = path or ctx.tract_dir or None  # --tract-dir, or $TRACT_DIR through it
    repo = _init.init(path, encoding=encoding)
    if as_json:
        emit_json({"path": repo.path, "encoding": repo.counter.encoding,
                   "approximate": repo.counter.approximate})
    elif not quiet:
        echo(f"Initialized empty tract store in {repo.path}/")


MAN_EXAMPLES = """
Create a store in .tract of the current directory:

    $ tract init
    Initialized empty tract store in /home/ada/project/.tract/

Create one elsewhere, counting tokens with another encoding:

    $ tract init --encoding cl100k_base /srv/agents/support.tract

Read it with plain git:

    $ git --git-dir .tract log --oneline
"""

MAN_SEE_ALSO = "tract-format(5), tract-hooks(5), git-init(1)"
