"""Compress through the Python API: manual and offline summaries, pins,
plans, provenance, validation, undo."""

import pytest

from tract_git.errors import (
    BudgetError,
    CompressError,
    CompressValidationError,
    NothingToDoError,
    PlanError,
)
from tract_git.ops import compress as C
from tract_git.store.trailers import parse_message


def _history(t, n=10):
    t.system("You are terse.")
    t.user("Rule: answer in French.", priority="pinned")
    for i in range(n):
        t.user(f"Question {i}: what is {i} squared?")
        t.assistant(f"{i} squared is {i * i}.")


def _trailers(t, rev="HEAD"):
    c = t.repo.store.commit(t.repo.resolve(rev))
    return parse_message(c.message)[2]


def test_manual_summary_default_range(t, git, fsck):
    _history(t)
    before = t.entries()
    tip0 = t.head
    tree0 = git(t.path, "rev-parse", "HEAD^{tree}").strip()
    res = t.compress(summary="We squared 0 to 5.", keep_last=8)
    after = t.entries()
    # system (leading) and the pinned rule stay, then the summary, then the last 8
    assert [e.content for e in after] == (
        ["You are terse.", "Rule: answer in French.", "We squared 0 to 5."]
        + [e.content for e in before[-8:]])
    s = after[2]
    assert (s.role, s.type, s.priority, s.name) == ("user", "summary", "normal", None)
    # in place: the summary takes the key of the first replaced entry
    assert s.key == before[2].key
    # pinned entry: same path, same blob -> byte-identical
    assert (after[1].id, after[1].key, after[1].blob) == (before[1].id, before[1].key, before[1].blob)
    assert res.plan.start == 1 and res.plan.end == len(before) - 9
    assert [p.item.id for p in res.plan.kept] == [before[1].id]
    assert len(res.plan.combined) == len(before) - 8 - 2
    assert res.tokens_before == t.repo.note(tip0).context_tokens
    assert res.tokens_after == t.repo.note(t.head).context_tokens
    assert res.tokens_after == sum(t.repo.counter.count_entry(e) for e in after)
    tr = _trailers(t)
    assert tr == [
        ("Tract-Op", "compress"),
        ("Tract-Entry", s.id),
        ("Tract-Compressed-From", tip0),
        ("Tract-Compressed-Range", f"{before[1].id}..{before[-9].id}"),
        ("Tract-Compressed-Entries", f"{len(res.plan.combined)} combined, 0 dropped, 1 kept"),
        ("Tract-Summary-Source", "manual"),
    ]
    assert git(t.path, "rev-parse", "HEAD^").strip() == tip0
    # what was dropped is exactly the replaced entries, in order
    d = t.dropped("HEAD")
    assert [x.entry.content for x in d.entries] == [e.content for e in before[2:-8]]
    assert {x.action for x in d.entries} == {"combine"}
    # undo restores the exact previous tree
    t.undo()
    assert git(t.path, "rev-parse", "HEAD^{tree}").strip() == tree0
    assert t.entries() == before
    fsck(t.path)


def test_offline_summary_is_labelled_and_bounded(t):
    _history(t, 12)
    res = t.compress(target_tokens=60)
    s = res.summary
    assert s.name == "offline-extractive"
    assert s.content.startswith("[offline-extractive summary of 16 entries]\n- ")
    assert res.summary_source == "offline-extractive"
    assert res.summary_tokens <= 60
    assert ("Tract-Summary-Source", "offline-extractive") in _trailers(t)


def test_target_not_met_writes_nothing(t, refs_of):
    _history(t)
    snap = refs_of(t.path)
    with pytest.raises(BudgetError, match=r"^the summary is \d+ tokens, over the target of 3; nothing written$"):
        t.compress(summary="a summary that is certainly longer than three tokens", target_tokens=3)
    with pytest.raises(BudgetError, match="cannot fit in 2 tokens"):
        t.compress(target_tokens=2)  # offline: not even the header fits
    assert refs_of(t.path) == snap


def test_validation_failure_leaves_branch(t, refs_of, monkeypatch):
    _history(t, 4)
    snap = refs_of(t.path)
    store = t.repo.store
    real = store.build_tree
    pinned = t.entries()[1]

    def corrupt(base, changes, *a, **kw):  # a bug that would lose the pinned entry
        changes = dict(changes)
        changes[f"{pinned.key}-{pinned.id}-user"] = None
        return real(base, changes, *a, **kw)

    monkeypatch.setattr(store, "build_tree", corrupt)
    with pytest.raises(CompressValidationError,
                       match=f"compress validation failed: entry {pinned.id} is missing; nothing written"):
        t.compress(summary="s", keep_last=2)
    assert refs_of(t.path) == snap


def test_include_pins_and_explicit_range(t):
    _history(t, 3)
    es = t.entries()
    res = t.compress("1..4", summary="sum", include_pins=True)
    assert [p.item.id for p in res.plan.combined] == [e.id for e in es[1:5]]
    assert [e.content for e in t.entries()] == ["You are terse.", "sum"] + [e.content for e in es[5:]]
    assert t.entries()[1].key == es[1].key


def test_range_by_ids_and_errors(t):
    _history(t, 3)
    es = t.entries()
    res = t.compress(f"{es[2].id}..{es[3].id}", summary="two", dry_run=True)
    assert (res.plan.start, res.plan.end) == (2, 3)
    with pytest.raises(NothingToDoError, match="nothing to compress: every entry in 1..1 is kept"):
        t.compress("1", summary="x")
    with pytest.raises(NothingToDoError, match="the last 50 are kept"):
        t.compress(keep_last=50, summary="x")


def test_plan_text_and_json(t, git):
    _history(t, 4)
    es = t.entries()
    plan = f"""# comments and blank lines are ignored

keep {es[2].id}
drop 3
c 4..6
"""
    res = t.compress(plan=plan, summary="S")
    assert (res.plan.start, res.plan.end) == (2, 6)
    assert [p.action for p in res.plan.items] == ["keep", "drop", "combine", "combine", "combine"]
    after = t.entries()
    assert [e.content for e in after[:5]] == ["You are terse.", "Rule: answer in French.",
                                             es[2].content, "S", es[7].content]
    assert after[3].key == es[4].key
    tr = dict(_trailers(t))
    assert tr["Tract-Dropped"] == es[3].id
    assert tr["Tract-Compressed-Entries"] == "3 combined, 1 dropped, 1 kept"
    d = t.dropped()
    assert [(x.entry.id, x.action) for x in d.entries] == [
        (es[3].id, "drop"), (es[4].id, "combine"), (es[5].id, "combine"), (es[6].id, "combine")]
    t.undo()
    res = t.compress(plan='[{"action": "drop", "entries": "2..3"}]')
    assert res.summary is None and [p.action for p in res.plan.items] == ["drop", "drop"]
    assert git(t.path, "log", "-1", "--format=%s").strip().startswith("compress 2..3: 2 entries dropped")


def test_plan_errors(t):
    _history(t, 2)
    with pytest.raises(PlanError, match="plan line 1: unknown action 'squish'"):
        t.compress(plan="squish 2")
    with pytest.raises(PlanError, match=r"is pinned; the plan would combine it"):
        t.compress(plan="combine 1..3", summary="x")
    with pytest.raises(PlanError, match="the plan is empty"):
        t.compress(plan="# nothing\n")
    with pytest.raises(PlanError, match="outside the range 2..3"):
        t.compress("2..3", plan="drop 4", summary="x")
    with pytest.raises(PlanError, match="plan: no entry at position 99"):
        t.compress(plan="drop 99")


def test_plan_leaves_entries_it_does_not_name(t, refs_of):
    """Entries between the plan's first and last lines that no line
    names are kept, not folded into the summary."""
    _history(t, 4)
    es = t.entries()
    res = t.compress(plan=f"combine {es[3].id}\ncombine {es[6].id}\n", summary="S")
    assert [p.action for p in res.plan.items] == ["combine", "keep", "keep", "combine"]
    assert [e.content for e in t.entries()] == [e.content for e in es[:3]] + ["S"] + \
        [e.content for e in es[4:6]] + [e.content for e in es[7:]]


def test_named_range_never_splits_a_tool_call(t, refs_of):
    t.user("weather in Paris and Rome?")
    calls = [{"id": f"call_{i}", "type": "function",
              "function": {"name": "weather", "arguments": f'{{"city": "{c}"}}'}}
             for i, c in enumerate(("Paris", "Rome"))]
    t.assistant("", tool_calls=calls)
    t.tool("Paris sunny", tool_call_id="call_0")
    t.tool("Rome rainy", tool_call_id="call_1")
    t.assistant("Paris sunny, Rome rainy.")
    before = refs_of(t.path)
    for rng, pos in (("0..2", 3), ("2..4", 2), ("0..1", 2)):
        with pytest.raises(PlanError) as ei:
            t.compress(rng, summary="x")
        assert str(ei.value).startswith(f"the range {rng} splits a tool call from its results "
                                        f"(entry {pos} is a tool result)")
        assert ei.value.exit_code == 129
    assert refs_of(t.path) == before
    t.compress("0..3", summary="asked; Paris sunny, Rome rainy")
    assert [m["role"] for m in t.compile().to_openai()] == ["user", "assistant"]


def test_skipped_entries_in_a_range_are_dropped_not_summarized(t):
    t.user("SKIPPED TEXT", priority="skip")
    for i in range(3):
        t.user(f"question {i}")
    skipped = t.entries()[0].id
    res = t.compress("0..2", summary="S")
    assert [p.action for p in res.plan.items] == ["drop", "combine", "combine"]
    tr = dict(_trailers(t))
    assert tr["Tract-Compressed-Entries"] == "2 combined, 1 dropped, 0 kept"
    assert tr["Tract-Dropped"] == skipped
    assert [(x.entry.id, x.action) for x in t.dropped().entries][0] == (skipped, "drop")


def test_dry_run_plan_roundtrip(t, refs_of):
    _history(t, 5)
    snap = refs_of(t.path)
    res = t.compress(summary="x", dry_run=True, keep_last=4)
    assert res.commit is None and refs_of(t.path) == snap
    text = res.plan.to_text()
    assert text.splitlines()[0].startswith("# tract compress plan: main at ")
    again = t.compress_plan(plan=text)
    assert [(p.item.id, p.action) for p in again.items] == [(p.item.id, p.action) for p in res.plan.items]


def test_hierarchical_provenance(t):
    _history(t, 8)
    first = t.compress(summary="first half", keep_last=10)
    c1 = first.commit.commit
    s1 = first.summary.id
    t.user("more")
    second = t.compress(summary="everything", keep_last=1)
    tr = _trailers(t)
    assert ("Tract-Compressed-Summary", f"{s1} {c1}") in tr
    d = t.dropped(recursive=True)
    depth1 = [x for x in d.entries if x.depth == 1]
    assert [x.entry.content for x in depth1] == [x.entry.content for x in t.dropped(c1).entries]
    assert all(x.commit == c1 for x in depth1)
    assert second.summary.content == "everything"


def test_tool_calls_not_split_by_default_range(t):
    t.user("go")
    t.assistant("", tool_calls=[{"id": "c1", "function": {"name": "ls", "arguments": {}}}])
    t.tool("a b c", tool_call_id="c1")
    t.tool("more", tool_call_id="c1")
    t.user("thanks")
    res = t.compress(summary="s", keep_last=2)
    # keeping the last 2 would start the kept part with a tool result: the range stops earlier
    assert (res.plan.start, res.plan.end) == (0, 0)


def test_concurrent_change_detected(t):
    _history(t, 3)
    plan = t.compress_plan(keep_last=2)
    t.user("appended meanwhile")  # the branch moved: the range is intact, so the compress applies
    res = C.compress(t.repo, plan=plan, summary="s")
    assert t.entries()[-1].content == "appended meanwhile"
    assert res.commit.parent != plan.commit
    t.undo()
    t.undo()
    plan = t.compress_plan(keep_last=2)
    t.edit(3, "changed")
    with pytest.raises(CompressError, match="changed while compressing; nothing written"):
        C.compress(t.repo, plan=plan, summary="s")


def test_keep_last_branch_setting(t):
    _history(t, 5)
    t.config("compress.keepLast", 3)
    assert t.config("compress.keepLast") == 3
    p = t.compress_plan()
    assert p.end == len(t.entries()) - 4


def test_skipped_entries_removed_not_summarized_and_role(t):
    t.user("keep me out", priority="skip")
    t.user("Question about rotation? " + "We rotate the keys of every service by hand today. " * 8)
    t.assistant("Rotate daily. " + "A scheduled job can rotate them and restart the services. " * 8)
    t.user("last")
    res = t.compress("0..2", role="system", target_tokens=80)
    s = res.summary
    assert s.role == "system" and "keep me out" not in s.content
    assert s.content.startswith("[offline-extractive summary of 2 entries]")
    assert [e.content for e in t.entries()][1:] == ["last"]


def test_pre_commit_hook_refuses(t, refs_of):
    import os

    _history(t, 3)
    hook = os.path.join(t.path, "hooks", "pre-commit")
    os.makedirs(os.path.dirname(hook), exist_ok=True)
    with open(hook, "w") as f:
        f.write("#!/bin/sh\ngrep -q secret && { echo 'no secrets' >&2; exit 1; }\nexit 0\n")
    os.chmod(hook, 0o755)
    snap = refs_of(t.path)
    from tract_git.errors import HookRefusedError

    with pytest.raises(HookRefusedError, match="pre-commit hook refused the compress"):
        t.compress(summary="the secret plan", keep_last=2)
    assert refs_of(t.path) == snap
    assert t.compress(summary="fine", keep_last=2).summary.content == "fine"


def test_unborn_branch(t):
    from tract_git.errors import BadRevisionError

    with pytest.raises(BadRevisionError, match="HEAD has no commits yet"):
        t.compress(summary="x")
