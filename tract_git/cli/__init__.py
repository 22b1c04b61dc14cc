"""The command line: click, thin.  Each command parses, makes one call into
``tract_git.ops`` (or the facade), and renders.  Commands live one per
module, ``cmd_<name>.py`` (``cmd_cherry_pick`` is ``tract cherry-pick``),
each defining ``command``; they are found and imported lazily."""
