from ._commitopts import make_command

command = make_command("tool", "tool", """Append a tool entry (shorthand for tract commit -r tool).

The content comes from CONTENT, --file, or standard input, and is kept byte
for byte (it must be UTF-8).  Without -m the commit message is generated
from the content.  The output names the new commit, the entry id and the
tokens it added.

A tool entry holds a tool's result; --tool-call-id names the call it answers
(without one, compile sends it as a user turn).  Its content type defaults to tool_io.""")


MAN_EXAMPLES = """
Record a tool result, naming the call it answers:

    $ tract tool --tool-call-id call_1 --name search "3 results: ..."

Record a command's output as an artifact:

    $ git diff | tract tool -t artifact --name git-diff
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
"""
