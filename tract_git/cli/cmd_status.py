import click

from ..ops import status as _status
from ._common import n_entries, echo, emit_json, fmt_tokens, pass_ctx, short, style, warn


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, as_json):
    """Show the branch, entry count and tokens against the budget.

    In a sub-agent's context (tract -A AGENT status) it names the agent:
    "On branch main of agent researcher".
    Also says when HEAD is detached, when the branch has no commits yet,
    and which multi-step operation (a merge, a rebase) is in progress.
    With a budget set (tract config budget N), a warning goes to standard
    error at the warning levels (tract config warn; default 80,100 percent
    of the budget).
    """
    repo = ctx.repo()
    st = _status.status(repo)
    agent = getattr(repo, "agent", None)  # tract -A AGENT status: a sub-agent's context
    if as_json:
        d = st.to_json()
        if agent:
            d["agent"] = agent
        emit_json(d)
        return
    if st.detached:
        echo(f"HEAD detached at {short(st.commit)}" + (f" (agent {agent})" if agent else ""))
    else:
        echo(f"On branch {st.branch}" + (f" of agent {agent}" if agent else ""))
        if st.commit is None:
            echo("No commits yet")
    for what in st.in_progress:
        echo(what)
    approx = " (approximate)" if st.approximate else ""
    echo(f"{n_entries(st.entries)}, {fmt_tokens(st.tokens)} tokens{approx}")
    if st.budget:
        line = f"budget {fmt_tokens(st.budget)}: {st.percent:.1f}% used"
        color = {"ok": "green", "warn": "yellow", "over": "red"}[st.level]
        echo(style(ctx, line, fg=color))
        if st.level == "warn":
            warn(f"context is at {st.percent:.0f}% of its budget ({st.warn_at[0]}% warning level)")
        elif st.level == "over":
            warn(f"context is at {st.percent:.0f}% of its budget of {fmt_tokens(st.budget)} tokens")
    else:
        echo("no budget set (tract config budget N)")


MAN_EXAMPLES = """
Where am I, and how full is the context?

    $ tract status
    On branch main
    3 entries, 15 tokens
    budget 1,000: 1.5% used

For a script:

    $ tract status --json | jq .percent
"""

MAN_EXIT_STATUS = """
0   success, also when the context is over its budget (status warns on
    standard error at the warning levels)
"""

MAN_SEE_ALSO = "tract-config(1)"
