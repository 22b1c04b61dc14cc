from ._commitopts import make_command

command = make_command("system", "system", """Append a system entry (shorthand for tract commit -r system).""")
