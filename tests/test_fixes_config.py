"""``tract config`` refuses unknown keys and checks typed values; the list
of keys comes from the registries (branch keys, model settings, store
settings of compress/gc/agents)."""

from __future__ import annotations

import json

import pytest

UNKNOWN = "error: unknown config key '{}'\nhint: 'tract config --keys' lists the valid keys\n"


@pytest.fixture
def store(t):
    t.user("hi")
    return t.path


def _state(store, refs_of, git):
    return refs_of(store), git(store, "config", "--list", "--local")


@pytest.mark.parametrize("args, err", [
    (("nosuchkey", "3"), UNKNOWN.format("nosuchkey")),
    (("chat.nosuch", "3"), UNKNOWN.format("chat.nosuch")),
    (("nosuchop.model", "m"), UNKNOWN.format("nosuchop.model")),
    (("summary.model", "m"), UNKNOWN.format("summary.model")),
    (("--unset", "nosuchkey"), UNKNOWN.format("nosuchkey")),
    (("temperature", "hot"), "error: 'hot' is not a number\n"),
    (("chat.temperature", "nan"), "error: 'nan' is not a number\n"),
    (("compress.maxTokens", "lots"), "error: 'lots' is not a whole number\n"),
    (("retries", "1.5"), "error: '1.5' is not a whole number\n"),
    (("gc.keepDays", "soon"), "error: 'soon' is not a number\n"),
    (("compress.chunkTokens", "0"), "error: '0' must be greater than 0\n"),
    (("agents.history", "sometimes"), "error: 'sometimes' is not one of: link, detach\n"),
    (("model", " "), "error: empty value\n"),
    (("formatVersion", "2"), "error: 'formatVersion' is managed by tract\n"),
    (("budget", "lots"), "error: 'lots' is not a whole number\n"),
])
def test_refused(store, cli, refs_of, git, fsck, args, err):
    before = _state(store, refs_of, git)
    r = cli("config", *args, store=store)
    assert (r.code, r.out, r.err) == (129, "", err)
    assert _state(store, refs_of, git) == before
    fsck(store)


@pytest.mark.parametrize("key, value, stored", [
    ("temperature", "0.7", ("tract.temperature", "0.7")),
    ("chat.temperature", "0", ("tract.chat.temperature", "0")),
    ("compress.maxTokens", "300", ("tract.compress.maxTokens", "300")),
    ("commitmessages.model", "m", ("tract.commitMessages.model", "m")),  # tract's spelling
    ("merge.baseUrl", "http://127.0.0.1:9/v1", ("tract.merge.baseUrl", "http://127.0.0.1:9/v1")),
    ("gc.keepDays", "0.5", ("tract.gc.keepDays", "0.5")),
    ("agents.history", "Detach", ("tract.agents.history", "detach")),
    ("compress.chunkTokens", "2000", ("tract.compress.chunkTokens", "2000")),
])
def test_known_store_keys(store, cli, git, key, value, stored):
    r = cli("config", key, value, store=store)
    assert (r.code, r.out, r.err) == (0, "", "")
    k, v = stored
    assert git(store, "config", "--get", k).strip() == v
    lines = git(store, "config", "--get-regexp", "^tract\\.").splitlines()
    assert [x for x in lines if not x.startswith(("tract.encoding ", "tract.formatversion "))] == \
        [f"{k.rsplit('.', 1)[0]}.{k.rsplit('.', 1)[1].lower()} {v}"]  # one entry, in its subsection
    assert cli("config", key, store=store).out == f"{v}\n"


def test_unset_of_a_stale_unknown_key_is_allowed(store, cli, git):
    git(store, "config", "tract.oldkey", "x")  # written by an older tract or by hand
    r = cli("config", "--unset", "oldkey", store=store)
    assert (r.code, r.err) == (0, "")
    assert git(store, "config", "--get", "tract.oldkey", check=False).returncode == 1


def test_branch_key_in_any_case(store, cli, t):
    r = cli("config", "compress.keeplast", "3", store=store)
    assert r.code == 0, r.err
    assert t.config("compress.keepLast") == 3


def test_keys_listing(cli):
    r = cli("config", "--keys")  # needs no store
    assert (r.code, r.err) == (0, "")
    lines = r.out.splitlines()
    assert lines[:4] == ["budget\tbranch", "warn\tbranch", "compile.strategy\tbranch",
                         "compress.keepLast\tbranch"]
    for k in ("model\tstore", "temperature\tstore", "encoding\tstore", "gc.keepDays\tstore",
              "agents.history\tstore", "compress.chunkTokens\tstore", "commitMessages.model\tstore",
              "chat.maxTokens\tstore", "collapse.temperature\tstore"):
        assert k in lines
    d = json.loads(cli("config", "--keys", "--json").out)
    assert {"key": "budget", "scope": "branch"} in d and len(d) == len(lines)


def test_api_refuses_unknown_key(t, refs_of):
    from tract_git.errors import ConfigError

    t.user("x")
    before = refs_of(t.path)
    with pytest.raises(ConfigError, match="^unknown config key 'nosuchkey'$") as ei:
        t.config("nosuchkey", 3)
    assert ei.value.exit_code == 129
    assert refs_of(t.path) == before
    assert t.repo.store.get_config_local("tract.nosuchkey") is None
