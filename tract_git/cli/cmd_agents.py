"""List the sub-agents in the store with their state and tokens.

State is `active` (work not yet collapsed), `collapsed` (its tip is what
the latest collapse brought in) or `pruned` (collapsed, and its history
dropped).  --prune drops the refs of collapsed agents whose collapse did not
link their history (store setting agents.history = detach), so that gc can
delete it; the collapse commits keep their summary and provenance trailer.
"""

import click

from ..ops import agents as _agents
from ._common import echo, emit_json, fmt_tokens, pass_ctx, short

MAN_EXAMPLES = """
tract agents
    One line per sub-agent: name, state, branch, tip, tokens, commits, origin.

tract agents --json
    The same for scripts.

tract config agents.history detach && tract agents --prune && git --git-dir .tract gc --prune=now
    Let collapsed agents' histories be deleted.
"""


@click.command("agents")
@click.option("--prune", is_flag=True, help="Drop the refs of collapsed, unlinked agents.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, prune, as_json):
    """List sub-agents: state (active, collapsed, pruned) and tokens."""
    repo = ctx.repo()
    if prune:
        gone = _agents.prune(repo)
        if as_json:
            emit_json({"pruned": gone})
        else:
            for a in gone:
                echo(f"pruned agent '{a}'")
        return
    rows = _agents.list_agents(repo)
    if as_json:
        emit_json([a.to_json() for a in rows])
        return
    for a in rows:
        commits = "-" if a.commits is None else str(a.commits)
        echo(f"{a.name:<16} {a.state:<9} {a.branch or '-':<10} {short(a.tip) or '-':<7} "
             f"{fmt_tokens(a.tokens):>9} tokens {commits:>4} commits  from {short(a.spawned_from) or '-'}")
