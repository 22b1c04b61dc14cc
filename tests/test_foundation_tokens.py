"""Acceptance: token counts (tiktoken o200k_base), the notes that hold them,
and the labelled approximation when no encoding can be loaded."""

from __future__ import annotations

import json
import math

import pytest

from tract_git import tokens
from foundation_fsck import fsck_after  # noqa: F401  (git fsck --strict after every test)

# tiktoken itself, its BPE file found offline the way tract finds it
ENC = tokens.encoder("o200k_base")
assert type(ENC).__module__.startswith("tiktoken")

# no request may leave the machine: a proxy on a closed local port makes
# any download attempt fail at once
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
           "NO_PROXY": "", "no_proxy": ""}


def n(text):
    return len(ENC.encode(text, disallowed_special=()))


TEXTS = ["hello", "The quick brown fox jumps over the lazy dog.", "漢字とかなの混じった文",
         "emoji 🌍🚀 and <|endoftext|> as text", "x" * 5000, "def f(x):\n    return x ** 2\n"]


def test_counts_match_tiktoken(t):
    total = 0
    for text in TEXTS:
        r = t.user(text)
        assert r.note.tokens_added == n(text), text
        total += n(text)
        assert r.note.context_tokens == total
    assert t.compile().token_count == total == t.status().tokens


def test_tool_calls_are_counted(t):
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}]
    r = t.assistant("calling", tool_calls=calls)
    expect = n("calling") + n(json.dumps(calls, ensure_ascii=False, separators=(",", ":")))
    assert r.note.tokens_added == expect


def test_skip_and_edit_change_totals(t):
    t.user("one two three")  # 3
    t.user("four five")  # 2
    assert t.skip(0).note.context_tokens == 2
    assert t.unpin(0).note.context_tokens == 5
    r = t.edit(1, "four five six seven")
    assert (r.note.tokens_added, r.note.context_tokens) == (2, 7)


def test_notes_json_in_refs_notes_tract(t, git, fsck):
    t.user("hello world")
    r = t.assistant("hi")
    note = json.loads(git(t.path, "notes", "--ref", "tract", "show", r.commit))
    assert note == {"tokens_added": 1, "context_tokens": 3, "entries": 2, "encoding": "o200k_base"}
    # fanned out like git's own notes
    names = git(t.path, "ls-tree", "-r", "--name-only", "refs/notes/tract").split()
    assert sorted(names) == sorted(f"{c[:2]}/{c[2:]}" for c in (r.commit, r.parent))
    # a plain `git log` shows them (notes.displayRef)
    out = git(t.path, "log", "-1")
    assert "\nNotes (tract):\n    " + json.dumps(note) in out
    fsck(t.path)


def test_every_commit_kind_has_a_note(t, git):
    t.user("a")
    t.pin(0)
    t.skip(0)
    t.unpin(0)
    t.edit(0, "b")
    t.config("budget", 100)
    t.reset("HEAD~1", mode="soft")
    commits = git(t.path, "rev-list", "HEAD").split()
    notes = git(t.path, "notes", "--ref", "tract", "list").split()
    noted = set(notes[1::2])
    assert set(commits) <= noted
    for c in commits:
        d = json.loads(git(t.path, "notes", "--ref", "tract", "show", c))
        assert set(d) >= {"tokens_added", "context_tokens", "entries", "encoding"}


def _offline_env(tmp_path):
    empty = tmp_path / "no-bpe"
    empty.mkdir(exist_ok=True)
    # no BPE file and no fast-token table built from one (tract_git.fasttokens)
    return dict(OFFLINE, TIKTOKEN_CACHE_DIR=str(empty), XDG_CACHE_HOME=str(empty))


def test_offline_fallback_is_labelled_approximation(run_tract, cli, tmp_path, git, fsck):
    store = str(tmp_path / "store")
    assert cli("init", "-q").code == 0
    assert cli("user", "exact count here").code == 0
    # a process that cannot load the encoding (its BPE file not cached, no
    # network) still commits, with a labelled approximation
    text = "counted without a tokenizer ✓"
    r = run_tract("user", text, env=_offline_env(tmp_path))
    assert r.code == 0, r.err
    assert r.err == ""
    note = json.loads(git(store, "notes", "--ref", "tract", "show", "HEAD"))
    approx = math.ceil(len(text.encode()) / 4)
    assert note == {"tokens_added": approx, "context_tokens": approx + n("exact count here"),
                    "entries": 2, "encoding": "approx-bytes/4", "approximate": True}
    r = cli("status")
    assert r.out.splitlines()[1] == f"2 entries, {approx + 3} tokens (approximate)"
    assert json.loads(cli("status", "--json").out)["approximate"] is True
    r = cli("compile", "--tokens")
    assert r.code == 0 and r.err == f"{approx + 3} tokens, 2 messages, approx-bytes/4 (approximate)\n"
    r = cli("log", "--json", "-n", "1")
    assert json.loads(r.out)[0]["context_tokens"] == approx + 3
    # with the encoding back, the next commit replaces the approximation
    # by an exact count
    assert cli("assistant", "ok").code == 0
    note = json.loads(git(store, "notes", "--ref", "tract", "show", "HEAD"))
    assert note["context_tokens"] == n("exact count here") + n(text) + n("ok")
    assert "approximate" not in note and note["encoding"] == "o200k_base"
    assert cli("status").out.splitlines()[1] == f"3 entries, {note['context_tokens']} tokens"
    fsck(store)


def test_unknown_configured_encoding_falls_back(t, git, cli):
    git(t.path, "config", "tract.encoding", "no_such_encoding_xyz")
    from tract_git import Tract

    with Tract.open(t.path) as t2:
        r = t2.user("abcdefgh")
        assert (r.note.tokens_added, r.note.approximate, r.note.encoding) == (2, True, "approx-bytes/4")
        assert t2.status().approximate is True
        assert t2.compile().approximate is True
    r = cli("status", store=t.path)
    assert (r.code, r.out.splitlines()[1]) == (0, "1 entries, 2 tokens (approximate)")


def test_config_encoding(t, cli, git):
    r = cli("config", "encoding", "cl100k_base", store=t.path)
    assert (r.code, r.out, r.err) == (0, "", "")
    assert git(t.path, "config", "tract.encoding").strip() == "cl100k_base"
    r = cli("user", "hello world", store=t.path)
    note = json.loads(git(t.path, "notes", "--ref", "tract", "show", "HEAD"))
    assert note["encoding"] == "cl100k_base"
    assert note["tokens_added"] == len(tokens.encoder("cl100k_base").encode("hello world"))
    r = cli("config", "encoding", "bogus_enc", store=t.path)
    assert (r.code, r.err) == (129, "error: unknown or unavailable encoding 'bogus_enc'\n")
    assert git(t.path, "config", "tract.encoding").strip() == "cl100k_base"


@pytest.mark.parametrize("key", ["api_key", "openai.api_key", "llm.apiKey", "secret", "anthropic.auth-token"])
def test_config_refuses_secrets(t, cli, refs_of, key):
    before = refs_of(t.path)
    cfg = open(t.path + "/config").read()
    r = cli("config", key, "sk-abcdefghijklmnopqrstuvwxyz", store=t.path)
    assert (r.code, r.out) == (129, "")
    assert r.err == (f"error: refusing to store '{key}': secrets are never written into a store\n"
                     "hint: pass API keys as arguments or environment variables (e.g. OPENAI_API_KEY)\n")
    assert open(t.path + "/config").read() == cfg
    assert refs_of(t.path) == before


def test_config_refuses_secret_values(t, cli, refs_of):
    before = refs_of(t.path)
    cfg = open(t.path + "/config").read()
    r = cli("config", "model", "sk-proj-abcdefghijklmnopqrstuvwxyz", store=t.path)
    assert (r.code, r.out) == (129, "")
    assert r.err == ("error: refusing to store the value of 'model': it looks like an API key or token\n"
                     "hint: pass API keys as arguments or environment variables (e.g. OPENAI_API_KEY)\n")
    assert open(t.path + "/config").read() == cfg
    assert refs_of(t.path) == before
    r = cli("config", "model", "gpt-4o-mini", store=t.path)
    assert (r.code, r.err) == (0, "")
    assert cli("config", "model", store=t.path).out == "gpt-4o-mini\n"
