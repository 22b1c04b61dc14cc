import click

from ..ops import commit as _commit
from ._common import EntryRefCommand, emit_json, pass_ctx, read_content
from ._render import commit_line


@click.command("edit", cls=EntryRefCommand)
@click.argument("entry")
@click.argument("content", required=False)
@click.option("-F", "--file", metavar="FILE", help="Read the new content from FILE ('-' for stdin).")
@click.option("-t", "--type", "ctype", metavar="TYPE", help="Also change the content type.")
@click.option("-m", "--message", metavar="MSG", help="Commit message (default: generated).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, entry, content, file, ctype, message, as_json):
    """Replace an entry's content, keeping its place and id.

    ENTRY is a position (0 first, -1 last), an entry id (or unique prefix),
    or a commit that introduced the entry.  The new content comes from
    CONTENT, --file, or standard input.
    """
    text = read_content(content, file)
    res = _commit.edit(ctx.repo(), entry, text, message=message, type=ctype)
    if as_json:
        emit_json(res.to_json())
    else:
        commit_line(ctx, res)


MAN_EXAMPLES = """
Fix a typo in the last entry:

    $ tract edit -1 "Strings are immutable, so slice them: s[::-1]."

Replace entry 3 with the contents of a file and change its type:

    $ tract edit 3 -F answer.md -t artifact

Name the entry by its id (or a unique prefix of 4 or more digits):

    $ tract edit 8dbe5a7c "4."
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
1   the entry already has that content
"""
