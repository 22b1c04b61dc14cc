"""Show the sub-agent commits behind a collapse commit, inline.

REV is a collapse commit (any revision) or the name of a collapsed agent
(its latest collapse).  The collapse commit is shown first, then, indented,
every commit the sub-agent made from its spawn to the collapsed tip.  When
gc has pruned that history (see tract-collapse(1)), expand says so and
exits 1; the collapse commit still holds the output and summary.
"""

import click

from ..ops import agents as _agents
from ._common import plural, echo, emit_json, fmt_tokens, pass_ctx, short, style

MAN_EXAMPLES = """
tract expand HEAD
    The commits behind the collapse at HEAD.

tract expand researcher
    The commits behind agent 'researcher''s latest collapse.

tract expand researcher --json | jq '.commits | length'
    Count them from a script.
"""

MAN_EXIT_STATUS = """
0   the history was shown.
1   the history behind the collapse was pruned.
128 REV is not a collapse commit.
"""


def _line(ctx, e, indent=""):
    return (f"{indent}{style(ctx, short(e.commit), fg='yellow')} {e.op:<8} "
            f"{fmt_tokens(e.tokens_added, True):>7} {fmt_tokens(e.context_tokens):>8}  {e.subject}")


@click.command("expand")
@click.argument("rev")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, rev, as_json):
    """Show the sub-agent commits behind collapse commit REV."""
    res = _agents.expand(ctx.repo(), rev)
    if as_json:
        emit_json(res.to_json())
        return
    echo(_line(ctx, res.collapse))
    for e in res.commits:
        echo(_line(ctx, e, f"    {style(ctx, '|', fg='cyan')} "))
    origin = f" spawned from {short(res.spawned_from)}" if res.spawned_from else ""
    echo(f"    ({plural(len(res.commits), 'commit')} of agent '{res.agent}'{origin})")
