"""Bulk appends: many entries, one commit each, written as one pack.

``append_many`` makes exactly the commits that appending the entries one at
a time would make (one ``append`` commit per entry, same subjects, same
trailers, same snapshot layout, a token note on each), but writes all of
them in one pass into a single pack (built in Python by the store, see
``store/fastimport.py``) instead of five or more loose files per commit,
then moves the branch once, with compare-and-swap, and the notes ref once:
every note is added by one notes commit, written in the same pack.

Differences from one-at-a-time appends, by design: the branch's reflog gets
one entry for the whole batch (so ``tract undo`` undoes the batch); the
``pre-commit`` hook runs once with every entry on its stdin (a refusal
writes nothing); ``commit-msg`` runs per commit if installed;
``post-commit`` runs once at the end.  Entry ids are derived from the
batch's base commit rather than from each commit's parent (they are unique
all the same).

``import_messages`` accepts OpenAI-style message dicts (and ``Entry``
objects) for the import path.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from ..errors import InvalidEntryError, InvalidInputError, RefUpdateError
from ..model import Entry
from ..store import codec, fastimport, keys
from ..store.repo import MSG_DIR, NOTES_REF, RefLockedError, RefRaceError, lock_timeout, note_bytes
from ..store.trailers import format_message
from . import commit as _commit
from . import opstate
from .repo import Repo, TokenNote, back_off


@dataclass
class BulkResult:
    commits: list  # new commit ids, oldest first
    parent: str | None  # the tip the chain was built on
    branch: str | None
    entry_ids: list = field(default_factory=list)
    note: TokenNote | None = None  # of the last commit
    hook_output: str = ""  # what the post-commit hook printed

    @property
    def commit(self) -> str | None:
        return self.commits[-1] if self.commits else None

    def to_json(self) -> dict:
        return {
            "commits": len(self.commits),
            "first": self.commits[0] if self.commits else None,
            "commit": self.commit,
            "parent": self.parent,
            "branch": self.branch,
            "entries": self.entry_ids,
            "context_tokens": self.note.context_tokens if self.note else None,
            "entry_count": self.note.entries if self.note else None,
        }


def append_many(repo: Repo, entries: list[Entry], *, op: str = "append",
                max_attempts: int = 20, writer: str = "pack", validated: bool = False) -> BulkResult:
    """Append ``entries``, one commit per entry, in one batch.  ``writer``:
    ``"pack"`` (the pack is written here, see
    :func:`tract_git.store.fastimport.write_pack_chain`) or
    ``"fast-import"`` (the same objects, through ``git fast-import``)."""
    if not entries:
        raise InvalidEntryError("nothing to append")
    if not validated:
        entries = [e.validated() for e in entries]
    opstate.require_none_on(repo, repo.store.head().branch)
    encoded = [codec.encode(e) for e in entries]
    repo.run_hook("pre-commit", stdin=_commit._hook_input(encoded), op=op)
    if writer == "fast-import" and not fastimport.available():
        return _one_at_a_time(repo, entries, op)
    store = repo.store
    blob_ids = [fastimport.blob_id(b) for b in encoded]
    counter = repo.counter
    label, approx = counter.label, counter.approximate
    has_msg_hook = repo.hooks.find("commit-msg") is not None
    lock_deadline = time.monotonic() + lock_timeout()
    delay = 0.001
    for _ in range(max_attempts):
        head = store.head()
        target_ref, detached = (head.branch, False) if head.branch else ("HEAD", True)
        tip = head.commit
        tree = store.commit(tip).tree if tip else None
        last = store.last_item(tree)
        if tip:
            pn = repo.note(tip)
            base_total, base_count = pn.context_tokens, pn.entries
        else:
            base_total, base_count = 0, 0
        author, committer = store.identity("AUTHOR"), store.identity("COMMITTER")
        notes: list[TokenNote] = []
        note_data: list[bytes] = []
        ids: list[str] = []

        def chain(tip=tip, total=base_total, count=base_count, author=author,
                  committer=committer, notes=notes, note_data=note_data, ids=ids):
            # a generator: the pack is built as the entries are counted
            n = keys.split(last.key)[0] if last else keys.split(keys.first())[0] - 1
            note_of = _note_formatter(label, approx)
            for e, data, blob in zip(entries, encoded, blob_ids):
                n += 1
                key = keys.int_key(n)  # keys.after(previous key)
                eid = repo.new_entry_id(tip, key, blob)
                ids.append(eid)
                message = format_message(f"{e.role}: {_commit.describe(e)}", "",
                                         [("Tract-Op", op), ("Tract-Entry", eid)])
                if has_msg_hook:
                    message = repo.check_message_hook(message, op)
                added = 0 if e.skipped else counter.count_entry(e, blob)
                total += added
                count += 1
                nb = note_of(added, total, count)
                note_data.append(nb)
                path = f"{MSG_DIR}/{keys.bucket(key)}/{key}-{eid}-{e.role}"
                yield fastimport.BulkCommit({path: data}, message, author, committer, nb)
            notes.append(TokenNote(added, total, count, label, approx))

        notes_commit = notes_parent = None
        if writer == "fast-import":
            commits = store.write_chain(tip, chain(), note_data)
        else:
            res = store.write_pack_chain(tip, chain(), notes_ident=committer)
            commits, notes_commit, notes_parent = res.commits, res.notes_commit, res.notes_parent
        log = f"{op}: {len(commits)} entries in one batch"
        try:
            if detached:
                store.update_head_detached(commits[-1], tip, log)  # type: ignore[arg-type]
            else:
                store.update_ref(target_ref, commits[-1], tip, log)  # type: ignore[arg-type]
        except (RefRaceError, RefLockedError) as e:
            delay = back_off(e, delay, lock_deadline)
            continue
        _land_notes(store, commits, note_data, notes_commit, notes_parent)
        repo._note_cache[commits[-1]] = notes[-1]
        store.auto_gc()  # consolidates packs once there are many (gc.autoPackLimit)
        out = repo.run_hook("post-commit", op=op, refuse=False)
        return BulkResult(commits, tip, None if detached else target_ref, ids, notes[-1], out)
    raise RefUpdateError("could not update HEAD: lost the race to other writers "
                         f"{max_attempts} times")


def _note_formatter(label: str, approx: bool):
    """``(added, total, count) -> note blob``, the bytes
    ``note_bytes(TokenNote(...).to_json())`` gives, by one %-format (the
    JSON encoder costs ~20 µs a note).  Checked against ``to_json`` once;
    ``to_json`` is used when they differ."""
    fmt = ('{"tokens_added": %d, "context_tokens": %d, "entries": %d, "encoding": '
           + json.dumps(label).replace("%", "%%") + (', "approximate": true' if approx else "")
           + "}\n")

    def fast(added: int, total: int, count: int) -> bytes:
        return (fmt % (added, total, count)).encode("utf-8")

    def slow(added: int, total: int, count: int) -> bytes:
        return note_bytes(TokenNote(added, total, count, label, approx).to_json())

    return fast if fast(12, 345, 6) == slow(12, 345, 6) else slow


def _land_notes(store, commits: list, note_data: list, notes_commit: str | None,
                notes_parent: str | None) -> None:
    """Point the notes ref at the notes commit written with the chain (one
    commit adding every note, as ``Store.add_notes`` makes it); when the
    notes ref moved meanwhile, add the notes on top of its new tip."""
    message = "Notes added by tract"
    try:
        if notes_commit is not None:
            try:
                store.update_ref(NOTES_REF, notes_commit, notes_parent, "notes: " + message)
                return
            except RefUpdateError:
                pass  # another writer's notes landed first: add ours on top
        # the note blobs are already in the pack: libgit2 finds them there
        # and writes no loose copy; this adds one notes commit
        store.add_notes({c: d.decode("utf-8") for c, d in zip(commits, note_data)}, message=message)
    except RefUpdateError:
        pass  # notes are recomputed on demand; the commits have landed


def _one_at_a_time(repo: Repo, entries: list[Entry], op: str) -> BulkResult:
    results = [_commit.append(repo, [e], op=op) for e in entries]
    return BulkResult([r.commit for r in results], results[0].parent, results[-1].branch,
                      [i for r in results for i in r.entry_ids], results[-1].note,
                      "".join(r.hook_output for r in results))


# ------------------------------------------------------------------- import
def entry_from_message(m, where: str = "message") -> Entry:
    """An OpenAI-style message dict (or an ``Entry``) as an entry.  Content
    given as a list of parts keeps its text parts, joined by newlines;
    tract's own fields (``type``, ``priority``) are honoured."""
    if isinstance(m, Entry):
        return m.validated()
    if not isinstance(m, dict):
        raise InvalidInputError(f"{where} is not an object")
    role = m.get("role")
    content = m.get("content")
    if content is None:
        content = ""
    elif isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
            else:
                raise InvalidInputError(f"{where}: only text content parts can be imported")
        content = "\n".join(parts)
    elif not isinstance(content, str):
        raise InvalidInputError(f"{where}: content must be text")
    if not isinstance(role, str):
        raise InvalidInputError(f"{where} has no role")
    if role == "developer":
        role = "system"
    try:
        return Entry(role=role, content=content, type=m.get("type") or "",
                     priority=m.get("priority") or "normal", name=m.get("name"),
                     tool_call_id=m.get("tool_call_id"), tool_calls=m.get("tool_calls")).validated()
    except InvalidEntryError as e:
        raise InvalidEntryError(f"{where}: {e}") from None


def parse_messages(text: str) -> list:
    """A JSON array of messages, ``{"messages": [...]}``, or JSONL (one
    message per line)."""
    s = text.strip()
    if not s:
        return []
    if s[0] in "[{":
        try:
            data = json.loads(s)
        except ValueError:
            data = None
        if isinstance(data, list):
            return data
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            return data["messages"]
        if isinstance(data, dict):
            return [data]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise InvalidInputError(f"line {n}: not valid JSON ({e.msg})") from None
    return out


def import_messages(repo: Repo, messages, *, op: str = "append") -> BulkResult:
    """Append OpenAI-style messages (dicts) or entries, one commit each."""
    entries = [entry_from_message(m, f"message {i}") for i, m in enumerate(messages)]
    if not entries:
        raise InvalidInputError("no messages to import")
    return append_many(repo, entries, op=op, validated=True)  # entry_from_message validated them
