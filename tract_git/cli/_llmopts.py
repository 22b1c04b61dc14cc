"""Options and output shared by the commands that call a model
(`tract chat`, `tract generate`)."""

from __future__ import annotations

import sys

import click

from ._common import echo, emit_json


def model_options(f):
    """--model, --temperature, --max-tokens, --no-stream, --json."""
    opts = [
        click.option("--model", metavar="NAME",
                     help="Model for this call (default: tract.chat.model, tract.model, $TRACT_MODEL)."),
        click.option("--temperature", type=click.FloatRange(min=0), metavar="T",
                     help="Sampling temperature for this call."),
        click.option("--max-tokens", type=click.IntRange(min=1), metavar="N",
                     help="Upper bound on the reply's tokens."),
        click.option("--stream/--no-stream", "stream", default=None,
                     help="Print the reply as it arrives (default: on a terminal)."),
        click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def call_params(temperature, max_tokens) -> dict:
    p = {}
    if temperature is not None:
        p["temperature"] = temperature
    if max_tokens is not None:
        p["max_tokens"] = max_tokens
    return p


def streamer(stream, as_json):
    """An ``on_text`` callback printing pieces to stdout, or None."""
    if as_json:
        return None
    if stream is None:
        stream = sys.stdout.isatty()
    if not stream:
        return None

    def on_text(piece: str) -> None:
        click.echo(piece, nl=False)
        sys.stdout.flush()

    return on_text


def render_reply(res, as_json: bool, streamed: bool) -> None:
    if as_json:
        emit_json(res.to_json())
        return
    if streamed:
        if res.text:
            echo()
    elif res.text:
        echo(res.text)
    for c in res.tool_calls or ():
        echo(f"-> {c['function']['name']}({c['function']['arguments']})")
