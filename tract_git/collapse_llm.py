"""Model summaries for collapse, through the LLM adapter (``tract_git.llm``).

Sits at the llm layer: operations never import it; the api and cli hand
:func:`model_summarizer` to :func:`tract_git.ops.agents.collapse`.
litellm is only loaded when a summary is actually asked of a model.
"""

from __future__ import annotations

PROMPT = ("Summarize what this sub-agent did and found, in a few sentences, for the agent "
          "that delegated the work to it. Keep facts, results, names and numbers; invent nothing.")


def model_summarizer(repo, model: str | None):
    """``summarize(agent, entries) -> Summary`` asking ``model`` (operation
    ``collapse``: ``tract.collapse.model`` and friends apply).  The summary
    carries what the collapse commit records about the call, the same as a
    chat turn: ``Tract-Model``, ``Tract-Generation``, ``Tract-Usage``,
    ``Tract-Cost`` trailers and an ``llm`` object in the token note."""

    def summarize(agent: str, entries: list):
        from . import llm
        from .errors import LLMError
        from .ops.chat import turn_record
        from .ops.compress import Summary

        transcript = "\n\n".join(f"[{e.role}] {e.content}" for e in entries if not e.skipped)
        messages = [{"role": "system", "content": PROMPT},
                    {"role": "user", "content": f"Sub-agent '{agent}' transcript:\n\n{transcript}"}]
        c = llm.complete(repo, messages, operation="collapse", model=model)
        text = (c.text or "").strip()
        if not text:
            raise LLMError(f"model {c.model} returned an empty summary")
        trailers, note = turn_record(c, None)
        return Summary(text, "model", c.model, trailers=trailers, note=note)

    return summarize
