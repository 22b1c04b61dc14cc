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

from ..errors import (
    BadRevisionError,
    ConfigError,
    NotAStoreError,
    ReadOnlyStoreError,
    RefUpdateError,
    StoreExistsError,
    TractError,
)
from . import keys as _keys
from . import locks as _locks
from . import odb as _odb


class _LazyPygit2:
    """``pygit2``, imported on first use: it costs ~90 ms, and the hot
    paths (append, status, log, compile) are served by :mod:`.odb`."""

    def __getattr__(self, name):
        import pygit2 as mod

        # libgit2 caches parsed trees of up to 4 KB by default, which leaves
        # out every bucket of more than ~60 entries: each lookup of one read
        # it from disk again (a rebase looks at the same few buckets several
        # times per commit)
        mod.settings.cache_object_limit(mod.enums.ObjectType.TREE, 1 << 20)
        globals()["pygit2"] = mod
        return getattr(mod, name)


pygit2 = _LazyPygit2()

FORMAT_VERSION = 1
NOTES_REF = "refs/notes/tract"
AGENTS_PREFIX = "refs/tract/agents/"
SETTINGS_FILE = "settings.json"
MSG_DIR = "msg"
DEFAULT_BRANCH = "main"
#: git's packing settings that ``tract init`` writes into a new store (see
#: docs/performance.md, "Store size"), so a plain ``git gc`` packs it small:
#:
#: * ``repack.writeBitmaps``: bare repositories write reachability bitmaps
#:   by default; they speed up serving clones and fetches, which a context
#:   store seldom does, and tract reads through libgit2, which does not use
#:   them (~0.5 MB at 10,000 commits).  The commit-graph is kept: libgit2
#:   reads it.
#: * ``gc.cruftPacks``: unreachable objects still inside git's prune date
#:   (superseded notes history, undone commits) go into one cruft pack
#:   instead of thousands of loose files (git >= 2.37; older gits ignore it).
#:
#: ``pack.depth=250`` was measured and left out: once the notes history is
#: squashed, git's default depth of 50 packs the trees of 10,000 appends
#: within 0.1 KB of it.
GC_CONFIG = {
    "repack.writeBitmaps": "false",
    "gc.cruftPacks": "true",
}
BLOB = 0o100644  # pygit2.GIT_FILEMODE_BLOB
TREE = 0o040000  # pygit2.GIT_FILEMODE_TREE
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_ZERO = "0" * 40
_SYMBOLIC = 2  # pygit2.enums.ReferenceType.SYMBOLIC
_BLOB_MODE, _TREE_MODE = b"100644", b"40000"
_MSG_NAME = MSG_DIR.encode()


@dataclass(frozen=True)
class Sig:
    """A commit identity: what ``pygit2.Signature`` holds, without it."""

    name: str
    email: str
    time: int
    offset: int

    def line(self) -> bytes:
        return _odb.ident_line(self.name, self.email, self.time, self.offset)


def _clean_sig(name: str, email: str) -> tuple[str, str]:
    """Name and email as git writes them (see ``odb.clean_ident``); an
    empty name is refused, as git does."""
    n, m = _odb.clean_ident(name), _odb.clean_ident(email)
    if not n:
        if name:
            raise ConfigError("name consists only of disallowed characters: "
                              + name.replace("\n", " "), hints=_IDENT_HINTS)
        raise ConfigError(f"empty ident name (for <{m}>) not allowed", hints=_IDENT_HINTS)
    return n, m


_IDENT_HINTS = ("set a name: git config --global user.name \"Your Name\" "
                "(or GIT_AUTHOR_NAME / GIT_COMMITTER_NAME)",)


def _local_offset(when: int) -> int:
    return (time.localtime(when).tm_gmtoff or 0) // 60


def _fast_ref_name(name: str) -> bool:
    """A ref name :class:`odb.Refs` may read as a path: HEAD or under
    ``refs/``, with no component that could leave the refs directory."""
    if name == "HEAD":
        return True
    if not name.startswith("refs/") or "\0" in name or "\\" in name or name.endswith("/"):
        return False
    return all(part not in ("", ".", "..") and not part.endswith(".lock")
               for part in name.split("/"))


class RefRaceError(RefUpdateError):
    """The ref moved since it was read (compare-and-swap lost)."""


class RefLockedError(RefUpdateError):
    """Another writer holds the ref's lock file."""


class _SymbolicRef(Exception):
    """Internal: the fast ref update met a symbolic ref."""


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
        return ReadOnlyStoreError(f"cannot write {what}: store is read-only")
    low = msg.lower()
    if "permission denied" in low or "read-only" in low:
        return ReadOnlyStoreError(f"cannot write {what}: store is read-only")
    if "failed to lock" in low or "locked" in low:
        return RefLockedError(f"cannot lock {what}: another tract or git process holds the lock",
                              hints=("if no other process is running, remove the stale lock file",))
    return TractError(f"cannot write {what}: {msg.strip() or type(e).__name__}")


def lock_timeout() -> float:
    """``TRACT_LOCK_TIMEOUT`` seconds (default 5; a value that is not a number: 5)."""
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


#: a reflog line as git reads one: old and new ids, "Name <email>", a time
#: and a zone, then (after a tab) the message
_REFLOG_LINE = re.compile(rb"([0-9a-fA-F]{40}) ([0-9a-fA-F]{40}) ([^>]*>) (\s*[+-]?[0-9]+) [+-][0-9]{4}(.*)\Z",
                          re.S)
_SHORT_HEX = re.compile(r"([0-9a-fA-F]{4,39})(?=$|[~^@:])")


class Store:
    """A tract store (a bare git repository)."""

    def __init__(self, path: str, repo=None):
        self.path = path
        self._repo = repo
        self.odb = _odb.ObjectDB(path)
        self.refs = _odb.Refs(path)
        self._config: tuple | None = None  # (stat key, values or None)
        self._notes_cache: tuple[str | None, object] | None = None
        self._sig_cache = None
        self._ident_checked = False  # see _put
        self._batch: dict | None = None  # raw id -> (type, data) while batching (see batch)
        self._staging = None  # (on-disk repo, memory backend) while staging
        self._raw_cache: dict = {}  # a few raw trees by id (treediff)
        self._parsed_trees: dict = {}  # trees made last while staging, parsed
        self._msg_cache: dict = {}  # snapshot tree -> its msg tree (a few)
        self._commit_cache: dict = {}  # commit id -> CommitData (a few)
        self._notes_updates = 0
        self._notes_subs: dict = {}  # notes fan-out prefix -> (tree id, entries), see _notes_tree_bytes

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, path: str) -> "Store":
        path = os.path.abspath(path)
        if not is_store(path):
            raise NotAStoreError(f"not a tract store: {path}")
        store = cls(path)
        ver = store.get_config_local("tract.formatVersion")
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
            for key, value in GC_CONFIG.items():  # see GC_CONFIG for why
                cfg[key] = value
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

    @property
    def repo(self):
        """The pygit2 Repository, opened on first use."""
        if self._batch:
            self.flush_batch()  # libgit2 reads objects from disk only
        r = self._repo
        if r is None:
            try:
                r = self._repo = pygit2.Repository(self.path)
            except (pygit2.GitError, OSError) as e:
                raise NotAStoreError(f"not a tract store: {self.path} ({e})") from None
        return r

    @repo.setter
    def repo(self, value) -> None:
        self._repo = value

    # ---------------------------------------------------------------- config
    def _config_values(self, local: bool) -> dict | None:
        """Parsed config (see ``odb.read_config``), re-read when a file
        changed; None when only libgit2 can read it exactly.  The files
        are looked at (stat) at most every 2 ms: an append reads several
        keys, and a change made meanwhile by another process could as well
        have come just after the commit; this process's own changes drop
        the cache (``set_config``)."""
        cache = self.__dict__.setdefault("_config_cache", {})
        hit = cache.get(local)
        now = time.monotonic()
        if hit is not None and now - hit[2] < 0.002:
            return hit[1]
        files = [os.path.join(self.path, "config")] if local else _odb.config_files(self.path)
        key = []
        for f in files:
            try:
                st = os.stat(f)
                key.append((f, st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError:
                key.append((f, None))
        # read_config gives None while GIT_CONFIG_PARAMETERS or
        # GIT_CONFIG_COUNT is set, and for a GIT_CONFIG_NOSYSTEM git cannot
        # read as a boolean (the file list does not show that one)
        env = os.environ
        key.append((env.get("GIT_CONFIG_PARAMETERS"), env.get("GIT_CONFIG_COUNT"),
                    env.get("GIT_CONFIG_NOSYSTEM")))
        if hit is not None and hit[0] == key:
            cache[local] = (key, hit[1], now)
            return hit[1]
        if local:
            try:
                vals = _odb.read_config_file(files[0])
            except OSError:
                vals = None
        else:
            vals = _odb.read_config(self.path)
        cache[local] = (key, vals, now)
        return vals

    def get_config(self, key: str, default: str | None = None) -> str | None:
        vals = self._config_values(False)
        if vals is not None:
            return vals.get(_odb.config_key(key), default)
        try:
            return self.repo.config[key]
        except (KeyError, pygit2.GitError):
            return default

    def get_config_local(self, key: str, default: str | None = None) -> str | None:
        """Only the store's own config file, not ~/.gitconfig."""
        vals = self._config_values(True)
        if vals is not None:
            return vals.get(_odb.config_key(key), default)
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
        self.__dict__.pop("_config_cache", None)
        try:
            self.repo.config[key] = value
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, "config") from None

    def unset_config(self, key: str) -> bool:
        return self._locked_write(lambda: self._unset_config(key), ["config"])

    def _unset_config(self, key: str) -> bool:
        self.__dict__.pop("_config_cache", None)
        try:
            del self.repo.config[key]
            return True
        except KeyError:
            return False
        except (pygit2.GitError, OSError) as e:
            if "not found" in str(e).lower() or "could not find" in str(e).lower():
                return False
            raise _wrap_write_error(e, "config") from None

    def config_values_local(self, prefix: str = "") -> dict[str, str]:
        """The store's own config values whose key starts with ``prefix``
        (``section.sub.key``, section and key lowercased; the last value
        of a key wins), as ``config_items`` gives them, from the parsed
        file this process keeps (``get_config_local``) when it can be read
        exactly, without iterating libgit2's config."""
        vals = self._config_values(True)
        if vals is None:
            return dict(self.config_items(prefix))
        return {k: v for k, v in vals.items() if k.startswith(prefix)}

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
    _KINDS = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}

    def _put(self, kind: bytes, data: bytes) -> bytes:
        """Write an object (to memory while staging, else as a loose
        object); returns its raw id."""
        if self._staging is not None:
            from . import staging

            return staging.put(self._staging[1], self._KINDS[kind], data)
        if not self._ident_checked:  # every object written is for a commit
            self.check_identity()
            self._ident_checked = True
        batch = self._batch
        if batch is not None:
            raw = _odb.object_id(kind, data)
            batch[raw] = (kind, data)
            return raw
        try:
            return self.odb.write(kind, data, surely_new=kind == b"commit")
        except OSError as e:
            raise _wrap_write_error(e, "object") from None

    @contextlib.contextmanager
    def batch(self):
        """Within the block, new objects are kept in memory and written
        (as loose objects) only when a ref is about to move
        (:meth:`flush_staged`), when libgit2 is asked for the repository,
        or when the block ends normally.  A block that ends with an
        exception writes nothing more: a commit refused by a ``commit-msg``
        hook, or whose build failed half-way, leaves the object database as
        it was.  Nested blocks, and blocks inside :meth:`staged`, join the
        outer one.  (Writing the objects as one small pack instead was
        measured and left out: docs/design.md.)"""
        if self._batch is not None or self._staging is not None:
            yield
            return
        self._batch = {}
        try:
            yield
        except BaseException:
            if self._batch:  # made, never written: the caches may name it
                self._raw_cache, self._parsed_trees, self._commit_cache = {}, {}, {}
                self._msg_cache, self._notes_subs = {}, {}
            self._batch = None
            raise
        try:
            self.flush_batch()
        finally:
            self._batch = None

    def flush_batch(self) -> None:
        batch = self._batch
        if not batch:
            return
        write = self.odb.write
        try:
            for raw, (kind, data) in batch.items():  # (keyed by id: not hashed again)
                write(kind, data, surely_new=kind == b"commit", raw=raw)
        except OSError as e:
            raise _wrap_write_error(e, "object") from None
        batch.clear()

    def _read(self, oid) -> tuple[bytes, bytes]:
        """(type name, data) of an object by hex or raw id; KeyError."""
        raw = oid if isinstance(oid, bytes) else bytes.fromhex(oid)
        batch = self._batch
        if batch:
            hit = batch.get(raw)
            if hit is not None:
                return hit
        if self._staging is not None:
            hit = self._staging[1].objects.get(pygit2.Oid(raw=raw))
            if hit is not None:
                return _odb.TYPE_NAMES[hit[0]], hit[1]
        return self.odb.read_raw(raw)

    def write_blob(self, data: bytes) -> str:
        return self._put(b"blob", data).hex()

    @staticmethod
    def blob_id(data: bytes) -> str:
        """The id :meth:`write_blob` gives ``data``, without writing it."""
        return _odb.object_id(b"blob", data).hex()

    def read_blob(self, oid: str) -> bytes:
        try:
            return self._read(oid)[1]
        except ValueError:
            raise KeyError(oid) from None

    def read_blobs(self, oids: Iterable[str]) -> list[bytes]:
        read = self._read
        return [read(o)[1] for o in oids]

    def has_object(self, oid: str) -> bool:
        try:
            raw = bytes.fromhex(oid)
        except (ValueError, TypeError):
            return False
        if len(raw) != 20:
            try:
                return oid in self.repo
            except (ValueError, pygit2.GitError):
                return False
        if self._staging is not None and pygit2.Oid(raw=raw) in self._staging[1].objects:
            return True
        if self._batch and raw in self._batch:
            return True
        return self.odb.exists(raw)

    def object_type(self, oid: str) -> str | None:
        try:
            obj = self.repo[oid]
        except (KeyError, ValueError):
            return None
        return {pygit2.GIT_OBJECT_COMMIT: "commit", pygit2.GIT_OBJECT_TREE: "tree",
                pygit2.GIT_OBJECT_BLOB: "blob", pygit2.GIT_OBJECT_TAG: "tag"}.get(obj.type)

    # ------------------------------------------------------------- snapshots
    def _msg_tree(self, tree: str) -> dict | None:
        """The parsed ``msg/`` tree of a snapshot (name -> entry bytes)."""
        cache = self._msg_cache
        hit = cache.get(tree, cache)
        if hit is not cache:
            return hit
        root = self._tree_entries(tree, copy=False)
        e = root.get(_MSG_NAME)
        msg = self._tree_entries(e[-20:], copy=False) if e is not None and _odb.entry_is_tree(e) \
            else None
        if len(cache) >= 32:
            del cache[next(iter(cache))]
        cache[tree] = msg
        return msg

    def read_items(self, tree: str) -> list[Item]:
        """Every entry of a snapshot, in context order."""
        msg = self._msg_tree(tree)
        if msg is None:
            return []
        out: list[Item] = []
        append = out.append
        entries = self._tree_entries
        for be in msg.values():
            if not be.startswith(b"40000 "):  # not ours (a commit made by plain git)
                continue
            for name, e in entries(be[-20:], copy=False).items():
                if not e.startswith(b"100644 "):
                    continue
                try:
                    key, eid, role = name.decode().rsplit("-", 2)
                except (ValueError, UnicodeDecodeError):
                    continue
                append(Item(key, eid, role, e[-20:].hex()))
        return out

    def last_item(self, tree: str | None) -> Item | None:
        if tree is None:
            return None
        msg = self._msg_tree(tree)
        if not msg:
            return None
        for be in reversed(msg.values()):
            if not be.startswith(b"40000 "):  # not ours (a commit made by plain git)
                continue
            bucket = self._tree_entries(be[-20:], copy=False)
            for name, e in reversed(bucket.items()):
                if e.startswith(b"100644 ") and name.count(b"-") >= 2:
                    try:
                        return parse_item_name(name.decode(), e[-20:].hex())
                    except (ValueError, UnicodeDecodeError):
                        continue
        return None

    def count_items(self, tree: str) -> int:
        msg = self._msg_tree(tree)
        if msg is None:
            return 0
        return len(self.read_items(tree))

    def read_settings(self, tree: str) -> dict:
        e = self._tree_entries(tree, copy=False).get(SETTINGS_FILE.encode())
        if e is None:
            return {}
        try:
            return json.loads(self._read(e[-20:])[1])
        except (ValueError, KeyError):
            return {}

    def build_tree(self, base: str | None, changes: dict[str, str | None],
                   settings: dict | None = None, *, set_settings: bool = False) -> str:
        """A new snapshot tree: ``base`` with ``changes`` applied.

        ``changes`` maps an item name (``<key>-<id>-<role>``) to a blob id,
        or to None to remove it.  Only the buckets touched are rewritten.
        Trees are made as git's bytes here (the tests check the ids equal
        libgit2's) and written as loose objects, or staged in memory."""
        put, entry, set_entry = self._put_tree, _odb.entry, _odb.set_entry
        msg_name, blob_mode, tree_mode = _MSG_NAME, _BLOB_MODE, _TREE_MODE
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
                    blob = self._put(b"blob", data)
                    root_ok = set_entry(root, sname, entry(blob_mode, sname, blob)) and root_ok
                else:
                    root.pop(sname, None)
            return put(root, root_ok).hex()
        except KeyError as e:
            raise BadRevisionError(f"missing object {e.args[0] if e.args else ''}") from None
        except OSError as e:
            raise _wrap_write_error(e, "tree") from None

    def raw_object(self, oid) -> bytes:
        """An object's raw bytes (a tree's entries as git stores them), from
        a small cache: a rewrite reads the same few trees again and again."""
        if isinstance(oid, str):
            raw = bytes.fromhex(oid)
        elif isinstance(oid, bytes):
            raw = oid
        else:
            raw = oid.raw
        cache = self._raw_cache
        data = cache.get(raw)
        if data is None:
            data = self._read(raw)[1]
            if len(cache) >= 64:
                del cache[next(iter(cache))]
            cache[raw] = data
        return data

    def _tree_entries(self, oid, copy: bool = True) -> dict:
        """A tree's entries (name -> entry bytes), in the tree's order; a
        copy the caller may change unless ``copy`` is false.  The trees
        read or made last are kept parsed (the next commit starts from
        them)."""
        key = oid if isinstance(oid, bytes) else bytes.fromhex(oid) if isinstance(oid, str) \
            else oid.raw
        cache = self._parsed_trees
        hit = cache.get(key)
        if hit is None:
            hit = _odb.parse_tree(self.raw_object(key))
            if len(cache) >= 256:
                del cache[next(iter(cache))]
            cache[key] = hit
        return dict(hit) if copy else hit

    def _put_tree(self, entries: dict, in_order: bool) -> bytes:
        data = _odb.tree_bytes(entries, in_order)
        raw = self._put(b"tree", data)
        cache = self._parsed_trees
        if len(cache) >= 256:
            del cache[next(iter(cache))]
        cache[raw] = entries if in_order else _odb.parse_tree(data)
        return raw

    def build_tree_from_items(self, items: list[Item], settings: dict | None = None) -> str:
        """A snapshot tree made from scratch (used by rewrites and import)."""
        return self.build_tree(None, {i.name: i.blob for i in items}, settings, set_settings=True)

    # --------------------------------------------------------------- commits
    def commit(self, oid: str) -> CommitData:
        cache = self._commit_cache
        hit = cache.get(oid)
        if hit is not None:
            return hit
        try:
            kind, data = self._read(oid)
        except (KeyError, ValueError, TypeError):
            kind, data = b"", b""
        if kind != b"commit":
            return self._commit_slow(oid)
        tree, parents, author, committer, message = _odb.parse_commit(data)
        an, ae, at, ao = _odb.parse_ident(author)
        ct = _odb.parse_ident(committer)[2]
        c = CommitData(oid, tree, tuple(parents), message, an, ae, at, ao, ct)
        if len(cache) >= 256:
            del cache[next(iter(cache))]
        cache[oid] = c
        return c

    def _commit_slow(self, oid: str) -> CommitData:
        """A commit through libgit2: abbreviated ids, tags to peel."""
        try:
            c = self.repo[oid]
        except (KeyError, ValueError):
            raise BadRevisionError(f"bad object {oid}") from None
        if c.type != pygit2.GIT_OBJECT_COMMIT:
            try:
                c = c.peel(pygit2.Commit)
            except (pygit2.GitError, ValueError, pygit2.InvalidSpecError):
                raise BadRevisionError(f"bad object {oid}") from None
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

    def _signature(self, kind: str, strict: bool = True) -> Sig:
        """The author or committer of a commit made now (git's
        environment variables, then user.name/user.email).  ``strict``:
        refuse a name git would refuse for a commit (a reflog line, like
        git's, takes it as cleaned, even empty)."""
        env = os.environ
        name = env.get(f"GIT_{kind}_NAME")
        email = env.get(f"GIT_{kind}_EMAIL")
        if name is None or email is None:
            self._config_values(False)  # the cache below lives as long as this read
            key = self.__dict__["_config_cache"][False][0]
            cached = self._sig_cache
            if cached is None or cached[0] != key:
                n = self.get_config("user.name") or "tract"
                m = self.get_config("user.email") or "tract@localhost"
                cached = self._sig_cache = (key, n, m)
            name = name if name is not None else cached[1]
            email = email if email is not None else cached[2]
        if strict:
            name, email = _clean_sig(name, email)
        else:
            name, email = _odb.clean_ident(name), _odb.clean_ident(email)
        date = env.get(f"GIT_{kind}_DATE")
        if date:
            t, off = _parse_git_date(date)
            return Sig(name, email, t, off)
        now = int(time.time())
        return Sig(name, email, now, _local_offset(now))

    def check_identity(self) -> None:
        """Raise ``ConfigError`` now, before any object is written, when
        the author or committer identity is one git would refuse."""
        self._signature("AUTHOR")
        self._signature("COMMITTER")

    def create_commit(self, tree: str, parents: list[str], message: str,
                      author: tuple[str, str] | None = None) -> str:
        auth = self._signature("AUTHOR")
        if author is not None:
            auth = Sig(*_clean_sig(*author), auth.time, auth.offset)
        com = self._signature("COMMITTER")
        for v in (tree, *parents):
            if len(v) != 40:
                raise BadRevisionError(f"bad object {v}")
        data = _odb.commit_bytes(tree, parents, auth.line(), com.line(), message)
        oid = self._put(b"commit", data).hex()
        self._remember_commit(CommitData(oid, tree, tuple(parents), message, auth.name, auth.email,
                                         auth.time, auth.offset, com.time))
        return oid

    def _remember_commit(self, c: CommitData) -> None:
        """Keep a commit just made: the next append starts from it."""
        cache = self._commit_cache
        if len(cache) >= 256:
            del cache[next(iter(cache))]
        cache[c.id] = c

    def walk(self, start: str, *, first_parent: bool = False, topo: bool = True,
             hide: Iterable[str] = ()) -> Iterator[CommitData]:
        """Commits reachable from ``start`` but not from any of ``hide``,
        children before parents.

        A topological walk has to read the whole history before it yields
        anything, so ``log -n 20`` would cost O(history).  Until the first
        merge the order is forced (each commit has one parent), so that
        stretch is followed parent by parent, lazily; only past a merge
        does the full walk run (skipping what was already yielded)."""
        def data(c) -> CommitData:
            a = c.author
            return CommitData(str(c.id), str(c.tree_id), tuple(str(p) for p in c.parent_ids),
                              c.message, a.name, a.email, a.time, a.offset, c.commit_time)

        done = 0
        hide = list(hide)
        if topo and not hide:
            cd = self.commit(start)
            start = cd.id
            while True:
                yield cd
                done += 1
                parents = cd.parents
                if not parents:
                    return
                if len(parents) > 1:
                    break
                cd = self.commit(parents[0])
        repo = self.repo
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
        if _fast_ref_name(name):
            try:
                v = self.refs.read_raw(name)
            except OSError:
                v = None
            if v is None:
                raise NotAStoreError(f"store has no {name}")
            if v.startswith("ref: "):
                target = v[5:].strip()
                return Head(target, self.read_ref(target))
            if len(v) == 40:
                return Head(None, v)
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
        if _fast_ref_name(name):
            try:
                return self.refs.read_raw(name) is not None
            except OSError:
                pass
        try:
            self.repo.lookup_reference(name)
            return True
        except (KeyError, ValueError, pygit2.GitError):
            return False

    def read_ref(self, name: str) -> str | None:
        if _fast_ref_name(name):
            try:
                final, v = self.refs.resolve(name)
            except OSError:
                final, v = name, None
            if v is not None and len(v) == 40:
                return v
            if v is None and final is not None:
                return None
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
        if rev == "HEAD":
            h = self.head()
            if h.commit is not None and self._is_commit(h.commit):
                return h.commit
        elif len(rev) == 40 and self._is_commit(rev):
            return rev
        try:
            obj = self.repo.revparse_single(rev)
            c = obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            full = self._short_commit(rev)
            if full is None or full == rev:
                raise BadRevisionError(f"bad revision '{rev}'") from None
            try:
                return self.resolve(full)
            except BadRevisionError:  # named as the user wrote it
                raise BadRevisionError(f"bad revision '{rev}'") from None
        return str(c.id)

    def _short_commit(self, rev: str) -> str | None:
        """``rev`` with its abbreviated hash spelt out when the hash is
        ambiguous among all objects but names exactly one commit (git
        reads a revision as a commit and picks that one; libgit2 refuses
        the prefix).  Every commit brings trees and blobs, so 4-digit
        prefixes shared with one of them are common."""
        m = _SHORT_HEX.match(rev)
        if m is None:
            return None
        prefix = m.group(1).lower()
        commits = [raw for raw in self.odb.with_prefix(prefix) if self._is_commit(raw.hex())]
        if len(commits) != 1:
            return None
        return commits[0].hex() + rev[m.end():]

    def _is_commit(self, oid: str) -> bool:
        try:
            return self._read(oid)[0] == b"commit"
        except (KeyError, ValueError):
            return False

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
                    deadline = now + (lock_timeout() if wait else 0.0)
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

    def updates_at_once(self, name: str) -> bool:
        """Whether ``update_ref_via`` can move ``name`` through several
        commits in one compare-and-swap: a plain ref under ``refs/`` that
        tract writes itself (not HEAD, not a symbolic ref)."""
        if name == "HEAD" or not _fast_ref_name(name):
            return False
        try:
            v = self.refs.read_raw(name)
        except OSError:
            return False
        return not (v or "").startswith("ref: ")

    def update_ref_via(self, name: str, steps: list[tuple[str, str]], old: str | None) -> None:
        """``update_ref`` through several commits at once: ``name`` moves
        from ``old`` to the last of ``steps`` (``(commit, reflog message)``,
        each commit made on the one before) in one compare-and-swap, so
        readers see all of them or none, and its reflog (and HEAD's) gets
        one line per step, as that many ``update_ref`` calls would write.
        Only for a ref ``updates_at_once`` accepts (``ValueError`` else)."""
        if not steps:
            raise ValueError("no commits to move the ref to")
        if not self.updates_at_once(name):
            raise ValueError(f"{name} cannot be moved through several commits at once")
        *via, (new, message) = steps

        def write() -> None:
            try:
                self._fast_update(name, new, old, message, via=tuple(via))
            except _SymbolicRef:  # became symbolic meanwhile: as if another writer moved it
                raise RefRaceError(f"ref {name} became a symbolic ref while updating it") from None

        self._locked_write(write, [name])

    def _update_ref_nowait(self, name: str, new: str, old: str | None, message: str) -> None:
        """``update_ref`` that does not wait on a live lock (for callers
        with a retry loop of their own)."""
        self._locked_write(lambda: self._update_ref(name, new, old, message), [name], wait=False)

    def _logs(self, ref: str) -> bool:
        """Whether git would append to ``ref``'s reflog: always when
        ``core.logAllRefUpdates`` allows creating it (``always``; or
        ``true``, the default outside bare repositories, for HEAD and
        branch, remote and notes refs), otherwise only when the log exists."""
        mode = self.get_config("core.logAllRefUpdates")
        if mode is not None and mode.lower() == "always":
            return True
        # (a value git cannot read as a boolean, on which git dies: false)
        default = bool(_odb.git_bool(mode)) if mode is not None else \
            not _odb.git_bool(self.get_config("core.bare") or "false")
        if default and (ref == "HEAD" or ref.startswith(("refs/heads/", "refs/remotes/", "refs/notes/"))):
            return True
        return os.path.isfile(os.path.join(self.path, "logs", ref))

    def _log_tail(self, message: str) -> bytes:
        """A reflog line's identity and message: the committer, at the time
        of now (as git does: reflog retention is about when a ref moved,
        whatever date the commit carries)."""
        sig = self._signature("COMMITTER", strict=False)
        now = int(time.time())
        return _odb.reflog_tail(Sig(sig.name, sig.email, now, _local_offset(now)).line(), message)

    def _fast_update(self, name: str, new: str, old: str | None, message: str,
                     head_name: str = "HEAD", via: tuple = (), log_from: str | None = None) -> None:
        """Compare-and-swap of a plain ref with git's lock protocol (see
        :class:`odb.Refs`); HEAD's reflog gets the line too when HEAD
        points at ``name``, as git does.  ``via``: ``(commit, message)``
        steps before ``new`` (see ``update_ref_via``)."""
        logs = [name] if self._logs(name) else []
        if head_name and name.startswith("refs/heads/") and \
                self.refs.read_raw(head_name) == f"ref: {name}" and self._logs(head_name):
            logs.append(head_name)
        try:
            # the notes ref (derived data) is swapped rather than renamed
            # over from a process's second update on (see odb.Refs.update;
            # the first would pay more to load ctypes than it saves)
            exchange = name == NOTES_REF and self._notes_updates > 0
            steps = tuple((mid, self._log_tail(msg)) for mid, msg in via) if logs else ()
            # the objects are written under the lock: a ref that is locked
            # or moved meanwhile leaves none behind
            self.refs.update(name, new, old, self._log_tail(message) if logs else None, tuple(logs),
                             exchange=exchange, via=steps, prepare=self.flush_staged, log_from=log_from)
            if name == NOTES_REF:
                self._notes_updates += 1
        except _odb.RefLocked:
            raise RefLockedError(f"cannot lock ref {name}: another tract or git process holds the lock",
                                 hints=("if no other process is running, remove the stale lock file",)) \
                from None
        except _odb.RefMoved:
            raise RefRaceError(f"ref {name} moved while updating it") from None
        except _odb.RefConflict as e:
            raise RefUpdateError(f"cannot lock ref '{name}': {e}") from None
        except _odb.RefSymbolic:
            if head_name == "":  # a HEAD that is no longer detached
                raise RefRaceError(f"{name} moved while updating it") from None
            raise _SymbolicRef(name) from None
        except OSError as e:
            raise _wrap_write_error(e, f"ref {name}") from None

    def _update_ref(self, name: str, new: str, old: str | None, message: str) -> None:
        if _fast_ref_name(name) and name != "HEAD":
            try:
                return self._fast_update(name, new, old, message)  # (objects written under the lock)
            except _SymbolicRef:
                pass  # a symbolic ref: libgit2 below
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
        if _fast_ref_name(name):
            return self._fast_update(name, new, old, message, head_name="")  # (objects written under the lock)
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
                if message:  # (libgit2's set_head logs "checkout: moving from ...")
                    self.repo.create_reference_symbolic("HEAD", target, True, message=message)
                else:
                    self.repo.set_head(target)
            else:
                self.repo.set_head(pygit2.Oid(hex=target))
        except (pygit2.GitError, OSError) as e:
            raise _wrap_write_error(e, name) from None

    def rename_ref(self, old: str, new: str, commit: str, existing: str | None, message: str, *,
                   move_head: bool = False) -> None:
        """``git branch -m``: ``old`` becomes ``new`` (replacing ``existing``,
        its value, when forced) and keeps its reflog, which gets ``message``;
        HEAD follows when ``move_head`` (its reflog gets ``message`` too,
        not a checkout line).  Refused before anything is written when a
        ref to change is locked; when moving the ref fails, the reflogs are
        put back."""
        names = [old, new] + (["HEAD"] if move_head else [])
        for name in names:
            if os.path.exists(os.path.join(self.path, name + ".lock")):
                raise RefLockedError(f"cannot lock ref {name}: another tract or git process holds the lock",
                                     hints=("if no other process is running, remove the stale lock file",))
        olog = os.path.join(self.path, "logs", old)
        nlog = os.path.join(self.path, "logs", new)
        aside = moved = None
        try:
            if existing is not None and os.path.isfile(nlog):
                aside = f"{nlog}.renaming-{os.getpid()}"
                os.rename(nlog, aside)  # the replaced branch's log goes with it, as in git
            if os.path.isfile(olog):
                os.makedirs(os.path.dirname(nlog), exist_ok=True)
                os.rename(olog, nlog)
                moved = True
            # the line git writes: "<commit> <commit> ... Branch: renamed ..."
            self._locked_write(lambda: self._fast_update(new, commit, existing, message, head_name="",
                                                         log_from=commit), [new])
        except BaseException:
            try:
                if moved:
                    os.rename(nlog, olog)
                if aside:
                    os.rename(aside, nlog)
            except OSError:
                pass
            raise
        if aside:
            try:
                os.unlink(aside)
            except OSError:
                pass
        if move_head:
            self.set_head(new, message)
        self.delete_ref(old, commit)

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
        """The reflog of ``name``, newest first, read from git's file
        (libgit2's reader creates an empty log where there is none: a read
        must not write).  Lines are taken as git takes them
        (``show_one_reflog_ent``): two full hex ids, an identity, a
        nonzero time and a ``+hhmm`` zone, then a tab and the message; a
        last line with no newline (being written) and any line git would
        skip are skipped."""
        try:
            data = _odb._read_file(os.path.join(self.path, "logs", name))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return []
        out = []
        lines = data.split(b"\n")
        for line in lines[:-1]:  # (the part after the last newline is not a line yet)
            m = _REFLOG_LINE.match(line)
            if m is None or int(m.group(4)) == 0:  # (strtoumax's reading, as git's)
                continue
            committer = m.group(3).rpartition(b" <")[0].decode("utf-8", "replace")
            msg = m.group(5)
            msg = msg[1:] if msg[:1] == b"\t" else msg  # (git: the message follows a tab, or the zone)
            out.append(ReflogEntry(m.group(1).decode().lower(), m.group(2).decode().lower(),
                                   msg.decode("utf-8", "replace"), int(m.group(4)), committer))
        out.reverse()
        return out

    @staticmethod
    def valid_ref_name(name: str) -> bool:
        try:
            return pygit2.reference_is_valid_name(name)
        except Exception:
            return False

    # ----------------------------------------------------------- maintenance
    def refresh(self) -> None:
        """Forget what was read of the object database (after a repack or
        prune by git): packs are listed again, caches emptied."""
        self.odb.refresh()
        self._repo = None
        self._raw_cache, self._parsed_trees, self._commit_cache = {}, {}, {}
        self._msg_cache, self._notes_cache, self._notes_subs = {}, None, {}

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
        try:
            pack = fastimport.write_pack_chain(
                self.path, parent, commits, lambda oid: self._read(oid)[1],
                notes_parent=self.read_ref(NOTES_REF), notes_ident=notes_ident)
        except OSError as e:
            raise _wrap_write_error(e, "objects") from None
        except KeyError as e:
            raise BadRevisionError(f"missing object {e.args[0] if e.args else ''}") from None
        return pack

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
                    self._raw_cache, self._parsed_trees, self._commit_cache = {}, {}, {}

    def flush_staged(self) -> None:
        """Write what is held in memory: a batch's objects (loose, see
        :meth:`batch`) and the objects staged in memory (one pack, see
        :meth:`staged`)."""
        if self._batch:
            self.flush_batch()
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
        """The pygit2 tree of the notes tip (for the rare notes commands)."""
        tip = self.read_ref(NOTES_REF)
        if self._notes_cache is not None and self._notes_cache[0] == tip:
            return self._notes_cache[1]
        tree = self.repo[tip].tree if tip else None
        self._notes_cache = (tip, tree)
        return tree

    def _notes_root(self, tip: str | None) -> bytes | None:
        """The raw id of the notes tree of notes commit ``tip``."""
        if tip is None:
            return None
        return bytes.fromhex(self.commit(tip).tree)

    def read_note(self, commit: str) -> str | None:
        root = self._notes_root(self.read_ref(NOTES_REF))
        if root is None:
            return None
        try:
            entries = self._tree_entries(root, copy=False)
            c = commit.encode()
            e = None
            sub = entries.get(c[:2])
            if sub is not None and _odb.entry_is_tree(sub):
                sub_entries = self._tree_entries(sub[-20:], copy=False)
                e = sub_entries.get(c[2:])
                if e is not None and _odb.entry_is_tree(e):  # ab/cd/ef... (git's deeper fan-out)
                    e = self._tree_entries(e[-20:], copy=False).get(c[4:])
                elif e is None:
                    sub2 = sub_entries.get(c[2:4])
                    if sub2 is not None and _odb.entry_is_tree(sub2):
                        e = self._tree_entries(sub2[-20:], copy=False).get(c[4:])
            if e is None:
                e = entries.get(c)  # a flat note git wrote
            if e is None or _odb.entry_is_tree(e):
                return None
            return self._read(e[-20:])[1].decode("utf-8", "replace")
        except KeyError:
            return None

    def add_notes(self, notes: dict[str, str], *, message: str = "Notes added by tract",
                  retries: int = 200, lock_timeout: float | None = None) -> None:
        """Add (or replace) notes under ``refs/notes/tract``, fanned out as
        ``ab/cdef...``; compare-and-swap on the notes ref, retried.  A held
        lock is waited on up to ``lock_timeout`` seconds (default: as long
        as the retries last), then ``RefLockedError``."""
        if not notes:
            return
        self.land_notes(self.prepare_notes(notes, message=message), retries=retries,
                        lock_timeout=lock_timeout)

    def prepare_notes(self, notes: dict[str, str], *, message: str = "Notes added by tract") -> tuple:
        """The objects of :meth:`add_notes` (note blobs, notes trees and the
        notes commit on the current notes tip), made without moving the
        notes ref, so that they are written with the commit they annotate
        (see :meth:`batch`); :meth:`land_notes` moves the ref."""
        # a note ends with a newline, as git's own notes do (readers
        # accept notes without one too)
        blobs = {c: self._put(b"blob", note_bytes(text)) for c, text in notes.items()}
        tip = self.read_ref(NOTES_REF)
        return (blobs, message, tip, self._notes_commit_for(tip, blobs, message))

    def _notes_commit_for(self, tip: str | None, blobs: dict, message: str) -> str:
        try:
            tree = self._notes_tree_bytes(self._notes_root(tip), blobs)
            return self._notes_commit(tree.hex(), [tip] if tip else [], message)
        except KeyError as e:
            raise TractError(f"cannot write notes: missing object {e}") from None

    def land_notes(self, prepared: tuple, *, retries: int = 200,
                   lock_timeout: float | None = None) -> None:
        """Move the notes ref to what :meth:`prepare_notes` made; when
        another writer moved it first, the notes commit is made again on
        the new tip (compare-and-swap, retried as in :meth:`add_notes`)."""
        blobs, message, tip, commit = prepared
        delay = 0.0005
        deadline = None if lock_timeout is None else time.monotonic() + lock_timeout
        for attempt in range(retries):
            if attempt:
                tip = self.read_ref(NOTES_REF)
                commit = self._notes_commit_for(tip, blobs, message)
            try:
                self._update_ref_nowait(NOTES_REF, commit, tip, "notes: " + message)
                self._notes_cache = None
                return
            except (RefRaceError, RefLockedError) as e:
                if isinstance(e, RefLockedError) and deadline is not None and time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        raise RefUpdateError(f"could not update {NOTES_REF}: too many concurrent writers")

    def _notes_commit(self, tree: str, parents: list, message: str) -> str:
        """A commit of the notes ref (committer as author, as git notes
        makes them), kept in the commit cache."""
        sig = self._signature("COMMITTER")
        line = sig.line()
        commit = self._put(b"commit", _odb.commit_bytes(tree, parents, line, line, message + "\n")).hex()
        self._remember_commit(CommitData(commit, tree, tuple(parents), message + "\n", sig.name,
                                         sig.email, sig.time, sig.offset, sig.time))
        return commit

    def _notes_tree_bytes(self, base: bytes | None, blobs: dict) -> bytes:
        """``_notes_tree_with`` made as bytes: the notes tree ``base`` with
        ``blobs`` (commit id -> raw blob id) added, fanned out as
        ``ab/cdef...``; returns the new tree's raw id."""
        entry, set_entry, put = _odb.entry, _odb.set_entry, self._put_tree
        root = self._tree_entries(base) if base is not None else {}
        groups: dict[bytes, list[str]] = {}
        for c in blobs:
            groups.setdefault(c[:2].encode(), []).append(c)
        root_ok = True
        subs = self._notes_subs
        for prefix, commits in groups.items():
            se = root.get(prefix)
            if se is not None and _odb.entry_is_tree(se):
                # the 256 subtrees are each changed about every 256th note:
                # the last one made of each is kept parsed (the general
                # cache would have dropped it by then)
                hit = subs.get(prefix)
                sub = dict(hit[1]) if hit is not None and hit[0] == se[-20:] \
                    else self._tree_entries(se[-20:])
            else:
                sub = {}
            ok = True
            for c in commits:
                name = c[2:].encode()
                ok = set_entry(sub, name, entry(_BLOB_MODE, name, blobs[c])) and ok
                root.pop(c.encode(), None)  # a flat note git wrote
            raw = put(sub, ok)
            subs[prefix] = (raw, sub if ok else self._tree_entries(raw, copy=False))
            root_ok = set_entry(root, prefix, entry(_TREE_MODE, prefix, raw)) and root_ok
        return put(root, root_ok)

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
                    new = self._notes_commit(str(tree), [ours, theirs], message)
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
                commit = self._notes_commit(str(tree), [tip], message)
            except (pygit2.GitError, OSError, ValueError) as e:
                raise _wrap_write_error(e, "notes") from None
            try:
                self._update_ref_nowait(NOTES_REF, str(commit), tip, "notes: " + message)
                return sorted(gone)
            except (RefRaceError, RefLockedError):
                time.sleep(0.002)
        raise RefUpdateError(f"could not update {NOTES_REF}: too many concurrent writers")

    def squash_notes(self, *, message: str = "Notes squashed by tract",
                     retries: int = 20) -> str | None:
        """Rewrite ``refs/notes/tract`` as one parentless commit holding the
        tip's notes tree, so the notes history (one commit and two trees per
        note, which no reader needs: notes are read from the tip's tree)
        becomes garbage that ``git gc`` prunes.  Every note is kept: the tree
        is the tip's own, and the ref moves with compare-and-swap, so a note
        added meanwhile makes the squash retry on the new tip, never lose
        it.  Returns the new tip, or None when there was nothing to squash
        (no notes, or the tip has no parent already)."""
        for _ in range(retries):
            tip = self.read_ref(NOTES_REF)
            if tip is None:
                return None
            old = self.commit(tip)
            if not old.parents:
                return None
            commit = self._notes_commit(old.tree, [], message)
            try:
                self._update_ref_nowait(NOTES_REF, commit, tip, "notes: " + message)
                return commit
            except (RefRaceError, RefLockedError):
                time.sleep(0.002)
        raise RefUpdateError(f"could not update {NOTES_REF}: too many concurrent writers")

    def all_notes(self) -> dict[str, str]:
        tree = self._notes_tree()
        return {} if tree is None else self._flatten_notes(tree)
