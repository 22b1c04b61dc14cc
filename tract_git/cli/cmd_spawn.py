"""Create a sub-agent: a context of its own, linked to the current commit.

The sub-agent's branches live under refs/tract/agents/AGENT/ in the same
store (objects are shared; nothing is copied).  Its first commit (the spawn
commit) has the current commit (or --from REV) as parent and records the
link in its trailers (Tract-Agent, Tract-Spawned-From, Tract-Spawned-By).
By default the sub-agent starts from the parent's whole context
(--inherit full); --inherit none starts it empty, keeping the settings.
--task adds a user entry with the sub-agent's task in the same commit.

Work in the sub-agent's context with the global option -A AGENT (or
TRACT_AGENT=AGENT): `tract -A researcher assistant "..."`.  Bring its
result back with tract-collapse(1).  One commit can spawn many sub-agents.
"""

import click

from ..ops import agents as _agents
from ._common import n_entries, echo, emit_json, pass_ctx, short

MAN_EXAMPLES = """
tract spawn researcher --task "Find the release date of X"
    Create sub-agent 'researcher' from HEAD, with its task as first entry.

tract -A researcher assistant "It was released on 2021-03-04."
    Commit into the sub-agent's context.

tract spawn critic --from HEAD~2 --inherit none
    Spawn from an older commit, with an empty context.

tract agents
    List the sub-agents, their state and tokens.
"""


@click.command("spawn")
@click.argument("agent")
@click.option("--from", "from_rev", metavar="REV", help="Spawn from REV instead of HEAD.")
@click.option("--inherit", type=click.Choice(_agents.INHERIT), default="full", show_default=True,
              help="full: start with the parent's context; none: start empty.")
@click.option("--task", metavar="TEXT", help="A user entry with the sub-agent's task.")
@click.option("-m", "--message", metavar="MSG", help="Commit message (default: generated).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, agent, from_rev, inherit, task, message, as_json):
    """Create sub-agent AGENT linked to the current commit."""
    res = _agents.spawn(ctx.repo(), agent, from_rev=from_rev, inherit=inherit, task=task,
                        message=message)
    if as_json:
        emit_json(res.to_json())
        return
    n = res.commit.note
    echo(f"[{agent}:main {short(res.commit.commit)}] {res.commit.subject}")
    echo(f" spawned from {short(res.spawned_from)} ({inherit}): context {n.context_tokens:,} tokens, "
         f"{n_entries(n.entries)}")
