"""Commit messages: a subject, an optional body, then git trailers.

    Append user message: "How do I ..."

    Tract-Op: append
    Tract-Entry: 3f9a2b1c

``git interpret-trailers --parse`` reads the trailers.  Values are one line.
"""

from __future__ import annotations

import re

_TRAILER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")


def format_message(subject: str, body: str = "", trailers: list[tuple[str, str]] | None = None) -> str:
    subject = " ".join(subject.split()) or "(no subject)"
    parts = [subject]
    body = body.strip("\n")
    if body:
        parts.append(body)
    if trailers:
        parts.append("\n".join(f"{k}: {_one_line(v)}" for k, v in trailers))
    return "\n\n".join(parts) + "\n"


def _one_line(v) -> str:
    return " ".join(str(v).split())


def parse_message(message: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(subject, body, trailers).  Trailers are the last paragraph when every
    line of it is ``Key: value`` with at least one ``Tract-`` key."""
    text = message.strip("\n")
    paras = text.split("\n\n")
    subject = paras[0].replace("\n", " ")
    trailers: list[tuple[str, str]] = []
    rest = paras[1:]
    if rest:
        lines = rest[-1].split("\n")
        parsed = [_TRAILER_RE.match(line) for line in lines]
        if all(parsed) and any(m.group(1).startswith("Tract-") for m in parsed):  # type: ignore[union-attr]
            trailers = [(m.group(1), m.group(2)) for m in parsed]  # type: ignore[union-attr]
            rest = rest[:-1]
    return subject, "\n\n".join(rest), trailers


def trailer(trailers: list[tuple[str, str]], key: str, default: str | None = None) -> str | None:
    for k, v in trailers:
        if k.lower() == key.lower():
            return v
    return default


def trailer_all(trailers: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in trailers if k.lower() == key.lower()]
