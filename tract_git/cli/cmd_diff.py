import click

from ..ops import diff as _diff
from ._common import echo, emit_json, fmt_tokens, pass_ctx, style

_MARK = {"added": "+", "removed": "-", "edited": "~", "moved": ">", "pinned": "*",
         "unpinned": "*", "skipped": "*", "unskipped": "*"}
_COLOR = {"added": "green", "removed": "red", "edited": "yellow", "moved": "cyan"}


def _snip(text: str, width: int = 72) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def render_changes(ctx, res) -> None:
    for c in res.changes:
        pos = c.new_position if c.new_position is not None else c.old_position
        head = f"{_MARK[c.kind]} {c.kind:<9} #{pos:<4} {c.role:<9} {c.id}"
        if c.tokens_delta:
            head += f"  {fmt_tokens(c.tokens_delta, True)} tokens"
        if c.kind == "moved":
            head += f"  (from #{c.old_position})"
        echo(style(ctx, head, fg=_COLOR.get(c.kind, "magenta")))
        if c.kind == "added":
            echo(f"    {_snip(c.new.content)}")
        elif c.kind == "removed":
            echo(f"    {_snip(c.old.content)}")
        elif c.kind == "edited":
            for f, a, b in c.field_changes():
                if f == "tool_calls":
                    echo(f"    tool calls: {len(a or ())} -> {len(b or ())} (changed)")
                else:
                    echo(f"    {f.replace('_', ' ')}: {a or '(none)'} -> {b or '(none)'}")
            for line in c.content_diff():
                col = "green" if line.startswith("+") else "red" if line.startswith("-") else None
                echo("    " + (style(ctx, line, fg=col) if col else line))
        else:
            echo(f"    {_snip((c.new or c.old).content)}")
    echo(f"tokens: {fmt_tokens(res.old_tokens)} -> {fmt_tokens(res.new_tokens)} "
         f"({fmt_tokens(res.tokens_delta, True)})")


@click.command("diff")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--exit-code", is_flag=True, help="Exit 1 if there are differences, 0 if none.")
@click.option("--stat", is_flag=True, help="Only count the changes by kind.")
@pass_ctx
def command(ctx, a, b, as_json, exit_code, stat):
    """Compare two contexts entry by entry.

    With no revision: what the last commit changed (HEAD^ against HEAD).
    With A: A against HEAD.  With A and B: A against B.  Shows entries
    added, removed, edited, pinned/unpinned/skipped and moved, with token
    deltas.  Entries are matched by id, so an edited or moved entry shows as
    one change, not a removal and an addition.

    With --exit-code the answer is the exit status: 1 when the contexts
    differ, 0 when they do not (like git diff --exit-code).
    """
    res = _diff.diff(ctx.repo(), a, b)
    if as_json:
        emit_json(res.to_json())
    elif stat:
        counts = {}
        for c in res.changes:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        parts = [f"{n} {k}" for k, n in counts.items()] or ["no changes"]
        echo(", ".join(parts) + f"; tokens {fmt_tokens(res.tokens_delta, True)}")
    elif res.changes:
        render_changes(ctx, res)
    if exit_code and res.changes:
        click.get_current_context().exit(1)


MAN_EXAMPLES = """
What the last commit changed:

    $ tract diff

The context three commits ago against now, counted by kind:

    $ tract diff --stat HEAD~3
    1 pinned, 1 edited; tokens +1

Use it in a script: exit 1 when two contexts differ:

    $ tract diff --exit-code main experiment || echo "contexts differ"

Plain git shows the same change message by message:

    $ git --git-dir .tract diff HEAD~1 HEAD
"""

MAN_EXIT_STATUS = """
1   with --exit-code: the two contexts differ
"""

MAN_SEE_ALSO = "git-diff(1)"
