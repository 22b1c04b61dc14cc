"""Reorder: move entries, keeping their ids.

A moved entry gets a new position key between its new neighbours
(``keys.between``), so its path changes and its id does not; a whole new
order keeps the keys of the longest run already in order and re-keys only
the rest.  A move that breaks the conversation is refused unless forced:
a tool result before the assistant turn that called it, an assistant turn
before the message it answers, the system instruction leaving the front.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import NothingToDoError, ReorderRefusedError, UsageError
from ..model import Entry
from ..store.repo import Item
from .lis import longest_increasing
from .repo import Change, CommitResult, Repo
from .threeway import item_name, keys_between


@dataclass
class ReorderResult:
    commit: CommitResult
    moved: list = field(default_factory=list)  # entry ids
    problems: list = field(default_factory=list)  # forced past these

    def to_json(self) -> dict:
        d = self.commit.to_json()
        d["moved"] = self.moved
        d["forced_past"] = self.problems
        return d


def conversation_problems(entries: list[Entry], order: list[str]) -> list[str]:
    """What a new order (entry ids) breaks that the old order (``entries``)
    did not."""
    old_pos = {e.id: n for n, e in enumerate(entries)}
    new_pos = {eid: n for n, eid in enumerate(order)}
    by_id = {e.id: e for e in entries}

    def short(e: Entry) -> str:
        return f"{e.role} {e.id[:8]}"

    problems = []
    # tool results and the assistant turn that called them
    callers = {}
    for e in entries:
        for c in e.tool_calls or ():
            callers[c["id"]] = e
    for e in entries:
        if e.role == "tool" and e.tool_call_id and e.tool_call_id in callers:
            call = callers[e.tool_call_id]
            if old_pos[e.id] > old_pos[call.id] and new_pos[e.id] < new_pos[call.id]:
                problems.append(f"tool result {e.id[:8]} would come before its tool call "
                                f"({short(call)}, {e.tool_call_id})")
    # assistant turns and the message they answer
    prompt = None
    for e in entries:
        if e.role == "assistant":
            if prompt is not None and new_pos[e.id] < new_pos[prompt.id]:
                problems.append(f"assistant turn {e.id[:8]} would come before the message it "
                                f"answers ({short(prompt)})")
        elif e.role in ("user", "tool"):
            prompt = e
    # the system instruction at the front
    if entries and entries[0].role == "system" and order[0] != entries[0].id:
        first = by_id[order[0]]
        problems.append(f"the system instruction {entries[0].id[:8]} would leave the front "
                        f"({short(first)} would come first)")
    return problems


def rekey(items: list[Item], order: list[str]) -> dict[str, str | None]:
    """Tree changes that put ``items`` in ``order`` (ids): keep the keys of
    a longest increasing run, give the others keys between neighbours."""
    by_id = {i.id: i for i in items}
    seq = [by_id[i] for i in order]
    keep = longest_increasing([i.key for i in seq])
    changes: dict[str, str | None] = {}
    n = 0
    while n < len(seq):
        if n in keep:
            n += 1
            continue
        m = n
        while m < len(seq) and m not in keep:
            m += 1
        lo = seq[n - 1].key if n > 0 else None
        hi = seq[m].key if m < len(seq) else None
        new_keys = keys_between(lo, hi, m - n)
        for it, k in zip(seq[n:m], new_keys):
            changes[it.name] = None
            changes[item_name(k, it.id, it.role)] = it.blob
        n = m
    return changes


def reorder(repo: Repo, entries: list[str], *, before: str | None = None, after: str | None = None,
            force: bool = False, message: str | None = None) -> ReorderResult:
    """Move ``entries`` (in the order given) before or after another entry;
    with neither, ``entries`` is the whole new order."""
    if before is not None and after is not None:
        raise UsageError("give --before or --after, not both")
    if not entries:
        raise UsageError("no entries to move")
    tip = repo.resolve(None)
    items = repo.items(tip)
    ids = []
    for ref in entries:
        _, it = repo.find_entry(ref, tip)
        if it.id in ids:
            raise UsageError(f"entry {it.id} is named twice")
        ids.append(it.id)
    current = [i.id for i in items]
    if before is None and after is None:
        if len(ids) != len(items):
            raise UsageError(f"a whole new order must name all {len(items)} entries "
                             f"({len(ids)} given); or use --before/--after")
        order = ids
    else:
        _, target = repo.find_entry(before if before is not None else after, tip)  # type: ignore[arg-type]
        if target.id in ids:
            raise UsageError(f"cannot move entry {target.id} relative to itself")
        rest = [i for i in current if i not in ids]
        at = rest.index(target.id) + (0 if before is not None else 1)
        order = rest[:at] + ids + rest[at:]
    if order == current:
        raise NothingToDoError("the entries are already in that order")
    es = repo.entries(items)
    problems = conversation_problems(es, order)
    if problems and not force:
        raise ReorderRefusedError(
            "reorder refused: it would break the conversation",
            problems=problems, hints=("use --force to move the entries anyway",),
        )
    changes = rekey(items, order)
    moved = [Item(*n.rsplit("-", 2), b).id for n, b in changes.items() if b is not None]
    moved = [i for i in order if i in set(moved)]
    subject = message or (f"reorder: move {len(moved)} entr{'y' if len(moved) == 1 else 'ies'} "
                          + (f"before {before}" if before is not None else
                             f"after {after}" if after is not None else "into a new order"))

    def build(t):
        if t != tip:
            from ..errors import RefUpdateError

            raise RefUpdateError("the branch moved during the reorder; run it again")
        tree = repo.store.build_tree(repo.store.commit(tip).tree, changes)
        note = repo.note(tip)
        return Change(tree, subject, "", [("Tract-Entry", i) for i in moved]
                      + ([("Tract-Forced", f"{len(problems)} conversation check(s)")] if problems else []),
                      context_tokens=note.context_tokens, entries=note.entries)

    res = repo.commit_loop(build, op="reorder")
    res.entry_ids = moved
    return ReorderResult(res, moved, problems)

