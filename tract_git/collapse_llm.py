"""Model summaries for collapse, through the LLM adapter (``tract_git.llm``).

Sits at the llm layer: operations never import it; the api and cli hand
:func:`model_summarizer` to :func:`tract_git.ops.agents.collapse`.
litellm is only loaded when a summary is actually asked of a model.
"""

from __future__ import annotations

PROMPT = ("Summarize what this sub-agent did and found, in a few sentences, for the agent "
          "that delegated the work to it. Keep facts, results, names and numbers; invent nothing.")


def model_summarizer(repo, model: str | None):
    """``summarize(agent, entries) -> str`` asking ``model`` (operation
    ``collapse``: ``tract.collapse.model`` and friends apply)."""

    def summarize(agent: str, entries: list) -> str:
        from . import llm

        transcript = "\n\n".join(f"[{e.role}] {e.content}" for e in entries if not e.skipped)
        messages = [{"role": "system", "content": PROMPT},
                    {"role": "user", "content": f"Sub-agent '{agent}' transcript:\n\n{transcript}"}]
        return llm.complete(repo, messages, operation="collapse", model=model).text

    return summarize
