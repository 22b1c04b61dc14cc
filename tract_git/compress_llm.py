"""Model summaries for compress, through the LLM adapter (``tract_git.llm``).

Sits at the llm layer: operations never import it; the api and cli hand
:func:`model_summarizer` to :func:`tract_git.ops.compress.compress`.
litellm is only loaded when a summary is actually asked of a model.
"""

from __future__ import annotations

from .errors import LLMError, ModelNotConfiguredError
from .ops.compress import Summary
from .ops.repo import Repo

PROMPT = """You compress the history of a conversation between a user and an AI assistant \
so that the assistant can continue the work with a much shorter context.
Write a faithful summary of the entries below: decisions made, facts learned, \
open questions, tasks in progress, names, numbers and identifiers that may be needed later. \
Do not invent anything. Write plain text, no preamble.{target}"""


def _adapter():
    try:
        from . import llm
    except ImportError:  # pragma: no cover - the adapter is part of the package
        raise ModelNotConfiguredError("this tract has no LLM adapter") from None
    return llm


def wants_model(repo: Repo) -> bool:
    """Whether a model is configured for compress (``tract.compress.model``,
    ``tract.model``, ``TRACT_MODEL``...); resolving costs no litellm import."""
    try:
        from .llm.config import resolve
    except ImportError:
        return False
    try:
        resolve(repo, "compress")
    except ModelNotConfiguredError:
        return False
    return True


def render_entries(entries) -> str:
    parts = []
    for i, e in enumerate(entries):
        head = f"[{i}] {e.role}" + (f" ({e.name})" if e.name else "") + (f" {e.type}" if e.type else "")
        body = e.content
        for c in e.tool_calls or ():
            fn = c.get("function", {})
            body += ("\n" if body else "") + f"-> {fn.get('name')}({fn.get('arguments')})"
        parts.append(f"{head}\n{body}")
    return "\n\n".join(parts)


#: the most history sent to the model in one request; longer ranges are
#: summarized in chunks, then the chunk summaries are summarized (map-reduce)
DEFAULT_CHUNK_TOKENS = 60_000


def _chunks(repo: Repo, entries, limit: int) -> list[list]:
    out: list[list] = [[]]
    size = 0
    for e in entries:
        n = repo.counter.count_entry(e) + 8
        if out[-1] and size + n > limit:
            out.append([])
            size = 0
        out[-1].append(e)
        size += n
    return out


def model_summarizer(repo: Repo, model: str | None = None, *, chunk_tokens: int | None = None,
                     **params):
    """A summarizer for ``ops.compress.compress`` that asks a model.  A range
    longer than ``chunk_tokens`` (default: store setting
    ``compress.chunkTokens``, else 60,000) is summarized chunk by chunk, then
    the chunk summaries are summarized into one."""
    if chunk_tokens is None:
        v = repo.store.get_config_local("tract.compress.chunkTokens")
        chunk_tokens = int(v) if v and v.isdigit() and int(v) > 0 else DEFAULT_CHUNK_TOKENS
    usage_total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    calls: list = []

    def ask(entries, target) -> str:
        llm = _adapter()
        tgt = ""
        kw = dict(params)
        if target:
            tgt = f"\nThe summary must be shorter than {int(target * 0.9)} tokens."
            kw.setdefault("max_tokens", int(target))
        messages = [{"role": "system", "content": PROMPT.format(target=tgt)},
                    {"role": "user", "content": render_entries(entries)}]
        c = llm.complete(repo, messages, operation="compress", model=model, **kw)
        text = (c.text or "").strip()
        if not text:
            raise LLMError(f"model {c.model} returned an empty summary")
        u = c.usage.to_json() if hasattr(c.usage, "to_json") else dict(c.usage or {})
        for k in usage_total:
            usage_total[k] += int(u.get(k, 0) or 0)
        calls.append(c)
        return text

    def run(entries, target):
        from .model import Entry

        usage_total.update(prompt_tokens=0, completion_tokens=0, total_tokens=0)
        calls.clear()
        parts = _chunks(repo, entries, chunk_tokens)
        while len(parts) > 1:  # map: one summary per chunk; reduce: summarize those
            texts = [ask(p, target) for p in parts]
            summaries = [Entry(role="user", type="summary", content=t) for t in texts]
            parts = _chunks(repo, summaries, chunk_tokens)
            if len(parts) == len(texts):  # the summaries do not shrink: stop here
                parts = [summaries]
        text = ask(parts[0], target)
        last = calls[-1]
        note = {"model": last.model, "usage": dict(usage_total), "requests": len(calls)}
        costs = [c.cost for c in calls if getattr(c, "cost", None) is not None]
        if costs:
            note["cost"] = sum(costs)
        trailers = [("Tract-Summary-Usage",
                     f"prompt={usage_total['prompt_tokens']} "
                     f"completion={usage_total['completion_tokens']}"
                     + (f" requests={len(calls)}" if len(calls) > 1 else ""))]
        if costs:
            trailers.append(("Tract-Cost", _adapter().format_cost(sum(costs))))
        return Summary(text, "model", last.model, trailers=trailers, note=note)

    return run
