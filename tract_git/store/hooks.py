"""Running hooks the way git does (libgit2 runs none).

Hooks live in the store's ``hooks/`` directory, or in ``core.hooksPath``.
A hook is run when the file exists and is executable; its working directory
is the store, ``GIT_DIR`` and ``TRACT_DIR`` name the store, and ``TRACT_OP``
the operation.  See man/tract-hooks.5.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class HookResult:
    name: str
    returncode: int
    stderr: str


class HookRunner:
    def __init__(self, store_path: str, hooks_path: str | None):
        if hooks_path:
            hooks_path = os.path.expanduser(hooks_path)
            if not os.path.isabs(hooks_path):
                hooks_path = os.path.join(store_path, hooks_path)
        self.dir = hooks_path or os.path.join(store_path, "hooks")
        self.store_path = store_path
        self.disabled = os.environ.get("TRACT_NO_HOOKS") == "1"

    def find(self, name: str) -> str | None:
        if self.disabled:
            return None
        p = os.path.join(self.dir, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
        return None

    def run(self, name: str, args: list[str] | None = None, *, stdin: bytes = b"",
            env: dict[str, str] | None = None) -> HookResult | None:
        path = self.find(name)
        if path is None:
            return None
        full_env = dict(os.environ)
        full_env.update({"GIT_DIR": self.store_path, "TRACT_DIR": self.store_path})
        if env:
            full_env.update(env)
        try:
            import subprocess  # lazily: most commands run no hook

            p = subprocess.run([path, *(args or [])], input=stdin, cwd=self.store_path,
                               env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            return HookResult(name, 126, f"cannot run hook {name}: {e.strerror}")
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        return HookResult(name, p.returncode, out)
