from ._commitopts import make_command

command = make_command("assistant", "assistant", """Append a assistant entry (shorthand for tract commit -r assistant).""")
