"""Options and output shared by the commands that call a model
(`tract chat`, `tract generate`)."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from ..errors import InvalidInputError
from ._common import echo, emit_json


def model_options(f):
    """--model, --temperature, --max-tokens, --tools, --stream, --json."""
    opts = [
        click.option("--model", metavar="NAME",
                     help="Model for this call (default: tract.chat.model, tract.model, $TRACT_MODEL)."),
        click.option("--temperature", type=click.FloatRange(min=0), metavar="T",
                     help="Sampling temperature for this call."),
        click.option("--max-tokens", type=click.IntRange(min=1), metavar="N",
                     help="Upper bound on the reply's tokens."),
        click.option("--tools", "tools_file", metavar="FILE",
                     help="Offer the tools in FILE: a JSON list of OpenAI tool schemas."),
        click.option("--stream/--no-stream", "stream", default=None,
                     help="Print the reply as it arrives (default: on a terminal)."),
        click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def read_tools(path: str | None) -> list | None:
    """A JSON list of tool schemas (``{"type": "function", "function":
    {...}}``) from a file, checked."""
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            tools = json.loads(f.read().decode("utf-8"))
    except OSError as e:
        raise InvalidInputError(f"cannot read {path}: {e.strerror}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidInputError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(tools, list) or not all(
            isinstance(t, dict) and isinstance(t.get("function", t), dict)
            and isinstance(t.get("function", t).get("name"), str) for t in tools):
        raise InvalidInputError(f"{path}: expected a JSON list of tool schemas, each with a function name")
    return [t if "function" in t else {"type": "function", "function": t} for t in tools]


def call_params(temperature, max_tokens) -> dict:
    p = {}
    if temperature is not None:
        p["temperature"] = temperature
    if max_tokens is not None:
        p["max_tokens"] = max_tokens
    return p


class _Printer:
    """An ``on_text`` callback printing pieces to stdout as they arrive."""

    def __init__(self) -> None:
        self.open_line = False  # printed text that did not end with a newline

    def __call__(self, piece: str) -> None:
        click.echo(piece, nl=False)
        sys.stdout.flush()
        self.open_line = not piece.endswith("\n")

    def end_line(self) -> None:
        if self.open_line:
            click.echo()
            sys.stdout.flush()
            self.open_line = False


def streamer(stream, as_json):
    """An ``on_text`` callback printing pieces to stdout, or None."""
    if as_json:
        return None
    if stream is None:
        stream = sys.stdout.isatty()
    if not stream:
        return None
    return _Printer()


@contextlib.contextmanager
def streaming(on_text):
    """Around the call: if it fails after part of a reply was printed, end
    that line, so the error starts on its own."""
    try:
        yield
    except BaseException:
        if isinstance(on_text, _Printer):
            on_text.end_line()
        raise


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
