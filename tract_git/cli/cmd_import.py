"""Append many messages at once, one commit per message.

FILE (or stdin, or '-') holds OpenAI-style messages: a JSON array, an
object with a "messages" array, or JSONL (one message object per line).
Each message needs "role" and "content"; "name", "tool_call_id" and
"tool_calls" are kept, and tract's own "type" and "priority" are honoured.
Content given as a list of text parts is joined with newlines.

Every message becomes its own append commit, exactly as `tract user`,
`tract assistant` ... one by one would make it (same subjects, trailers,
snapshot layout and token notes), but the commits are written in one pass
into a single pack (with their notes), the branch moves once (one reflog
entry for the whole import, so `tract undo` takes it back), and all notes
are added in one notes commit.  The pre-commit hook runs once, with every
entry on its stdin; a refusal or an invalid message imports nothing.
"""

import click

from ..ops import bulk as _bulk
from ._common import plural, n_entries, echo, emit_json, fmt_tokens, pass_ctx, read_content, short

MAN_EXAMPLES = """
tract import chat.jsonl
    Append every message of a JSONL transcript, one commit each.

python agent.py --dump | tract import -
    Read an OpenAI message list from stdin.

tract import --json history.json
    Print what was imported (commit range, entry ids, token total) as JSON.
"""

MAN_EXIT_STATUS = """
1   a pre-commit hook refused the messages; nothing was written
129 a usage error: the input is not JSON or JSONL messages, a message has no
    role, an invalid role or empty content, or there is nothing to import;
    nothing was written
"""


@click.command("import")
@click.argument("file", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, file, as_json):
    """Append OpenAI-style messages from FILE (JSON, JSONL; '-' for stdin),
    one commit per message, written as one pack."""
    text = read_content(None, file if file is not None else "-", what="messages")
    res = _bulk.import_messages(ctx.repo(), _bulk.parse_messages(text))
    if as_json:
        emit_json(res.to_json())
        return
    where = (res.branch or "").replace("refs/heads/", "") or "detached HEAD"
    n = res.note
    echo(f"[{where} {short(res.commits[0])}..{short(res.commit)}] imported {plural(len(res.commits), 'message')} "
         f"({plural(len(res.commits), 'commit')})")
    echo(f" context {fmt_tokens(n.context_tokens)} tokens, {n_entries(n.entries)}")
