"""merge --strategy semantic against a local fake model (real litellm path)."""

import json

import pytest

from tract_git.errors import LLMError, ModelNotConfiguredError


@pytest.fixture
def diverged(t):
    t.system("You are a travel agent.")
    t.user("Plan a trip.")
    t.branch("feat")
    t.edit(1, "Plan a trip to Rome.")
    t.user("Budget is 1000 EUR.")
    t.switch("feat")
    t.edit(1, "Plan a trip to Paris.")
    t.user("Budget is 1000 EUR.")
    t.user("Travel in May.")
    t.switch("main")
    return t


def _use(fake_llm, monkeypatch):
    for k, v in fake_llm.env.items():
        monkeypatch.setenv(k, v)


def test_semantic_merge_resolves_and_records_model(diverged, fake_llm, monkeypatch, git, cli, fsck):
    t = diverged
    _use(fake_llm, monkeypatch)
    es = t.entries()
    conflict_id = es[1].id
    feat = t.entries("feat")
    dup_id, may_id = feat[2].id, feat[3].id
    fake_llm.reply(json.dumps({
        "decisions": [
            {"id": conflict_id, "action": "rewrite", "content": "Plan a trip to Rome, then Paris."},
            {"id": dup_id, "action": "drop"},
        ],
        "summary": "kept both cities; dropped the repeated budget",
    }), usage=(120, 30))
    r = cli("merge", "--strategy", "semantic", "feat")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "Merge made by the 'semantic' strategy."
    assert r.out.splitlines()[-1].startswith(
        f" model {fake_llm.model}: 120 prompt + 30 completion tokens, cost 0.0000")
    assert [e.content for e in t.entries()] == [
        "You are a travel agent.", "Plan a trip to Rome, then Paris.", "Budget is 1000 EUR.",
        "Travel in May."]
    assert t.entries()[3].id == may_id
    msg = git(t.path, "log", "-1", "--format=%B")
    assert f"Tract-Model: {fake_llm.model}" in msg
    assert "Tract-Merge-Strategy: semantic" in msg
    assert "Tract-Usage: prompt=120 completion=30 total=150" in msg
    cost = 120 * 0.15e-6 + 30 * 0.6e-6
    assert f"Tract-Cost: {cost:.6f} USD" in msg
    assert "kept both cities" in msg
    assert len(git(t.path, "log", "-1", "--format=%P").split()) == 2
    note = json.loads(git(t.path, "notes", "--ref", "refs/notes/tract", "show", "HEAD"))
    assert note["llm"]["model"] == fake_llm.model and note["llm"]["usage"]["total_tokens"] == 150
    assert note["context_tokens"] == t.repo.compute_note(t.head).context_tokens
    # what the model was asked
    req = json.loads(fake_llm.last["messages"][1]["content"])
    assert [c["id"] for c in req["conflicts"]] == [conflict_id]
    assert req["conflicts"][0]["ours"]["content"] == "Plan a trip to Rome."
    assert [x["content"] for x in req["theirs_new"]] == ["Budget is 1000 EUR.", "Travel in May."]
    fsck(t.path)


def test_semantic_without_model_fails_clearly(diverged, cli, refs_of, monkeypatch):
    t = diverged
    before = refs_of(t.path)
    r = cli("merge", "-s", "semantic", "feat")
    assert r.code == 128
    assert r.err.splitlines()[0] == "fatal: no model configured for 'merge'"
    assert refs_of(t.path) == before
    with pytest.raises(ModelNotConfiguredError):
        t.merge("feat", strategy="semantic")


@pytest.mark.parametrize("reply,error", [
    ("not json at all", "expected a JSON object with 'decisions'"),
    (json.dumps({"decisions": []}), "no decision for conflicting entry"),
    (json.dumps({"decisions": [{"id": "ffffffffffff", "action": "drop"}]}), "was not offered to it"),
])
def test_semantic_bad_replies_write_nothing(diverged, fake_llm, monkeypatch, cli, refs_of, reply, error):
    t = diverged
    _use(fake_llm, monkeypatch)
    fake_llm.reply(reply)
    before = refs_of(t.path)
    r = cli("merge", "-s", "semantic", "feat")
    assert r.code == 128
    assert r.err.startswith("fatal: malformed reply from ") and error in r.err
    assert refs_of(t.path) == before
    with pytest.raises(LLMError):
        fake_llm.reply(reply)
        t.merge("feat", strategy="semantic")
