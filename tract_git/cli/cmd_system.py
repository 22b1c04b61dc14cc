from ._commitopts import make_command

command = make_command("system", "system", """Append a system entry (shorthand for tract commit -r system).

The content comes from CONTENT, --file, or standard input, and is kept byte
for byte (it must be UTF-8).  Without -m the commit message is generated
from the content.  The output names the new commit, the entry id and the
tokens it added.

A system entry holds instructions; its content type defaults to instruction.""")


MAN_EXAMPLES = """
Pin the system prompt so compression keeps it word for word:

    $ tract system --pin "You are a careful Python tutor. Answer briefly."
    [main cafdcae] system: You are a careful Python tutor. Answer briefly.
     append 7c147e4bba7a: +10 tokens (context 10 tokens, 1 entries)

Read a long prompt from a file:

    $ tract system -F prompts/support.md -m "Support agent prompt v3"
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
"""
