from ._entryops import priority_command

command = priority_command("pin", "pinned", """Pin an entry: kept verbatim by compression.

ENTRY is a position (0 first, -1 last), an entry id (or a unique prefix of
4+ characters), or a commit that introduced the entry.""")
