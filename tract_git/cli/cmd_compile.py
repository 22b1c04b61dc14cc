"""Print the LLM-ready context at REV (default HEAD).

Skipped entries are left out and order is kept.  openai prints a Chat
Completions message list, anthropic an object with "system" and
"messages", dicts every entry with all its fields, text a readable
transcript.

With a token budget (--budget N, or the branch setting `budget`) the
output never holds more than N tokens.  --strategy (default: the branch
setting compile.strategy, else full) says how: full fails when the
context is over; window drops the oldest unpinned entries (and tool
results whose call was dropped); compress first compresses the older part
of the current branch into a summary that fits (a compress commit, undone
with `tract undo`), then compiles.  When the pinned entries alone are over
the budget every strategy fails and says so.
"""

import json

import click

from ..ops import compile as _compile
from ._common import plural, echo, pass_ctx

MAN_EXAMPLES = """
The current context as a readable transcript:

    $ tract compile -f text

At most 8000 tokens, dropping the oldest unpinned entries; the count on stderr:

    $ tract compile --budget 8000 --strategy window --tokens

Keep the branch within 8000 tokens, compressing when it grows over:

    $ tract config budget 8000
    $ tract config compile.strategy compress
    $ tract compile

The messages for the OpenAI Chat Completions API:

    $ tract compile

The Anthropic Messages API shape, at an older commit:

    $ tract compile -f anthropic HEAD~3
"""


@click.command("compile", help=__doc__)
@click.argument("rev", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(list(_compile.FORMATS)), default="openai",
              show_default=True, help="Output shape.")
@click.option("--tokens", "show_tokens", is_flag=True, help="Print the token count on stderr.")
@click.option("-b", "--budget", type=click.IntRange(min=1), metavar="N",
              help="Never output more than N tokens (default: the branch budget, if set).")
@click.option("--strategy", type=click.Choice(["full", "window", "compress"]),
              help="How to meet the budget (default: compile.strategy, else full).")
@pass_ctx
def command(ctx, rev, fmt, show_tokens, budget, strategy):
    repo = ctx.repo()
    if budget is None and strategy is None and "budget" not in repo.settings(repo.head().commit if rev is None
                                                                           else repo.resolve(rev)):
        res = _compile.compile(repo, rev)
    else:
        from ..ops import budget as _budget

        summarizer = None
        if (strategy or repo.settings(repo.head().commit).get("compile.strategy")) == "compress":
            from ..compress_llm import model_summarizer, wants_model

            if wants_model(repo):
                summarizer = model_summarizer(repo)
        res = _budget.compile_budget(repo, rev, budget, strategy, summarizer=summarizer)
    out = res.render(fmt)
    if fmt == "text":
        echo(out, nl=False)
    else:
        echo(json.dumps(out, indent=2, ensure_ascii=False))
    if show_tokens:
        approx = " (approximate)" if res.approximate else ""
        extra = ""
        b = getattr(res, "budget", None)
        if b is not None:
            extra = f", budget {b} ({res.strategy}"
            if res.dropped:
                extra += f", {plural(len(res.dropped), 'entry')} dropped"
            if getattr(res, "compressed", None) is not None:
                extra += f", compressed into {res.compressed.commit.commit[:7]}"
            extra += ")"
        echo(f"{res.token_count} tokens, {plural(len(res.messages), 'message')}, "
             f"{res.encoding}{approx}{extra}", err=True)
