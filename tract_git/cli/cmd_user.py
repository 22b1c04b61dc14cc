from ._commitopts import make_command

command = make_command("user", "user", """Append a user entry (shorthand for tract commit -r user).""")
