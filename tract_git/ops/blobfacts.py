"""Priority flags and token counts of many entries at once, through the
store's blob-facts cache (``tract_git.store.blobfacts``): what budget
compile and compress need about every entry, without decoding every entry
or loading the tokenizer for entries counted before."""

from __future__ import annotations

from ..store import blobfacts as _bf
from ..store import codec
from ..store.repo import Item
from .repo import Repo

PINNED, SKIP, SUMMARY, UNKNOWN = _bf.PINNED, _bf.SKIP, _bf.SUMMARY, _bf.UNKNOWN


class BlobFacts:
    def __init__(self, repo: Repo):
        self.repo = repo
        self.path = _bf.cache_path(repo.path, repo.counter.encoding)
        self._d: dict[str, tuple[int, int]] | None = None

    def _data(self) -> dict[str, tuple[int, int]]:
        if self._d is None:
            self._d = _bf.load(self.path)
            remember = self.repo.counter.remember
            for oid, (tok, _) in self._d.items():
                if tok != UNKNOWN:
                    remember(oid, tok)
        return self._d

    def flags(self, items: list[Item]) -> list[int]:
        d = self._data()
        missing = list(dict.fromkeys(i.blob for i in items if i.blob not in d))
        if missing:
            new = []
            for oid, data in zip(missing, self.repo.store.read_blobs(missing)):
                f = _bf.header_flags(data)
                tok = self.repo.counter.cached(oid)
                d[oid] = (UNKNOWN if tok is None else tok, f)
                new.append((oid, d[oid][0], f))
            _bf.append(self.path, new)
        return [d[i.blob][1] for i in items]

    def tokens(self, items: list[Item]) -> list[int]:
        """Token counts (0 for skipped entries is NOT applied here)."""
        d = self._data()
        self.flags(items)
        missing = list(dict.fromkeys(i.blob for i in items if d[i.blob][0] == UNKNOWN))
        if missing:
            new = []
            counter = self.repo.counter
            for oid, data in zip(missing, self.repo.store.read_blobs(missing)):
                n = counter.cached(oid)
                if n is None:
                    n = counter.count_entry(codec.decode(data, blob=oid), oid)
                d[oid] = (n, d[oid][1])
                new.append((oid, n, d[oid][1]))
            if not counter.approximate:  # an approximate count is not worth keeping
                _bf.append(self.path, new)
        return [d[i.blob][0] for i in items]


def facts(repo: Repo) -> BlobFacts:
    """The repo's BlobFacts (one per open Repo)."""
    f = getattr(repo, "_blob_facts", None)
    if f is None:
        f = BlobFacts(repo)
        repo._blob_facts = f  # type: ignore[attr-defined]
    return f
