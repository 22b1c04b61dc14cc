"""The pure-Python config reader (tract_git.store.odb.parse_config and
read_config), judged by the git binary on this machine (2.39): whatever
it returns is what ``git config --list`` lists (the last value of a key;
a key git lists without a value is "true"), and a file git rejects gives
None."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tract_git.store import odb


def _listed(out: bytes) -> dict:
    vals = {}
    for item in out.split(b"\0")[:-1]:
        k, nl, v = item.partition(b"\n")
        vals[k.decode()] = v.decode() if nl else "true"
    return vals


def git_reads(path: str, text: str | bytes) -> dict | None:
    """What git lists for a file holding ``text``; None when it rejects it."""
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    p = subprocess.run(["git", "config", "-f", path, "--list", "-z"], capture_output=True)
    if p.returncode:
        assert b"bad config line" in p.stderr, p.stderr
        return None
    return _listed(p.stdout)


@pytest.fixture
def oracle(tmp_path):
    path = str(tmp_path / "cfg")
    return lambda text: git_reads(path, text)


def test_git_is_2_39():
    # the expected values below (a tab inside a value read as a space) are
    # git 2.39's; a newer git keeps internal whitespace as it is
    out = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    assert out.startswith("git version 2.39."), out


# (config text, what git 2.39 lists for it; None: git rejects the file)
CASES = [
    # 1. whitespace: quoted kept, leading skipped, unquoted trailing
    # dropped, each unquoted inner whitespace character one space
    ('[a]\nk = "  a  "\n', {"a.k": "  a  "}),
    ('[a]\nk =   a  " b "  \n', {"a.k": "a   b "}),
    ("[a]\nk = a\tb\n", {"a.k": "a b"}),
    ("[a]\nk = a \t b\t\n", {"a.k": "a   b"}),
    ("[a]\nk = a   b  \n", {"a.k": "a   b"}),
    ("[a]\nk = a\rb\n", {"a.k": "a b"}),  # a lone \r is whitespace
    ('[a]\nk = "a\tb"\n', {"a.k": "a\tb"}),
    ('[a]\nk = a ""\n', {"a.k": "a "}),  # an empty quote flushes the space before it
    ('[a]\nk = "" a\n', {"a.k": "a"}),
    ('[a]\nk = ""a"" b\n', {"a.k": "a b"}),
    ("[a]\nk = a\vb\fc\x1cd\u2028e\xa0\n", {"a.k": "a\vb\fc\x1cd\u2028e\xa0"}),  # not whitespace to git
    # 2. a comment ignores backslashes and quotes to the end of its line
    ("[a]\nk = v ; comment \\\nj = 2\n", {"a.k": "v", "a.j": "2"}),
    ("[a]\nk = v # comment \\\nj = 2\n", {"a.k": "v", "a.j": "2"}),
    ('[a]\nk = v ; say "hi\nj = 2\n', {"a.k": "v", "a.j": "2"}),
    ('[a]\nk = "v;#" ; c\n', {"a.k": "v;#"}),
    ("[a]\n; c \\\nk = 1\n", {"a.k": "1"}),
    # 3. trailing backslashes: odd continues the line, even are escaped
    ("[a]\nk = x\\\n  y\n", {"a.k": "x  y"}),
    ("[a]\nk = x \\\n  y\n", {"a.k": "x   y"}),
    ("[a]\nk = x\\\\\nj = 1\n", {"a.k": "x\\", "a.j": "1"}),
    ("[a]\nk = x\\\\\\\nj = 1\n", {"a.k": "x\\j = 1"}),
    ("[a]\nk = x\\\\\\\\\nj = 1\n", {"a.k": "x\\\\", "a.j": "1"}),
    ('[a]\nk = "x\\\n y"\n', {"a.k": "x y"}),
    ("[a]\nk = x\\", {"a.k": "x"}),  # at the end of the file
    ("[a]\nk = x\\\r\ny\r\n", {"a.k": "xy"}),
    # 4. escapes: \n \t \b \\ \" only; an open quote at the end of a line
    ('[a]\nk = \\n\\t\\b\\\\\\"\n', {"a.k": "\n\t\b\\\""}),
    ("[a]\nk = \\x\n", None),
    ("[a]\nk = a\\ b\n", None),
    ('[a]\nk = "\\a"\n', None),
    ("[a]\nk = v ; \\x\n", {"a.k": "v"}),
    ('[a]\nk = "ab\n', None),
    ('[a]\nk = "ab', None),
    ('[a]\nk = "ab\\\n', None),
    # 5. only \n (and \r\n) ends a line
    ("[a]\nk = 1\vj = 2\n", {"a.k": "1\vj = 2"}),
    ("[a]\nk = 1\u2028j = 2\x85\n", {"a.k": "1\u2028j = 2\x85"}),
    ("[a]\nk = 1\fj\n", {"a.k": "1\fj"}),
    ("[a]\n\vk = 1\n", None),
    ("[a]\r\nk = 1\r\nj = \"x \" \r\n\r\n", {"a.k": "1", "a.j": "x "}),
    ("[a]\nk = 1\r\r\n", {"a.k": "1"}),
    # section headers
    ('[a "b\\"c"]\nk = 1\n', {'a.b"c.k': "1"}),
    ('[a "b\\\\c"]\nk = 1\n', {"a.b\\c.k": "1"}),
    ('[a "b\\c"]\nk = 1\n', {"a.bc.k": "1"}),
    ('[A "B"]\nK = 1\n', {"a.B.k": "1"}),
    ("[a.B]\nk = 1\n", {"a.b.k": "1"}),
    ('[a.B "C"]\nk = 1\n', {"a.b.C.k": "1"}),
    ("[a]k=v\n", {"a.k": "v"}),
    ('[a "b"] k = v ; c\n', {"a.b.k": "v"}),
    ("[a][b]k=1\n", {"b.k": "1"}),
    ("[a] ; comment \\\nk = 1\n", {"a.k": "1"}),
    ('[a "b"]# c\nk = 1\n', {"a.b.k": "1"}),
    ('  \t[a "b"\t]\n', None),
    ('[a \t "b"]\nk = 1\n', {"a.b.k": "1"}),
    ('[a "b" ]\nk = 1\n', None),
    ('[a"b"]\nk = 1\n', None),
    ('[a "b"]]\nk = 1\n', None),
    ("[a b]\nk = 1\n", None),
    ('[a "b\nc"]\nk = 1\n', None),
    ("[a\n]\nk = 1\n", None),
    ("[]\nk = 1\n", None),
    ("[a_b]\nk = 1\n", None),
    ("[a\n", None),
    ("[a]\n[b", None),
    ("[a] x\n", {"a.x": "true"}),
    ("[a] !\n", None),
    # keys: a letter, then letters, digits and "-"; only " " or "\t" before "="
    ("[a]\nk-2x = 1\n", {"a.k-2x": "1"}),
    ("[a]\n1k = 1\n", None),
    ("[a]\n-k = 1\n", None),
    ("[a]\nk_x = 1\n", None),
    ("[a]\nk.x = 1\n", None),
    ("[a]\nk \t = 1\n", {"a.k": "1"}),
    ("[a]\nk\r= 1\n", None),
    ("[a]\nk\n", {"a.k": "true"}),
    ("[a]\nk \t\n", {"a.k": "true"}),
    ("[a]\nk", {"a.k": "true"}),
    ("[a]\nk\r\n", {"a.k": "true"}),
    ("[a]\nk \r \n", None),
    ("[a]\nk ; comment\n", None),  # a key with no "=" cannot take a comment
    ("[a]\nk v\n", None),
    ("[a]\nk =\n", {"a.k": ""}),
    ("[a]\nk = ; c\n", {"a.k": ""}),
    ("k = 1\n", {"k": "1"}),  # before any section
    # the last value wins; sections and keys lowercased, subsections not
    ('[a]\nk = 1\nK = 2\n[A]\nk = 3\n[a "X"]\nk = 4\n[a "x"]\nk = 5\n',
     {"a.k": "3", "a.X.k": "4", "a.x.k": "5"}),
    ("[a]\nk = 1\n[a.X]\nk = 2\n[a \"x\"]\nk = 3\n", {"a.k": "1", "a.x.k": "3"}),
    # a UTF-8 BOM at the start is skipped, only there
    ("\ufeff[a]\nk = 1\n", {"a.k": "1"}),
    ("\ufeff\ufeff[a]\nk = 1\n", None),
    ("[a]\n\ufeffk = 1\n", None),
    ("[a]\nk = \ufeff\n", {"a.k": "\ufeff"}),
    # comments and blank lines anywhere
    ("# c\n; c\n\n  \t\n[a]\n  # c\nk = 1 # c\n", {"a.k": "1"}),
    ("", {}),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_parse_config_reads_what_git_reads(oracle, text, expected):
    assert oracle(text) == expected
    assert odb.parse_config(text) == expected


@pytest.mark.parametrize("text, expected", CASES)
def test_slow_path_alone_reads_the_same(monkeypatch, text, expected):
    # the per-line fast paths (regexes) only skip work: with them off, the
    # character-by-character port of git's parser gives the same
    never = re.compile(r"(?!)")
    for name in ("_CFG_BLANK", "_CFG_HEADER", "_CFG_ENTRY"):
        monkeypatch.setattr(odb, name, never)
    assert odb.parse_config(text) == expected


@pytest.mark.parametrize("text", [
    "[include]\npath = other\n",
    '[includeIf "gitdir:/x/"]\npath = other\n',
    "[a]\nk = 1\n[Include]\n\tpath = x\n",
    "[a]\nk = 1\n[a] [include]\n",
    "[a]\nk = a\0b\n",  # git cuts the value at the NUL
])
def test_what_we_do_not_read_gives_none(text):
    assert odb.parse_config(text) is None


# ------------------------------------------------------------ the property
# pieces git takes, and pieces it may well reject (only in half the texts)
_HEADERS = ["[core]", "[Core]", '[a "b"]', '[a "B"]', '[a "x\\"y"]', '[a "x\\\\y"]', '[a "x\\y"]',
            "[a.B]", "[a.b]", '[a "b"] k = v', "[a]k=v", "[a] ; c \\", '[ "x"]', '[a.b "c"]',
            "[b] # c", "\t[a]", "[A]\tK", '[a\t"b;#"]', '[a ""]']
_BAD_HEADERS = ['[a "b" ]', "[a", "[]", '[a "b\\', "[a]]", '[a "b"]x', "[a\tb]", "[a_b]"]
_KEYS = ["k", "K", "key", "k-2", "x1", "a"]
_BAD_KEYS = ["1k", "k_x", "-k", "k.x"]
_SEPS = ["=", " = ", "\t=\t", " =", "= ", " \t = \t ", "=\r", ""]
_BAD_SEPS = [" ", "\t", "\r="]
_PIECES = ["a", "B c", "  ", "\t", '" q "', '""', "\\n", "\\t", "\\b", "\\\\", '\\"', ";", "#",
           " ; c", ' # c "', " ; c \\", "\r", "\v", "\f", "é", "\u2028", "'", "[", "]", "=",
           '"\\\n"', '" \\\r\n "', '"a\\"', " ; \\x"]
_BAD_PIECES = ['"', "\\", "\\\\\\", "\\x", "\\ ", "\\;"]
_COMMENTS = ["; c", "# c \\", '  ; "', "", "   ", "#\\", "\t# [a]"]
_EOLS = ["\n", "\n", "\n", "\r\n", "\\\n"]
_BAD_EOLS = ["\r"]  # a lone \r: the line goes on


@st.composite
def _config(draw):
    risky = draw(st.booleans())

    def pick(good, bad):
        return draw(st.sampled_from(good + bad if risky else good))

    def line():
        kind = draw(st.integers(0, 5))
        if kind == 0:
            return pick(_HEADERS, _BAD_HEADERS)
        if kind == 1:
            return draw(st.sampled_from(_COMMENTS))
        value = "".join(pick(_PIECES, _BAD_PIECES) for _ in range(draw(st.integers(0, 5))))
        return pick(["", " ", "\t"], ["\r"]) + pick(_KEYS, _BAD_KEYS) + pick(_SEPS, _BAD_SEPS) + value

    text = draw(st.sampled_from(["", "", "", "\ufeff"])) + pick(_HEADERS, _BAD_HEADERS) + "\n"
    for _ in range(draw(st.integers(0, 8))):
        text += line() + pick(_EOLS, _BAD_EOLS)
    return text + draw(st.sampled_from(["", "\n"]))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_config())
def test_parse_config_is_git_on_generated_configs(oracle, text):
    # nothing generated here uses includes or NULs, so the parser must give
    # exactly git's answer: the same values, or None where git rejects it
    assert odb.parse_config(text) == oracle(text)


# ------------------------------------------------------------- the files
@pytest.fixture
def bare(tmp_path):
    p = str(tmp_path / "r.git")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", p], check=True)
    return p


def git_config_list(git_dir: str) -> dict | None:
    """What git sees in this repository (every file); None when it dies."""
    p = subprocess.run(["git", "--git-dir", git_dir, "config", "--list", "-z"], capture_output=True)
    if p.returncode:
        return None
    return _listed(p.stdout)


def test_read_config_reads_bytes_not_text(bare):
    # text mode would read the lone \r as a newline (and x.k as "a")
    with open(os.path.join(bare, "config"), "ab") as f:
        f.write(b'[x]\n\tk = a\rb\n\tj = "c\rd"\n')
    vals = odb.read_config(bare)
    assert vals == git_config_list(bare)
    assert (vals["x.k"], vals["x.j"]) == ("a b", "c\rd")


def test_read_config_bom_and_undecodable(bare):
    cfg = os.path.join(bare, "config")
    with open(cfg, "rb") as f:
        text = f.read()
    with open(cfg, "wb") as f:
        f.write(b"\xef\xbb\xbf" + text + b"[x]\n\tk = 1\n")
    vals = odb.read_config(bare)
    assert vals == git_config_list(bare)
    assert vals["x.k"] == "1"
    with open(cfg, "ab") as f:
        f.write(b"\tj = \xff\n")  # git reads bytes; we read only UTF-8, and give up
    p = subprocess.run(["git", "--git-dir", bare, "config", "x.j"], capture_output=True, check=True)
    assert p.stdout == b"\xff\n"
    assert odb.read_config(bare) is None


def test_read_config_rejected_file(bare):
    with open(os.path.join(bare, "config"), "a") as f:
        f.write("[x]\n\tk = \\q\n")
    assert git_config_list(bare) is None
    assert odb.read_config(bare) is None


@pytest.mark.parametrize("nosystem", [
    None, "", "1", "0", "true", "TRUE", "yes", "On", "false", "no", "OFF", "-1", "2", " 1", "+1",
    "0x10", "0x0", "010", "00", "1k", "0k", "2m", "1G", "2147483647", "-2147483647", "2097151k",
    # git dies on these
    "abc", "1 ", "08", "0x", "1.0", "1kb", "2147483648", "-2147483648", "2097152k", "99999999999999999999",
])
def test_nosystem_is_a_git_boolean(bare, tmp_path, monkeypatch, nosystem):
    system = tmp_path / "system"
    system.write_text("[sys]\n\tk = 1\n")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(system))
    if nosystem is None:
        monkeypatch.delenv("GIT_CONFIG_NOSYSTEM")
    else:
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", nosystem)
    seen = git_config_list(bare)
    assert odb.read_config(bare) == seen
    if seen is not None:
        assert (str(system) in odb.config_files(bare)) == ("sys.k" in seen)
    else:  # git dies; the file list takes it as not set
        assert str(system) in odb.config_files(bare)


def test_system_file_named_empty_is_not_read(bare, tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_CONFIG_NOSYSTEM")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "")
    assert "/etc/gitconfig" not in odb.config_files(bare)
    assert odb.read_config(bare) == git_config_list(bare)


@pytest.mark.parametrize("home, xdg", [(True, True), (True, False), (False, True), (False, False)])
def test_global_files_follow_home_and_xdg(bare, tmp_path, monkeypatch, home, xdg):
    monkeypatch.delenv("GIT_CONFIG_GLOBAL")
    (tmp_path / "h" / ".config" / "git").mkdir(parents=True)
    (tmp_path / "h" / ".config" / "git" / "config").write_text("[g]\n\th = 1\n\tx = home-xdg\n")
    (tmp_path / "h" / ".gitconfig").write_text("[g]\n\tg = 1\n")
    (tmp_path / "x" / "git").mkdir(parents=True)
    (tmp_path / "x" / "git" / "config").write_text("[g]\n\tx = xdg\n\tg = 0\n")
    if home:
        monkeypatch.setenv("HOME", str(tmp_path / "h"))
    else:
        monkeypatch.delenv("HOME")
    if xdg:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "x"))
    else:
        monkeypatch.delenv("XDG_CONFIG_HOME")
    seen = git_config_list(bare)
    assert odb.read_config(bare) == seen
    assert seen.get("g.g") == ("1" if home else "0" if xdg else None)


def test_command_line_config_and_worktree_config_give_none(bare, monkeypatch):
    assert odb.read_config(bare) == git_config_list(bare)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "0")
    assert odb.read_config(bare) is None
    monkeypatch.delenv("GIT_CONFIG_COUNT")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'a.b=1'")
    assert odb.read_config(bare) is None
    monkeypatch.delenv("GIT_CONFIG_PARAMETERS")
    # git then reads config.worktree as well
    subprocess.run(["git", "--git-dir", bare, "config", "extensions.worktreeConfig", "true"], check=True)
    with open(os.path.join(bare, "config.worktree"), "w") as f:
        f.write("[w]\n\tk = 1\n")
    assert git_config_list(bare)["w.k"] == "1"
    assert odb.read_config(bare) is None


def test_store_config_cache_follows_the_environment(tmp_path, monkeypatch):
    from tract_git.store.repo import Store

    system = tmp_path / "system"
    system.write_text("[sys]\n\tk = 1\n")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(system))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "0")
    s = Store.init(str(tmp_path / "store"))
    vals = s._config_values(False)
    assert vals is not None and vals == git_config_list(s.path) and vals["sys.k"] == "1"
    # each of these makes read_config give None without changing a file
    # or the list of files: the cached values must not be used meanwhile
    for name, value, back in [("GIT_CONFIG_COUNT", "0", None), ("GIT_CONFIG_PARAMETERS", "'a.b=1'", None),
                              ("GIT_CONFIG_NOSYSTEM", "maybe", "0")]:
        monkeypatch.setenv(name, value)
        time.sleep(0.005)  # past the 2 ms the files are not looked at
        assert s._config_values(False) is None, name
        if back is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, back)
        time.sleep(0.005)
        assert s._config_values(False) == vals, name
