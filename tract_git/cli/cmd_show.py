import click

from ..ops import show as _show
from ._common import n_entries, EntryRefCommand, echo, emit_json, fmt_time, fmt_tokens, pass_ctx, short, style
from .cmd_diff import render_changes


@click.command("show", cls=EntryRefCommand)
@click.argument("what", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--dropped", is_flag=True,
              help="For a compress commit: print exactly the entries its summary replaced.")
@click.option("-r", "--recursive", is_flag=True,
              help="With --dropped: expand earlier summaries it folded in, too.")
@pass_ctx
def command(ctx, what, as_json, dropped, recursive):
    """Show a commit (default HEAD) or an entry.

    WHAT is a revision (HEAD~2, a branch, a hash) or an entry reference (a
    position such as 0 or -1, or an entry id).  A number is a position
    when the context has one there, else an abbreviated hash.
    """
    if dropped or recursive:
        from .cmd_compress import show_dropped

        return show_dropped(ctx, what, recursive, as_json)
    res = _show.show(ctx.repo(), what)
    if as_json:
        emit_json(res.to_json())
        return
    if isinstance(res, _show.ShownEntry):
        e = res.entry
        echo(style(ctx, f"entry {e.id}", fg="yellow") + f" (position {res.position}, at {short(res.commit)})")
        echo(f"Role: {e.role}")
        echo(f"Type: {e.type}")
        echo(f"Priority: {e.priority}")
        if e.name:
            echo(f"Name: {e.name}")
        if e.tool_call_id:
            echo(f"Tool-Call-Id: {e.tool_call_id}")
        for c in e.tool_calls or ():
            echo(f"Tool-Call: {c['id']} {c['function']['name']}({c['function']['arguments']})")
        echo(f"Tokens: {res.tokens}")
        echo()
        echo(e.content, nl=not e.content.endswith("\n"))
        return
    c = res.commit
    echo(style(ctx, f"commit {c.commit}", fg="yellow"))
    if len(c.parents) > 1:
        echo("Merge: " + " ".join(short(p) for p in c.parents))
    echo(f"Author: {c.author} <{c.email}>")
    echo(f"Date:   {fmt_time(c.time, c.offset)}")
    echo(f"Op:     {c.op}  tokens {fmt_tokens(c.tokens_added, True)}, "
         f"context {fmt_tokens(c.context_tokens)} in {n_entries(c.entries)}")
    echo()
    echo(f"    {c.subject}")
    if c.body:
        echo()
        for line in c.body.splitlines():
            echo(f"    {line}".rstrip())
    if c.trailers:
        echo()
        for k, v in c.trailers:
            echo(f"    {k}: {v}")
    if res.diff.changes:
        echo()
        render_changes(ctx, res.diff)


MAN_EXAMPLES = """
The last commit, its trailers and what it changed:

    $ tract show

The first and the last entry, with headers and token count:

    $ tract show 0
    $ tract show -1

A message as plain git stores it:

    $ git --git-dir .tract show HEAD:msg/0000001000/000000100000-2f68d72ef028-system
"""
