"""Sub-agents from Python: ``child = t.spawn("researcher")``,
``t.collapse(child)``, ``t.expand(rev)``, ``t.agents()``."""

from __future__ import annotations

from .._lazy import lazy as _lazy

_agents = _lazy("tract_git.ops.agents")


class AgentsMixin:
    repo: object

    def spawn(self, agent: str, *, from_rev: str | None = None, inherit: str = "full",
              task: str | None = None):
        """Create a sub-agent linked to this context's HEAD (or ``from_rev``)
        and return a ``Tract`` working on the sub-agent's context."""
        _agents.spawn(self.repo, agent, from_rev=from_rev, inherit=inherit, task=task)
        return type(self)(self.repo.for_agent(agent))  # type: ignore[call-arg,attr-defined]

    def agent(self, name: str | None):
        """A ``Tract`` on an existing sub-agent's context (``None``: the main
        context)."""
        if name is None:
            return type(self)(self.repo.for_agent(None))  # type: ignore[call-arg,attr-defined]
        return type(self)(_agents.open_agent(self.repo, name))  # type: ignore[call-arg]

    @property
    def agent_name(self) -> str | None:
        """The sub-agent this ``Tract`` works on; None for the main context."""
        return self.repo.agent  # type: ignore[attr-defined]

    def collapse(self, agent, *, summary: str | None = None, model: str | None = None,
                 message: str | None = None):
        """Bring a sub-agent's result into this context (``agent``: its name
        or the ``Tract`` returned by ``spawn``)."""
        name = agent if isinstance(agent, str) else agent.agent_name
        summarizer = None
        if model is not None and summary is None:
            from ..collapse_llm import model_summarizer

            summarizer = model_summarizer(self.repo, model)
        return _agents.collapse(self.repo, name, summary=summary, summarizer=summarizer, message=message)

    def expand(self, rev: str):
        return _agents.expand(self.repo, rev)

    def agents(self):
        return _agents.list_agents(self.repo)
