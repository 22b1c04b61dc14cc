"""Compile: a commit's snapshot to an LLM-ready message list.

Skipped entries are dropped; order is kept.  The result is cached by tree
id (and options): the same tree always compiles to the same messages, so a
second compile of it does no work.  The entries themselves come through the
store's entry cache (``tract_git.store.entrycache``): decoded once per
bucket tree, kept in memory and in a file per bucket, so a new process does
not read and decode every blob again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import UsageError
from ..model import Entry
from ..store import entrycache as _entrycache
from .repo import Repo

FORMATS = ("openai", "anthropic", "dicts", "text")


@dataclass
class CompileResult:
    commit: str | None
    tree: str | None
    messages: list[Entry]
    token_count: int
    encoding: str = ""
    approximate: bool = False
    dropped: list[Entry] = field(default_factory=list)  # entries left out by a budget strategy
    _openai: list | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.messages)

    def to_dicts(self) -> list[dict]:
        """Every compiled entry with all its fields (id, role, type,
        priority, content, name, tool calls)."""
        return [e.to_json() for e in self.messages]

    def to_openai(self) -> list[dict]:
        """Chat Completions messages."""
        if self._openai is None:
            out = []
            for e in self.messages:
                m: dict = {"role": e.role, "content": e.content}
                if e.name:
                    m["name"] = e.name
                if e.role == "assistant" and e.tool_calls:
                    m["tool_calls"] = [
                        {"id": c["id"], "type": "function",
                         "function": {"name": c["function"]["name"],
                                      "arguments": c["function"]["arguments"]}}
                        for c in e.tool_calls
                    ]
                    if not e.content:
                        m["content"] = None
                if e.role == "tool":
                    if e.tool_call_id:
                        m["tool_call_id"] = e.tool_call_id
                        m.pop("name", None)
                    else:
                        # a tool message must answer a call (tool_call_id
                        # is required): a result with none is the user's
                        # turn, as tract-tool(1) says (and to_anthropic does)
                        m["role"] = "user"
                out.append(m)
            self._openai = out
        return list(map(dict.copy, self._openai))  # fresh dicts; 3x faster than dict(m)

    def to_anthropic(self) -> dict:
        """``{"system": str, "messages": [...]}`` for the Messages API: system
        entries become the system prompt, tool calls ``tool_use`` blocks,
        tool results ``tool_result`` blocks in a user turn, and consecutive
        turns of one role are merged (the API wants them alternating)."""
        system_parts: list[str] = []
        msgs: list[dict] = []

        def add(role: str, blocks: list[dict]) -> None:
            if msgs and msgs[-1]["role"] == role:
                msgs[-1]["content"].extend(blocks)
            else:
                msgs.append({"role": role, "content": list(blocks)})

        for e in self.messages:
            if e.role == "system":
                system_parts.append(e.content)
            elif e.role == "tool":
                if e.tool_call_id:
                    add("user", [{"type": "tool_result", "tool_use_id": e.tool_call_id,
                                  "content": e.content}])
                else:
                    add("user", [{"type": "text", "text": e.content}])
            elif e.role == "assistant":
                blocks: list[dict] = []
                if e.content:
                    blocks.append({"type": "text", "text": e.content})
                for c in e.tool_calls or ():
                    try:
                        args = json.loads(c["function"]["arguments"] or "{}")
                    except ValueError:
                        args = {}
                    blocks.append({"type": "tool_use", "id": c["id"],
                                   "name": c["function"]["name"], "input": args})
                add("assistant", blocks)
            else:
                add("user", [{"type": "text", "text": e.content}])
        return {"system": "\n\n".join(system_parts), "messages": msgs}

    def to_text(self) -> str:
        parts = []
        for e in self.messages:
            head = f"[{e.role}"
            if e.name:
                head += f" {e.name}"
            if e.role == "tool" and e.tool_call_id:
                head += f" {e.tool_call_id}"
            if e.pinned:
                head += " pinned"
            head += "]"
            body = e.content
            for c in e.tool_calls or ():
                body += ("\n" if body else "") + f"-> {c['function']['name']}({c['function']['arguments']})"
            parts.append(f"{head}\n{body}")
        return "\n\n".join(parts) + ("\n" if parts else "")

    def render(self, fmt: str):
        if fmt == "openai":
            return self.to_openai()
        if fmt == "anthropic":
            return self.to_anthropic()
        if fmt == "dicts":
            return self.to_dicts()
        if fmt == "text":
            return self.to_text()
        raise UsageError(f"unknown format '{fmt}' (expected one of: {', '.join(FORMATS)})")


def compile(repo: Repo, rev: str | None = None) -> CompileResult:
    """The compiled context at ``rev`` (default HEAD).  An unborn branch
    compiles to an empty context."""
    head = repo.head()
    if rev is None and head.commit is None:
        return CompileResult(None, None, [], 0, repo.counter.label, repo.counter.approximate)
    commit = repo.resolve(rev)
    tree = repo.store.commit(commit).tree
    key = ("full", tree)
    hit = repo.compile_cache.get(key)
    if hit is not None:
        r: CompileResult = hit  # type: ignore[assignment]
        return CompileResult(commit, tree, r.messages, r.token_count, r.encoding, r.approximate,
                             r.dropped, r._openai)
    entries = [e for e in _entrycache.read_entries(repo.store, tree) if e.priority != "skip"]
    note = repo.note(commit)
    result = CompileResult(commit, tree, entries, note.context_tokens, note.encoding or repo.counter.label,
                           note.approximate)
    if len(repo.compile_cache) > 64:
        repo.compile_cache.clear()
    repo.compile_cache[key] = result
    return result
