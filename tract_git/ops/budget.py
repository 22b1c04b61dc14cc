"""Compile within a token budget.

``compile_budget(repo, rev, budget, strategy)`` never returns more than
``budget`` tokens.  The budget defaults to the branch setting ``budget``,
the strategy to the branch setting ``compile.strategy``, else ``full``:

* ``full``: the whole context, or :class:`BudgetError` if it is over;
* ``window``: drop the oldest unpinned entries until the rest fits (a tool
  result whose call was dropped goes with it);
* ``compress``: if the context is over, compress the older part of the
  current branch into a summary that fits (a real compress commit, undoable
  like any other), then compile.

If the pinned entries alone are over the budget no strategy can help:
:class:`PinnedOverBudgetError` names the pinned total.  Skipped entries
never count.  Token counts are the entries' own (content plus tool calls),
as in the token notes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BudgetError, PinnedOverBudgetError, UsageError
from ..store import entrycache as _entrycache
from . import blobfacts as _facts
from .._lazy import lazy as _lazy
from .compile import CompileResult, compile as _compile
from .repo import Repo

# the compress strategy only: a window compile never loads it
_compress = _lazy("tract_git.ops.compress")

STRATEGIES = ("full", "window", "compress")
DEFAULT_STRATEGY = "full"


@dataclass
class BudgetCompileResult(CompileResult):
    budget: int | None = None
    strategy: str | None = None
    pinned_tokens: int = 0
    compressed: object = None  # the CompressResult when the compress strategy made one


def _check_strategy(v):
    from ..errors import ConfigError

    if str(v) not in STRATEGIES:
        raise ConfigError(f"unknown compile strategy '{v}' (expected one of: {', '.join(STRATEGIES)})")
    return str(v)


def _over(n: int, budget: int, strategy: str) -> BudgetError:
    return BudgetError(
        f"the context is {n:,} tokens, over the budget of {budget:,} (strategy {strategy})",
        hints=("use --strategy window or compress, or tract config compile.strategy window",),
    )


def _pinned_error(pinned: int, budget: int, n: int) -> PinnedOverBudgetError:
    return PinnedOverBudgetError(
        f"the {n} pinned entries alone are {pinned:,} tokens, over the budget of {budget:,}",
        hints=("unpin some entries (tract unpin) or raise the budget",),
    )


def _wrap(res: CompileResult, budget: int, strategy: str, pinned: int = 0,
          dropped=None, compressed=None) -> BudgetCompileResult:
    return BudgetCompileResult(res.commit, res.tree, res.messages, res.token_count, res.encoding,
                               res.approximate, list(dropped if dropped is not None else res.dropped),
                               None, budget, strategy, pinned, compressed)


def compile_budget(repo: Repo, rev: str | None = None, budget: int | None = None,
                   strategy: str | None = None, *, summarizer=None) -> CompileResult:
    """The compiled context at ``rev`` within ``budget`` tokens (see the
    module doc).  With no budget given and none set on the branch, a plain
    compile.  ``summarizer`` is used by the compress strategy (default: the
    offline summarizer)."""
    head = repo.head()
    if rev is None and head.commit is None:
        return _compile(repo, None)
    commit = repo.resolve(rev)
    settings = repo.settings(commit)
    if budget is None:
        budget = settings.get("budget")
        if budget is None:
            if strategy is not None:
                raise UsageError("a compile strategy needs a budget (--budget N or tract config budget N)")
            return _compile(repo, rev)
    if not isinstance(budget, int) or budget < 1:
        raise UsageError(f"invalid budget '{budget}': a whole number greater than 0")
    strategy = _check_strategy(strategy or settings.get("compile.strategy") or DEFAULT_STRATEGY)
    if strategy == "full":
        res = _compile(repo, rev)
        if res.token_count > budget:
            raise _over(res.token_count, budget, strategy)
        return _wrap(res, budget, strategy)
    if strategy == "window":
        return _window(repo, commit, budget)
    return _compress_then_compile(repo, rev, commit, budget, summarizer)


def _window(repo: Repo, commit: str, budget: int) -> BudgetCompileResult:
    tree = repo.store.commit(commit).tree
    key = ("window", tree, budget)
    hit = repo.compile_cache.get(key)
    if hit is not None:
        r: BudgetCompileResult = hit  # type: ignore[assignment]
        return BudgetCompileResult(commit, tree, r.messages, r.token_count, r.encoding, r.approximate,
                                   r.dropped, None, budget, "window", r.pinned_tokens)
    # every entry, decoded, through the entry cache (a file per bucket): the
    # priorities come with them, and the kept ones are the messages
    live = [e for e in _entrycache.read_entries(repo.store, tree) if e.priority != "skip"]
    bf = _facts.facts(repo)
    is_pinned = [e.priority == "pinned" for e in live]
    pinned_entries = [e for e, p in zip(live, is_pinned) if p]
    pinned = sum(bf.tokens(pinned_entries))
    if pinned > budget:
        raise _pinned_error(pinned, budget, len(pinned_entries))
    avail = budget - pinned
    keep = list(is_pinned)
    # newest first, so only what is kept (and one more) is ever counted
    k = len(live) - 1
    chunk = 64
    while k >= 0:
        lo = max(0, k - chunk + 1)
        counts = bf.tokens(live[lo:k + 1])
        stop = False
        for j in range(k - lo, -1, -1):
            if is_pinned[lo + j]:
                continue
            if counts[j] > avail:
                stop = True  # this one and every older unpinned entry are dropped
                break
            avail -= counts[j]
            keep[lo + j] = True
        if stop:
            break
        k = lo - 1
        chunk *= 2
    msgs = [e for e, kp in zip(live, keep) if kp]
    # a tool result whose call was dropped would be an orphan: drop it too
    first_kept = next((n for n, kp in enumerate(keep) if kp and not is_pinned[n]), None)
    if first_kept is not None and live[first_kept].role == "tool":
        dropped_calls = {c["id"] for e, kp in zip(live, keep) if not kp for c in e.tool_calls or ()}
        msgs = [e for e in msgs if e.pinned or e.role != "tool" or e.tool_call_id not in dropped_calls]
    kept_ids = {e.id for e in msgs}
    total = sum(bf.tokens(msgs))
    dropped = [e for e in live if e.id not in kept_ids]
    if total > budget:  # pragma: no cover - the selection above guarantees it
        raise _over(total, budget, "window")
    note = repo.note(commit)
    res = BudgetCompileResult(commit, tree, msgs, total, note.encoding or repo.counter.encoding,
                              note.approximate, dropped, None, budget, "window", pinned)
    if len(repo.compile_cache) > 64:
        repo.compile_cache.clear()
    repo.compile_cache[key] = res
    return res


def _compress_then_compile(repo: Repo, rev: str | None, commit: str, budget: int,
                           summarizer) -> BudgetCompileResult:
    head = repo.head()
    if commit != head.commit or (rev not in (None, "HEAD") and head.branch is None):
        raise UsageError("the compress strategy works on the current branch (HEAD) only")
    res = _compile(repo, None)
    if res.token_count <= budget:
        return _wrap(res, budget, "compress")
    items = repo.items(commit)
    entries = repo.entries(items)
    tok = {i.name: (0 if e.skipped else repo.tokens_of(i)) for i, e in zip(items, entries)}
    pins = [i for i, e in zip(items, entries) if e.pinned and not e.skipped]
    pinned = sum(tok[i.name] for i in pins)
    if pinned > budget:
        raise _pinned_error(pinned, budget, len(pins))
    start = 0
    while start < len(items) and items[start].role == "system":
        start += 1
    fixed = pinned + sum(tok[i.name] for i, e in zip(items[:start], entries[:start]) if not e.pinned)
    if fixed > budget:
        raise BudgetError(
            f"the pinned and leading system entries alone are {fixed:,} tokens, over the budget "
            f"of {budget:,} (pinned: {pinned:,})",
            hints=("use --strategy window, or raise the budget",))
    avail = budget - fixed
    if avail < 1:  # the pinned and leading system entries fill it: no room for a summary
        raise BudgetError(
            f"the pinned and leading system entries alone are {fixed:,} tokens: the budget of "
            f"{budget:,} leaves no room for a summary",
            hints=("use --strategy window, or raise the budget",))
    # a quarter of the room, but enough for a summary to say something
    target = max(min(avail // 4, _compress.DEFAULT_TARGET_MAX), min(avail, 32))
    room = avail - target
    # the newest unpinned entries that fit in what the summary leaves
    cut = len(items)
    for k in range(len(items) - 1, start - 1, -1):
        i, e = items[k], entries[k]
        if e.pinned or e.skipped:
            cut = k
            continue
        if tok[i.name] > room:
            break
        room -= tok[i.name]
        cut = k
    while cut < len(items) and items[cut].role == "tool":
        cut += 1  # do not keep a tool result without its call
    if cut - 1 < start:
        raise _over(res.token_count, budget, "compress")
    cres = _compress.compress(repo, f"{start}..{cut - 1}", summarizer=summarizer, target_tokens=target,
                              message=None)
    out = _compile(repo, None)
    if out.token_count > budget:
        raise BudgetError(
            f"after compressing, the context is {out.token_count:,} tokens, still over the budget "
            f"of {budget:,}; the compress is kept (tract undo reverts it)")
    return _wrap(out, budget, "compress", pinned, [], cres)
