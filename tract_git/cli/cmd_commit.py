from ._commitopts import make_command

command = make_command(
    "commit", None,
    """Append an entry to the context.

    The content comes from CONTENT, --file, or standard input.  Examples:

      tract commit -r user "How do I reverse a list?"

      git diff | tract commit -r tool -t artifact --name git-diff
    """,
)


MAN_EXAMPLES = """
Append a user message:

    $ tract commit -r user "How do I reverse a list?"

Append a file as a pinned instruction, with your own commit message:

    $ tract commit -r system -t instruction --pin -F rules.md -m "House rules"

Append a command's output (standard input) as a tool entry:

    $ git diff | tract commit -r tool -t artifact --name git-diff
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
"""
