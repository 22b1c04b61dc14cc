"""What hooks print is shown on stderr, as git shows it; operations never
print: the post-commit output comes back on the result (``hook_output``)."""

from __future__ import annotations

import json
import os


def hook(store, name, body):
    d = os.path.join(store, "hooks")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(p, 0o755)


def test_post_commit_output_on_stderr(t, cli, fsck):
    t.user("first")
    hook(t.path, "post-commit", 'echo "post: $TRACT_OP" >&2\necho "to stdout"\nexit 3\n')
    r = cli("user", "second", store=t.path)
    assert r.code == 0
    assert r.out.splitlines()[0].endswith("] user: second")
    assert r.err == "to stdout\npost: append\n"
    # --json keeps stdout machine-readable; the hook still speaks on stderr
    r = cli("user", "--json", "third", store=t.path)
    assert r.code == 0 and json.loads(r.out)["op"] == "append"
    assert r.err == "to stdout\npost: append\n"
    fsck(t.path)


def test_pre_commit_output_shown_when_it_accepts(t, cli):
    hook(t.path, "pre-commit", 'printf "checked"\n')  # no final newline
    r = cli("user", "x", store=t.path)
    assert (r.code, r.err) == (0, "checked\n")


def test_api_result_carries_the_output(t):
    t.user("first")
    hook(t.path, "post-commit", 'echo "done $TRACT_OP" >&2\n')
    res = t.user("second")
    assert res.hook_output == "done append\n"
    res = t.import_messages([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert res.hook_output == "done append\n"
    os.unlink(os.path.join(t.path, "hooks", "post-commit"))
    assert t.user("third").hook_output == ""
