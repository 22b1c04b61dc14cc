"""Send a user message to the model and commit both the message and the
reply.

The context at HEAD is compiled, TEXT is appended as a user message, and
the whole is sent to the model configured for chat.  When the model has
answered, two commits land: the user message and the assistant reply. The
reply's commit records the model, its sampling parameters and the token
usage (and the cost, for a priced model) as trailers (Tract-Model,
Tract-Generation, Tract-Usage, Tract-Cost) and in the token note, so
`git log` shows them.  Tool calls in the reply are kept as structured
fields of the assistant entry and printed as `-> name(arguments)` lines.

The model is, first match wins: --model; `tract config chat.model`;
`tract config model`; $TRACT_MODEL.  The endpoint: `tract config
chat.baseUrl`, `tract config baseUrl`, $TRACT_BASE_URL, $OPENAI_BASE_URL,
$OPENAI_API_BASE.
API keys come from the environment only ($TRACT_API_KEY, or the
provider's own variable such as $OPENAI_API_KEY), never from the store.

Rate limits (429), server errors (5xx), timeouts and dropped connections
are retried with exponential backoff (`tract config retries`, `timeout`).
If the call still fails, or the reply is malformed, nothing is written:
the store is exactly as before, and the error is one line on stderr.

TEXT may be given as an argument, with --file, or on stdin.  On a
terminal the reply is printed as it arrives.
"""

import click

from ..ops import chat as _chat
from ._common import pass_ctx, read_content
from ._llmopts import call_params, model_options, read_tools, render_reply, streamer, streaming


@click.command("chat")
@click.argument("text", required=False)
@click.option("-F", "--file", metavar="FILE", help="Read the message from FILE ('-' for stdin).")
@model_options
@pass_ctx
def command(ctx, text, file, model, temperature, max_tokens, tools_file, stream, as_json):
    """Send a user message to the model; commit it and the reply."""
    content = read_content(text, file, what="message")
    on_text = streamer(stream, as_json)
    with streaming(on_text):
        res = _chat.chat(ctx.repo(), content, model=model, tools=read_tools(tools_file), on_text=on_text,
                         **call_params(temperature, max_tokens))
    render_reply(res, as_json, on_text is not None)


MAN_EXAMPLES = """
tract config model openai/gpt-4o-mini
    Use one model for every operation of this store (no key is stored).

OPENAI_API_KEY=sk-... tract chat "What is the capital of France?"
    Ask a question; the question and the answer become two commits.

tract chat --model gpt-4o --temperature 0.2 "Summarise the plan"
    Use another model and temperature for this call only.

git --git-dir .tract log -1
    See the reply's model, parameters and usage in its trailers and note.

tract chat --json "hi" | jq .usage
    Read the token usage of the turn from the JSON output.
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused: the user message (nothing was
    written), or the reply (the user message has already been committed)
128 a fatal error, also: no model is configured, the model call failed after
    its retries, or the reply was malformed; nothing was written
"""
