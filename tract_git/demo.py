"""`make demo`: build a real context history in a temporary store and show
it with tract and with plain git.  Needs no network and no model."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile


def run(cmd: list[str], env: dict, stdin: str | None = None) -> None:
    shown = " ".join(shlex.quote(c) for c in cmd)
    if stdin is not None:
        shown = f"printf %s {shlex.quote(stdin)} | {shown}"
    print(f"\n$ {shown}", flush=True)
    p = subprocess.run(cmd, env=env, input=stdin, text=True, capture_output=True)
    sys.stdout.write(p.stdout)
    if p.stderr:
        sys.stdout.write(p.stderr)
    sys.stdout.flush()
    if p.returncode not in (0, 1):
        raise SystemExit(f"demo step failed with exit {p.returncode}")


def main() -> None:
    bindir = os.path.dirname(sys.executable)
    tract = os.path.join(bindir, "tract")
    if not os.path.exists(tract):
        tract = "tract"
    with tempfile.TemporaryDirectory(prefix="tract-demo-") as tmp:
        env = dict(os.environ)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        env["TRACT_DIR"] = os.path.join(tmp, ".tract")
        env.setdefault("GIT_AUTHOR_NAME", "demo")
        env.setdefault("GIT_AUTHOR_EMAIL", "demo@example.com")
        env.setdefault("GIT_COMMITTER_NAME", "demo")
        env.setdefault("GIT_COMMITTER_EMAIL", "demo@example.com")
        store = env["TRACT_DIR"]
        print(f"# a context store in {store}")
        print("\n# 1. a conversation: every message is a git commit")
        run([tract, "init"], env)
        run([tract, "system", "--pin", "You are a careful Python tutor. Answer briefly."], env)
        run([tract, "user", "How do I reverse a list in Python?"], env)
        run([tract, "assistant", "Use slicing: items[::-1] returns a reversed copy; "
                                 "items.reverse() reverses in place."], env)
        run([tract, "user"], env, stdin="And a string?\n")
        run([tract, "assistant", "Strings are immutable, so slice: s[::-1]."], env)
        print("\n# 2. edit a message in place, set a token budget")
        run([tract, "edit", "-1", "Strings are immutable, so slice them: s[::-1] gives a new string."], env)
        run([tract, "config", "budget", "200"], env)
        run([tract, "status"], env)
        print("\n# 3. explore on a branch, then merge what worked")
        run([tract, "switch", "-c", "tangent"], env)
        run([tract, "user", "What about a tuple?"], env)
        run([tract, "assistant", "Same slice: t[::-1] returns a new tuple."], env)
        run([tract, "switch", "main"], env)
        run([tract, "user", "Thanks!"], env)
        run([tract, "merge", "tangent"], env)
        print("\n# 4. compress the older turns into a summary (offline, no model), pins kept")
        run([tract, "compress", "--keep-last", "2", "--summary",
             "The user asked how to reverse a list and a string; slicing [::-1] does both."], env)
        run([tract, "show", "--dropped", "HEAD"], env)
        run([tract, "compile", "--format", "text"], env)
        print("\n# 5. undo the compression: nothing is lost before gc")
        run([tract, "undo"], env)
        run([tract, "log", "--oneline"], env)
        run([tract, "diff", "HEAD~1"], env)
        print("\n# 6. the same history through plain git")
        run(["git", "--git-dir", store, "log", "--graph", "--format=%h %s", "-n", "8"], env)
        run(["git", "--git-dir", store, "log", "--format=%h %s%n%N", "-n", "2"], env)
        run(["git", "--git-dir", store, "ls-tree", "-r", "--name-only", "HEAD"], env)
        run(["git", "--git-dir", store, "fsck", "--strict"], env)
        print("\n# done: every step above is a git commit; the store was temporary.")


if __name__ == "__main__":
    main()
