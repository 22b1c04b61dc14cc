from ._commitopts import make_command

command = make_command("user", "user", """Append a user entry (shorthand for tract commit -r user).

The content comes from CONTENT, --file, or standard input, and is kept byte
for byte (it must be UTF-8).  Without -m the commit message is generated
from the content.  The output names the new commit, the entry id and the
tokens it added.

Its content type defaults to dialogue.""")


MAN_EXAMPLES = """
Append a user turn:

    $ tract user "How do I reverse a list in Python?"

Take the content from standard input (any UTF-8, kept byte for byte):

    $ printf 'And a string?\\n' | tract user

Print the new commit as JSON for a script:

    $ tract user --json "hello" | jq -r .commit
"""

MAN_EXIT_STATUS = """
1   a pre-commit or commit-msg hook refused the commit; nothing was written
"""
