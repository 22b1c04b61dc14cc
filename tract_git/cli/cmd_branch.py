"""List, create or delete branches.

With no arguments, list the branches: the current one marked with `*`, each
with its tip, entry count and context tokens (from the token notes).  With
NAME, create a branch at START (default HEAD); a branch is a plain
refs/heads/NAME ref, so `git --git-dir STORE branch` agrees, and creating
one copies nothing.  `-d` deletes a branch merged into HEAD, `-D` any branch
but the current one; `-m OLD NEW` renames a branch (`-M` even over an
existing NEW).  Branch-scoped settings, pins and skips live in the
snapshot, so they follow the branch.
"""

import click

from ..errors import UsageError
from ..ops import branch as _branch
from ._common import n_entries, echo, emit_json, fmt_tokens, pass_ctx, short, style

MAN_EXAMPLES = """
tract branch
    List the branches with their entry and token counts.

tract branch explore
    Create branch explore at HEAD (HEAD stays where it is).

tract branch retry HEAD~3
    Create branch retry at the commit three back.

tract branch -d explore
    Delete explore, which is merged into HEAD.

tract branch -D dead-end
    Delete dead-end even though it is not merged.

tract branch -m explore kept
    Rename explore to kept.

tract branch --json
    The list as JSON: name, commit, current, entries, tokens, subject.
"""

MAN_EXIT_STATUS = """
0   success.
1   deletion refused: the current branch, or a branch not merged (without -D).
128 invalid branch name, unknown branch or start point, branch already exists.
129 usage error.
"""


@click.command("branch", help=__doc__)
@click.argument("name", required=False)
@click.argument("start", required=False)
@click.option("-d", "--delete", "delete", is_flag=True, help="Delete branch NAME (it must be merged into HEAD).")
@click.option("-D", "force_delete", is_flag=True, help="Delete branch NAME even if it is not merged.")
@click.option("-m", "--move", "move", is_flag=True, help="Rename branch NAME to START (OLD NEW).")
@click.option("-M", "force_move", is_flag=True, help="Rename even if the new name exists.")
@click.option("-f", "--force", is_flag=True, help="With NAME START: reset an existing branch to START.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, name, start, delete, force_delete, move, force_move, force, as_json):
    """List, create or delete branches."""
    repo = ctx.repo()
    if move or force_move:
        if not name:
            raise UsageError("branch rename needs the old and the new name")
        old, new = (name, start) if start else (repo.head().short_branch, name)
        if old is None:
            raise UsageError("HEAD is detached: name the branch to rename (OLD NEW)")
        bi = _branch.rename(repo, old, new, force=force_move)
        if as_json:
            emit_json(dict(bi.to_json(), renamed_from=old))
        return
    if delete or force_delete:
        if not name or start:
            raise UsageError("branch name required (exactly one)" if not name else "too many arguments to delete")
        bi = _branch.delete(repo, name, force=force_delete)
        if as_json:
            emit_json({"deleted": bi.name, "commit": bi.commit})
        else:
            echo(f"Deleted branch {bi.name} (was {short(bi.commit)}).")
        return
    if name is not None:  # ('' is a name, and not a valid one: git branch '' says so)
        bi = _branch.create(repo, name, start, force=force)
        if as_json:
            emit_json(bi.to_json())
        return
    branches = _branch.list_branches(repo)
    if as_json:
        emit_json([b.to_json() for b in branches])
        return
    width = max((len(b.name) for b in branches), default=0)
    for b in branches:
        mark = "*" if b.current else " "
        label = style(ctx, b.name.ljust(width), fg="green") if b.current else b.name.ljust(width)
        echo(f"{mark} {label} {short(b.commit)} {n_entries(b.entries)}, {fmt_tokens(b.tokens)} tokens  {b.subject}")
