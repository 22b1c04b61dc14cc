import click

from ..ops import log as _log
from ._common import n_entries, echo, emit_json, fmt_time, fmt_tokens, pass_ctx, short, style


@click.command("log")
@click.argument("rev", required=False)
@click.option("-n", "--max-count", type=click.IntRange(min=0), metavar="N", help="Show at most N commits.")
@click.option("--oneline", is_flag=True, help="One line per commit.")
@click.option("--first-parent", is_flag=True, help="Follow only the first parent of merges.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, rev, max_count, oneline, first_parent, as_json):
    """Show the history of the context: each commit's kind, subject,
    tokens added and context total.

    REV (default HEAD) is any revision: a branch, HEAD~3, a hash, main@{1}.
    The kind is the commit's Tract-Op trailer (append, edit, pin, config...;
    "external" for a commit made by plain git).  Token counts come from the
    notes in refs/notes/tract, computed on the fly where a note is missing.
    """
    repo = ctx.repo()
    entries = _log.log(repo, rev, max_count=max_count, first_parent=first_parent)
    if as_json:
        emit_json([e.to_json() for e in entries])
        return
    head = repo.head()
    for e in entries:
        deco = ""
        if e.commit == head.commit:
            deco = f" (HEAD -> {head.short_branch})" if head.short_branch else " (HEAD)"
        if oneline:
            echo(f"{style(ctx, short(e.commit), fg='yellow')}{style(ctx, deco, fg='cyan')} "
                 f"{e.op:<7} {fmt_tokens(e.tokens_added, True):>7} {fmt_tokens(e.context_tokens):>8}  "
                 f"{e.subject}")
            continue
        echo(style(ctx, f"commit {e.commit}", fg="yellow") + style(ctx, deco, fg="cyan"))
        if len(e.parents) > 1:
            echo("Merge: " + " ".join(short(p) for p in e.parents))
        echo(f"Author: {e.author} <{e.email}>")
        echo(f"Date:   {fmt_time(e.time, e.offset)}")
        echo(f"Op:     {e.op}  tokens {fmt_tokens(e.tokens_added, True)}, "
             f"context {fmt_tokens(e.context_tokens)} in {n_entries(e.entries)}")
        echo()
        echo(f"    {e.subject}")
        if e.body:
            echo()
            for line in e.body.splitlines():
                echo(f"    {line}".rstrip())
        echo()


MAN_EXAMPLES = """
The last five commits, one line each (kind, tokens added, context total):

    $ tract log -n 5 --oneline
    551e319 (HEAD -> main) config       +0       15  set budget = 1000
    02964ca edit         +1       15  edit assistant 8dbe5a7c: 4.

Plain git reads the same history; the token notes show up because tract init
sets notes.displayRef:

    $ git --git-dir .tract log -n 1
"""

MAN_SEE_ALSO = "git-log(1)"
