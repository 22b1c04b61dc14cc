"""Renderers shared by several commands."""

from __future__ import annotations

from ._common import n_entries, Ctx, echo, fmt_tokens, short, style


def branch_label(ref: str | None) -> str:
    """``refs/heads/main`` -> ``main``; a sub-agent's
    ``refs/tract/agents/researcher/heads/main`` -> ``researcher:main``."""
    ref = ref or ""
    if ref.startswith("refs/tract/agents/") and "/heads/" in ref:
        agent, _, branch = ref[len("refs/tract/agents/"):].partition("/heads/")
        return f"{agent}:{branch}"
    return ref.replace("refs/heads/", "", 1)


def commit_line(ctx: Ctx, res) -> None:
    """``[main 1a2b3c4] user: hello`` and a token line, like git commit."""
    where = branch_label(res.branch) or "detached HEAD"
    echo(f"[{where} {short(res.commit)}] {res.subject}")
    n = res.note
    ids = f" {', '.join(i[:12] for i in res.entry_ids)}" if res.entry_ids else ""
    echo(f" {res.op}{ids}: {fmt_tokens(n.tokens_added, True)} tokens "
         f"(context {fmt_tokens(n.context_tokens)} tokens, {n_entries(n.entries)})")
