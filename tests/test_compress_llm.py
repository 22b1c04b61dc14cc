"""Compress with a model: the real litellm path against the local fake
OpenAI server (tests/fakellm.py)."""

import json

import pytest


@pytest.fixture
def env(fake_llm):
    e = dict(fake_llm.env)
    e["TRACT_LLM_RETRIES"] = "0"
    return e


def _seed(cli):
    assert cli("init").code == 0
    cli("system", "You are terse.")
    cli("user", "--pin", "Rule: answer in French.")
    for i in range(4):
        cli("user", f"Question {i}?")
        cli("assistant", f"Answer {i}.")


def test_model_summary(cli, fake_llm, env, git, tmp_path, fsck):
    _seed(cli)
    store = str(tmp_path / "store")
    fake_llm.reply("The user asked questions 0 to 2; all were answered.", usage=(120, 12))
    r = cli("compress", "-k", "2", "--target-tokens", "50", "--json", env=env)
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert d["summary"]["content"] == "The user asked questions 0 to 2; all were answered."
    assert d["summary"]["source"] == "model"
    body = fake_llm.last
    assert body["model"] == "gpt-4o-mini" or body["model"].endswith("gpt-4o-mini")
    assert body["max_tokens"] == 50
    assert body["messages"][0]["role"] == "system"
    assert "shorter than 45 tokens" in body["messages"][0]["content"]
    assert body["messages"][1] == {"role": "user", "content": (
        "[0] user dialogue\nQuestion 0?\n\n[1] assistant dialogue\nAnswer 0.\n\n"
        "[2] user dialogue\nQuestion 1?\n\n[3] assistant dialogue\nAnswer 1.\n\n"
        "[4] user dialogue\nQuestion 2?\n\n[5] assistant dialogue\nAnswer 2.")}
    tr = git(store, "log", "-1", "--format=%(trailers:key=Tract-Summary-Source,valueonly)%(trailers:"
                                 "key=Tract-Summary-Usage,valueonly)")
    assert tr.split("\n")[:2] == ["model openai/gpt-4o-mini", "prompt=120 completion=12"]
    note = json.loads(git(store, "notes", "--ref=refs/notes/tract", "show", "HEAD"))
    assert note["compress"]["usage"] == {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132}
    assert note["compress"]["model"] == "openai/gpt-4o-mini"
    fsck(store)


def test_offline_flag_skips_the_model(cli, fake_llm, env):
    _seed(cli)
    r = cli("compress", "-k", "2", "--offline", "--json", env=env)
    assert r.code == 0, r.err
    assert json.loads(r.out)["summary"]["source"] == "offline-extractive"
    assert fake_llm.requests == []


def test_model_over_target_writes_nothing(cli, fake_llm, env, refs_of, tmp_path):
    _seed(cli)
    store = str(tmp_path / "store")
    snap = refs_of(store)
    fake_llm.reply("word " * 40)
    r = cli("compress", "-k", "2", "-t", "10", env=env)
    assert r.code == 128
    assert r.err.startswith("fatal: the summary is 40 tokens, over the target of 10; nothing written\n")
    assert refs_of(store) == snap


def test_model_failure_writes_nothing(cli, fake_llm, env, refs_of, tmp_path):
    _seed(cli)
    store = str(tmp_path / "store")
    snap = refs_of(store)
    fake_llm.error(500)
    r = cli("compress", "-k", "2", env=env)
    assert r.code == 128 and r.out == ""
    assert r.err.startswith("fatal: ") and len(r.err.splitlines()) <= 2, r.err
    assert refs_of(store) == snap


def test_api_model_and_compile_strategy(t, fake_llm, monkeypatch):
    for k, v in fake_llm.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TRACT_LLM_RETRIES", "0")
    t.system("sys", priority="pinned")
    for i in range(10):
        t.user(f"Question {i}: what is {i} squared and what does it mean for the table?")
        t.assistant(f"{i} squared is {i * i}.")
    fake_llm.reply("Squares 0 to 7 were computed.")
    total = t.compile().token_count
    res = t.compile_budget(total // 2, "compress")
    assert res.token_count <= total // 2
    assert res.compressed.summary_source == "model"
    assert [m.content for m in res.messages if m.type == "summary"] == ["Squares 0 to 7 were computed."]
    res2 = t.compress(summary="manual wins", keep_last=2)
    assert res2.summary_source == "manual" and len(fake_llm.requests) == 1


def test_long_range_is_summarized_in_chunks(cli, fake_llm, env, git, tmp_path):
    _seed(cli)
    store = str(tmp_path / "store")
    assert cli("config", "compress.chunkTokens", "30").code == 0
    fake_llm.reply("part one", usage=(10, 2))
    fake_llm.reply("part two", usage=(10, 2))
    fake_llm.reply("part three", usage=(10, 2))
    fake_llm.reply("all of it", usage=(10, 2))
    r = cli("compress", "-k", "2", "--json", env=env)
    assert r.code == 0, r.err
    assert json.loads(r.out)["summary"]["content"] == "all of it"
    assert len(fake_llm.requests) == 4
    # the last request summarizes the chunk summaries
    assert fake_llm.last["messages"][1]["content"] == (
        "[0] user summary\npart one\n\n[1] user summary\npart two\n\n[2] user summary\npart three")
    assert git(store, "log", "-1", "--format=%(trailers:key=Tract-Summary-Usage,valueonly)").strip() == \
        "prompt=40 completion=8 requests=4"
