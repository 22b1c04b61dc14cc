from ._entryops import priority_command

command = priority_command("unpin", "normal", """Return an entry to normal priority (undoes pin and skip).

ENTRY is a position, an entry id (prefix), or a commit that introduced it.""")


MAN_EXAMPLES = """
Return entry 4 to normal priority:

    $ tract unpin 4

Bring a skipped entry back into the compiled context:

    $ tract unpin 8dbe5a7c
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
1   the entry already has normal priority
"""
