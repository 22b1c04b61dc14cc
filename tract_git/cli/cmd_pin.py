from ._entryops import priority_command

command = priority_command("pin", "pinned", """Pin an entry: kept verbatim by compression.

ENTRY is a position (0 first, -1 last), an entry id (or a unique prefix of
4+ characters), or a commit that introduced the entry.""")


MAN_EXAMPLES = """
Pin the system prompt (position 0):

    $ tract pin 0

Pin the entry a commit introduced:

    $ tract pin HEAD~2
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
1   the entry is already pinned
"""

MAN_SEE_ALSO = "tract-compress(1)"
