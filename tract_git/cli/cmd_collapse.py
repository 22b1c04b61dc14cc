"""Bring a sub-agent's result back into the current context.

Adds one commit to the current branch: it appends an entry (role
assistant, type output, name AGENT) holding the sub-agent's final output
(its last assistant entry) and an account of its work, and points at the
sub-agent's full history with a second parent and the trailer
Tract-Collapsed-From, so `git log --graph` shows where the work came in.

The account is --summary TEXT if given, else a model's summary with
--model M, else an offline summary made without any model.  With the store
setting `tract config agents.history detach`, the second parent is left
out (the trailer stays): tract-gc(1) then drops the collapsed sub-agent's
refs and, after the retention, its history; tract-expand(1) says so.
"""

import click

from ..ops import agents as _agents
from ._common import emit_json, pass_ctx
from ._render import commit_line

MAN_EXAMPLES = """
tract collapse researcher
    Collapse with the offline summary.

tract collapse researcher --summary "Found the date; sources checked."
    Collapse with your own account of the work.

tract collapse researcher --model gpt-4o-mini
    Let a model write the account.

git --git-dir .tract log --graph --oneline
    See the sub-agent's commits join the parent's history.
"""

MAN_EXIT_STATUS = """
0   the collapse commit was added.
1   the agent is already collapsed (nothing to do).
128 no such agent, or the model failed.
"""


@click.command("collapse")
@click.argument("agent")
@click.option("--summary", metavar="TEXT", help="Your account of the sub-agent's work.")
@click.option("--model", metavar="MODEL", help="Have MODEL summarize the sub-agent's work.")
@click.option("-m", "--message", metavar="MSG", help="Commit message (default: generated).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, agent, summary, model, message, as_json):
    """Add a collapse commit for sub-agent AGENT to the current context."""
    if summary is not None and model is not None:
        from ..errors import UsageError

        raise UsageError("--summary and --model cannot be used together")
    repo = ctx.repo()
    summarizer = None
    if model is not None:
        from ..collapse_llm import model_summarizer

        summarizer = model_summarizer(repo, model)
    res = _agents.collapse(repo, agent, summary=summary, summarizer=summarizer, message=message)
    if as_json:
        emit_json(res.to_json())
    else:
        commit_line(ctx, res.commit)
