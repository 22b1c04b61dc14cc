"""The context model: entries and their fields.  Pure Python, no git."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import InvalidEntryError

ROLES = ("system", "user", "assistant", "tool")
PRIORITIES = ("normal", "pinned", "skip")
BUILTIN_TYPES = (
    "instruction",
    "dialogue",
    "tool_io",
    "reasoning",
    "artifact",
    "output",
    "freeform",
    "summary",
)
#: content type given to a role when none is named
DEFAULT_TYPE = {
    "system": "instruction",
    "user": "dialogue",
    "assistant": "dialogue",
    "tool": "tool_io",
}
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_HEADER_VALUE_RE = re.compile(r"^[^\r\n\x00]{1,512}$")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidEntryError(
            f"invalid role '{role}' (expected one of: {', '.join(ROLES)})"
        )
    return role


def check_type(ctype: str) -> str:
    if not isinstance(ctype, str) or not _TYPE_RE.match(ctype):
        raise InvalidEntryError(
            f"invalid content type '{ctype}' (lowercase letters, digits, '_', '.', '-'; "
            f"starting with a letter; built in: {', '.join(BUILTIN_TYPES)})"
        )
    return ctype


def check_priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise InvalidEntryError(
            f"invalid priority '{priority}' (expected one of: {', '.join(PRIORITIES)})"
        )
    return priority


def check_unicode(what: str, text: str) -> None:
    """Text that UTF-8 cannot encode (a lone surrogate, such as a command
    line argument that was not valid UTF-8) is refused."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidEntryError(f"{what} is not valid Unicode (a lone surrogate at character {e.start})") \
            from None


def check_header_value(what: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _HEADER_VALUE_RE.match(value):
        raise InvalidEntryError(
            f"invalid {what} {value!r}: one line of 1 to 512 characters"
        )
    return value


def normalize_tool_calls(tool_calls: Any) -> tuple[dict, ...] | None:
    """Tool calls in the OpenAI shape: ``{"id", "type": "function",
    "function": {"name", "arguments": <JSON string>}}``.  Accepts the
    arguments as a dict too, and the flat ``{"id", "name", "arguments"}``
    shape; returns a canonical tuple."""
    if not tool_calls:
        return None
    out = []
    for i, call in enumerate(tool_calls):
        if not isinstance(call, dict):
            raise InvalidEntryError(f"tool call {i} is not an object")
        fn = call.get("function", call)
        name = fn.get("name")
        args = fn.get("arguments", call.get("input", {}))
        cid = call.get("id")
        if not isinstance(name, str) or not name:
            raise InvalidEntryError(f"tool call {i} has no function name")
        if not isinstance(cid, str) or not cid:
            raise InvalidEntryError(f"tool call {i} has no id")
        if isinstance(args, str):
            try:
                json.loads(args or "{}")
            except ValueError:
                raise InvalidEntryError(
                    f"tool call {i} ({name}): arguments are not valid JSON"
                ) from None
        else:
            args = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
        out.append(
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
        )
    return tuple(out)


@dataclass(frozen=True)
class Entry:
    """One message of a context.

    ``content`` is kept as text and round-trips byte for byte through the
    store.  ``id`` is stable across edits, pins and moves; ``key`` is the
    position key (its lexicographic order is context order).
    """

    role: str
    content: str
    type: str = ""
    priority: str = "normal"
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: tuple[dict, ...] | None = None
    id: str = ""
    key: str = ""
    blob: str = ""  # blob id (hex) once stored

    def __post_init__(self):
        if not self.type:
            object.__setattr__(self, "type", DEFAULT_TYPE.get(self.role, "freeform"))

    def validated(self) -> "Entry":
        check_role(self.role)
        check_type(self.type)
        check_priority(self.priority)
        check_header_value("name", self.name)
        check_header_value("tool call id", self.tool_call_id)
        if not isinstance(self.content, str):
            raise InvalidEntryError("content must be text")
        if "\x00" in self.content:
            raise InvalidEntryError("content contains a NUL byte")
        check_unicode("content", self.content)
        for what, v in (("name", self.name), ("tool call id", self.tool_call_id)):
            if isinstance(v, str):
                check_unicode(what, v)
        tc = normalize_tool_calls(self.tool_calls)
        if tc:
            import json

            check_unicode("a tool call", json.dumps(tc, ensure_ascii=False))
        if self.tool_calls and self.role != "assistant":
            raise InvalidEntryError("only assistant entries carry tool calls")
        if not self.content and not tc:
            raise InvalidEntryError(f"empty content for a {self.role} entry")
        if self.role == "tool" and not self.tool_call_id:
            # allowed (plain tool output), but compile falls back to a user turn
            pass
        return replace(self, tool_calls=tc)

    def with_(self, **kw) -> "Entry":
        return replace(self, **kw)

    @property
    def skipped(self) -> bool:
        return self.priority == "skip"

    @property
    def pinned(self) -> bool:
        return self.priority == "pinned"

    def to_json(self) -> dict:
        d: dict[str, Any] = {
            "id": self.id,
            "role": self.role,
            "type": self.type,
            "priority": self.priority,
            "content": self.content,
        }
        if self.name:
            d["name"] = self.name
        if self.tool_call_id:
            d["tool_call_id"] = self.tool_call_id
        if self.tool_calls:
            d["tool_calls"] = [dict(c) for c in self.tool_calls]
        return d


@dataclass
class Settings:
    """Branch-scoped settings kept in the snapshot (``settings.json``)."""

    values: dict = field(default_factory=dict)
