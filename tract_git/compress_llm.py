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


def model_summarizer(repo: Repo, model: str | None = None, **params):
    """A summarizer for ``ops.compress.compress`` that asks a model."""

    def run(entries, target):
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
        usage = c.usage.to_json() if hasattr(c.usage, "to_json") else dict(c.usage or {})
        note = {"model": c.model, "usage": usage}
        if getattr(c, "cost", None) is not None:
            note["cost"] = c.cost
        return Summary(text, "model", c.model,
                       trailers=[("Tract-Summary-Usage",
                                  f"prompt={usage.get('prompt_tokens', 0)} "
                                  f"completion={usage.get('completion_tokens', 0)}")],
                       note=note)

    return run
