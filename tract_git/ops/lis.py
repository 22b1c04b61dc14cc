"""Longest strictly increasing subsequence (patience sorting), shared by
diff (which entries moved) and reorder (which keys can stay)."""

from __future__ import annotations

import bisect


def longest_increasing(values: list) -> set[int]:
    """Indexes of a longest strictly increasing subsequence of ``values``."""
    tails: list = []
    tails_idx: list[int] = []
    prev = [-1] * len(values)
    for n, v in enumerate(values):
        j = bisect.bisect_left(tails, v)
        if j == len(tails):
            tails.append(v)
            tails_idx.append(n)
        else:
            tails[j] = v
            tails_idx[j] = n
        prev[n] = tails_idx[j - 1] if j > 0 else -1
    keep = set()
    n = tails_idx[-1] if tails_idx else -1
    while n >= 0:
        keep.add(n)
        n = prev[n]
    return keep
