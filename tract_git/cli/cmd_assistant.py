from ._commitopts import make_command

command = make_command("assistant", "assistant", """Append an assistant entry (shorthand for tract commit -r assistant).

The content comes from CONTENT, --file, or standard input, and is kept byte
for byte (it must be UTF-8).  Without -m the commit message is generated
from the content.  The output names the new commit, the entry id and the
tokens it added.

Its content type defaults to dialogue.  Structured tool calls are recorded through
the Python API (t.assistant(tool_calls=[...])) or by a model call.""")


MAN_EXAMPLES = """
Record the model's reply:

    $ tract assistant "Use slicing: items[::-1] returns a reversed copy."

Keep a chain of thought in history but out of the compiled context:

    $ tract assistant --skip -t reasoning -F thoughts.txt
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
"""
