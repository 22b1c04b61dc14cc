"""List the sub-agents in the store with their state and tokens.

State is `active` (work not yet collapsed), `collapsed` (its tip is what
the latest collapse brought in) or `pruned` (collapsed, and its history
dropped by tract-gc(1) under the store setting agents.history = detach).
Tokens and entries are those of the sub-agent's context at its tip;
commits are those it made since it was spawned.
"""

import click

from ..ops import agents as _agents
from ._common import echo, emit_json, fmt_tokens, pass_ctx, short

MAN_EXAMPLES = """
tract agents
    One line per sub-agent: name, state, branch, tip, tokens, commits, origin.

tract agents --json | jq -r '.[] | select(.state == "active") | .name'
    The sub-agents still at work.
"""


@click.command("agents")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, as_json):
    """List sub-agents: state (active, collapsed, pruned) and tokens."""
    rows = _agents.list_agents(ctx.repo())
    if as_json:
        emit_json([a.to_json() for a in rows])
        return
    for a in rows:
        commits = "-" if a.commits is None else str(a.commits)
        echo(f"{a.name:<16} {a.state:<9} {a.branch or '-':<10} {short(a.tip) or '-':<7} "
             f"{fmt_tokens(a.tokens):>9} tokens {commits:>4} commits  from {short(a.spawned_from) or '-'}")
