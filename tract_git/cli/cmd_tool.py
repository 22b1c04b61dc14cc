from ._commitopts import make_command

command = make_command("tool", "tool", """Append a tool entry (shorthand for tract commit -r tool).""")
