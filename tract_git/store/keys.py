"""Position keys: sortable strings whose byte order is context order.

A key is a 12-digit lowercase hex *integer part* (appends step it by one),
optionally followed by a *fraction* in base 36 (``0-9a-z``, never ending in
``0``), which lets an entry be placed between any two neighbours without
renumbering.  Byte order of keys equals the order of the numbers they stand
for, because the integer part has a fixed width and every fraction digit
sorts after ``-`` (the separator that follows a key in a tree entry name).

The first 10 characters are the *bucket*: entries live at
``msg/<bucket>/<key>-<id>-<role>``, so an append rewrites one bucket of at
most 256 appended entries, the ``msg`` tree and the root.
"""

from __future__ import annotations

INT_WIDTH = 12
BUCKET_WIDTH = 10
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_VAL = {c: i for i, c in enumerate(_DIGITS)}
_BASE = 36


def int_key(n: int) -> str:
    return format(n, "012x")


def split(key: str) -> tuple[int, str]:
    return int(key[:INT_WIDTH], 16), key[INT_WIDTH:]


def bucket(key: str) -> str:
    return key[:BUCKET_WIDTH]


def first() -> str:
    return int_key(1 << 20)  # leaves room to insert before the first entry


def after(key: str | None) -> str:
    """The key an append after ``key`` gets."""
    if key is None:
        return first()
    n, _ = split(key)
    return int_key(n + 1)


def before(key: str) -> str:
    n, frac = split(key)
    if n > 0:
        return int_key(n - 1)
    return int_key(0) + _frac_between("", frac)


def between(a: str | None, b: str | None) -> str:
    """A key strictly between ``a`` and ``b`` (either may be None)."""
    if a is None and b is None:
        return first()
    if a is None:
        return before(b)  # type: ignore[arg-type]
    if b is None:
        return after(a)
    if not a < b:
        raise ValueError(f"keys out of order: {a!r} !< {b!r}")
    na, fa = split(a)
    nb, fb = split(b)
    if nb - na >= 2:
        return int_key((na + nb) // 2)
    if nb == na:
        return int_key(na) + _frac_between(fa, fb)
    # nb == na + 1: go into a's fraction space, upper bound open
    return int_key(na) + _frac_between(fa, None)


def _frac_between(a: str, b: str | None) -> str:
    """Base-36 fraction strictly between a and b ("" = 0, None = 1)."""
    # classic digit-by-digit midpoint
    out = []
    i = 0
    while True:
        da = _VAL[a[i]] if i < len(a) else 0
        db = _VAL[b[i]] if (b is not None and i < len(b)) else _BASE
        if db - da >= 2:
            out.append(_DIGITS[(da + db) // 2])
            return "".join(out)
        # digits equal or adjacent: keep a's digit and go deeper
        out.append(_DIGITS[da])
        if db - da == 1:
            # everything below b from here on: upper bound is open
            b = None
        i += 1


def spread(n: int, start: int | None = None) -> list[str]:
    """``n`` fresh integer keys, e.g. to renumber a whole context."""
    s = (1 << 20) if start is None else start
    return [int_key(s + i) for i in range(n)]
