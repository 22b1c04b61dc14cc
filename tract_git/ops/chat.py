"""Conversational turns: ``chat`` (a user message and the model's reply)
and ``generate`` (the model's reply to the context as it stands).

One turn = compile, one model call (``tract_git.llm.complete``), then the
commits.  Nothing is written before the model has answered with a usable
reply, so a failed call (after retries), a malformed reply or an
interruption leaves the store exactly as it was: no commit, no ref move,
no note.  ``chat`` then lands two commits, the user message and the
assistant reply; ``generate`` lands one.

The assistant commit records the turn in git:

    assistant: Paris is the capital of France.

    Tract-Op: append
    Tract-Entry: 3f9a2b1c0d4e
    Tract-Model: openai/gpt-4o-mini
    Tract-Generation: {"model":"openai/gpt-4o-mini","temperature":0.2}
    Tract-Usage: prompt=12 completion=7 total=19
    Tract-Cost: 0.0000060 USD
    Tract-Context: <the commit whose context was sent>

and the same, as JSON, under ``"llm"`` in the commit's token note
(``refs/notes/tract``).  Tool calls in a reply are kept as the assistant
entry's structured tool calls, so they compile back to each provider's
shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .. import llm
from ..errors import LLMError
from ..model import Entry
from . import commit as _commit
from . import compile as _compile
from ..store import treediff as _treediff
from .repo import CommitResult, Repo

OPERATION = "chat"


@dataclass
class ChatResult:
    """One turn: the reply, its usage and the commits that recorded it."""

    text: str
    tool_calls: list | None
    usage: llm.Usage
    cost: float | None
    model: str
    generation_config: dict
    commit_info: CommitResult  # the assistant commit
    user_commit: CommitResult | None = None  # chat only
    context_commit: str | None = None  # the commit whose context was sent (None: empty)
    completion: llm.Completion | None = field(default=None, repr=False)

    @property
    def commit(self) -> str:
        return self.commit_info.commit

    def __str__(self) -> str:
        return self.text

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "tool_calls": self.tool_calls,
            "model": self.model,
            "generation_config": dict(self.generation_config),
            "usage": self.usage.to_json(),
            "cost": self.cost,
            "commit": self.commit_info.commit,
            "user_commit": self.user_commit.commit if self.user_commit else None,
            "context_commit": self.context_commit,
            "entry": self.commit_info.entry_ids[0] if self.commit_info.entry_ids else None,
            "branch": self.commit_info.branch,
            "context_tokens": self.commit_info.note.context_tokens,
        }


_fmt_cost = llm.format_cost


def turn_record(c: llm.Completion, context_commit: str | None) -> tuple[list, dict]:
    """Trailers and note fields that record a model turn in git."""
    trailers = [
        ("Tract-Model", c.model),
        ("Tract-Generation", json.dumps(c.generation_config, separators=(",", ":"), ensure_ascii=False)),
        ("Tract-Usage", str(c.usage)),
    ]
    if c.cost is not None:
        trailers.append(("Tract-Cost", _fmt_cost(c.cost)))
    if context_commit:
        trailers.append(("Tract-Context", context_commit))
    note = {
        "operation": c.operation,
        "model": c.model,
        "generation": dict(c.generation_config),
        "usage": c.usage.to_json(),
        "cost": c.cost,
        "response_model": c.response_model or None,
        "finish_reason": c.finish_reason,
        "attempts": c.attempts,
    }
    return trailers, {"llm": note}


def reply_entry(c: llm.Completion) -> Entry:
    """The assistant entry for a reply; an empty reply is an error."""
    if not c.text and not c.tool_calls:
        raise LLMError(f"malformed reply from {c.model}: an empty message (no text, no tool calls)")
    return Entry(role="assistant", content=c.text, tool_calls=c.tool_calls).validated()


def _result(c: llm.Completion, res: CommitResult, user: CommitResult | None,
            context_commit: str | None) -> ChatResult:
    return ChatResult(c.text, c.tool_calls, c.usage, c.cost, c.model, dict(c.generation_config), res,
                      user, context_commit, c)


def _commit_reply(repo: Repo, c: llm.Completion, context_commit: str | None,
                  message: str | None = None) -> CommitResult:
    entry = reply_entry(c)
    trailers, note = turn_record(c, context_commit)
    return _commit.append(repo, [entry], message=message, extra_trailers=trailers, note_extra=note,
                          model_message=False)


def _seed_compile(repo: Repo, ctx: _compile.CompileResult, landed: list[CommitResult]) -> None:
    """Put the compiled context after this turn in the compile cache, so
    the next turn does not re-read a 1,000-entry snapshot it already
    knows: the context sent plus the new entries.  Only when the turn's
    commits landed straight on the compiled commit (no other writer in
    between) and the snapshot's settings are unchanged."""
    if ctx.dropped:
        return
    parent = ctx.commit
    for res in landed:
        if res.parent != parent:
            return
        parent = res.commit
    if ctx.tree is not None and _treediff.settings_id(repo.store, ctx.tree) != \
            _treediff.settings_id(repo.store, landed[-1].tree):
        return
    new = []
    for res in landed:
        item = repo.store.last_item(res.tree)
        if item is None or not res.entry_ids or item.id != res.entry_ids[-1]:
            return
        new.append(repo.entry(item))
    if any(e.skipped for e in new):
        return
    last = landed[-1]
    openai = None
    if ctx._openai is not None:  # the cached dicts, never handed out (to_openai copies them)
        tail = _compile.CompileResult(None, None, new, 0)
        tail.to_openai()
        openai = ctx._openai + tail._openai
    seeded = _compile.CompileResult(
        last.commit, last.tree, ctx.messages + new, last.note.context_tokens,
        last.note.encoding, last.note.approximate, [], openai)
    if len(repo.compile_cache) > 64:
        repo.compile_cache.clear()
    repo.compile_cache[("full", last.tree)] = seeded


def context(repo: Repo) -> _compile.CompileResult:
    """What a turn sends: what ``tract compile`` gives at HEAD.  With a
    branch ``budget`` that is the budgeted compile (``compile.strategy``
    full, window or compress: a context over budget under ``full`` is a
    ``BudgetError`` before any call; ``compress`` may land a compress
    commit first, with the compress model when one is configured)."""
    head = repo.head()
    if head.commit is None or repo.settings(head.commit).get("budget") is None:
        return _compile.compile(repo)
    from . import budget as _budget

    summarizer = None
    if repo.settings(head.commit).get("compile.strategy") == "compress":
        from ..compress_llm import model_summarizer, wants_model

        if wants_model(repo):
            summarizer = model_summarizer(repo)
    return _budget.compile_budget(repo, summarizer=summarizer)


def _sent(repo: Repo, ctx: _compile.CompileResult, user_commit: str) -> tuple[str | None, list]:
    """(Tract-Context, more trailers) for a chat turn whose question landed
    as ``user_commit``: that commit, whose context is exactly what the model
    saw, when it sits on the compiled commit; when another writer moved the
    branch during the call, the compiled commit, and ``Tract-Question``
    naming the question's commit (its entry was sent after that context)."""
    parents = repo.store.commit(user_commit).parents
    if (parents[0] if parents else None) == ctx.commit:
        return user_commit, []
    return ctx.commit, [("Tract-Question", user_commit)]


def _reply_trailers(repo, c, ctx, user_commit: str) -> list:
    context, more = _sent(repo, ctx, user_commit)
    return turn_record(c, context)[0] + more


def chat(repo: Repo, text: str, *, model: str | None = None, tools: list | None = None,
         type: str = "", name: str | None = None, message: str | None = None,
         on_text=None, **params) -> ChatResult:
    """Send the context plus a new user message; commit both the message
    and the reply once the model has answered."""
    user = Entry(role="user", content=text, type=type, name=name).validated()
    ctx = context(repo)
    msg = {"role": "user", "content": user.content}
    if user.name:
        msg["name"] = user.name
    messages = ctx.to_openai() + [msg]
    c = llm.complete(repo, messages, operation=OPERATION, model=model, tools=tools, on_text=on_text,
                     **params)
    entry = reply_entry(c)  # check before writing anything
    if repo.can_chain():
        # both commits land with one move of the branch (and one notes
        # commit): a reader sees the whole turn or none of it, and the
        # branch's lock and rename, the most expensive writes of a commit
        # on disk, are paid once
        note = turn_record(c, None)[1]  # the note does not depend on the context commit
        u, res = _commit.append_chain(repo, [
            {"entries": [user], "message": message, "model_message": False},
            {"entries": [entry], "extra_trailers": lambda user_commit: _reply_trailers(repo, c, ctx, user_commit),
             "note_extra": note, "model_message": False},
        ])
    else:
        # hooks see the commits one by one, as in any append; the user
        # message's note goes into the reply's notes commit (one notes
        # commit per turn); if the reply cannot land, it is recomputed
        # when first read, as any missing note is
        u = _commit.append(repo, [user], message=message, model_message=False, write_note=False)
        res = _commit.append(repo, [entry], extra_trailers=_reply_trailers(repo, c, ctx, u.commit),
                             note_extra=turn_record(c, None)[1], model_message=False)
    _seed_compile(repo, ctx, [u, res])
    return _result(c, res, u, _sent(repo, ctx, u.commit)[0])


def generate(repo: Repo, *, model: str | None = None, tools: list | None = None,
             message: str | None = None, on_text=None, **params) -> ChatResult:
    """The model's reply to the context at HEAD, committed.  A failure
    writes nothing, so calling it again is a clean retry."""
    ctx = context(repo)
    if not ctx.messages:
        raise LLMError("nothing to generate from: the context is empty",
                       hints=("add a message first, e.g. tract user 'hello'",))
    c = llm.complete(repo, ctx.to_openai(), operation=OPERATION, model=model, tools=tools,
                     on_text=on_text, **params)
    res = _commit_reply(repo, c, ctx.commit, message)
    _seed_compile(repo, ctx, [res])
    return _result(c, res, None, ctx.commit)
