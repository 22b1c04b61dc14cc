"""Compress: replace a range of entries with one summary entry, in place.

The range is planned entry by entry: ``combine`` (folded into the summary),
``drop`` (removed, not summarized) or ``keep`` (left verbatim, at its own
path).  Pinned entries are kept unless ``include_pins``.  The summary entry
takes the position key of the first combined entry, so it sits where the
replaced history began; kept entries keep their keys, ids and blobs.

The summary text comes from the caller (manual), from a summarizer
callable (a model, wired in by the api/cli layers, which may use the LLM
adapter), or from the built-in offline summarizer
(:func:`tract_git.summarize.offline_summary`).

Nothing is lost: the compress commit's parent holds every replaced entry,
and the commit records it (``Tract-Compressed-From``) with the range and
the summaries it folded in (``Tract-Compressed-Summary: <id> <commit>``),
so :func:`dropped` lists exactly what a summary replaced, recursively, and
``tract undo`` / ``tract reset`` bring it back.

Every compress is validated before the branch moves: each pinned entry
keeps its path and blob (so its bytes are identical), the kept entries keep
their order, the summary sits where the range began and meets its target.
A failure raises and leaves the branch untouched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

from .. import summarize as _summarize
from ..errors import (
    BudgetError,
    CompressError,
    CompressValidationError,
    NothingToDoError,
    PlanError,
    UnknownEntryError,
    UsageError,
)
from ..model import Entry
from ..words import plural
from ..store import codec
from ..store.repo import Item
from ..store.trailers import parse_message, trailer, trailer_all
from . import blobfacts as _facts
from .commit import describe, snippet
from .repo import Change, CommitResult, Repo

ACTIONS = ("keep", "combine", "drop")
_ACTION_ALIASES = {"k": "keep", "keep": "keep", "pick": "keep",
                   "c": "combine", "combine": "combine", "squash": "combine", "s": "combine",
                   "d": "drop", "drop": "drop"}
#: entries left out of the default range (the most recent ones)
DEFAULT_KEEP_LAST = 8
#: summary size when no target is given: a tenth of what it replaces, within these bounds
DEFAULT_TARGET_MIN = 64
DEFAULT_TARGET_MAX = 1024
SUMMARY_ROLES = ("user", "system", "assistant")

#: a summarizer: (entries to combine, target tokens or None) -> Summary
Summarizer = Callable[[list, "int | None"], "Summary"]


@dataclass
class Summary:
    """The text of a summary and where it came from."""

    text: str
    source: str  # manual | offline-extractive | model
    model: str | None = None
    trailers: list = field(default_factory=list)  # extra (k, v) for the commit
    note: dict = field(default_factory=dict)  # extra fields for the token note (usage, cost)


@dataclass
class PlanItem:
    position: int
    item: Item
    action: str
    flags: int  # blobfacts PINNED | SKIP | SUMMARY
    repo: Repo | None = field(default=None, repr=False, compare=False)

    @property
    def pinned(self) -> bool:
        return bool(self.flags & _facts.PINNED)

    @property
    def skipped(self) -> bool:
        return bool(self.flags & _facts.SKIP)

    @property
    def is_summary(self) -> bool:
        return bool(self.flags & _facts.SUMMARY)

    @property
    def entry(self) -> Entry:
        """The entry itself (decoded on demand)."""
        return self.repo.entry(self.item)  # type: ignore[union-attr]

    def to_json(self) -> dict:
        pr = "pinned" if self.pinned else "skip" if self.skipped else "normal"
        return {"position": self.position, "id": self.item.id, "role": self.item.role,
                "priority": pr, "summary": self.is_summary, "action": self.action}


@dataclass
class CompressPlan:
    """What a compress of ``commit`` will do to the entries ``start..end``
    (positions, inclusive)."""

    commit: str
    branch: str | None
    start: int
    end: int
    items: list[PlanItem]
    include_pins: bool = False
    all_items: list = field(default_factory=list, repr=False)  # the whole snapshot of ``commit``

    @property
    def combined(self) -> list[PlanItem]:
        return [p for p in self.items if p.action == "combine"]

    @property
    def dropped(self) -> list[PlanItem]:
        return [p for p in self.items if p.action == "drop"]

    @property
    def kept(self) -> list[PlanItem]:
        return [p for p in self.items if p.action == "keep"]

    @property
    def removed(self) -> list[PlanItem]:
        return [p for p in self.items if p.action != "keep"]

    def to_text(self, tokens: dict[str, int] | None = None) -> str:
        """The plan in the format ``--plan`` reads back: one line per entry,
        ``<action> <entry id>`` and a comment saying what the entry is."""
        tokens = tokens or {}
        where = (self.branch or "").replace("refs/heads/", "") or "detached HEAD"
        lines = [
            f"# tract compress plan: {where} at {self.commit[:7]}, entries {self.start}..{self.end}",
            "# one line per entry: <action> <entry>  (keep | combine | drop; also k, c, d)",
            "#   combine: folded into the summary   drop: removed, not summarized",
            "#   keep: left verbatim in place       lines starting with # are ignored",
        ]
        for p in self.items:
            e = p.entry
            tok = tokens.get(p.item.blob)
            tok_s = f"{tok:>6}" if tok is not None else "     ?"
            flag = " pinned" if p.pinned else " skip" if p.skipped else ""
            lines.append(f"{p.action:<7} {p.item.id}  # {p.position:>5} {e.role:<9}{tok_s}{flag}  "
                         f"{describe(e)}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict:
        return {"commit": self.commit, "branch": self.branch, "start": self.start, "end": self.end,
                "include_pins": self.include_pins, "entries": [p.to_json() for p in self.items]}


@dataclass
class CompressResult:
    plan: CompressPlan
    summary: Entry | None
    summary_source: str | None
    summary_tokens: int
    tokens_before: int
    tokens_after: int
    entries_before: int
    entries_after: int
    target_tokens: int | None
    dry_run: bool
    commit: CommitResult | None = None

    @property
    def replaced_tokens(self) -> int:
        return self.tokens_before - self.tokens_after + self.summary_tokens

    def to_json(self) -> dict:
        d = {
            "dry_run": self.dry_run,
            "commit": self.commit.commit if self.commit else None,
            "parent": self.plan.commit,
            "branch": self.plan.branch,
            "range": [self.plan.start, self.plan.end],
            "combined": [p.item.id for p in self.plan.combined],
            "dropped": [p.item.id for p in self.plan.dropped],
            "kept": [p.item.id for p in self.plan.kept],
            "summary": None,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "entries_before": self.entries_before,
            "entries_after": self.entries_after,
            "target_tokens": self.target_tokens,
        }
        if self.summary is not None:
            d["summary"] = {"id": self.summary.id, "role": self.summary.role,
                            "source": self.summary_source, "tokens": self.summary_tokens,
                            "content": self.summary.content}
        return d


# ------------------------------------------------------------------ ranges
def _resolve_ref(repo: Repo, items: list[Item], ref: str, commit: str) -> int:
    ref = ref.strip()
    body = ref[1:] if ref.startswith("#") else ref
    if body.lstrip("-").isdigit() and len(body.lstrip("-")) <= 6:
        pos = int(body)
        n = len(items)
        if -n <= pos < n:
            return pos % n
        raise UnknownEntryError(f"no entry at position {pos} (the context has {plural(n, 'entry')})")
    return repo.find_entry(ref, commit)[0]


def parse_range(repo: Repo, items: list[Item], spec: str, commit: str) -> tuple[int, int]:
    """``A..B`` (inclusive; either side may be left out), or one entry.
    A and B are positions (``0``, ``-1``) or entry ids."""
    spec = spec.strip()
    if ".." in spec:
        a, _, b = spec.partition("..")
        start = _resolve_ref(repo, items, a, commit) if a.strip() else 0
        end = _resolve_ref(repo, items, b, commit) if b.strip() else len(items) - 1
    else:
        start = end = _resolve_ref(repo, items, spec, commit)
    if start > end:
        raise UsageError(f"empty range '{spec}': entry {start} comes after entry {end}")
    return start, end


def default_range(items: list[Item], keep_last: int) -> tuple[int, int] | None:
    """Everything older than the last ``keep_last`` entries, leaving out the
    leading system entries and never splitting a tool call from its results
    (the kept part does not start with a tool result)."""
    n = len(items)
    start = 0
    while start < n and items[start].role == "system":
        start += 1
    end = n - 1 - keep_last
    while end >= start and end + 1 < n and items[end + 1].role == "tool":
        end -= 1
    if end < start:
        return None
    return start, end


def keep_last_setting(repo: Repo, commit: str | None) -> int:
    v = repo.settings(commit).get("compress.keepLast")
    return int(v) if isinstance(v, int) and v >= 0 else DEFAULT_KEEP_LAST


# ------------------------------------------------------------------- plans
_PLAN_LINE = re.compile(r"^(\S+)\s+(\S+)\s*$")


def parse_plan(text: str) -> list[tuple[str, str]]:
    """A plan: text lines ``<action> <entry or A..B>`` (``#`` comments), or
    JSON: ``[{"action": "keep", "entries": "3..7"}, ...]`` or
    ``{"<entry or range>": "<action>", ...}``."""
    s = text.strip()
    steps: list[tuple[str, str]] = []
    if s.startswith("[") or s.startswith("{"):
        try:
            data = json.loads(s)
        except ValueError as e:
            raise PlanError(f"plan is not valid JSON: {e}") from None
        if isinstance(data, dict):
            pairs = [(str(v), str(k)) for k, v in data.items()]
        elif isinstance(data, list):
            pairs = []
            for i, d in enumerate(data):
                if not isinstance(d, dict) or "action" not in d or not ({"entries", "entry", "range"} & set(d)):
                    raise PlanError(f"plan step {i} needs 'action' and 'entries'")
                ref = d.get("entries", d.get("entry", d.get("range")))
                pairs.append((str(d["action"]), str(ref)))
        else:
            raise PlanError("a JSON plan is a list of steps or an object")
        for action, ref in pairs:
            a = _ACTION_ALIASES.get(action.strip().lower())
            if a is None:
                raise PlanError(f"unknown plan action '{action}' (expected keep, combine or drop)")
            steps.append((a, ref))
        return steps
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _PLAN_LINE.match(line)
        if not m:
            raise PlanError(f"plan line {n}: expected '<action> <entry>', got '{raw.strip()}'")
        a = _ACTION_ALIASES.get(m.group(1).lower())
        if a is None:
            raise PlanError(f"plan line {n}: unknown action '{m.group(1)}' (expected keep, combine or drop)")
        steps.append((a, m.group(2)))
    if not steps:
        raise PlanError("the plan is empty (every line is blank or a comment)")
    return steps


def make_plan(repo: Repo, range_spec: str | None = None, *, keep_last: int | None = None,
              plan: str | None = None, include_pins: bool = False,
              commit: str | None = None) -> CompressPlan:
    """Plan a compress of the current branch (or ``commit``)."""
    head = repo.head()
    tip = commit or repo.resolve(None)
    items = repo.items(tip)
    steps = parse_plan(plan) if plan is not None else []
    step_ranges: list[tuple[str, int, int]] = []
    for action, ref in steps:
        try:
            a, b = parse_range(repo, items, ref, tip)
        except (UnknownEntryError, UsageError) as e:
            raise PlanError(f"plan: {e}") from None
        step_ranges.append((action, a, b))
    if range_spec is not None:
        start, end = parse_range(repo, items, range_spec, tip)
    elif step_ranges:
        start = min(a for _, a, _ in step_ranges)
        end = max(b for _, _, b in step_ranges)
    else:
        if keep_last is None:
            keep_last = keep_last_setting(repo, tip)
        if keep_last < 0:
            raise UsageError("--keep-last must be 0 or more")
        r = default_range(items, keep_last)
        if r is None:
            raise NothingToDoError(
                f"nothing to compress: the context has {plural(len(items), 'entry')} and the last "
                f"{keep_last} are kept",
                hints=("name a range (e.g. tract compress 0..-3) or lower --keep-last",),
            )
        start, end = r
    if range_spec is not None or step_ranges:
        # a named range must not split a tool call from its results: the
        # call would be summarized and its result kept (or the other way
        # round), which no provider accepts (the default range never does)
        if items[start].role == "tool" or (end + 1 < len(items) and items[end + 1].role == "tool"):
            pos = start if items[start].role == "tool" else end + 1
            raise PlanError(f"the range {start}..{end} splits a tool call from its results "
                            f"(entry {pos} is a tool result)",
                            hints=("take the call and all its results into the range, or leave them out",))
    actions: dict[int, str] = {}
    for action, a, b in step_ranges:
        if a < start or b > end:
            raise PlanError(f"plan names entries {a}..{b}, outside the range {start}..{end}")
        for pos in range(a, b + 1):
            actions[pos] = action
    rng = items[start:end + 1]
    flags = _facts.facts(repo).flags(rng)
    out: list[PlanItem] = []
    for off, (item, f) in enumerate(zip(rng, flags)):
        pos = start + off
        a = actions.get(pos)
        pinned = f & _facts.PINNED
        if a is None:
            # an entry a plan does not name is left alone (a range names them
            # all); a skipped one is dropped, not summarized (tract-compress(1))
            if (pinned and not include_pins) or (step_ranges and range_spec is None):
                a = "keep"
            else:
                a = "drop" if f & _facts.SKIP else "combine"
        elif pinned and a != "keep" and not include_pins:
            raise PlanError(f"entry {item.id} (position {pos}) is pinned; the plan would {a} it",
                            hints=("pass --include-pins to compress pinned entries too",))
        out.append(PlanItem(pos, item, a, f, repo))
    return CompressPlan(tip, head.branch if commit is None else None, start, end, out, include_pins,
                        items)


def plan_tokens(repo: Repo, plan: CompressPlan) -> dict[str, int]:
    """Token count of each planned entry, by blob id (for ``to_text``)."""
    items = [p.item for p in plan.items]
    return {i.blob: n for i, n in zip(items, _facts.facts(repo).tokens(items))}


# --------------------------------------------------------------- summaries
def default_target(repo: Repo, plan: CompressPlan) -> int:
    live = [p.item for p in plan.combined if not p.skipped]
    total = sum(_facts.facts(repo).tokens(live))
    return max(DEFAULT_TARGET_MIN, min(DEFAULT_TARGET_MAX, total // 10))


def offline_summarizer(repo: Repo) -> Summarizer:
    def run(entries: list[Entry], target: int | None) -> Summary:
        return Summary(_summarize.offline_summary(entries, target, repo.counter),
                       _summarize.LABEL)
    return run


def manual_summary(text: str) -> Summarizer:
    def run(entries: list[Entry], target: int | None) -> Summary:
        return Summary(text, "manual")
    return run


# ------------------------------------------------------------- provenance
def find_summary_commit(repo: Repo, entry_id: str, start: str) -> str | None:
    """The commit (reachable from ``start``, first parents) that created
    the summary entry ``entry_id``: a compress or collapse naming it."""
    for c in repo.store.walk(start, first_parent=True):
        if "Tract-Entry: " + entry_id not in c.message:
            continue
        _, _, trailers = parse_message(c.message)
        if trailer(trailers, "Tract-Op") in ("compress", "collapse") and \
                entry_id in [v.split()[0] for v in trailer_all(trailers, "Tract-Entry")]:
            return c.id
    return None


# ------------------------------------------------------------------ compress
def _item_name(key: str, eid: str, role: str) -> str:
    return f"{key}-{eid}-{role}"


def compress(repo: Repo, range_spec: str | None = None, *, keep_last: int | None = None,
             plan: str | CompressPlan | None = None, summary: str | None = None,
             summarizer: Summarizer | None = None, target_tokens: int | None = None,
             include_pins: bool = False, role: str = "user", message: str | None = None,
             dry_run: bool = False) -> CompressResult:
    """Compress a range of the current branch into one summary entry.

    ``summary`` (text) wins over ``summarizer``; with neither, the offline
    summarizer runs.  ``target_tokens`` bounds the summary: a summary over
    it raises :class:`BudgetError` and nothing is written.  ``dry_run``
    plans and summarizes but writes nothing.
    """
    if role not in SUMMARY_ROLES:
        raise UsageError(f"invalid summary role '{role}' (expected one of: {', '.join(SUMMARY_ROLES)})")
    if target_tokens is not None and target_tokens < 1:
        raise UsageError("--target-tokens must be greater than 0")
    if summary is not None and not summary.strip():
        raise UsageError("the summary is empty")
    if not dry_run:  # before any model is asked for a summary the commit loop would refuse
        from . import opstate

        opstate.require_none_on(repo, repo.head().branch)
    if isinstance(plan, CompressPlan):
        p = plan
    else:
        p = make_plan(repo, range_spec, keep_last=keep_last, plan=plan, include_pins=include_pins)
    combined = p.combined
    if not p.removed:
        raise NothingToDoError(f"nothing to compress: every entry in {p.start}..{p.end} is kept")
    tip0 = p.commit
    tok_before = repo.note(tip0)
    # the summary
    sum_entry: Entry | None = None
    sum_tokens = 0
    source = None
    s: Summary | None = None
    if combined:
        if summary is not None:
            s = manual_summary(summary)([], target_tokens)
        else:
            to_sum = repo.entries([x.item for x in combined if not x.skipped])
            fn = summarizer or offline_summarizer(repo)
            tgt = target_tokens if target_tokens is not None else default_target(repo, p)
            s = fn(to_sum, tgt)
        if not s.text.strip():
            raise CompressError("the summarizer returned an empty summary; nothing written")
        source = s.source
        sum_entry = Entry(role=role, content=s.text, type="summary",
                          name=_summarize.LABEL if s.source == _summarize.LABEL else None).validated()
        sum_tokens = repo.counter.count_entry(sum_entry)
        if target_tokens is not None and sum_tokens > target_tokens:
            raise BudgetError(
                f"the summary is {sum_tokens} tokens, over the target of {target_tokens}; nothing written",
                hints=("shorten the summary or raise --target-tokens",),
            )
    elif summary is not None:
        raise UsageError("a summary was given but the plan combines no entries")
    # tokens after, counting the smaller side
    all_items = p.all_items or repo.items(tip0)
    removed_names = {x.item.name for x in p.removed}
    removed_live = [x.item for x in p.removed if not x.skipped]
    bf = _facts.facts(repo)
    if len(removed_live) <= len(all_items) - len(removed_live):
        tokens_after = tok_before.context_tokens - sum(bf.tokens(removed_live)) + sum_tokens
    else:
        rest = [i for i in all_items if i.name not in removed_names]
        tokens_after = sum_tokens + sum(
            n for n, f in zip(bf.tokens(rest), bf.flags(rest)) if not f & _facts.SKIP)
    entries_after = len(all_items) - len(removed_names) + (1 if sum_entry else 0)
    if summary is None and sum_entry is not None and tokens_after > tok_before.context_tokens:
        # a generated summary that makes the context bigger is not compression
        raise CompressError(
            f"the {source or 'generated'} summary ({sum_tokens} tokens) would make the context "
            f"bigger ({tok_before.context_tokens} -> {tokens_after} tokens); nothing written",
            hints=("compress a longer range, pass --summary TEXT, or use --model",),
        )
    if dry_run:
        return CompressResult(p, sum_entry, source, sum_tokens, tok_before.context_tokens, tokens_after,
                              len(all_items), entries_after, target_tokens, True)
    sum_data = codec.encode(sum_entry) if sum_entry is not None else b""
    sum_blob: str | None = None
    sum_key = ""
    if sum_entry is not None:
        repo.run_hook("pre-commit", stdin=sum_data + b"\n", op="compress")
        sum_blob = repo.store.blob_id(sum_data)  # written by build(), with the commit
        sum_key = combined[0].item.key
    # provenance of summaries folded in
    chain = []
    for x in p.removed:
        if x.is_summary:
            chain.append((x.item.id, find_summary_commit(repo, x.item.id, tip0) or "-"))
    n_rem = len(p.removed)
    if message:
        subject, _, body = message.partition("\n")
    else:
        what = f"{len(combined)} entries" if combined else "no entries"
        subject = (f"compress {p.start}..{p.end}: {what} into a summary"
                   + (f", {len(p.dropped)} dropped" if p.dropped else "")
                   + f" ({tok_before.context_tokens:,} -> {tokens_after:,} tokens)")
        if not combined:
            subject = f"compress {p.start}..{p.end}: {n_rem} entries dropped " \
                      f"({tok_before.context_tokens:,} -> {tokens_after:,} tokens)"
        body = f"Summary ({source}): {snippet(sum_entry.content, 200)}" if sum_entry else ""
    first, last = p.items[0].item.id, p.items[-1].item.id
    base_trailers = [
        ("Tract-Compressed-From", tip0),
        ("Tract-Compressed-Range", f"{first}..{last}"),
        ("Tract-Compressed-Entries", f"{len(combined)} combined, {len(p.dropped)} dropped, "
                                     f"{len(p.kept)} kept"),
    ]
    if p.dropped:
        base_trailers.append(("Tract-Dropped", " ".join(x.item.id for x in p.dropped)))
    base_trailers += [("Tract-Compressed-Summary", f"{i} {c}") for i, c in chain]
    if s is not None:
        base_trailers.append(("Tract-Summary-Source", s.source + (f" {s.model}" if s.model else "")))
        base_trailers += list(s.trailers)
    sum_name_box: list[str] = []
    pins_removed = [x.item.id for x in p.removed if x.pinned]
    if pins_removed and not p.include_pins:
        raise CompressValidationError(
            f"compress validation failed: pinned entry {pins_removed[0]} would be removed; "
            "nothing written")

    def build(tip: str | None) -> Change:
        store = repo.store
        if tip is None:
            raise CompressError("the branch was deleted while compressing")
        if tip == tip0:
            base_items = all_items
        else:
            base_items = store.read_items(store.commit(tip).tree)
            by_name = {i.name: i for i in base_items}
            for x in p.items:  # another writer moved the tip: the range must be as planned
                cur = by_name.get(x.item.name)
                if cur is None or cur.blob != x.item.blob:
                    raise CompressError(
                        f"entry {x.item.id} changed while compressing; nothing written",
                        hints=("run the compress again",))
        changes: dict[str, str | None] = {n: None for n in removed_names}
        trailers = list(base_trailers)
        if sum_entry is not None:
            store.write_blob(sum_data)
            sid = repo.new_entry_id(tip, sum_key, sum_blob, "compress")
            sname = _item_name(sum_key, sid, sum_entry.role)
            changes[sname] = sum_blob
            trailers.insert(0, ("Tract-Entry", sid))
            sum_name_box[:] = [sname, sid]
        tree = store.build_tree(store.commit(tip).tree, changes)
        sitem = None
        if sum_entry is not None:
            sitem = Item(sum_key, sum_name_box[1], sum_entry.role, sum_blob)  # type: ignore[arg-type]
        if tip == tip0:  # what the snapshot must be: the plan, applied
            mid: list[Item] = []
            for x in p.items:
                if x.action == "keep":
                    mid.append(x.item)
                elif sitem is not None and x is combined[0]:
                    mid.append(sitem)
            expected = all_items[:p.start] + mid + all_items[p.end + 1:]
        else:
            expected = [i for i in base_items if i.name not in removed_names]
            if sitem is not None:
                expected.append(sitem)
                expected.sort(key=lambda i: i.name)
        _validate(repo, expected, tree)
        after = tokens_after
        if tip != tip0:
            after = repo.note(tip).context_tokens - (tok_before.context_tokens - tokens_after)
        return Change(tree, subject, body, trailers, context_tokens=after,
                      entries=len(base_items) - len(removed_names) + (1 if sum_entry else 0),
                      note_extra={"compress": {
                          "tokens_before": tok_before.context_tokens, "tokens_after": after,
                          "summary_tokens": sum_tokens, "combined": len(combined),
                          "dropped": len(p.dropped), "kept": len(p.kept), **s.note}} if s else
                      {"compress": {"tokens_before": tok_before.context_tokens,
                                    "tokens_after": after, "dropped": len(p.dropped)}})

    res = repo.commit_loop(build, op="compress")
    if sum_entry is not None:
        res.entry_ids = [sum_name_box[1]]
        sum_entry = sum_entry.with_(id=sum_name_box[1], key=sum_key, blob=sum_blob)
    return CompressResult(p, sum_entry, source, sum_tokens, tok_before.context_tokens,
                          res.note.context_tokens, len(all_items), res.note.entries, target_tokens,
                          False, res)


def _validate(repo: Repo, expected: list[Item], tree: str) -> None:
    """Check a compress result before it lands: the new snapshot is exactly
    ``expected`` (every entry not removed still there with the same path and
    blob, so pinned entries are byte for byte identical and kept entries in
    their order; the summary where the range began).  Raises
    CompressValidationError."""
    new = repo.store.read_items(tree)
    if len(new) == len(expected) and all(
            a.key == b.key and a.id == b.id and a.role == b.role and a.blob == b.blob
            for a, b in zip(new, expected)):
        return
    got_d = {i.name: i.blob for i in new}
    for i in expected:
        if i.name not in got_d:
            what = f"entry {i.id} is missing"
            break
        if got_d[i.name] != i.blob:
            what = f"entry {i.id} changed"
            break
    else:
        what = "the kept entries are not in their original order" if len(new) == len(expected) \
            else f"{len(new) - len(expected)} unexpected entries"
    raise CompressValidationError(f"compress validation failed: {what}; nothing written")


# ----------------------------------------------------------------- dropped
@dataclass
class DroppedEntry:
    entry: Entry
    position: int  # in the snapshot it was replaced from
    action: str  # combine | drop
    depth: int  # 0: replaced by this compress; 1+: by an earlier summary it folded in
    commit: str  # the compress commit that replaced it

    def to_json(self) -> dict:
        d = self.entry.to_json()
        d.update({"position": self.position, "action": self.action, "depth": self.depth,
                  "compress_commit": self.commit})
        return d


@dataclass
class DroppedResult:
    commit: str
    source: str  # the snapshot the entries were replaced from
    summary_id: str | None
    entries: list[DroppedEntry]

    def to_json(self) -> dict:
        return {"commit": self.commit, "from": self.source, "summary": self.summary_id,
                "entries": [d.to_json() for d in self.entries]}


def dropped(repo: Repo, rev: str | None = None, *, recursive: bool = False) -> DroppedResult:
    """Exactly what the compress commit ``rev`` replaced, in order.  With
    ``recursive``, summaries it folded in are expanded to what they
    replaced, depth first."""
    commit = repo.resolve(rev)
    cd = repo.store.commit(commit)
    _, _, trailers = parse_message(cd.message)
    if trailer(trailers, "Tract-Op") != "compress":
        raise CompressError(f"commit {commit[:7]} is not a compress (Tract-Op: "
                         f"{trailer(trailers, 'Tract-Op') or 'none'})")
    source = trailer(trailers, "Tract-Compressed-From") or (cd.parents[0] if cd.parents else None)
    if source is None or not repo.store.has_object(source):
        raise CompressError(f"the snapshot compress {commit[:7]} replaced ({(source or '?')[:7]}) "
                            "is no longer in the store")
    rng = trailer(trailers, "Tract-Compressed-Range") or ""
    first, _, last = rng.partition("..")
    drops = set(" ".join(trailer_all(trailers, "Tract-Dropped")).split())
    sid = (trailer(trailers, "Tract-Entry") or "").split()[0] or None
    old = repo.items(source)
    now_ids = {i.id for i in repo.store.read_items(cd.tree)}
    out: list[DroppedEntry] = []
    inside = not first
    for pos, (i, e) in enumerate(zip(old, repo.entries(old))):
        if i.id == first:
            inside = True
        if inside and i.id not in now_ids:
            out.append(DroppedEntry(e, pos, "drop" if i.id in drops else "combine", 0, commit))
            if recursive and e.type == "summary":
                sub = find_summary_commit(repo, i.id, source)
                if sub is not None:
                    for d in dropped(repo, sub, recursive=True).entries:
                        out.append(DroppedEntry(d.entry, d.position, d.action, d.depth + 1, d.commit))
        if i.id == last:
            inside = False
    return DroppedResult(commit, source, sid, out)
