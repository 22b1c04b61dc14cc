"""Acceptance: commit kinds, entry references, trailers, the blob format and
byte-for-byte round trips, checked through the API, the CLI and plain git."""

from __future__ import annotations

import json
import re

import pytest

from tract_git.store import codec
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)

LINE_RE = re.compile(r"^\[main ([0-9a-f]{7})\] (.*)\n (\w+)(?: ([0-9a-f, ]+))?: ([+-][\d,]+) tokens "
                     r"\(context ([\d,]+) tokens, (\d+) (?:entry|entries)\)\n$")


def commit_out(r):
    """Parse a commit's two-line output; asserts its shape."""
    assert r.code == 0, r.err
    assert r.err == ""
    m = LINE_RE.match(r.out)
    assert m, r.out
    return m.groups()


def tree_paths(git, store, rev="HEAD"):
    return git(store, "ls-tree", "-r", "--name-only", rev).split()


# --------------------------------------------------------------- appends
def test_role_shorthands_and_output(cli, tmp_path, git, fsck):
    store = str(tmp_path / "store")
    assert cli("init", "-q").code == 0
    for role in ("system", "user", "assistant", "tool"):
        short, subject, op, ids, added, total, n = commit_out(cli(role, f"{role} says hi"))
        assert subject == f"{role}: {role} says hi"
        assert op == "append"
        assert git(store, "rev-parse", "--short=7", "HEAD").strip() == short
        assert git(store, "log", "-1", "--format=%(trailers:key=Tract-Entry,valueonly)").strip() == ids
    roles = [p.rsplit("-", 1)[1] for p in tree_paths(git, store)]
    assert roles == ["system", "user", "assistant", "tool"]
    fsck(store)


def test_commit_with_role_type_pin_and_message(cli, tmp_path, git):
    store = str(tmp_path / "store")
    cli("init", "-q")
    short, subject, *_ = commit_out(cli("commit", "-r", "user", "-t", "my-notes.v2", "--pin",
                                        "-m", "Remember this", "the plan"))
    assert subject == "Remember this"
    path = tree_paths(git, store)[0]
    assert git(store, "show", f"HEAD:{path}") == (
        "Role: user\nType: my-notes.v2\nPriority: pinned\n\nthe plan")
    assert git(store, "log", "-1", "--format=%B") == (
        "Remember this\n\nTract-Op: append\nTract-Entry: " + path.rsplit("-", 2)[1] + "\n\n")


def test_commit_multiline_message_keeps_body(cli, tmp_path, git):
    store = str(tmp_path / "store")
    cli("init", "-q")
    commit_out(cli("user", "-m", "Subject line\n\nA body\nof two lines", "x"))
    msg = git(store, "log", "-1", "--format=%B")
    assert msg.startswith("Subject line\n\nA body\nof two lines\n\nTract-Op: append\nTract-Entry: ")


def test_commit_from_file_and_stdin(cli, tmp_path, git):
    store = str(tmp_path / "store")
    cli("init", "-q")
    data = "from a file\r\nwith CRLF\n\n\n"
    (tmp_path / "msg.txt").write_bytes(data.encode())
    commit_out(cli("tool", "--file", "msg.txt", "--tool-call-id", "call_1", "--name", "reader"))
    commit_out(cli("user", input="from stdin ✓\n".encode()))
    commit_out(cli("assistant", "-", input=b"dash means stdin"))
    commit_out(cli("commit", "-r", "system", "-F", "-", input=b"file dash"))
    out = json.loads(cli("compile", "-f", "dicts").out)
    assert [(m["role"], m["content"]) for m in out] == [
        ("tool", data), ("user", "from stdin ✓\n"), ("assistant", "dash means stdin"),
        ("system", "file dash")]
    assert out[0]["tool_call_id"] == "call_1" and out[0]["name"] == "reader"
    assert out[0]["type"] == "tool_io"


def test_both_argument_and_file_is_usage_error(cli, tmp_path, refs_of):
    cli("init", "-q")
    (tmp_path / "f").write_text("x")
    r = cli("user", "text", "--file", "f")
    assert (r.code, r.out, r.err) == (129, "", "error: give the content as an argument or with --file, not both\n")


def test_api_commit_kinds_and_types(t):
    r = t.user("hi", type="observation", priority="pinned", name="alice")
    assert r.op == "append" and len(r.entry_ids) == 1
    e = t.entries()[0]
    assert (e.role, e.type, e.priority, e.name, e.content) == ("user", "observation", "pinned", "alice", "hi")
    assert t.system("s").note.entries == 2
    many = t.commit_many([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    assert many.subject == "append 2 entries (user, assistant): a"
    assert len(many.entry_ids) == 2
    assert [e.content for e in t.entries()] == ["hi", "s", "a", "b"]


@pytest.mark.parametrize("content, subject", [
    ("hello   world\n\nsecond paragraph", "user: hello world second paragraph"),
    ("x" * 100, "user: " + "x" * 57 + "..."),
    ("  \n\t", None),  # whitespace only is content, subject shows it empty
])
def test_generated_subjects(t, git, content, subject):
    r = t.user(content)
    got = git(t.path, "log", "-1", "--format=%s").strip()
    if subject is None:
        assert got == "user: (empty)"
    else:
        assert got == subject == r.subject


def test_generated_subjects_for_edit_pin_skip(t, git):
    first = t.user("the question").entry_ids[0]
    t.pin(0)
    t.skip(0)
    t.unpin(0)
    t.edit(0, "the better question")
    subjects = git(t.path, "log", "--format=%s").splitlines()
    short = first[:8]
    assert subjects == [
        f"edit user {short}: the better question",
        f"unpin user {short}: the question",
        f"skip user {short}: the question",
        f"pin user {short}: the question",
        "user: the question",
    ]
    ops = git(t.path, "log", "--format=%(trailers:key=Tract-Op,valueonly)").split()
    assert ops == ["edit", "unpin", "skip", "pin", "append"]
    entries = set(git(t.path, "log", "--format=%(trailers:key=Tract-Entry,valueonly)").split())
    assert entries == {first}


def test_trailers_parse_with_git(t, git):
    r = t.assistant("done", message="Answer")
    body = git(t.path, "log", "-1", "--format=%B")
    parsed = git(t.path, "interpret-trailers", "--parse", input=body)
    assert parsed == f"Tract-Op: append\nTract-Entry: {r.entry_ids[0]}\n"


# ------------------------------------------------------- entry references
@pytest.fixture
def three(t):
    ids = [t.user("one").entry_ids[0], t.assistant("two").entry_ids[0], t.user("three").entry_ids[0]]
    commits = [c.commit for c in t.log()][::-1]
    return t, ids, commits


def test_entry_by_position(three):
    t, ids, _ = three
    assert t.pin(0).entry_ids == [ids[0]]
    assert t.pin(-1).entry_ids == [ids[2]]
    assert t.pin("-2").entry_ids == [ids[1]]
    assert [e.priority for e in t.entries()] == ["pinned"] * 3


def test_entry_by_id_prefix_and_commit(three):
    t, ids, commits = three
    assert t.skip(ids[1]).entry_ids == [ids[1]]
    assert t.unpin(ids[1][:6]).entry_ids == [ids[1]]
    # by the commit that introduced it: full hash, short hash, HEAD~N
    assert t.edit(commits[2], "THREE").entry_ids == [ids[2]]
    assert t.edit(commits[0][:8], "ONE").entry_ids == [ids[0]]
    # HEAD~5 is the commit that appended "two"
    assert t.pin("HEAD~5").entry_ids == [ids[1]]
    assert [e.content for e in t.entries()] == ["ONE", "two", "THREE"]


def test_cli_entry_references(cli, tmp_path):
    cli("init", "-q")
    cli("user", "one")
    cli("assistant", "two")
    _, _, op, eid, *_ = commit_out(cli("pin", "-1"))
    assert op == "pin"
    _, _, _, eid0, *_ = commit_out(cli("skip", "0"))
    _, _, op, eid2, *_ = commit_out(cli("unpin", eid[:5], "-m", "unpin two"))
    assert (op, eid2) == ("unpin", eid)
    _, subject, op, eid3, *_ = commit_out(cli("edit", "-2", "uno"))
    assert (op, eid3) == ("edit", eid0)
    _, _, _, eid4, *_ = commit_out(cli("edit", "HEAD~4", "-F", "-", input=b"dos"))
    assert eid4 == eid
    r = cli("compile", "-f", "dicts")
    assert [(m["content"], m["priority"]) for m in json.loads(r.out)] == [("dos", "normal")]
    r = cli("show", "-2", "--json")
    assert json.loads(r.out)["content"] == "uno" and json.loads(r.out)["priority"] == "skip"


@pytest.mark.parametrize("ref, err", [
    ("7", "fatal: no entry at position 7 (the context has 3 entries)\n"),
    ("-4", "fatal: no entry at position -4 (the context has 3 entries)\n"),
    ("deadbeef", "fatal: unknown entry 'deadbeef'\n"),
    ("main", None),  # main's tip introduced the last entry
    ("nosuch", "fatal: unknown entry 'nosuch'\n"),
])
def test_cli_unknown_entry(cli, tmp_path, refs_of, ref, err):
    cli("init", "-q")
    for x in ("a", "b", "c"):
        cli("user", x)
    before = refs_of(str(tmp_path / "store"))
    r = cli("pin", ref)
    if err is None:
        assert r.code == 0
        return
    assert (r.code, r.out, r.err) == (128, "", err)
    assert refs_of(str(tmp_path / "store")) == before


def test_commit_without_entry(t):
    from tract_git.errors import UnknownEntryError

    t.user("a")
    t.config("budget", 100)
    with pytest.raises(UnknownEntryError, match=r"does not name an entry"):
        t.pin("HEAD")


def test_pin_twice_is_nothing_to_do(cli, tmp_path, refs_of):
    cli("init", "-q")
    cli("user", "a")
    eid = commit_out(cli("pin", "0"))[3]
    before = refs_of(str(tmp_path / "store"))
    r = cli("pin", "0")
    assert (r.code, r.out, r.err) == (1, "", f"error: entry {eid} is already pinned\n")
    r = cli("edit", "0", "a")
    assert (r.code, r.err) == (1, f"error: entry {eid} already has that content\n")
    assert refs_of(str(tmp_path / "store")) == before


# --------------------------------------------------- format and round trip
TRICKY = [
    "plain",
    "Role: system\n\nI am not a header",
    "Role: user\nType: x\nPriority: pinned\n\n",
    "\n\n\nleading and trailing newlines\n\n\n",
    "crlf\r\nlines\r\n",
    "lone \r carriage return",
    "tabs\tand \x0b vertical \x0c feed \x1b[31m escape",
    "unicode: é ß 漢字 🌍 \u200d\u2028\u2029 \ufeffBOM inside \U0001f9d1\u200d\U0001f680",
    "a" * 3 + "\u0301",  # combining mark
    " ",
]


@pytest.mark.parametrize("content", TRICKY)
def test_round_trip_api_and_git(t, git, content):
    r = t.user(content)
    assert t.entries()[-1].content == content
    assert t.compile().to_openai()[-1]["content"] == content
    path = [p for p in tree_paths(git, t.path) if r.entry_ids[0] in p][0]
    raw = __import__("subprocess").run(["git", "--git-dir", t.path, "show", f"HEAD:{path}"],
                                       capture_output=True, check=True).stdout
    assert raw == b"Role: user\nType: dialogue\nPriority: normal\n\n" + content.encode()
    assert codec.content_of(raw) == content.encode()


@pytest.mark.parametrize("content", TRICKY)
def test_round_trip_cli(cli, tmp_path, content):
    cli("init", "-q")
    (tmp_path / "in.txt").write_bytes(content.encode())
    commit_out(cli("user", "--file", "in.txt"))
    commit_out(cli("user", input=content.encode()))
    out = json.loads(cli("compile", "-f", "openai").out)
    assert [m["content"] for m in out] == [content, content]
    r = cli("show", "-1")
    assert r.out.split("\n\n", 1)[1] == (content if content.endswith("\n") else content + "\n")


def test_round_trip_one_megabyte(t, git):
    line = "Ligne {} — ünïcödé 漢字 🌍 tokens, words, more words.\r\n"
    big = "".join(line.format(i) for i in range(16000))
    assert len(big.encode()) > 1_000_000
    r = t.assistant(big)
    t2 = type(t).open(t.path)
    assert t2.compile().to_openai()[0]["content"] == big
    path = tree_paths(git, t.path)[0]
    raw = __import__("subprocess").run(["git", "--git-dir", t.path, "cat-file", "blob", f"HEAD:{path}"],
                                       capture_output=True, check=True).stdout
    assert codec.content_of(raw) == big.encode()
    assert r.note.tokens_added > 100_000


def test_tool_calls_round_trip(t, git):
    calls = [{"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": "ü"}'}},
             {"id": "c2", "name": "flat", "arguments": {"n": 1}}]
    t.assistant("", tool_calls=calls)
    e = t.entries()[0]
    assert e.tool_calls == (
        {"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": "ü"}'}},
        {"id": "c2", "type": "function", "function": {"name": "flat", "arguments": '{"n":1}'}},
    )
    raw = git(t.path, "show", "HEAD:" + tree_paths(git, t.path)[0])
    assert raw.splitlines()[3].startswith('Tool-Calls: [{"id":"c1"')


def test_identical_content_shares_one_blob(t, git):
    t.user("same words")
    t.assistant("other")
    t.user("same words")
    lines = git(t.path, "ls-tree", "-r", "HEAD").splitlines()
    blobs = [ln.split()[2] for ln in lines]
    assert len(blobs) == 3 and blobs[0] == blobs[2] != blobs[1]
    assert len(set(tree_paths(git, t.path))) == 3  # but two distinct entries


def test_entry_keeps_its_path_through_edit_and_pin(t, git):
    t.system("sys")
    eid = t.user("v1").entry_ids[0]
    t.assistant("reply")
    path0 = [p for p in tree_paths(git, t.path) if eid in p]
    t.edit(eid, "v2")
    t.pin(eid)
    t.edit(eid, "v3")
    t.user("later")
    path1 = [p for p in tree_paths(git, t.path) if eid in p]
    assert path0 == path1 and len(path0) == 1
    assert path0[0].startswith("msg/") and path0[0].count("/") == 2
    # git log -- <path> is that message's history
    hist = git(t.path, "log", "--format=%s", "--", path0[0]).splitlines()
    assert hist == [f"edit user {eid[:8]}: v3", f"pin user {eid[:8]}: v2",
                    f"edit user {eid[:8]}: v2", "user: v1"]
    assert git(t.path, "show", f"HEAD~2:{path0[0]}") == "Role: user\nType: dialogue\nPriority: pinned\n\nv2"


def test_git_diff_shows_message_level_changes(t, git):
    t.user("question")
    t.assistant("first answer")
    t.edit(-1, "second answer")
    d = git(t.path, "diff", "HEAD~1", "HEAD")
    assert d.count("diff --git") == 1
    assert "-first answer" in d and "+second answer" in d
    stat = git(t.path, "diff", "--name-status", "HEAD~2", "HEAD").split()
    assert stat[0] == "A" and stat[1].endswith("-assistant")


def test_tree_layout_is_fanned_out(t, git):
    for i in range(30):
        t.user(f"m{i}")
    paths = tree_paths(git, t.path)
    assert len(paths) == 30
    assert paths == sorted(paths)  # lexicographic order is context order
    assert [t.entries()[i].content for i in range(30)] == [f"m{i}" for i in range(30)]
    top = git(t.path, "ls-tree", "HEAD").split()
    assert top[1] == "tree" and top[3] == "msg"


def test_digit_only_id_prefix_past_the_end(t):
    """A 4+ digit reference past the last position is tried as an entry id
    prefix (ids are hex and may start with digits only)."""
    from tract_git.errors import UnknownEntryError

    ids = [t.user(f"m{i}").entry_ids[0] for i in range(40)]
    usable = [i for i in ids if i[:4].isdigit() and int(i[:4]) >= 40
              and sum(j.startswith(i[:4]) for j in ids) == 1]
    assert usable, ids  # ids are fixed (fixed clock and author)
    assert t.pin(usable[0][:4]).entry_ids == [usable[0]]
    with pytest.raises(UnknownEntryError, match=r"no entry at position 9999 \(the context has 40 entries\)"):
        t.pin("9999")
    with pytest.raises(UnknownEntryError, match=r"no entry at position 40 "):
        t.pin("40")
