from ._commitopts import make_command

command = make_command(
    "commit", None,
    """Append an entry to the context.

    The content comes from CONTENT, --file, or standard input.  Examples:

      tract commit -r user "How do I reverse a list?"

      git diff | tract commit -r tool -t artifact --name git-diff
    """,
)
