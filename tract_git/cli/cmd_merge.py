"""Merge a branch (or any commit) into the current branch.

When the current tip is an ancestor of BRANCH, the branch fast-forwards.
Otherwise tract merges entries three ways against the merge base (the same
commit `git merge-base` names): an entry changed on one side takes that
side; entries appended on both sides are all kept, in the order --strategy
defines (ours-first: ours then theirs, the default; theirs-first;
interleave: by the time of the commits that added them); an entry edited
differently on both sides, or edited on one and removed on the other, is a
conflict.  The merge commit has both parents, and its bookkeeping lives in
its message and Tract-Merge-* trailers only, never in the context.

Conflicts stop the merge with exit status 1 and leave the branch where it
was; `tract status` lists them, `tract resolve` settles each, and
`tract merge --continue` commits the result (`--abort` gives up).
--strategy semantic asks the configured model to reconcile conflicting,
contradictory and redundant entries (see docs/merge.md); it needs the LLM
layer and a configured model.
"""

import click

from ..errors import UsageError
from ..ops import merge as _merge
from ._common import plural, echo, emit_json, pass_ctx, short
from ._render import commit_line
from ._seqrender import stopped

MAN_EXAMPLES = """
tract merge explore
    Merge branch explore into the current branch (fast-forward if possible).

tract merge --strategy theirs-first explore
    Put explore's new entries before the current branch's new entries.

tract merge --strategy interleave explore
    Interleave both sides' new entries by the time they were committed.

tract merge explore || tract status
    On conflicts (exit 1), see which entries conflict.

tract resolve 3f9a2b1c --theirs && tract merge --continue
    Take explore's version of a conflicting entry and finish the merge.

tract merge --strategy semantic --model openai/gpt-4o-mini explore
    Have a model reconcile conflicting, contradictory and redundant entries.

tract merge --abort
    Give up a stopped merge; the branch never moved.
"""

MAN_EXIT_STATUS = """
0   merged, fast-forwarded, or already up to date.
1   stopped on conflicts (resolve them, then --continue), or --continue with conflicts left.
128 unknown branch, detached HEAD, another operation in progress, no merge to continue,
    the branch moved meanwhile, or the model failed (semantic).
129 usage error (unknown strategy, conflicting options, --model without --strategy semantic).
"""


@click.command("merge", help=__doc__)
@click.argument("branch", required=False)
@click.option("-s", "--strategy", default="ours-first", show_default=True, metavar="STRATEGY",
              help="Order of entries appended on both sides: ours-first, theirs-first, interleave; "
                   "or semantic (an LLM reconciles).")
@click.option("-m", "--message", metavar="MSG", help="Subject of the merge commit.")
@click.option("--model", metavar="MODEL",
              help="Model for --strategy semantic (default: tract.merge.model, tract.model, $TRACT_MODEL).")
@click.option("--no-ff", "no_ff", is_flag=True, help="Make a merge commit even when a fast-forward is possible.")
@click.option("--continue", "cont", is_flag=True, help="Commit a stopped merge once every conflict is resolved.")
@click.option("--abort", is_flag=True, help="Give up a stopped merge.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, branch, strategy, message, model, no_ff, cont, abort, as_json):
    """Merge BRANCH into the current branch."""
    repo = ctx.repo()
    if cont and abort:
        raise UsageError("--continue and --abort cannot be used together")
    if (cont or abort) and model:
        raise UsageError(f"--{'continue' if cont else 'abort'} takes no --model")
    if (cont or abort) and branch:
        raise UsageError(f"--{'continue' if cont else 'abort'} takes no branch")
    if cont:
        res = _merge.merge_continue(repo)
    elif abort:
        res = _merge.merge_abort(repo)
    elif not branch:
        raise UsageError("no branch to merge")
    else:
        res = _merge.merge(repo, branch, strategy=strategy, message=message, ff=not no_ff, model=model)
    if as_json:
        emit_json(res.to_json())
        if res.status == "conflicts":
            click.get_current_context().exit(1)
        return
    if res.status == "up-to-date":
        echo("Already up to date.")
    elif res.status == "fast-forward":
        echo(f"Updating {short(res.old)}..{short(res.new)}")
        echo("Fast-forward")
    elif res.status == "aborted":
        echo(f"Merge aborted; {res.branch} is at {short(res.new)}")
    elif res.status == "conflicts":
        stopped(res.conflicts, "tract merge")
    else:
        echo(f"Merge made by the '{res.strategy}' strategy.")
        commit_line(ctx, res.commit)
        info = res.extra.get("llm")
        if info:
            from ..llm import format_cost  # no litellm import: that happens on a call only

            cost = "unknown" if info["cost"] is None else format_cost(info["cost"])
            u = info["usage"]
            echo(f" model {info['model']}: {u['prompt_tokens']} prompt + {u['completion_tokens']} "
                 f"completion tokens, cost {cost}; {plural(res.extra['resolved'], 'conflict')} resolved, "
                 f"{plural(res.extra['dropped'], 'entry')} dropped, {res.extra['rewritten']} rewritten")
