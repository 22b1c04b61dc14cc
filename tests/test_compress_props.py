"""Properties over random histories and ranges: pins survive byte for byte,
undo restores the exact previous tree, compile under a budget never
exceeds it."""

import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tract_git import Entry, Tract
from tract_git.errors import CompressError, BudgetError, NothingToDoError, UsageError

WORDS = ["alpha", "beta", "gamma", "delta", "rotate", "logs", "42", "x=1;", "ünï", "🌍", "\n", "  "]

entry_st = st.tuples(
    st.sampled_from(["system", "user", "assistant"]),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join).filter(lambda s: s.strip()),
    st.sampled_from(["normal", "normal", "normal", "pinned", "skip"]),
)
history_st = st.lists(entry_st, min_size=2, max_size=14)
PROPS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


def _build(entries):
    d = tempfile.mkdtemp(prefix="tract-prop-")
    t = Tract.open(d + "/s")
    es = [Entry(role=r, content=c, priority=p) for r, c, p in entries]
    half = len(es) // 2  # two commits: a history, kept cheap
    t.commit_many(es[:half] or es[:1])
    if es[half or 1:]:
        t.commit_many(es[half or 1:])
    return t, d


def _tree(path):
    return subprocess.run(["git", "--git-dir", path, "rev-parse", "HEAD^{tree}"], capture_output=True,
                          text=True, check=True).stdout.strip()


@PROPS
@given(history_st, st.data())
def test_pins_survive_and_undo_restores_tree(entries, data):
    t, d = _build(entries)
    try:
        n = len(entries)
        a = data.draw(st.integers(0, n - 1))
        b = data.draw(st.integers(a, n - 1))
        before = t.entries()
        tree0 = _tree(t.path)
        offline = data.draw(st.booleans())
        try:
            if offline:
                res = t.compress(f"{a}..{b}", target_tokens=200)
            else:
                res = t.compress(f"{a}..{b}", summary="summary of the range")
        except NothingToDoError:
            assert all(e.pinned for e in before[a:b + 1])
            return
        except CompressError as e:
            # a generated summary that would make the context bigger is refused
            assert offline and "would make the context bigger" in str(e)
            assert _tree(t.path) == tree0
            return
        except UsageError as e:
            # a range that splits a tool call from its results, or a summary
            # given for a range with nothing to summarize (pinned or skipped)
            assert _tree(t.path) == tree0
            if "splits a tool call" in str(e):
                assert before[a].role == "tool" or (b + 1 < n and before[b + 1].role == "tool")
            else:
                assert not offline and all(e.pinned or e.skipped for e in before[a:b + 1]), str(e)
            return
        after = t.entries()
        count = t.repo.counter.count_entry
        assert res.tokens_before == sum(count(e) for e in before if not e.skipped)
        assert res.tokens_after == sum(count(e) for e in after if not e.skipped)
        assert t.repo.note(t.head).context_tokens == res.tokens_after
        pins = [(e.id, e.key, e.blob, e.content) for e in before if e.pinned]
        assert [(e.id, e.key, e.blob, e.content) for e in after if e.pinned] == pins
        # kept entries (outside the range, or pinned) in the same order; one summary where the range began
        kept = [e for i, e in enumerate(before) if not (a <= i <= b) or e.pinned]
        assert [e for e in after if e.type != "summary" or e in kept] == kept
        summ = [e for e in after if e not in kept]
        live = [e for e in before[a:b + 1] if not e.pinned and not e.skipped]
        if not live:  # only skipped entries besides pins: dropped, nothing to summarize
            assert summ == []
        else:
            assert len(summ) == 1 and summ[0].type == "summary"
            assert summ[0].key == live[0].key  # where the summarized part began
        t.undo()
        assert _tree(t.path) == tree0
        assert t.entries() == before
    finally:
        t.close()
        shutil.rmtree(d, ignore_errors=True)


@PROPS
@given(history_st, st.integers(1, 120), st.sampled_from(["full", "window", "compress"]))
def test_budget_never_exceeded(entries, budget, strategy):
    t, d = _build(entries)
    try:
        try:
            res = t.compile_budget(budget, strategy)
        except BudgetError:
            return  # refusing is allowed; returning too much is not
        assert res.token_count <= budget
        assert res.token_count == sum(t.repo.counter.count_entry(e) for e in res.messages)
        pinned = [e for e in t.entries() if e.pinned]
        assert all(p in res.messages for p in pinned) or strategy == "compress"
    finally:
        t.close()
        shutil.rmtree(d, ignore_errors=True)


def test_budget_filled_by_pins_and_system_is_a_budget_error():
    """Found by the property above: a budget the pinned and leading system
    entries fill exactly leaves no room for a summary; that is a
    BudgetError (the context cannot be made to fit), not a usage error."""
    t, d = _build([("system", "alpha alpha alpha alpha 42", "normal"), ("user", "alpha", "normal"),
                   ("system", "alpha 42 x=1; x=1; x=1;", "pinned")])
    try:
        fixed = sum(t.repo.counter.count_entry(e) for e in t.entries() if e.pinned or e.role == "system")
        with pytest.raises(BudgetError) as ei:
            t.compile_budget(fixed, "compress")
        assert "leaves no room for a summary" in str(ei.value)
    finally:
        t.close()
        shutil.rmtree(d, ignore_errors=True)
