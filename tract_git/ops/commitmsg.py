"""Commit subjects written by a model: opt-in.

The default subject of a commit is deterministic (``user: How do I...``).
Setting ``tract config commitMessages.model NAME`` (and only that key: the
store's default model does not turn this on) makes ``append`` ask that
model for the subject of commits made without ``-m``.  The commit then
carries ``Tract-Message-Model: NAME``.  Model-written subjects are a
nicety, never a condition: if the call fails or the answer is unusable,
the deterministic subject is used and the commit lands as usual.

Commits made by ``chat``/``generate`` keep their deterministic subjects
(one model call per turn is enough).  Defaults for this operation:
``timeout`` 10 s and no retries, unless ``tract.commitMessages.timeout`` /
``.retries`` say otherwise.
"""

from __future__ import annotations

from ..errors import TractError
from ..model import Entry

OPERATION = "commitMessages"
KEY = "tract.commitMessages.model"
_PROMPT = (
    "You write git commit subject lines for changes to an AI agent's context window. "
    "Reply with one line of at most 60 characters, imperative mood, no quotes, no trailing period, "
    "saying what the change adds."
)


def enabled(repo) -> str | None:
    """The model configured for commit messages, or None (off)."""
    try:
        return repo.store.get_config_local(KEY) or None
    except Exception:  # an unreadable config: off
        return None


def _clean(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = line.strip("\"'` ").rstrip(".")
    if line.lower().startswith("subject:"):
        line = line[len("subject:"):].strip()
    line = " ".join(line.split())
    if len(line) > 72:
        line = line[:69].rstrip() + "..."
    return line


def subject(repo, entries: list[Entry], fallback: str) -> tuple[str, list]:
    """(subject, extra trailers) for a commit appending ``entries``."""
    model = enabled(repo)
    if not model:
        return fallback, []
    from .. import llm

    shown = []
    for e in entries[:20]:
        body = e.content if len(e.content) <= 2000 else e.content[:2000] + " [...]"
        for c in e.tool_calls or ():
            body += f"\n-> {c['function']['name']}({c['function']['arguments'][:200]})"
        shown.append(f"[{e.role}, {e.type}]\n{body}")
    messages = [{"role": "system", "content": _PROMPT},
                {"role": "user", "content": "Entries appended:\n\n" + "\n\n".join(shown)}]
    try:
        cfg = llm.resolve(repo, OPERATION, model=model)
        params = {}
        if "timeout" not in cfg.sources:
            params["timeout"] = 10.0
        if "retries" not in cfg.sources:
            params["retries"] = 0
        if "max_tokens" not in cfg.params:
            params["max_tokens"] = 40
        c = llm.complete(repo, messages, operation=OPERATION, model=model, **params)
    except TractError:
        return fallback, []
    s = _clean(c.text)
    if not s:
        return fallback, []
    return s, [("Tract-Message-Model", model)]
