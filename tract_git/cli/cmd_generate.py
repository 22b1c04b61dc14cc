"""Send the context at HEAD to the model and commit its reply.

Like `tract chat` without a new message: use it after `tract user`,
`tract tool` or any edit, to let the model answer the context as it
stands.  The reply commit records the model, its sampling parameters,
the token usage (and the cost, for a priced model) in trailers
(Tract-Model, Tract-Generation, Tract-Usage, Tract-Cost, Tract-Context)
and in the token note.  Model, endpoint and key are found as for
`tract chat`.

A failed call writes nothing, so running the command again is a clean
retry.
"""

import click

from ..ops import chat as _chat
from ._common import pass_ctx
from ._llmopts import call_params, model_options, read_tools, render_reply, streamer, streaming


@click.command("generate")
@model_options
@pass_ctx
def command(ctx, model, temperature, max_tokens, tools_file, stream, as_json):
    """Send the context to the model and commit its reply."""
    on_text = streamer(stream, as_json)
    with streaming(on_text):
        res = _chat.generate(ctx.repo(), model=model, tools=read_tools(tools_file), on_text=on_text,
                             **call_params(temperature, max_tokens))
    render_reply(res, as_json, on_text is not None)


MAN_EXAMPLES = """
tract user "Write a haiku about git."; tract generate
    Add a message, then let the model answer it.

tract generate --model openai/gpt-4o-mini --max-tokens 200
    Answer with a given model and a bound on the reply's length.

tract generate --tools tools.json
    Offer the tools described in tools.json (a JSON list of OpenAI tool
    schemas); tool calls in the reply are printed as -> name(arguments).

tract tool --tool-call-id call_1 '{"temp": 18}'; tract generate
    Answer a tool call, then let the model continue.

tract generate || tract generate
    A failed call leaves the store as it was: just run it again.
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the reply; nothing was written
128 a fatal error, also: no model is configured, the context is empty, the
    model call failed after its retries, or the reply was malformed; nothing
    was written
"""
