"""The tract store: a bare git repository, through libgit2 (pygit2).

Everything that touches git objects, refs, the reflog, notes and config is
here, and nothing here knows about LLMs.  Callers get hex ids and plain
Python values, never pygit2 objects.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator

import pygit2
from pygit2.enums import ReferenceType as _RefType

from ..errors import (
    BadRevisionError,
    NotAStoreError,
    ReadOnlyStoreError,
    RefUpdateError,
    StoreExistsError,
    TractError,
)
from . import keys as _keys
from . import locks as _locks

FORMAT_VERSION = 1
NOTES_REF = "refs/notes/tract"
AGENTS_PREFIX = "refs/tract/agents/"
SETTINGS_FILE = "settings.json"
MSG_DIR = "msg"
DEFAULT_BRANCH = "main"
BLOB = pygit2.GIT_FILEMODE_BLOB
TREE = pygit2.GIT_FILEMODE_TREE
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_ZERO = "0" * 40
_SYMBOLIC = _RefType.SYMBOLIC
# libgit2 caches parsed trees of up to 4 KB by default, which leaves out every
# bucket of more than ~60 entries: each lookup of one read it from disk again
# (a rebase looks at the same few buckets several times per commit)
pygit2.settings.cache_object_limit(pygit2.enums.ObjectType.TREE, 1 << 20)


class RefRaceError(RefUpdateError):
    """The ref moved since it was read (compare-and-swap lost)."""


class RefLockedError(RefUpdateError):
    """Another writer holds the ref's lock file."""


@dataclass(frozen=True)
class Item:
    """One entry as it sits in a snapshot tree (no content read)."""

    key: str
    id: str
    role: str
    blob: str

    @property
    def name(self) -> str:
        return f"{self.key}-{self.id}-{self.role}"

    @property
    def path(self) -> str:
        return f"{MSG_DIR}/{_keys.bucket(self.key)}/{self.name}"


@dataclass(frozen=True)
class CommitData:
    id: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author_name: str
    author_email: str
    author_time: int
    author_offset: int
    committer_time: int


@dataclass(frozen=True)
class Head:
    branch: str | None  # full ref name, None when detached
    commit: str | None  # None on an unborn branch

    @property
    def short_branch(self) -> str | None:
        if self.branch and self.branch.startswith("refs/heads/"):
            return self.branch[len("refs/heads/"):]
        if self.branch and self.branch.startswith(AGENTS_PREFIX):  # a sub-agent's branch
            agent, sep, rest = self.branch[len(AGENTS_PREFIX):].partition("/heads/")
            if sep:
                return rest
        return self.branch


@dataclass(frozen=True)
class ReflogEntry:
    old: str
    new: str
    message: str
    time: int
    committer: str


def parse_item_name(name: str, blob: str) -> Item:
    key, eid, role = name.rsplit("-", 2)
    return Item(key, eid, role, blob)


def _parse_git_date(value: str) -> tuple[int, int]:
    """``@<epoch> <tz>``, ``<epoch> <tz>`` or ISO 8601 -> (epoch, minutes)."""
    v = value.strip()
    m = re.match(r"^@?(\d+)(?:\s+([+-])(\d\d)(\d\d))?$", v)
    if m:
        off = 0
        if m.group(2):
            off = (int(m.group(3)) * 60 + int(m.group(4))) * (1 if m.group(2) == "+" else -1)
        return int(m.group(1)), off
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise TractError(f"invalid date '{value}'") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    off = int(dt.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
    return int(dt.timestamp()), off


def _wrap_write_error(e: Exception, what: str) -> TractError:
    msg = str(e)
    if isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ReadOnlyStoreError(f"cannot write {what}: store is read-only ({e.strerror})")
    low = msg.lower()
    if "permission denied" in low or "read-only" in low:
        return ReadOnlyStoreError(f"cannot write {what}: store is read-only")
    if "failed to lock" in low or "locked" in low:
        return RefLockedError(f"cannot lock {what}: another tract or git process holds the lock",
                              hints=(f"if no other process is running, remove the stale lock file",))
    return TractError(f"cannot write {what}: {msg.strip() or type(e).__name__}")


def _lock_timeout() -> float:
    try:
        return float(os.environ.get("TRACT_LOCK_TIMEOUT", "5"))
    except ValueError:
        return 5.0


def note_bytes(text: str) -> bytes:
    """A note's blob: its text, ending with a newline."""
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def is_store(path: str) -> bool:
    """A directory is a tract store when it is a bare git repository whose
    config has ``tract.formatVersion``."""
    cfg = os.path.join(path, "config")
    if not (os.path.isfile(cfg) and os.path.isdir(os.path.join(path, "objects"))):
        return False
    try:
        with open(cfg, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    return re.search(r"^\s*\[tract\]", text, re.M | re.I) is not None and "formatversion" in text.lower()


def find_store(start: str) -> str | None:
    """Walk up from ``start`` like git: ``start`` itself, or ``.tract`` in it
    or any parent."""
    cur = os.path.abspath(start)
    while True:
        if is_store(cur):
            return cur
        cand = os.path.join(cur, ".tract")
        if is_store(cand):
            return cand
        parent = os.path.dirname(cur)
        if parent == cur:
            return None
        cur = parent


class Store:
    """A tract store (a bare git repository)."""

    def __init__(self, path: str, repo: pygit2.Repository):
        self.path = path
        self.repo = repo
        self._notes_cache: tuple[str | None, object] | None = None
        self._sig_cache = None
        self._staging = None  # (on-disk repo, memory backend) while staging
        self._raw_cache: dict = {}  # a few raw trees by id (treediff)
        self._parsed_trees: dict = {}  # trees made last while staging, parsed
        self._msg_cache: dict = {}  # snapshot tree -> its msg tree (a few)

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, path: str) -> "Store":
        path = os.path.abspath(path)
        if not is_store(path):
            raise NotAStoreError(f"not a tract store: {path}")
        try:
            repo = pygit2.Repository(path)
        except (pygit2.GitError, OSError) as e:
            raise NotAStoreError(f"not a tract store: {path} ({e})") from None
        store = cls(path, repo)
        ver = store.get_config("tract.formatVersion")
        try:
            v = int(ver or 0)
        except ValueError:
            v = 0
        if v > FORMAT_VERSION:
            raise NotAStoreError(
                f"store format version {ver} is newer than this tract understands ({FORMAT_VERSION})",
                hints=("upgrade tract-git",),
            )
        return store

    @classmethod
    def init(cls, path: str, *, encoding: str = "o200k_base", branch: str = DEFAULT_BRANCH,
             sample_hooks: dict[str, str] | None = None) -> "Store":
        path = os.path.abspath(path)
        if is_store(path):
            raise StoreExistsError(f"tract store already exists in {path}")
        if os.path.exists(path):
            if not os.path.isdir(path):
                raise StoreExistsError(f"cannot init a store at {path}: not a directory")
            if os.listdir(path):
                what = "a git repository" if os.path.exists(os.path.join(path, "HEAD")) or \
                    os.path.isdir(os.path.join(path, ".git")) else "a non-empty directory"
                raise StoreExistsError(
                    f"refusing to init a tract store in {path}: it is already {what}"
                )
        created = not os.path.exists(path)
        try:
            repo = pygit2.init_repository(path, bare=True, initial_head=branch)
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, path) from None
        try:
            cfg = repo.config
            cfg["core.logAllRefUpdates"] = "always"
            cfg["notes.displayRef"] = NOTES_REF
            # the notes ref's reflog repeats what the notes history holds
            cfg[f"gc.{NOTES_REF}.reflogExpire"] = "now"
            cfg[f"gc.{NOTES_REF}.reflogExpireUnreachable"] = "now"
            cfg["tract.encoding"] = encoding
            # written last: its presence is what makes this a tract store
            cfg["tract.formatVersion"] = str(FORMAT_VERSION)
            if sample_hooks:
                hooks = os.path.join(path, "hooks")
                os.makedirs(hooks, exist_ok=True)
                for f in os.listdir(hooks):  # libgit2's own samples are git's, not ours
                    if f.endswith(".sample"):
                        os.unlink(os.path.join(hooks, f))
                for name, text in sample_hooks.items():
                    p = os.path.join(hooks, name + ".sample")
                    with open(p, "w", encoding="utf-8") as fh:
                        fh.write(text)
                    os.chmod(p, 0o755)
            desc = os.path.join(path, "description")
            with open(desc, "w", encoding="utf-8") as fh:
                fh.write("tract context store; see tract-format(5)\n")
        except Exception:
            if created:
                import shutil
                shutil.rmtree(path, ignore_errors=True)
            raise
        return cls(path, repo)

    # ---------------------------------------------------------------- config
    def get_config(self, key: str, default: str | None = None) -> str | None:
        try:
            return self.repo.config[key]
        except (KeyError, pygit2.GitError):
            return default

    def get_config_local(self, key: str, default: str | None = None) -> str | None:
        """Only the store's own config file, not ~/.gitconfig."""
        try:
            return self._local_config()[key]
        except (KeyError, pygit2.GitError):
            return default

    def _local_config(self):
        # one Config object per store: libgit2 re-reads the file when it
        # changed, so this stays current without reopening it on every read
        cfg = self.__dict__.get("_local_cfg")
        if cfg is None:
            cfg = self._local_cfg = pygit2.Config(os.path.join(self.path, "config"))
        return cfg

    def set_config(self, key: str, value: str) -> None:
        self._locked_write(lambda: self._set_config(key, value), ["config"])

    def _set_config(self, key: str, value: str) -> None:
        try:
            self.repo.config[key] = value
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "config") from None

    def unset_config(self, key: str) -> bool:
        return self._locked_write(lambda: self._unset_config(key), ["config"])

    def _unset_config(self, key: str) -> bool:
        try:
            del self.repo.config[key]
            return True
        except KeyError:
            return False
        except (pygit2.GitError, OSError) as e:
            if "not found" in str(e).lower() or "could not find" in str(e).lower():
                return False
            raise _wrap_write_error(e, "config") from None

    def config_items(self, prefix: str = "") -> list[tuple[str, str]]:
        out = []
        try:
            for entry in self._local_config():
                if entry.name.startswith(prefix):
                    out.append((entry.name, entry.value))
        except pygit2.GitError:
            pass
        return out

    # --------------------------------------------------------------- objects
    def write_blob(self, data: bytes) -> str:
        try:
            return str(self.repo.create_blob(data))
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "object") from None

    def read_blob(self, oid: str) -> bytes:
        return self.repo[oid].data  # type: ignore[attr-defined]

    def read_blobs(self, oids: Iterable[str]) -> list[bytes]:
        odb_read = self.repo.odb.read
        return [odb_read(o)[1] for o in oids]

    def has_object(self, oid: str) -> bool:
        try:
            return oid in self.repo
        except (ValueError, pygit2.GitError):
            return False

    def object_type(self, oid: str) -> str | None:
        try:
            obj = self.repo[oid]
        except (KeyError, ValueError):
            return None
        return {pygit2.GIT_OBJECT_COMMIT: "commit", pygit2.GIT_OBJECT_TREE: "tree",
                pygit2.GIT_OBJECT_BLOB: "blob", pygit2.GIT_OBJECT_TAG: "tag"}.get(obj.type)

    # ------------------------------------------------------------- snapshots
    def _msg_tree(self, tree: str):
        cache = self._msg_cache
        hit = cache.get(tree, cache)
        if hit is not cache:
            return hit
        t = self.repo[tree]
        try:
            e = t[MSG_DIR]
        except KeyError:
            msg = None
        else:
            msg = self.repo[e.id]
        if len(cache) >= 32:
            del cache[next(iter(cache))]
        cache[tree] = msg
        return msg

    def read_items(self, tree: str) -> list[Item]:
        """Every entry of a snapshot, in context order."""
        msg = self._msg_tree(tree)
        if msg is None:
            return []
        repo = self.repo
        out: list[Item] = []
        append = out.append
        for b in msg:
            if b.filemode != TREE:  # not ours (a commit made by plain git)
                continue
            for e in repo[b.id]:
                try:
                    key, eid, role = e.name.rsplit("-", 2)
                except ValueError:
                    continue
                if e.filemode != BLOB:
                    continue
                append(Item(key, eid, role, str(e.id)))
        return out

    def last_item(self, tree: str | None) -> Item | None:
        if tree is None:
            return None
        msg = self._msg_tree(tree)
        if msg is None or len(msg) == 0:
            return None
        for b in range(len(msg) - 1, -1, -1):
            be = msg[b]
            if be.filemode != TREE:  # not ours (a commit made by plain git)
                continue
            bucket = self.repo[be.id]
            for n in range(len(bucket) - 1, -1, -1):
                e = bucket[n]
                if e.filemode == BLOB and e.name.count("-") >= 2:
                    return parse_item_name(e.name, str(e.id))
        return None

    def count_items(self, tree: str) -> int:
        msg = self._msg_tree(tree)
        if msg is None:
            return 0
        return len(self.read_items(tree))

    def read_settings(self, tree: str) -> dict:
        t = self.repo[tree]
        try:
            e = t[SETTINGS_FILE]
        except KeyError:
            return {}
        try:
            return json.loads(self.repo[e.id].data)
        except ValueError:
            return {}

    def build_tree(self, base: str | None, changes: dict[str, str | None],
                   settings: dict | None = None, *, set_settings: bool = False) -> str:
        """A new snapshot tree: ``base`` with ``changes`` applied.

        ``changes`` maps an item name (``<key>-<id>-<role>``) to a blob id,
        or to None to remove it.  Only the buckets touched are rewritten.
        """
        if self._staging is not None:
            return self._build_tree_staged(base, changes, settings, set_settings)
        repo = self.repo
        try:
            root = repo.TreeBuilder(repo[base]) if base else repo.TreeBuilder()
            msg_e = root.get(MSG_DIR)
            msgb = repo.TreeBuilder(repo[msg_e.id]) if msg_e is not None else repo.TreeBuilder()
            by_bucket: dict[str, list[tuple[str, str | None]]] = {}
            for name, blob in changes.items():
                by_bucket.setdefault(_keys.bucket(name), []).append((name, blob))
            for bkey, items in by_bucket.items():
                be = msgb.get(bkey)
                if be is not None and all(blob is None for _, blob in items):
                    old = repo[be.id]
                    if len(old) <= len(items) and {e.name for e in old} <= {n for n, _ in items}:
                        msgb.remove(bkey)  # the whole bucket goes: no need to edit it
                        continue
                bt = repo.TreeBuilder(repo[be.id]) if be is not None else repo.TreeBuilder()
                for name, blob in items:
                    if blob is None:
                        if bt.get(name) is not None:
                            bt.remove(name)
                    else:
                        bt.insert(name, pygit2.Oid(hex=blob), BLOB)
                if len(bt) == 0:
                    if be is not None:
                        msgb.remove(bkey)
                else:
                    msgb.insert(bkey, bt.write(), TREE)
            if len(msgb) == 0:
                if msg_e is not None:
                    root.remove(MSG_DIR)
            else:
                root.insert(MSG_DIR, msgb.write(), TREE)
            if set_settings:
                if settings:
                    data = (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode()
                    root.insert(SETTINGS_FILE, repo.create_blob(data), BLOB)
                elif root.get(SETTINGS_FILE) is not None:
                    root.remove(SETTINGS_FILE)
            return str(root.write())
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "tree") from None

    def raw_object(self, oid) -> bytes:
        """An object's raw bytes (a tree's entries as git stores them), from
        a small cache: a rewrite reads the same few trees again and again."""
        if isinstance(oid, str):
            oid = pygit2.Oid(hex=oid)
        cache = self._raw_cache
        data = cache.get(oid)
        if data is None:
            mem = self._staging[1].objects if self._staging is not None else None
            hit = mem.get(oid) if mem else None
            data = hit[1] if hit is not None else self.repo.odb.read(oid)[1]
            if len(cache) >= 64:
                del cache[next(iter(cache))]
            cache[oid] = data
        return data

    def _build_tree_staged(self, base: str | None, changes: dict, settings: dict | None,
                           set_settings: bool) -> str:
        """``build_tree`` while staging: the same trees, made as bytes here
        and staged without a libgit2 write (see ``staging``)."""
        from . import staging

        put, entry, set_entry = self._put_tree, staging.entry, staging.set_entry
        msg_name, blob_mode, tree_mode = MSG_DIR.encode(), b"100644", b"40000"
        try:
            root = self._tree_entries(base) if base else {}
            msg_e = root.get(msg_name)
            msgd = self._tree_entries(msg_e[-20:]) if msg_e is not None else {}
            msg_ok = True
            by_bucket: dict[str, list[tuple[str, str | None]]] = {}
            for name, blob in changes.items():
                by_bucket.setdefault(_keys.bucket(name), []).append((name, blob))
            for bkey, items in by_bucket.items():
                bname = bkey.encode()
                be = msgd.get(bname)
                bt = self._tree_entries(be[-20:]) if be is not None else {}
                ok = True
                for name, blob in items:
                    n = name.encode()
                    if blob is None:
                        bt.pop(n, None)
                    else:
                        ok = set_entry(bt, n, entry(blob_mode, n, bytes.fromhex(blob))) and ok
                if not bt:
                    msgd.pop(bname, None)
                else:
                    msg_ok = set_entry(msgd, bname, entry(tree_mode, bname, put(bt, ok))) and msg_ok
            root_ok = True
            if not msgd:
                root.pop(msg_name, None)
            else:
                root_ok = set_entry(root, msg_name, entry(tree_mode, msg_name, put(msgd, msg_ok)))
            if set_settings:
                sname = SETTINGS_FILE.encode()
                if settings:
                    data = (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode()
                    blob = staging.put(self._staging[1], pygit2.GIT_OBJECT_BLOB, data)  # type: ignore[index]
                    root_ok = set_entry(root, sname, entry(blob_mode, sname, blob)) and root_ok
                else:
                    root.pop(sname, None)
            return put(root, root_ok).hex()
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "tree") from None

    def _tree_entries(self, oid) -> dict:
        """A tree's entries (name -> entry bytes) as a dict the caller may
        change: the trees made by the last few ``build_tree`` calls are
        kept parsed (the next commit of a replay starts from them)."""
        from . import staging

        key = oid if isinstance(oid, bytes) else oid.raw if isinstance(oid, pygit2.Oid) \
            else bytes.fromhex(oid)
        hit = self._parsed_trees.get(key)
        if hit is None:
            hit = staging.parse_tree(self.raw_object(pygit2.Oid(raw=key)))
        return dict(hit)

    def _put_tree(self, entries: dict, in_order: bool) -> bytes:
        from . import staging

        data = staging.tree_bytes(entries, in_order)
        raw = staging.put(self._staging[1], pygit2.GIT_OBJECT_TREE, data)  # type: ignore[index]
        cache = self._parsed_trees
        if len(cache) >= 16:
            del cache[next(iter(cache))]
        cache[raw] = entries if in_order else staging.parse_tree(data)
        return raw

    def build_tree_from_items(self, items: list[Item], settings: dict | None = None) -> str:
        """A snapshot tree made from scratch (used by rewrites and import)."""
        return self.build_tree(None, {i.name: i.blob for i in items}, settings, set_settings=True)

    # --------------------------------------------------------------- commits
    def commit(self, oid: str) -> CommitData:
        try:
            c = self.repo[oid]
        except (KeyError, ValueError):
            raise BadRevisionError(f"bad object {oid}") from None
        if c.type != pygit2.GIT_OBJECT_COMMIT:
            c = c.peel(pygit2.Commit)
        a = c.author
        return CommitData(
            id=str(c.id),
            tree=str(c.tree_id),
            parents=tuple(str(p) for p in c.parent_ids),
            message=c.message,
            author_name=a.name,
            author_email=a.email,
            author_time=a.time,
            author_offset=a.offset,
            committer_time=c.commit_time,
        )

    def _signature(self, kind: str) -> pygit2.Signature:
        env = os.environ
        name = env.get(f"GIT_{kind}_NAME")
        email = env.get(f"GIT_{kind}_EMAIL")
        if name is None or email is None:
            if self._sig_cache is None:
                n = self.get_config("user.name") or "tract"
                m = self.get_config("user.email") or "tract@localhost"
                self._sig_cache = (n, m)
            name = name if name is not None else self._sig_cache[0]
            email = email if email is not None else self._sig_cache[1]
        date = env.get(f"GIT_{kind}_DATE")
        if date:
            t, off = _parse_git_date(date)
            return pygit2.Signature(name, email, t, off)
        return pygit2.Signature(name, email)

    def create_commit(self, tree: str, parents: list[str], message: str,
                      author: tuple[str, str] | None = None) -> str:
        try:
            auth = self._signature("AUTHOR")
            if author is not None:
                auth = pygit2.Signature(author[0], author[1], auth.time, auth.offset)
            com = self._signature("COMMITTER")
            if self._staging is not None:
                from . import staging

                return staging.put(self._staging[1], pygit2.GIT_OBJECT_COMMIT,
                                   staging.commit_bytes(tree, parents, auth, com, message)).hex()
            return str(self.repo.create_commit(
                None, auth, com, message, pygit2.Oid(hex=tree), [pygit2.Oid(hex=p) for p in parents]
            ))
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "commit") from None

    def walk(self, start: str, *, first_parent: bool = False, topo: bool = True,
             hide: Iterable[str] = ()) -> Iterator[CommitData]:
        """Commits reachable from ``start`` but not from any of ``hide``,
        children before parents.

        A topological walk has to read the whole history before it yields
        anything, so ``log -n 20`` would cost O(history).  Until the first
        merge the order is forced (each commit has one parent), so that
        stretch is followed parent by parent, lazily; only past a merge
        does the full walk run (skipping what was already yielded)."""
        repo = self.repo

        def data(c) -> CommitData:
            a = c.author
            return CommitData(str(c.id), str(c.tree_id), tuple(str(p) for p in c.parent_ids),
                              c.message, a.name, a.email, a.time, a.offset, c.commit_time)

        done = 0
        hide = list(hide)
        if topo and not hide:
            c = repo[pygit2.Oid(hex=start)]
            if c.type != pygit2.GIT_OBJECT_COMMIT:
                c = c.peel(pygit2.Commit)
            while True:
                yield data(c)
                done += 1
                parents = c.parent_ids
                if not parents:
                    return
                if len(parents) > 1:
                    break
                c = repo[parents[0]]
        flags = pygit2.GIT_SORT_TOPOLOGICAL | pygit2.GIT_SORT_TIME if topo else pygit2.GIT_SORT_NONE
        w = repo.walk(pygit2.Oid(hex=start), flags)
        for h in hide:
            w.hide(pygit2.Oid(hex=h))
        if first_parent:
            w.simplify_first_parent()
        for i, c in enumerate(w):
            if i >= done:
                yield data(c)

    def merge_base(self, a: str, b: str) -> str | None:
        r = self.repo.merge_base(pygit2.Oid(hex=a), pygit2.Oid(hex=b))
        return str(r) if r else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        if ancestor == descendant:
            return True
        return self.repo.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor))

    # ------------------------------------------------------------------ refs
    def head(self, name: str = "HEAD") -> Head:
        """Where ``HEAD`` (or another symbolic ref used as a HEAD, such as a
        sub-agent's ``refs/tract/agents/<agent>/HEAD``) points."""
        repo = self.repo
        try:
            ref = repo.lookup_reference(name)
        except (KeyError, pygit2.GitError) as e:
            raise NotAStoreError(f"store has no {name}: {e}") from None
        if ref.type == _SYMBOLIC:
            name = ref.target
            return Head(name, self.read_ref(name))
        return Head(None, str(ref.target))

    def ref_exists(self, name: str) -> bool:
        try:
            self.repo.lookup_reference(name)
            return True
        except (KeyError, ValueError, pygit2.GitError):
            return False

    def read_ref(self, name: str) -> str | None:
        try:
            ref = self.repo.lookup_reference(name)
        except (KeyError, pygit2.InvalidSpecError, ValueError):
            return None
        except pygit2.GitError:
            return None
        try:
            return str(ref.resolve().target)
        except (KeyError, pygit2.GitError):
            return None

    def resolve(self, rev: str) -> str:
        """A revision (git syntax) to a commit id."""
        if not rev or rev.startswith("-") or "\x00" in rev:
            raise BadRevisionError(f"bad revision '{rev}'")
        try:
            obj = self.repo.revparse_single(rev)
            c = obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise BadRevisionError(f"bad revision '{rev}'") from None
        return str(c.id)

    def _locked_write(self, write, locks: list[str], *, wait: bool = True):
        """Run ``write()``, which may raise ``RefLockedError``: a lock left
        by a dead writer (``locks`` names what it may be the lock of) is
        removed and the write tried again (see ``store.locks``); a live
        writer's lock is waited on, with backoff, up to
        ``TRACT_LOCK_TIMEOUT`` seconds (none when ``wait`` is False), then
        ``RefLockedError`` is raised."""
        deadline = None
        delay = 0.001
        recovered = 0
        while True:
            try:
                return write()
            except RefLockedError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + (_lock_timeout() if wait else 0.0)
                if recovered < 10 and _locks.recover(self.path, locks):
                    recovered += 1
                    continue
                if now >= deadline:
                    raise
                time.sleep(min(delay, max(0.0, deadline - now)))
                delay = min(delay * 2, 0.05)

    def update_ref(self, name: str, new: str, old: str | None, message: str) -> None:
        """Compare-and-swap: move ``name`` from ``old`` to ``new``; ``old``
        None means the ref must not exist yet.  Writes the reflog.  A lock
        left by a dead writer is removed and the update tried again (see
        ``store.locks``); a live writer's lock is waited on up to
        ``TRACT_LOCK_TIMEOUT`` seconds, then raises ``RefLockedError``."""
        self._locked_write(lambda: self._update_ref(name, new, old, message), [name])

    def _update_ref_nowait(self, name: str, new: str, old: str | None, message: str) -> None:
        """``update_ref`` that does not wait on a live lock (for callers
        with a retry loop of their own)."""
        self._locked_write(lambda: self._update_ref(name, new, old, message), [name], wait=False)

    def _update_ref(self, name: str, new: str, old: str | None, message: str) -> None:
        self.flush_staged()  # a ref never points at an object only in memory
        repo = self.repo
        try:
            if old is None:
                repo.create_reference_direct(name, pygit2.Oid(hex=new), False, message=message)
                return
            try:
                ref = repo.lookup_reference(name)
            except KeyError:
                raise RefRaceError(f"ref {name} was deleted by another process") from None
            if ref.type == _SYMBOLIC:
                ref = ref.resolve()
            if str(ref.target) != old:
                raise RefRaceError(f"ref {name} moved (expected {old[:12]}, found {str(ref.target)[:12]})")
            ref.set_target(pygit2.Oid(hex=new), message)
        except RefUpdateError:
            raise
        except pygit2.AlreadyExistsError:
            raise RefRaceError(f"ref {name} was created by another process") from None
        except (pygit2.GitError, OSError, ValueError) as e:
            s = str(e).lower()
            if "does not match" in s or "exists" in s or "modified" in s:
                raise RefRaceError(f"ref {name} moved while updating it") from None
            raise _wrap_write_error(e, f"ref {name}") from None

    def update_head_detached(self, new: str, old: str, message: str, name: str = "HEAD") -> None:
        self._locked_write(lambda: self._update_head_detached(new, old, message, name), [name])

    def _update_head_detached(self, new: str, old: str, message: str, name: str) -> None:
        self.flush_staged()
        try:
            ref = self.repo.lookup_reference(name)
            if ref.type == _SYMBOLIC or str(ref.target) != old:
                raise RefRaceError(f"{name} moved while updating it")
            ref.set_target(pygit2.Oid(hex=new), message)
        except RefUpdateError:
            raise
        except (pygit2.GitError, OSError) as e:
            if "does not match" in str(e).lower():
                raise RefRaceError(f"{name} moved while updating it") from None
            raise _wrap_write_error(e, name) from None

    def set_head(self, target: str, message: str = "", name: str = "HEAD") -> None:
        """Point HEAD (or the symbolic ref ``name``) at a branch
        (``refs/heads/x``) or detach it at a commit.  Stale and held locks
        are handled as in ``update_ref``."""
        self._locked_write(lambda: self._set_head(target, message, name), [name])

    def _set_head(self, target: str, message: str, name: str) -> None:
        try:
            if name != "HEAD":
                if target.startswith("refs/"):
                    self.repo.create_reference_symbolic(name, target, True, message=message or None)
                else:
                    self.repo.create_reference_direct(name, pygit2.Oid(hex=target), True,
                                                      message=message or None)
            elif target.startswith("refs/"):
                self.repo.set_head(target)
            else:
                self.repo.set_head(pygit2.Oid(hex=target))
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, name) from None

    def delete_ref(self, name: str, old: str | None = None) -> None:
        self._locked_write(lambda: self._delete_ref(name, old), [name])

    def _delete_ref(self, name: str, old: str | None) -> None:
        try:
            ref = self.repo.lookup_reference(name)
            if old is not None and str(ref.target) != old:
                raise RefRaceError(f"ref {name} moved; not deleted")
            ref.delete()
        except KeyError:
            raise BadRevisionError(f"no such ref {name}") from None
        except RefUpdateError:
            raise
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, f"ref {name}") from None

    def list_refs(self, prefix: str) -> list[tuple[str, str]]:
        out = []
        for name in self.repo.references:
            if name.startswith(prefix):
                t = self.read_ref(name)
                if t:
                    out.append((name, t))
        return sorted(out)

    def reflog(self, name: str) -> list[ReflogEntry]:
        try:
            ref = self.repo.lookup_reference(name)
        except (KeyError, pygit2.GitError):
            return []
        out = []
        try:
            for e in ref.log():
                out.append(ReflogEntry(str(e.oid_old), str(e.oid_new), e.message or "",
                                       e.committer.time, e.committer.name))
        except (pygit2.GitError, OSError):
            return []
        return out

    @staticmethod
    def valid_ref_name(name: str) -> bool:
        try:
            return pygit2.reference_is_valid_name(name)
        except Exception:
            return False

    # ----------------------------------------------------------- maintenance
    def auto_gc(self) -> None:
        """Run ``git gc --auto``, as git does after a commit: it does nothing
        until the store has about 6,700 loose objects or 50 packs (git's
        ``gc.auto``/``gc.autoPackLimit``; ``gc.auto=0`` turns it off), then
        packs them in the background (``gc.autoDetach``).  Reading 10,000
        entries from a pack is several times faster than from loose objects.
        Off unless ``tract.autoGc`` is true: a background repack competes
        with the writer for CPU (see docs/performance.md).  Skipped quietly
        when there is no git binary."""
        if (self.get_config("tract.autoGc") or "").lower() not in ("true", "yes", "on", "1"):
            return
        import subprocess

        env = dict(os.environ)
        env["GIT_DIR"] = self.path
        try:
            subprocess.run(["git", "gc", "--auto", "--quiet"], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        except (OSError, subprocess.SubprocessError):
            pass

    # ------------------------------------------------------------------ bulk
    def identity(self, kind: str) -> str:
        """``Name <email> <time> <tz>`` for ``AUTHOR`` or ``COMMITTER``,
        as a commit made now would carry it."""
        from .fastimport import ident

        s = self._signature(kind)
        return ident(s.name, s.email, s.time, s.offset)

    def write_chain(self, parent: str | None, commits: list, extra_blobs: list = ()) -> list[str]:
        """A linear chain of commits (and extra blobs) written as one pack;
        see :mod:`tract_git.store.fastimport`.  Moves no ref."""
        from . import fastimport

        self.flush_staged()  # git reads ``parent`` from disk
        return fastimport.write_chain(self.path, parent, commits, extra_blobs)

    def write_pack_chain(self, parent: str | None, commits, *, notes_ident: str | None = None):
        """A linear chain of commits (with their notes, when ``notes_ident``
        is given) written as one pack by Python; see
        :func:`tract_git.store.fastimport.write_pack_chain`.  Moves no ref."""
        from . import fastimport

        self.flush_staged()
        repo = self.repo
        try:
            return fastimport.write_pack_chain(
                self.path, parent, commits, lambda oid: repo[oid].read_raw(),
                notes_parent=self.read_ref(NOTES_REF), notes_ident=notes_ident)
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "objects") from None

    # --------------------------------------------------------------- staging
    @contextlib.contextmanager
    def staged(self):
        """Within the block, new objects are kept in memory (see
        :mod:`tract_git.store.staging`) and written as one pack when a ref
        is about to move, at :meth:`flush_staged`, or when the block ends.
        An exception discards what is still in memory (nothing refers to
        it).  Nested blocks join the outer one."""
        if self._staging is not None:
            yield
            return
        from . import staging

        disk = self.repo
        self.repo, mem = staging.staging_repository(self.path)
        self._staging = (disk, mem)
        self._notes_cache = None
        self._msg_cache = {}
        ok = False
        try:
            yield
            ok = True
        finally:
            try:
                if ok:
                    self.flush_staged()
            finally:
                self.repo = disk
                self._staging = None
                self._notes_cache = None
                self._msg_cache = {}
                if not ok:  # what was staged is gone
                    self._raw_cache, self._parsed_trees = {}, {}

    def flush_staged(self) -> None:
        """Write the objects staged in memory as one pack (nothing to do
        when not staging)."""
        if self._staging is None or not self._staging[1].objects:
            return
        from . import staging

        mem = self._staging[1]
        try:
            staging.write_pack(os.path.join(self.path, "objects"), mem.objects)
        except OSError as e:
            raise _wrap_write_error(e, "objects") from None
        mem.objects.clear()

    # ----------------------------------------------------------------- notes
    def _notes_tree(self):
        tip = self.read_ref(NOTES_REF)
        if self._notes_cache is not None and self._notes_cache[0] == tip:
            return self._notes_cache[1]
        tree = self.repo[tip].tree if tip else None
        self._notes_cache = (tip, tree)
        return tree

    def read_note(self, commit: str) -> str | None:
        tree = self._notes_tree()
        if tree is None:
            return None
        for path in (f"{commit[:2]}/{commit[2:]}", commit, f"{commit[:2]}/{commit[2:4]}/{commit[4:]}"):
            try:
                e = tree[path]
            except KeyError:
                continue
            return self.repo[e.id].data.decode("utf-8", "replace")
        return None

    def add_notes(self, notes: dict[str, str], *, message: str = "Notes added by tract",
                  retries: int = 200, lock_timeout: float | None = None) -> None:
        """Add (or replace) notes under ``refs/notes/tract``, fanned out as
        ``ab/cdef...``; compare-and-swap on the notes ref, retried.  A held
        lock is waited on up to ``lock_timeout`` seconds (default: as long
        as the retries last), then ``RefLockedError``."""
        if not notes:
            return
        repo = self.repo
        try:
            # a note ends with a newline, as git's own notes do (readers
            # accept notes without one too)
            if self._staging is not None:
                from . import staging

                blobs = {c: pygit2.Oid(raw=staging.put(self._staging[1], pygit2.GIT_OBJECT_BLOB,
                                                       note_bytes(text)))
                         for c, text in notes.items()}
            else:
                blobs = {c: repo.create_blob(note_bytes(text)) for c, text in notes.items()}
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "notes") from None
        delay = 0.0005
        deadline = None if lock_timeout is None else time.monotonic() + lock_timeout
        for attempt in range(retries):
            tip = self.read_ref(NOTES_REF)
            try:
                tree = self._notes_tree_with(repo[tip].tree if tip else None, blobs)
                sig = self._signature("COMMITTER")
                commit = repo.create_commit(None, sig, sig, message + "\n", tree,
                                            [pygit2.Oid(hex=tip)] if tip else [])
            except (pygit2.GitError, OSError) as e:
                raise _wrap_write_error(e, "notes") from None
            try:
                self._update_ref_nowait(NOTES_REF, str(commit), tip, "notes: " + message)
                return
            except (RefRaceError, RefLockedError) as e:
                if isinstance(e, RefLockedError) and deadline is not None and time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        raise RefUpdateError(f"could not update {NOTES_REF}: too many concurrent writers")

    def _notes_tree_with(self, base, blobs: dict) -> "pygit2.Oid":
        """The notes tree ``base`` with ``blobs`` (commit id -> blob oid)
        added, fanned out as ``ab/cdef...``."""
        repo = self.repo
        groups: dict[str, list[str]] = {}
        for c in blobs:
            groups.setdefault(c[:2], []).append(c)
        root = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
        for prefix, commits in groups.items():
            se = root.get(prefix)
            sub = repo.TreeBuilder(repo[se.id]) if se is not None and se.filemode == TREE \
                else repo.TreeBuilder()
            for c in commits:
                sub.insert(c[2:], blobs[c] if isinstance(blobs[c], pygit2.Oid) else pygit2.Oid(hex=blobs[c]),
                           BLOB)
                if root.get(c) is not None:  # a flat note git wrote
                    root.remove(c)
            root.insert(prefix, sub.write(), TREE)
        return root.write()

    def merge_notes(self, theirs: str, *, message: str = "Notes merged by tract",
                    retries: int = 50) -> str | None:
        """Merge the notes commit ``theirs`` (e.g. fetched from a remote)
        into ``refs/notes/tract``: notes are keyed by commit id, so the
        result is the union of both trees (ours wins where both hold a note
        for the same commit).  A merge commit with both parents, so pushing
        afterwards is a fast-forward.  Returns the new notes tip."""
        repo = self.repo
        for _ in range(retries):
            ours = self.read_ref(NOTES_REF)
            if ours == theirs or (ours and self.is_ancestor(theirs, ours)):
                return ours
            try:
                if ours is None or self.is_ancestor(ours, theirs):
                    new = theirs
                else:
                    mine = self._flatten_notes(repo[ours].tree)
                    other = self._flatten_notes(repo[theirs].tree)
                    missing = {c: b for c, b in other.items() if c not in mine}
                    tree = self._notes_tree_with(repo[ours].tree, missing)
                    sig = self._signature("COMMITTER")
                    new = str(repo.create_commit(None, sig, sig, message + "\n", tree,
                                                 [pygit2.Oid(hex=ours), pygit2.Oid(hex=theirs)]))
            except (pygit2.GitError, OSError) as e:
                raise _wrap_write_error(e, "notes") from None
            try:
                self._update_ref_nowait(NOTES_REF, new, ours, "notes: " + message)
                return new
            except (RefRaceError, RefLockedError):
                time.sleep(0.002)
        raise RefUpdateError(f"could not update {NOTES_REF}: too many concurrent writers")

    def _flatten_notes(self, tree) -> dict[str, str]:
        out: dict[str, str] = {}

        def rec(t, prefix):
            for e in t:
                if e.filemode == TREE:
                    rec(self.repo[e.id], prefix + e.name)
                else:
                    out[prefix + e.name] = str(e.id)
        rec(tree, "")
        return out

    def prune_notes(self, *, message: str = "Notes pruned by tract", retries: int = 50) -> list[str]:
        """Drop the notes of commits that no longer exist (after a gc
        pruned them), like ``git notes prune`` but with compare-and-swap on
        the notes ref, so a note added meanwhile is never lost.  Returns the
        commits whose notes were dropped."""
        fresh = pygit2.Repository(self.path)  # sees the packs as gc left them
        for _ in range(retries):
            tip = self.read_ref(NOTES_REF)
            if tip is None:
                return []
            try:
                notes = self._flatten_notes(self.repo[tip].tree)
                gone = [c for c in notes if len(c) == 40 and pygit2.Oid(hex=c) not in fresh]
                if not gone:
                    return []
                keep = {c: b for c, b in notes.items() if c not in set(gone)}
                tree = self._notes_tree_with(None, keep)
                sig = self._signature("COMMITTER")
                commit = self.repo.create_commit(None, sig, sig, message + "\n", tree,
                                                 [pygit2.Oid(hex=tip)])
            except (pygit2.GitError, OSError, ValueError) as e:
                raise _wrap_write_error(e, "notes") from None
            try:
                self._update_ref_nowait(NOTES_REF, str(commit), tip, "notes: " + message)
                return sorted(gone)
            except (RefRaceError, RefLockedError):
                time.sleep(0.002)
        raise RefUpdateError(f"could not update {NOTES_REF}: too many concurrent writers")

    def all_notes(self) -> dict[str, str]:
        tree = self._notes_tree()
        return {} if tree is None else self._flatten_notes(tree)
