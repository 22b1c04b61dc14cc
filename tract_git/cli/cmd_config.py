import click

from ..errors import NothingToDoError
from ..ops import config as _config
from ._common import echo, emit_json, pass_ctx
from ._render import commit_line


@click.command("config")
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.option("--unset", is_flag=True, help="Remove KEY.")
@click.option("-l", "--list", "list_", is_flag=True, help="List every setting.")
@click.option("--keys", "keys", is_flag=True, help="List every valid key (and its scope).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, key, value, unset, list_, keys, as_json):
    """Read or set a setting.

    Branch settings (budget, warn) live in the context snapshot, follow
    the branch and are versioned: setting one makes a commit.  Other keys
    (encoding, model, <operation>.model...) live in the store's git config
    under [tract].  Unknown keys are refused (`tract config --keys` lists
    the valid ones), and values are checked: numbers, choices, encodings.
    API keys are never stored: use the environment.

      tract config budget 8000        tract config warn 75,100
    """
    if keys:
        if as_json:
            emit_json([{"key": k, "scope": s} for k, s in _config.key_list()])
        else:
            for k, s in _config.key_list():
                echo(f"{k}\t{s}")
        return
    repo = ctx.repo()
    if list_ or key is None:
        items = _config.list_all(repo)
        if as_json:
            emit_json([i.to_json() for i in items])
        else:
            for i in items:
                echo(f"{i.key}={_fmt(i.value)}")
        return
    if unset or value is not None:
        res = _config.set_value(repo, key, None if unset else value)
        if as_json:
            emit_json(res.to_json())
        elif hasattr(res, "commit"):
            commit_line(ctx, res)
        return
    v = _config.get(repo, key)
    if v is None:
        click.get_current_context().exit(1)
    if as_json:
        emit_json(v.to_json())
    else:
        echo(_fmt(v.value))


def _fmt(v) -> str:
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return str(v)


MAN_EXAMPLES = """
Set a token budget for this branch (a versioned setting: makes a commit):

    $ tract config budget 8000

Warn at 75% and at 100% of the budget:

    $ tract config warn 75,100

Read one setting, list them all:

    $ tract config budget
    $ tract config -l

List every key tract knows (a tab, then "branch" or "store"):

    $ tract config --keys

Machine-local settings go to the store's git config under [tract]:

    $ tract config encoding cl100k_base
"""

MAN_EXIT_STATUS = """
1   reading a key that is not set, setting a branch setting to the value
    it already has, unsetting a key that is not set, or a commit-msg hook
    refused the config commit
129 a usage error: an invalid key or value, or a key that looks like a secret (API keys
    are never stored)
"""

MAN_SEE_ALSO = "tract-status(1), git-config(1)"
