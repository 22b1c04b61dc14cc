"""Shared CLI plumbing: the context object, output helpers, input reading."""

from __future__ import annotations

import json
import os
import sys
import time

import click

from ..errors import InvalidInputError, UsageError


class Ctx:
    """What the top-level options set up; commands ask it for the repo."""

    def __init__(self, tract_dir: str | None, color: str, agent: str | None = None):
        self.tract_dir = tract_dir
        self.color = color
        self.agent = agent  # -A NAME: work in that sub-agent's context
        self._repo = None

    def repo(self):
        if self._repo is None:
            from ..ops.repo import Repo

            repo = Repo.open(self.tract_dir)
            if self.agent:
                from ..ops.agents import open_agent

                repo = open_agent(repo, self.agent)
            self._repo = repo
        return self._repo

    @property
    def use_color(self) -> bool:
        if self.color == "always":
            return True
        if self.color == "never" or os.environ.get("NO_COLOR"):
            return False
        return sys.stdout.isatty()


pass_ctx = click.make_pass_decorator(Ctx)


def style(ctx: Ctx, text: str, **kw) -> str:
    return click.style(text, **kw) if ctx.use_color else text


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    click.echo(text, err=err, nl=nl, color=True)


def emit_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


def warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


def hint(text: str) -> None:
    click.echo(f"hint: {text}", err=True)


def short(oid: str | None, n: int = 7) -> str:
    return (oid or "")[:n]


def fmt_tokens(n: int, signed: bool = False) -> str:
    s = f"{n:,}"
    if signed and n >= 0:
        s = "+" + s
    return s


def fmt_time(epoch: int, offset_min: int) -> str:
    sign = "+" if offset_min >= 0 else "-"
    om = abs(offset_min)
    t = time.gmtime(epoch + offset_min * 60)
    return time.strftime("%a %b %d %H:%M:%S %Y", t).replace(" 0", "  ", 0) + f" {sign}{om // 60:02d}{om % 60:02d}"


def read_content(text: str | None, file: str | None, *, what: str = "content") -> str:
    """Content from an argument, ``--file`` (``-`` is stdin) or stdin when
    it is not a terminal.  Bytes must be UTF-8."""
    if text is not None and file is not None:
        raise UsageError(f"give the {what} as an argument or with --file, not both")
    if text is not None and text != "-":
        return text
    if file is not None and file != "-":
        try:
            with open(file, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidInputError(f"cannot read {file}: {e.strerror}") from None
        src = file
    else:
        stdin = getattr(sys.stdin, "buffer", sys.stdin)  # bytes, as given
        if text != "-" and file != "-" and sys.stdin is not None and sys.stdin.isatty():
            raise UsageError(f"no {what} given (pass it as an argument, with --file, or on stdin)")
        data = stdin.read()
        src = "stdin"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"{src} is not valid UTF-8 (byte {e.start})") from None


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


class EntryRefCommand(click.Command):
    """A command whose arguments may be negative positions (``tract pin -1``,
    ``tract show -2``): a token such as ``-1`` is an argument, not an
    option, while unknown options (``--frob``, ``-x``) are still refused."""

    def __init__(self, *args, **kw):
        kw.setdefault("context_settings", {})["ignore_unknown_options"] = True
        super().__init__(*args, **kw)

    def parse_args(self, ctx, args):
        takes_value = {}
        for p in self.params:
            if isinstance(p, click.Option):
                for o in p.opts + p.secondary_opts:
                    takes_value[o] = not (p.is_flag or p.count)
        for o in ctx.help_option_names:
            takes_value[o] = False
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a == "--":
                break
            if not a.startswith("-") or a == "-" or a[1:].isdigit():
                continue
            name = a.split("=", 1)[0] if a.startswith("--") else a[:2]
            if name not in takes_value:
                raise click.NoSuchOption(name, ctx=ctx)
            skip = takes_value[name] and (a == name)
        return super().parse_args(ctx, args)
