"""Commit operations: append entries, edit one, set its priority."""

from __future__ import annotations

from dataclasses import replace

from ..errors import InvalidEntryError, NothingToDoError
from ..model import Entry, check_priority
from ..store import codec, keys
from .repo import Change, CommitResult, Repo


def snippet(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    if len(line) > width:
        line = line[: width - 3].rstrip() + "..."
    return line


def describe(entry: Entry) -> str:
    if entry.content.strip():
        return snippet(entry.content)
    if entry.tool_calls:
        names = ", ".join(c["function"]["name"] for c in entry.tool_calls)
        return f"tool calls: {names}"
    return "(empty)"


def _hook_input(blobs: list[bytes]) -> bytes:
    return b"".join(b + b"\n" for b in blobs)


def append(repo: Repo, entries: list[Entry], *, message: str | None = None,
           body: str = "", extra_trailers: list | None = None, op: str = "append",
           note_extra: dict | None = None, extra_parents: list | None = None,
           model_message: bool = True, write_note: bool = True) -> CommitResult:
    """Append one or more entries in one commit (``extra_parents``: more
    parents after the tip, e.g. the sub-agent history a collapse brings in).
    Without ``message`` the subject is generated: deterministically, or by a
    model when ``tract.commitMessages.model`` is set and ``model_message``
    is true (see ``ops.commitmsg``).  ``write_note=False``: the token note
    is written with the next commit made on this one in this process (see
    ``Repo.commit_loop``)."""
    build, ids = _prepare(repo, entries, message=message, body=body, extra_trailers=extra_trailers,
                          op=op, note_extra=note_extra, extra_parents=extra_parents,
                          model_message=model_message)
    res = repo.commit_loop(build, op=op, write_note=write_note)
    res.entry_ids = list(ids)
    return res


def append_chain(repo: Repo, parts: list[dict], *, op: str = "append") -> list[CommitResult]:
    """Several appends in a row, each commit made on the one before and
    all landed together (``Repo.commit_chain``: one compare-and-swap of
    the branch, one reflog line per commit, one notes commit), so other
    readers never see only some of them.  ``parts``: each append's keyword
    arguments (``entries``, ``message``, ``extra_trailers``...); an
    ``extra_trailers`` that is callable is given the commit made before
    it in the chain (None for the first) and returns the trailers.
    Only where ``repo.can_chain()``: each ``pre-commit`` hook would
    otherwise run before the commits before it exist."""
    preps = [_prepare(repo, op=op, **p) for p in parts]
    results = repo.commit_chain([b for b, _ in preps], op=op)
    for res, (_, ids) in zip(results, preps):
        res.entry_ids = list(ids)
    return results


def _prepare(repo: Repo, entries: list[Entry], *, message: str | None = None,
             body: str = "", extra_trailers=None, op: str = "append",
             note_extra: dict | None = None, extra_parents: list | None = None,
             model_message: bool = True):
    """What ``append`` does before landing: check and write the entries,
    run ``pre-commit``, make the subject; returns ``(build, ids)``, the
    ``Repo.commit_loop`` builder and the entry ids it fills in."""
    if not entries:
        raise InvalidEntryError("nothing to append")
    entries = [e.validated() for e in entries]
    encoded = [codec.encode(e) for e in entries]
    repo.run_hook("pre-commit", stdin=_hook_input(encoded), op=op)
    # the blobs are written by build(), with the commit (Store.batch)
    blobs = [repo.store.blob_id(b) for b in encoded]
    tokens = [repo.counter.count_entry(e, b) for e, b in zip(entries, blobs)]
    if message:
        subject, _, rest = message.partition("\n")
        body = (rest.strip("\n") + ("\n\n" + body if body else "")) if rest.strip() else body
    elif len(entries) == 1:
        subject = f"{entries[0].role}: {describe(entries[0])}"
    else:
        roles = ", ".join(dict.fromkeys(e.role for e in entries))
        subject = f"append {len(entries)} entries ({roles}): {describe(entries[0])}"
    if not message and model_message:
        from . import commitmsg

        if commitmsg.enabled(repo):
            subject, more = commitmsg.subject(repo, entries, subject)
            extra_trailers = _with_trailers(extra_trailers, more)
    ids: list[str] = []

    def build(tip: str | None, made: tuple = ()) -> Change:
        store = repo.store
        for data in encoded:
            store.write_blob(data)
        tree = store.commit(tip).tree if tip else None
        last = store.last_item(tree)
        key = last.key if last else None
        changes: dict[str, str | None] = {}
        ids.clear()
        for e, blob in zip(entries, blobs):
            key = keys.after(key)
            eid = repo.new_entry_id(tip, key, blob)
            ids.append(eid)
            changes[f"{key}-{eid}-{e.role}"] = blob
        new_tree = store.build_tree(tree, changes)
        if tip:
            pn = repo.note(tip)
            total, count = pn.context_tokens, pn.entries
        else:
            total, count = 0, 0
        total += sum(t for e, t in zip(entries, tokens) if not e.skipped)
        more = extra_trailers(made[-1] if made else None) if callable(extra_trailers) else extra_trailers
        trailers = [("Tract-Entry", i) for i in ids] + list(more or [])
        return Change(new_tree, subject, body, trailers, context_tokens=total,
                      entries=count + len(entries), note_extra=dict(note_extra or {}),
                      parents=([tip] if tip else []) + list(extra_parents) if extra_parents else None)

    return build, ids


def _with_trailers(extra_trailers, more: list):
    """``extra_trailers`` (a list, or a function of the commit made before
    it in a chain) followed by ``more``."""
    if not callable(extra_trailers):
        return list(extra_trailers or []) + more
    return lambda prev: list(extra_trailers(prev) or []) + more


def _rewrite_entry(repo: Repo, ref: str, make, *, op: str, subject_fn,
                   message: str | None = None, extra_trailers: list | None = None) -> CommitResult:
    """Replace one entry's blob in place (same key, same id, same path)."""
    tip0 = repo.resolve(None)
    _, item0 = repo.find_entry(ref, tip0)
    old = repo.entry(item0)
    new = make(old).validated()
    if new == old.validated().with_(id=old.id, key=old.key):
        raise NothingToDoError(subject_fn(old, new, nothing=True))
    data = codec.encode(new)
    repo.run_hook("pre-commit", stdin=_hook_input([data]), op=op)
    blob = repo.store.blob_id(data)  # written by build(), with the commit (Store.batch)
    new_tokens = 0 if new.skipped else repo.counter.count_entry(new, blob)
    eid = item0.id
    subject = message or subject_fn(old, new, nothing=False)

    def build(tip: str | None) -> Change:
        store = repo.store
        c = store.commit(tip)  # type: ignore[arg-type]
        items = store.read_items(c.tree) if tip != tip0 else None
        item = item0
        if items is not None:  # another writer moved the tip: find it again
            item = next((i for i in items if i.id == eid), None)
            if item is None:
                from ..errors import UnknownEntryError
                raise UnknownEntryError(f"entry {eid} was removed by another writer")
        cur = repo.entry(item)
        old_tokens = 0 if cur.skipped else repo.tokens_of(item)
        new_blob, tokens = blob, new_tokens
        if item.blob != item0.blob:
            # another writer changed this entry meanwhile: make our change
            # on its version rather than overwrite it with ours
            again = make(cur).validated()
            if again == cur.validated():
                raise NothingToDoError(subject_fn(cur, again, nothing=True))
            data2 = codec.encode(again)
            repo.run_hook("pre-commit", stdin=_hook_input([data2]), op=op)
            new_blob = store.write_blob(data2)
            tokens = 0 if again.skipped else repo.counter.count_entry(again, new_blob)
        else:
            store.write_blob(data)
        tree = store.build_tree(c.tree, {item.name: new_blob})
        pn = repo.note(tip)  # type: ignore[arg-type]
        return Change(tree, subject, "", [("Tract-Entry", eid)] + list(extra_trailers or []),
                      context_tokens=pn.context_tokens - old_tokens + tokens,
                      entries=pn.entries)

    res = repo.commit_loop(build, op=op)
    res.entry_ids = [eid]
    return res


def edit(repo: Repo, ref: str, content: str, *, message: str | None = None,
         type: str | None = None, name: str | None = None) -> CommitResult:
    """Replace an entry's content, keeping its place, id and path."""

    def make(old: Entry) -> Entry:
        kw = {"content": content}
        if type:
            kw["type"] = type
        if name is not None:
            kw["name"] = name or None
        return replace(old, **kw)

    def subj(old, new, nothing):
        if nothing:
            return f"entry {old.id} already has that content"
        return f"edit {old.role} {old.id[:8]}: {describe(new)}"

    return _rewrite_entry(repo, ref, make, op="edit", subject_fn=subj, message=message)


def set_priority(repo: Repo, ref: str, priority: str, *, message: str | None = None) -> CommitResult:
    """Pin, unpin (back to normal) or skip an entry."""
    check_priority(priority)
    op = {"pinned": "pin", "normal": "unpin", "skip": "skip"}[priority]

    def make(old: Entry) -> Entry:
        return replace(old, priority=priority)

    def subj(old, new, nothing):
        if nothing:
            return f"entry {old.id} is already {priority}"
        return f"{op} {old.role} {old.id[:8]}: {describe(old)}"

    return _rewrite_entry(repo, ref, make, op=op, subject_fn=subj, message=message)
