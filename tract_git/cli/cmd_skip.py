from ._entryops import priority_command

command = priority_command("skip", "skip", """Skip an entry: kept in history, left out of compile.

ENTRY is a position, an entry id (prefix), or a commit that introduced it.""")
