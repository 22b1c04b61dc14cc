"""Entry point of ``tract`` and ``git-tract``.

Maps every error to git's exit codes in one place: 0 ok, 1 a negative
answer, 128 fatal, 129 usage, 130 interrupted.  No traceback unless
``TRACT_TRACE=1``.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from .. import __version__
from ..errors import TractError
from ._common import Ctx

_HERE = os.path.dirname(os.path.abspath(__file__))


def command_names() -> list[str]:
    names = []
    for f in os.listdir(_HERE):
        if f.startswith("cmd_") and f.endswith(".py"):
            names.append(f[4:-3].replace("_", "-"))
    return sorted(names)


class LazyGroup(click.Group):
    """Finds commands as ``cmd_<name>.py`` modules and imports only the one
    that runs (``tract status`` never imports the merge or LLM code)."""

    def list_commands(self, ctx):
        return command_names()

    def get_command(self, ctx, name):
        if name not in command_names():
            return None
        mod = importlib.import_module(f"{__package__}.cmd_{name.replace('-', '_')}")
        return mod.command

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            rows.append((name, cmd.get_short_help_str(60)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.option("-C", "chdir", multiple=True, metavar="DIR",
              help="Run as if tract was started in DIR (repeatable, like git -C).")
@click.option("--tract-dir", envvar="TRACT_DIR", metavar="PATH",
              help="The store to use (default: .tract found walking up; env TRACT_DIR).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour the output.")
@click.option("-A", "--agent", envvar="TRACT_AGENT", metavar="NAME",
              help="Act in sub-agent NAME's context (see tract-spawn(1); env TRACT_AGENT).")
@click.version_option(__version__, "--version", prog_name="tract")
@click.pass_context
def cli(ctx, chdir, tract_dir, color, agent):
    """tract: version control for an LLM agent's context window, on real git.

    Every change to the context is a git commit in a bare repository
    (default .tract/), so `git --git-dir .tract log` shows it too.
    See tract(1) and tract-format(5).
    """
    for d in chdir:
        try:
            os.chdir(d)
        except OSError as e:
            raise TractError(f"cannot change to '{d}': {e.strerror}") from None
    ctx.obj = Ctx(tract_dir, color, agent=agent or None)


def _print_error(err: TractError) -> None:
    prefix = "fatal" if err.exit_code == 128 else "error"
    click.echo(f"{prefix}: {err}", err=True)
    for h in err.hints:
        click.echo(f"hint: {h}", err=True)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    from .. import tokens

    tokens.BUILD_FAST_TABLE = True  # see tract_git.fasttokens
    prog = "git tract" if os.path.basename(sys.argv[0]).startswith("git-") else "tract"
    Ctx.current = None
    try:
        rv = cli.main(args=args, prog_name=prog, standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as e:
        code = e.exit_code
    except click.exceptions.NoArgsIsHelpError as e:
        click.echo(e.ctx.get_help() if e.ctx else str(e), err=True)
        code = 129
    except click.UsageError as e:
        msg = " ".join(e.format_message().split()).rstrip(".")  # one line
        msg = msg[0].lower() + msg[1:] if msg else msg
        where = f"{prog} {e.ctx.command.name}" if e.ctx and e.ctx.parent else prog
        click.echo(f"error: {msg} (see '{where} -h')", err=True)
        code = 129
    except click.exceptions.Abort:
        click.echo("", err=True)
        code = 130
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        code = 129 if e.exit_code == 2 else 128
    except TractError as e:
        if os.environ.get("TRACT_TRACE") == "1":
            import traceback

            traceback.print_exc()
        if Ctx.current is not None:  # what hooks printed came first, as git shows it
            Ctx.current.flush_hook_output()
        _print_error(e)
        code = e.exit_code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            os._exit(141)
    except Exception as e:  # a bug: say so in one line, trace on request
        if os.environ.get("TRACT_TRACE") == "1":
            import traceback

            traceback.print_exc()
        click.echo(f"fatal: internal error: {type(e).__name__}: {e} (set TRACT_TRACE=1 for a traceback)",
                   err=True)
        code = 128
    if Ctx.current is not None:
        Ctx.current.flush_hook_output()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os._exit(141)
    sys.exit(code)


if __name__ == "__main__":
    main()
