"""Resolve a conflicting entry.

For a merge, rebase, cherry-pick or revert stopped on conflicts: keep ours (the current branch; in a rebase, the upstream side),
take theirs (the branch or commit being applied), or give new content.
Nothing is committed until `--continue` on the stopped command.
"""

import click

from ..errors import UsageError
from ..ops import merge as _merge
from ._common import EntryRefCommand, echo, emit_json, pass_ctx, read_content

MAN_EXAMPLES = """
tract resolve 3f9a2b1c --ours
    Keep the current branch's version of entry 3f9a2b1c.

tract resolve 3f9a2b1c --theirs
    Take the merged branch's version (or its removal).

tract resolve 3f9a2b1c --content "Use Python 3.11."
    Replace the entry's content with a reconciled text.

tract resolve 1 --theirs
    Take theirs for the entry at position 1 (any entry reference works: a
    position, an id or a prefix of one, a commit that touched the entry).

tract resolve 3f9a2b1c --file fixed.txt
    Take the new content from a file ('-' for stdin).
"""


@click.command("resolve", cls=EntryRefCommand, help=__doc__)
@click.argument("entry")
@click.option("--ours", is_flag=True, help="Keep ours.")
@click.option("--theirs", is_flag=True, help="Take theirs.")
@click.option("--content", metavar="TEXT", help="Use this content.")
@click.option("-F", "--file", metavar="FILE", help="Read the content from FILE ('-' for stdin).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, entry, ours, theirs, content, file, as_json):
    """Resolve a conflicting entry with --ours, --theirs or --content."""
    if file is not None:
        if content is not None:
            raise UsageError("give --content or --file, not both")
        content = read_content(None, file)
    res = _merge.resolve(ctx.repo(), entry, ours=ours, theirs=theirs, content=content)
    if as_json:
        emit_json(res)
        return
    left = res["remaining"]
    echo(f"Resolved entry {res['id']} ({res['kind']}) with {res['how']}; "
         + (f"{left} conflict{'s' if left != 1 else ''} left." if left
            else f"all conflicts resolved: run 'tract {res['op']} --continue'."))
