"""Budget-aware compile: full, window, compress; pinned over budget."""

import pytest

from tract_git.errors import BudgetError, PinnedOverBudgetError, UsageError
from tract_git.ops.budget import compile_budget


def _ctx(t, n=10):
    t.system("You are terse.", priority="pinned")
    for i in range(n):
        t.user(f"Question {i}: what is {i} squared, and why does it matter here?")
        t.assistant(f"{i} squared is {i * i}; it matters because the table needs it.")


def _tok(t, entries):
    return sum(t.repo.counter.count_entry(e) for e in entries)


def test_full_within_and_over(t):
    _ctx(t, 3)
    total = t.compile().token_count
    assert t.compile_budget(total, "full").token_count == total
    with pytest.raises(BudgetError, match=rf"^the context is {total} tokens, over the budget of {total - 1} "
                                          r"\(strategy full\)$"):
        t.compile_budget(total - 1, "full")


def test_window_drops_oldest_unpinned(t):
    _ctx(t)
    full = t.compile()
    budget = full.token_count // 3
    res = t.compile_budget(budget, "window")
    assert res.token_count <= budget
    assert res.token_count == _tok(t, res.messages)
    assert res.messages[0].content == "You are terse."  # pinned, kept
    kept = res.messages[1:]
    # the kept unpinned entries are the newest ones, in order
    assert kept == full.messages[len(full.messages) - len(kept):]
    assert res.dropped == full.messages[1:len(full.messages) - len(kept)]
    # adding back the newest dropped entry would go over
    assert res.token_count + t.repo.counter.count_entry(res.dropped[-1]) > budget


def test_window_drops_orphaned_tool_results(t):
    t.user("x" * 10)
    t.assistant("", tool_calls=[{"id": "c1", "function": {"name": "big", "arguments": {"q": "y" * 200}}}])
    t.tool("result", tool_call_id="c1")
    t.user("last")
    budget = t.repo.counter.count_text("result") + t.repo.counter.count_text("last")
    res = t.compile_budget(budget, "window")
    assert [m.content for m in res.messages] == ["last"]


def test_pinned_alone_over_budget(t):
    t.system("A long pinned rule " * 20, priority="pinned")
    t.user("hi")
    pinned = t.repo.counter.count_text("A long pinned rule " * 20)
    for strategy in ("window", "compress"):
        with pytest.raises(PinnedOverBudgetError,
                           match=rf"^the 1 pinned entries alone are {pinned} tokens, over the budget of 10$"):
            t.compile_budget(10, strategy)


def test_branch_budget_and_strategy_settings(t, cli):
    _ctx(t, 4)
    total = t.compile().token_count
    t.config("budget", total - 5)
    with pytest.raises(BudgetError):
        t.compile_budget()
    t.config("compile.strategy", "window")
    res = t.compile_budget()
    assert res.token_count <= total - 5 and res.strategy == "window" and res.budget == total - 5
    r = cli("config", "compile.strategy", "sideways")
    assert (r.code, r.err) == (129, "error: unknown compile strategy 'sideways' "
                                    "(expected one of: full, window, compress)\n")
    with pytest.raises(UsageError, match="a compile strategy needs a budget"):
        t.unset_config("budget")
        compile_budget(t.repo, None, None, "window")


def test_compress_strategy(t, git):
    _ctx(t, 12)
    before = t.head
    total = t.compile().token_count
    budget = total // 2
    res = t.compile_budget(budget, "compress")
    assert res.token_count <= budget
    assert res.compressed is not None and t.head == res.compressed.commit.commit
    assert git(t.path, "rev-parse", "HEAD^").strip() == before
    assert res.messages[0].content == "You are terse."
    assert res.messages[1].type == "summary" and res.messages[1].name == "offline-extractive"
    # within budget now: a second compile does not compress again
    again = t.compile_budget(budget, "compress")
    assert again.compressed is None and t.head == res.compressed.commit.commit


def test_cli_compile_budget(cli, t):
    _ctx(t, 6)
    total = t.compile().token_count
    r = cli("compile", "--budget", str(total - 1))
    assert r.code == 128
    assert r.err == (f"fatal: the context is {total} tokens, over the budget of {total - 1} (strategy full)\n"
                     "hint: use --strategy window or compress, or tract config compile.strategy window\n")
    r = cli("compile", "--budget", "60", "--strategy", "window", "--tokens", "-f", "text")
    assert r.code == 0, r.err
    res = t.compile_budget(60, "window")
    assert r.out == res.to_text()
    assert r.err == (f"{res.token_count} tokens, {len(res.messages)} messages, {res.encoding}, "
                     f"budget 60 (window, {len(res.dropped)} entries dropped)\n")
    r = cli("compile", "--strategy", "window")
    assert (r.code, r.err) == (129, "error: a compile strategy needs a budget (--budget N or tract config "
                                    "budget N)\n")
    r = cli("compile", "--budget", "0")
    assert r.code == 129
