from ._entryops import priority_command

command = priority_command("skip", "skip", """Skip an entry: kept in history, left out of compile.

ENTRY is a position, an entry id (prefix), or a commit that introduced it.""")


MAN_EXAMPLES = """
Leave entry 1 out of what the model sees, keeping it in history:

    $ tract skip 1

Check the result:

    $ tract compile -f text
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
1   the entry is already skipped
"""
