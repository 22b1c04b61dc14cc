import json

import click

from ..ops import compile as _compile
from ._common import echo, pass_ctx


@click.command("compile")
@click.argument("rev", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(list(_compile.FORMATS)), default="openai",
              show_default=True, help="Output shape.")
@click.option("--tokens", "show_tokens", is_flag=True, help="Print the token count on stderr.")
@pass_ctx
def command(ctx, rev, fmt, show_tokens):
    """Print the LLM-ready context at REV (default HEAD).

    Skipped entries are left out and order is kept.  openai prints a Chat
    Completions message list, anthropic an object with "system" and
    "messages", dicts every entry with all its fields, text a readable
    transcript.
    """
    res = _compile.compile(ctx.repo(), rev)
    out = res.render(fmt)
    if fmt == "text":
        echo(out, nl=False)
    else:
        echo(json.dumps(out, indent=2, ensure_ascii=False))
    if show_tokens:
        approx = " (approximate)" if res.approximate else ""
        echo(f"{res.token_count} tokens, {len(res.messages)} messages, {res.encoding}{approx}", err=True)


MAN_EXAMPLES = """
The messages for the OpenAI Chat Completions API:

    $ tract compile

The Anthropic Messages API shape, at an older commit:

    $ tract compile -f anthropic HEAD~3

A readable transcript, with the token count on standard error:

    $ tract compile -f text --tokens
    [system pinned]
    You are a terse assistant.
    ...
    15 tokens, 3 messages, o200k_base
"""
