from ._entryops import priority_command

command = priority_command("unpin", "normal", """Return an entry to normal priority (undoes pin and skip).

ENTRY is a position, an entry id (prefix), or a commit that introduced it.""")
