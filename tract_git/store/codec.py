"""Entry blob codec.

A blob is a few ``Key: value`` header lines in a fixed order, a blank line,
then the content bytes verbatim (UTF-8)::

    Role: assistant
    Type: dialogue
    Priority: normal
    Name: planner                     (optional)
    Tool-Call-Id: call_1              (optional)
    Tool-Calls: [{"id": ...}]         (optional, one line of JSON)

    <content>

Identical entries (same headers, same content) encode to the same bytes and
so share one blob.  See man/tract-format.5.
"""

from __future__ import annotations

import json

from ..errors import TractError
from ..model import Entry

_ORDER = ("Role", "Type", "Priority", "Name", "Tool-Call-Id", "Tool-Calls")


class CorruptEntryError(TractError):
    pass


def encode(entry: Entry) -> bytes:
    lines = [
        f"Role: {entry.role}",
        f"Type: {entry.type}",
        f"Priority: {entry.priority}",
    ]
    if entry.name:
        lines.append(f"Name: {entry.name}")
    if entry.tool_call_id:
        lines.append(f"Tool-Call-Id: {entry.tool_call_id}")
    if entry.tool_calls:
        lines.append(
            "Tool-Calls: "
            + json.dumps(list(entry.tool_calls), ensure_ascii=False, separators=(",", ":"))
        )
    head = "\n".join(lines) + "\n\n"
    return head.encode("utf-8") + entry.content.encode("utf-8")


def decode(data: bytes, *, id: str = "", key: str = "", blob: str = "") -> Entry:
    sep = data.find(b"\n\n")
    if sep < 0:
        raise CorruptEntryError(f"entry blob {blob[:12]} has no header separator")
    headers: dict[str, str] = {}
    for line in data[:sep].decode("utf-8").split("\n"):
        k, _, v = line.partition(": ")
        headers[k] = v
    try:
        tool_calls = headers.get("Tool-Calls")
        return Entry(
            role=headers["Role"],
            type=headers.get("Type", ""),
            priority=headers.get("Priority", "normal"),
            name=headers.get("Name"),
            tool_call_id=headers.get("Tool-Call-Id"),
            tool_calls=tuple(json.loads(tool_calls)) if tool_calls else None,
            content=data[sep + 2 :].decode("utf-8"),
            id=id,
            key=key,
            blob=blob,
        )
    except (KeyError, ValueError) as e:
        raise CorruptEntryError(f"entry blob {blob[:12]} is malformed: {e}") from None


def content_of(data: bytes) -> bytes:
    """The content bytes of an encoded entry (for token counting)."""
    sep = data.find(b"\n\n")
    return data[sep + 2 :] if sep >= 0 else data
