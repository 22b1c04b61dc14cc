"""An open tract store plus what every operation shares: the token counter,
caches, hooks, entry resolution and the compare-and-swap commit loop."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

from .. import tokens as _tokens
from ..errors import (
    BadRevisionError,
    HookRefusedError,
    NotAStoreError,
    RefUpdateError,
    TractError,
    UnknownEntryError,
)
from ..model import Entry
from ..words import plural
from ..store import codec
from ..store.hooks import HookRunner
from ..store.repo import (
    AGENTS_PREFIX,
    Head,
    Item,
    RefLockedError,
    RefRaceError,
    Store,
    find_store,
    is_store,
    lock_timeout as _lock_timeout,
)
from ..store.trailers import format_message, parse_message, trailer

DEFAULT_DIR = ".tract"


def locate(path: str | None = None, *, cwd: str | None = None) -> str:
    """The store a command works on: ``path`` if given, else ``$TRACT_DIR``,
    else walk up from ``cwd`` looking for ``.tract`` (like git)."""
    cwd = cwd or os.getcwd()
    if path:
        p = os.path.join(cwd, path)
        if is_store(p):
            return os.path.abspath(p)
        if is_store(os.path.join(p, DEFAULT_DIR)):
            return os.path.abspath(os.path.join(p, DEFAULT_DIR))
        raise NotAStoreError(f"not a tract store: {path}")
    env = os.environ.get("TRACT_DIR")
    if env:
        p = os.path.join(cwd, env)
        if is_store(p):
            return os.path.abspath(p)
        raise NotAStoreError(f"not a tract store: {env} (from TRACT_DIR)")
    found = find_store(cwd)
    if found is None:
        raise NotAStoreError(
            "not a tract store (or any of the parent directories): .tract",
            hints=("run 'tract init' to create one",),
        )
    return found


@dataclass
class TokenNote:
    tokens_added: int
    context_tokens: int
    entries: int
    encoding: str
    approximate: bool = False
    extra: dict = field(default_factory=dict)

    def to_json(self) -> str:
        d = {
            "tokens_added": self.tokens_added,
            "context_tokens": self.context_tokens,
            "entries": self.entries,
            "encoding": self.encoding,
        }
        if self.approximate:
            d["approximate"] = True
        d.update(self.extra)
        return json.dumps(d, sort_keys=False)

    @classmethod
    def parse(cls, text: str | None) -> "TokenNote | None":
        if not text:
            return None
        try:
            d = json.loads(text)
            known = {"tokens_added", "context_tokens", "entries", "encoding", "approximate"}
            return cls(int(d["tokens_added"]), int(d["context_tokens"]), int(d["entries"]),
                       str(d.get("encoding", "")), bool(d.get("approximate", False)),
                       {k: v for k, v in d.items() if k not in known})
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class Change:
    """What a commit-building function returns for one attempt."""

    tree: str
    subject: str
    body: str = ""
    trailers: list = field(default_factory=list)
    parents: list | None = None  # default: [tip]
    context_tokens: int | None = None  # if known; else computed
    entries: int | None = None
    note_extra: dict = field(default_factory=dict)


@dataclass
class CommitResult:
    commit: str
    parent: str | None
    tree: str
    subject: str
    op: str
    note: TokenNote
    branch: str | None
    entry_ids: list = field(default_factory=list)
    #: what the post-commit hook printed (stdout and stderr), if anything;
    #: the CLI shows it on stderr, as git does
    hook_output: str = ""

    def to_json(self) -> dict:
        return {
            "commit": self.commit,
            "parent": self.parent,
            "tree": self.tree,
            "op": self.op,
            "subject": self.subject,
            "branch": self.branch,
            "entries": self.entry_ids,
            "tokens_added": self.note.tokens_added,
            "context_tokens": self.note.context_tokens,
            "entry_count": self.note.entries,
        }


def back_off(err: Exception, delay: float, deadline: float) -> float:
    """Wait before trying a compare-and-swap again after ``err``: another
    writer moved the ref first (``RefRaceError``: a random wait up to
    ``delay``), or holds its lock (``RefLockedError``: re-raised once past
    ``deadline``).  Returns the next delay (doubled, at most 50 ms)."""
    import random  # lazily: read-only commands never need it

    if isinstance(err, RefLockedError):
        if time.monotonic() > deadline:
            raise err
        time.sleep(random.uniform(delay / 2, delay))
    else:
        time.sleep(random.uniform(0, delay))
    return min(delay * 2, 0.05)


class Repo:
    """An open store with the state operations share.

    ``head_ref`` is the symbolic ref this Repo treats as its HEAD: ``HEAD``
    for the main context, ``refs/tract/agents/<agent>/HEAD`` for a
    sub-agent (see ``for_agent``).  Everything that reads or moves "HEAD"
    (``head``, ``resolve(None)``, ``set_head``, ``commit_loop``) goes
    through it, so every operation works in a sub-agent's context unchanged.
    """

    def __init__(self, store: Store, head_ref: str = "HEAD"):
        self.store = store
        self.path = store.path
        self.head_ref = head_ref
        self.counter = _tokens.Counter(store.get_config("tract.encoding") or _tokens.DEFAULT_ENCODING)
        self.hooks = HookRunner(store.path, store.get_config("core.hooksPath"))
        self._entry_cache: dict[str, Entry] = {}
        self.compile_cache: dict[tuple, object] = {}
        self._note_cache: dict[str, TokenNote] = {}
        #: commits whose note was missing (a writer died between its commit
        #: and its note) and was computed: a commit made on one writes it back
        self._unsaved_notes: set[str] = set()
        #: model/base_url/api_key given to ``Tract.open`` (tract_git.llm reads it;
        #: kept in memory only, never written)
        self.llm_session: dict = {}
        #: when a list, the output of every hook that ran and did not refuse
        #: is appended to it (the CLI sets one and shows it on stderr)
        self.hook_output_sink: list | None = None

    @classmethod
    def open(cls, path: str | None = None, *, cwd: str | None = None) -> "Repo":
        return cls(Store.open(locate(path, cwd=cwd)))

    # -------------------------------------------------------------- agents
    @property
    def agent(self) -> str | None:
        """The sub-agent this Repo works on, None for the main context."""
        if self.head_ref.startswith(AGENTS_PREFIX):
            return self.head_ref[len(AGENTS_PREFIX):].rsplit("/", 1)[0]
        return None

    @property
    def branch_prefix(self) -> str:
        """Where this context's branches live: ``refs/heads/`` or
        ``refs/tract/agents/<agent>/heads/``."""
        a = self.agent
        return f"{AGENTS_PREFIX}{a}/heads/" if a else "refs/heads/"

    def for_agent(self, agent: str | None) -> "Repo":
        """The same store seen from a sub-agent's context (``None``: the
        main one).  Shares the store, token counter and caches."""
        head_ref = f"{AGENTS_PREFIX}{agent}/HEAD" if agent else "HEAD"
        if head_ref == self.head_ref:
            return self
        other = object.__new__(Repo)
        other.__dict__.update(self.__dict__)
        other.head_ref = head_ref
        return other

    def set_head(self, target: str, message: str = "") -> None:
        """Point this context's HEAD at a branch ref or a commit."""
        self.store.set_head(target, message, name=self.head_ref)

    # ------------------------------------------------------------- reading
    def head(self) -> Head:
        if self.head_ref == "HEAD":
            return self.store.head()
        if self.store.read_ref(self.head_ref) is None and not self.store.ref_exists(self.head_ref):
            # a sub-agent without its HEAD (fetched from a remote): its main
            branch = self.branch_prefix + "main"
            return Head(branch, self.store.read_ref(branch))
        return self.store.head(self.head_ref)

    def resolve(self, rev: str | None) -> str:
        """A revision to a commit id; None means HEAD."""
        if self.head_ref != "HEAD" and rev is not None:
            rev = self._agent_rev(rev)
        if rev is None or rev == "HEAD":
            h = self.head()
            if h.commit is None:
                raise BadRevisionError(
                    f"HEAD has no commits yet (branch '{h.short_branch}' is unborn)"
                    if rev is None else "bad revision 'HEAD'",
                    hints=("add a message first, e.g. tract user 'hello'",) if rev is None else (),
                )
            return h.commit
        return self.store.resolve(rev)

    def _agent_rev(self, rev: str) -> str:
        """In a sub-agent's context, ``HEAD~2`` and branch names mean the
        agent's own HEAD and branches."""
        for head in ("HEAD", "@"):
            if rev.startswith(head) and rev[len(head):][:1] in ("", "~", "^") and rev != "HEAD":
                return self.resolve(None) + rev[len(head):]
        name = rev
        for sep in ("~", "^"):
            name = name.split(sep, 1)[0]
        if name and name != "HEAD" and self.store.valid_ref_name(self.branch_prefix + name) \
                and self.store.read_ref(self.branch_prefix + name):
            return self.branch_prefix + rev
        return rev

    def items(self, commit: str | None) -> list[Item]:
        if commit is None:
            return []
        return self.store.read_items(self.store.commit(commit).tree)

    def entry(self, item: Item) -> Entry:
        e = self._entry_cache.get(item.blob)
        if e is None:
            e = codec.decode(self.store.read_blob(item.blob), blob=item.blob)
            if len(self._entry_cache) > 50_000:
                self._entry_cache.clear()
            self._entry_cache[item.blob] = e
        return e.with_(id=item.id, key=item.key)

    def entries(self, items: list[Item]) -> list[Entry]:
        cache = self._entry_cache
        missing = [i.blob for i in items if i.blob not in cache]
        if missing:
            if len(cache) + len(missing) > 50_000:
                cache.clear()
            uniq = list(dict.fromkeys(missing))
            for oid, data in zip(uniq, self.store.read_blobs(uniq)):
                cache[oid] = codec.decode(data, blob=oid)
        # a copy of the cached entry with its place (id, key): what
        # ``with_(id=, key=)`` gives, without dataclasses.replace re-running
        # __init__ per entry (a third of a 10,000-entry compile)
        new = object.__new__
        out = []
        append = out.append
        for i in items:
            e = new(Entry)
            d = e.__dict__
            d.update(cache[i.blob].__dict__)
            d["id"] = i.id
            d["key"] = i.key
            append(e)
        return out

    def tokens_of(self, item: Item) -> int:
        n = self.counter.cached(item.blob)
        if n is None:
            n = self.counter.count_entry(self.entry(item), item.blob)
        return n

    def note(self, commit: str) -> TokenNote:
        """The token note of a commit; computed (not stored) if missing."""
        n = self._note_cache.get(commit)
        if n is not None:
            return n
        n = TokenNote.parse(self.store.read_note(commit))
        if n is None:
            n = self.compute_note(commit)
            self._unsaved_notes.add(commit)  # the next commit on it writes it back
        self._note_cache[commit] = n
        return n

    def compute_note(self, commit: str) -> TokenNote:
        c = self.store.commit(commit)
        if c.parents:
            # the same snapshot as its first parent (a spawn that inherits
            # the whole context): the parent's counts, nothing added; no
            # need to read the context
            p = self._note_cache.get(c.parents[0]) or TokenNote.parse(self.store.read_note(c.parents[0]))
            if p is not None and p.encoding == self.counter.label \
                    and p.approximate == self.counter.approximate \
                    and self.store.commit(c.parents[0]).tree == c.tree:
                return TokenNote(0, p.context_tokens, p.entries, self.counter.label,
                                 self.counter.approximate)
        items = self.store.read_items(c.tree)
        total = sum(self.tokens_of(i) for i in items if not self.entry(i).skipped)
        parent_total = 0
        if c.parents:
            p = TokenNote.parse(self.store.read_note(c.parents[0]))
            if p is None:
                pc = self.store.commit(c.parents[0])
                pitems = self.store.read_items(pc.tree)
                parent_total = sum(self.tokens_of(i) for i in pitems if not self.entry(i).skipped)
            else:
                parent_total = p.context_tokens
        return TokenNote(total - parent_total, total, len(items), self.counter.label,
                         self.counter.approximate)

    def settings(self, commit: str | None) -> dict:
        if commit is None:
            return {}
        return self.store.read_settings(self.store.commit(commit).tree)

    # ------------------------------------------------------- entry lookup
    def find_entry(self, ref: str, commit: str | None = None) -> tuple[int, Item]:
        """Resolve an entry reference at ``commit`` (default HEAD) to
        (position, item).  A reference is a position (``0``, ``-1``), an
        entry id or a unique prefix of one (4+ hex digits), or a revision of
        a commit that introduced or last touched an entry."""
        commit = commit or self.resolve(None)
        items = self.items(commit)
        ref = ref.strip()
        if not ref:
            raise UnknownEntryError("empty entry reference")
        body = ref[1:] if ref.startswith("#") else ref
        pos_error = None
        if body.lstrip("-").isdigit() and len(body.lstrip("-")) <= 6:
            pos = int(body)
            n = len(items)
            if -n <= pos < n:
                return pos % n, items[pos]
            pos_error = UnknownEntryError(f"no entry at position {pos} (the context has {plural(n, 'entry')})")
            if body != ref or ref.startswith("-") or len(ref) < 4:
                raise pos_error
            # 4+ digits past the end: an entry id prefix made of digits only?
        low = ref.lower()
        if len(low) >= 4 and all(ch in "0123456789abcdef" for ch in low):
            hits = [(i, it) for i, it in enumerate(items) if it.id.startswith(low)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise UnknownEntryError(f"entry id prefix '{ref}' is ambiguous")
        if pos_error is not None:
            raise pos_error
        # a commit that touched an entry
        try:
            rc = self.resolve(ref)
        except BadRevisionError:
            raise UnknownEntryError(f"unknown entry '{ref}'") from None
        cd = self.store.commit(rc)
        _, _, trailers = parse_message(cd.message)
        eid = trailer(trailers, "Tract-Entry")
        if eid:
            eid = eid.split()[0]
            for i, it in enumerate(items):
                if it.id == eid:
                    return i, it
            raise UnknownEntryError(f"entry {eid} (from commit {rc[:7]}) is not in the context")
        raise UnknownEntryError(f"commit {rc[:7]} does not name an entry")

    # ------------------------------------------------------------- writing
    def new_entry_id(self, parent: str | None, key: str, blob: str, salt: str = "") -> str:
        import hashlib  # lazily: read-only commands never need it

        h = hashlib.sha1(f"{parent or ''}\0{key}\0{blob}\0{salt}".encode()).hexdigest()
        return h[:12]

    def run_hook(self, name: str, args: list[str] | None = None, *, stdin: bytes = b"",
                 op: str = "", refuse: bool = True) -> str:
        res = self.hooks.run(name, args, stdin=stdin, env={"TRACT_OP": op})
        if res is None:
            return ""
        if res.returncode != 0 and refuse:
            detail = res.stderr.strip().splitlines()
            msg = f"{name} hook refused the {op or 'commit'} (exit {res.returncode})"
            if detail:
                msg += ": " + detail[-1]
            raise HookRefusedError(msg)
        if res.stderr and self.hook_output_sink is not None:
            self.hook_output_sink.append(res.stderr)
        return res.stderr

    def check_message_hook(self, message: str, op: str) -> str:
        """Run ``commit-msg`` on a message; returns the (possibly edited)
        message."""
        if self.hooks.find("commit-msg") is None:
            return message
        import tempfile

        fd, path = tempfile.mkstemp(prefix="TRACT_COMMIT_EDITMSG")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(message)
            self.run_hook("commit-msg", [path], op=op)
            with open(path, encoding="utf-8") as f:
                edited = f.read()
        finally:
            os.unlink(path)
        if not edited.strip():
            # git: "Aborting commit due to empty commit message." (exit 1)
            raise HookRefusedError(f"aborting the {op or 'commit'}: the commit-msg hook left an empty message")
        return edited

    def commit_loop(self, build, *, op: str, ref: str | None = None,
                    reflog: str | None = None, max_attempts: int = 100,
                    lock_timeout: float | None = None, message_hook: bool = True,
                    post_hook: bool = True, stopped_op_ok: bool = False,
                    write_note: bool = True) -> CommitResult:
        """Build and land one commit with compare-and-swap on the ref.

        ``build(tip) -> Change`` is called again whenever another writer
        moved the ref first, so the change is always made on the current
        tip; a held lock is waited on up to ``lock_timeout`` seconds.
        ``ref`` defaults to the branch HEAD points at (or HEAD itself when
        detached).  Refused while a merge, rebase, cherry-pick or revert is
        stopped on that branch (``OperationInProgressError``), unless
        ``stopped_op_ok`` (the stopped operation's own commit).
        ``write_note=False`` leaves the token note unwritten, for a commit
        whose note ``compute_note`` derives without reading the context
        (a spawn): the next commit made on it in this process writes it.
        """
        from . import opstate

        store = self.store
        if lock_timeout is None:
            lock_timeout = _lock_timeout()
        deadline = time.monotonic() + lock_timeout
        delay = 0.001
        msg_cache: dict[str, str] = {}
        for attempt in range(max_attempts):
            if ref is None:
                head = self.head()
                target_ref, detached = (head.branch, False) if head.branch else (self.head_ref, True)
                tip = head.commit
            else:
                target_ref, detached = ref, False
                tip = store.read_ref(ref)
            if attempt == 0 and not stopped_op_ok:
                opstate.require_none_on(self, None if detached else target_ref)
            try:
                with store.batch():  # nothing written unless the ref moves
                    landed = self._land(store, build, tip, target_ref, detached, op, reflog,
                                        message_hook, msg_cache, write_note)
            except (RefRaceError, RefLockedError) as e:
                delay = back_off(e, delay, deadline)
                continue
            commit, parents, change, subject, note, prepared = landed
            if prepared is not None:
                try:
                    store.land_notes(prepared, lock_timeout=lock_timeout)
                    self._unsaved_notes.discard(parents[0] if parents else "")
                except RefUpdateError:
                    pass  # the note is recomputed on demand; the commit has landed
            else:
                self._unsaved_notes.add(commit)  # the next commit on it writes it back
            hook_output = self._after_landing(commit, op, post_hook)
            # (the commit's own first parent: a reset --soft squash is made on
            # the revision, not on the tip it replaces)
            return CommitResult(commit, parents[0] if parents else None, change.tree, subject, op, note,
                                None if detached else target_ref, hook_output=hook_output)
        raise RefUpdateError(
            f"could not update {ref or 'HEAD'}: lost the race to other writers {max_attempts} times"
        )

    def _after_landing(self, commit: str, op: str, post_hook: bool = True) -> str:
        """What follows a landed commit: after about one commit in 256 (in
        any process) the notes history is squashed and ``git gc --auto``
        asked; then ``post-commit`` runs.  Returns the hook's output."""
        if commit.startswith("00"):
            self.squash_notes()
            self.store.auto_gc()
        return self.run_hook("post-commit", op=op, refuse=False) if post_hook else ""

    def _land(self, store, build, tip, target_ref, detached, op, reflog, message_hook, msg_cache,
              write_note):
        """One attempt of :meth:`commit_loop`: build the change on ``tip``,
        make its commit and token note (and the notes commit, unless
        ``write_note`` is false), move the ref.  RefRaceError or
        RefLockedError when another writer was first."""
        change = build(tip)
        commit, parents, subject = self._commit_for(change, tip, op, message_hook, msg_cache)
        parent = parents[0] if parents else None
        note = self._note_cache[commit] = self._make_note(commit, parent, change)
        prepared = store.prepare_notes(self._notes_to_write(parent, [commit])) if write_note else None
        log = reflog or f"{op}: {change.subject}"
        if detached:
            store.update_head_detached(commit, tip, log, self.head_ref)
        else:
            store.update_ref(target_ref, commit, tip, log)
        return commit, parents, change, subject, note, prepared

    def _commit_for(self, change: Change, parent: str | None, op: str, message_hook: bool,
                    msg_cache: dict) -> tuple[str, list, str]:
        """The commit of ``change`` made on ``parent`` (unless the change
        names its parents), its message through the ``commit-msg`` hook
        (asked once per message): (commit, parents, subject as the hook
        left it)."""
        parents = change.parents if change.parents is not None else ([parent] if parent else [])
        message = format_message(change.subject, change.body,
                                 [("Tract-Op", op)] + list(change.trailers))
        if message_hook:
            if message not in msg_cache:
                msg_cache[message] = self.check_message_hook(message, op)
            message = msg_cache[message]
        commit = self.store.create_commit(change.tree, parents, message)
        return commit, parents, parse_message(message)[0]

    def _notes_to_write(self, parent: str | None, commits: list[str]) -> dict[str, str]:
        """The token notes of ``commits`` (made already, in the note
        cache), with ``parent``'s when it was left unwritten (a spawn's):
        all go into one notes commit."""
        notes: dict[str, str] = {}
        if parent is not None and parent in self._unsaved_notes and parent in self._note_cache:
            notes[parent] = self._note_cache[parent].to_json()
        for c in commits:
            notes[c] = self._note_cache[c].to_json()
        return notes

    def can_chain(self) -> bool:
        """Whether ``commit_chain`` may land commits together here: HEAD
        on a branch tract moves itself (``Store.updates_at_once``), and no
        ``pre-commit``, ``commit-msg`` or ``post-commit`` hook, which would
        otherwise see the commits of the chain out of their usual order."""
        if any(self.hooks.find(h) for h in ("pre-commit", "commit-msg", "post-commit")):
            return False
        head = self.head()
        return head.branch is not None and self.store.updates_at_once(head.branch)

    def commit_chain(self, builds: list, *, op: str, max_attempts: int = 100,
                     lock_timeout: float | None = None) -> list[CommitResult]:
        """``commit_loop`` for several commits in a row: ``builds[i](tip,
        made) -> Change``, each called with the commit made before it (and
        the commits made so far), are landed with one compare-and-swap of
        the branch HEAD points at (``Store.update_ref_via``).  Readers see
        all of the commits or none; the reflogs get one line per commit,
        as that many ``commit_loop`` calls would write; the notes of all
        of them go into one notes commit.  Retried as a whole when another
        writer moved the branch first.  Where the branch cannot be moved
        that way (``can_chain``), the commits land one by one through
        ``commit_loop``."""
        from . import opstate

        store = self.store
        if lock_timeout is None:
            lock_timeout = _lock_timeout()
        deadline = time.monotonic() + lock_timeout
        delay = 0.001
        msg_cache: dict[str, str] = {}
        for attempt in range(max_attempts):
            head = self.head()
            target_ref, tip = head.branch, head.commit
            if target_ref is None or not store.updates_at_once(target_ref):
                break
            if attempt == 0:
                opstate.require_none_on(self, target_ref)
            made: list[tuple[str, str | None, Change, str]] = []  # commit, parent, change, subject
            try:
                with store.batch():  # nothing written unless the branch moves
                    parent = tip
                    for build in builds:
                        change = build(parent, tuple(c for c, *_ in made))
                        commit, _, subject = self._commit_for(change, parent, op, True, msg_cache)
                        # its note now: the next build reads it (the running totals)
                        self._note_cache[commit] = self._make_note(commit, parent, change)
                        made.append((commit, parent, change, subject))
                        parent = commit
                    prepared = store.prepare_notes(self._notes_to_write(tip, [c for c, *_ in made]))
                    steps = [(c, f"{op}: {ch.subject}") for c, _, ch, _ in made]
                    try:
                        store.update_ref_via(target_ref, steps, tip)
                    except ValueError:  # no longer movable at once (made symbolic meanwhile)
                        raise RefRaceError(f"{target_ref} changed while updating it") from None
            except (RefRaceError, RefLockedError) as e:
                delay = back_off(e, delay, deadline)
                continue
            results = [CommitResult(commit, parent, change.tree, subject, op, self._note_cache[commit],
                                    target_ref) for commit, parent, change, subject in made]
            try:
                store.land_notes(prepared, lock_timeout=lock_timeout)
                self._unsaved_notes.discard(tip or "")
            except RefUpdateError:
                pass  # the notes are recomputed on demand; the commits have landed
            for res in results:
                res.hook_output = self._after_landing(res.commit, op)
            return results
        else:
            raise RefUpdateError(
                f"could not update {head.branch or 'HEAD'}: lost the race to other writers {max_attempts} times"
            )
        # HEAD detached, or a branch only libgit2 updates: one commit after the other
        results = []
        for build in builds:
            done = tuple(r.commit for r in results)
            results.append(self.commit_loop(lambda tip, b=build, done=done: b(tip, done), op=op))
        return results

    def squash_notes(self) -> str | None:
        """Drop the notes history (``Store.squash_notes``): done after about
        one commit in 256, so a plain ``git gc`` never keeps more than a few
        hundred superseded notes commits (docs/performance.md, "Store
        size").  Only where git packs unreachable objects into a cruft pack
        (``gc.cruftPacks``, which ``tract init`` sets): elsewhere the
        superseded notes commits would stay loose until git's prune date and
        keep ``git gc --auto`` firing (stores made before that key get the
        squash from ``tract gc`` only).  Best effort: a squash that loses
        its races or cannot write is left for the next time; the commit
        has landed."""
        if (self.store.get_config("gc.cruftPacks") or "").lower() not in ("true", "yes", "on", "1"):
            return None
        try:
            return self.store.squash_notes()
        except TractError:
            return None

    def _make_note(self, commit: str, first_parent: str | None, change: Change) -> TokenNote:
        parent_note = self.note(first_parent) if first_parent else None
        if change.context_tokens is None or change.entries is None or (
                parent_note is not None and parent_note.approximate and not self.counter.approximate):
            # no total known, or the parent's total is an approximation that
            # an exact count can now replace: count the whole context
            n = self.compute_note(commit)
            n.extra.update(change.note_extra)
            return n
        parent_total = parent_note.context_tokens if parent_note is not None else 0
        return TokenNote(change.context_tokens - parent_total, change.context_tokens,
                         change.entries, self.counter.label, self.counter.approximate,
                         dict(change.note_extra))
