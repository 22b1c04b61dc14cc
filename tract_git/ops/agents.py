"""Sub-agents: spawn, collapse, expand, list, prune.

A sub-agent is a context of its own in the same store (objects shared,
nothing copied), under its own ref namespace::

    refs/tract/agents/<agent>/heads/<branch>   its branches (main first)
    refs/tract/agents/<agent>/HEAD             its HEAD (symbolic, local only; written
                                               by its first switch: until then, main)
    refs/tract/agents/<agent>/base             its first commit (the spawn)
    refs/tract/agents/<agent>/collapsed        the latest collapse commit

The spawn commit's parent is the commit the agent was spawned from, and its
trailers say so (``Tract-Agent``, ``Tract-Spawned-From``, ``Tract-Spawned-By``).
A collapse commit on the parent context appends one entry (the agent's final
output and an account of its work) and points at the agent's history with a
second parent and the ``Tract-Collapsed-From`` trailer, so ``git log --graph``
shows where the work came in.  With ``tract.agents.history = detach`` the
second parent is left out: the trailer alone keeps the pointer, and gc
(``prune``) drops the agent's refs so that its history can be deleted.

Every step writes objects first and moves one ref last, so a crash leaves
each ref at its old or its new value; the refs that can be derived (HEAD,
base, collapsed) are recovered when missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import (
    AgentExistsError,
    TractError,
    HistoryPrunedError,
    NothingToDoError,
    UnknownAgentError,
    UsageError,
)
from ..model import Entry
from ..store import codec, keys
from ..store.repo import AGENTS_PREFIX, RefUpdateError
from ..store.trailers import parse_message, trailer
from . import commit as _commit
from .log import LogEntry, log
from .repo import Change, CommitResult, Repo

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
INHERIT = ("full", "none")
#: how many first-parent commits of the parent a collapse looks back through
#: to find its own earlier landing after a crash (before the marker ref moved)
_REPAIR_DEPTH = 64


def check_name(agent: str) -> str:
    if not _NAME_RE.match(agent or "") or agent.endswith(".lock") or ".." in agent:
        raise UsageError(f"invalid agent name '{agent}' (letters, digits, '.', '_', '-'; "
                         "at most 64, starting with a letter or digit)")
    return agent


def ref(agent: str, what: str) -> str:
    return f"{AGENTS_PREFIX}{agent}/{what}"


def exists(repo: Repo, agent: str) -> bool:
    return bool(repo.store.list_refs(ref(agent, "heads/")))


def _name_taken(repo: Repo, agent: str) -> bool:
    """Whether ``agent`` names an agent, live or pruned, for spawn: a few
    ref lookups instead of ``exists``' listing of every ref in the store
    (which grows with the number of agents).  Every agent tract makes has
    its ``heads/main`` or its ``base`` (written at spawn, dropped only by
    prune, which keeps ``collapsed``) or a ``HEAD`` (written by its first
    switch away from main)."""
    st = repo.store
    return any(st.ref_exists(ref(agent, what)) for what in ("heads/main", "base", "HEAD", "collapsed"))


def names(repo: Repo) -> list[str]:
    seen = []
    for name, _ in repo.store.list_refs(AGENTS_PREFIX):
        a = name[len(AGENTS_PREFIX):].split("/", 1)[0]
        if a not in seen:
            seen.append(a)
    return sorted(seen)


def open_agent(repo: Repo, agent: str) -> Repo:
    """The Repo of an existing sub-agent's context."""
    check_name(agent)
    if not exists(repo, agent):
        raise UnknownAgentError(f"no such agent '{agent}'",
                                hints=("see 'tract agents' for the agents in this store",))
    return repo.for_agent(agent)


# ------------------------------------------------------------------ spawn
@dataclass
class SpawnResult:
    agent: str
    commit: CommitResult
    spawned_from: str
    inherit: str

    def to_json(self) -> dict:
        d = self.commit.to_json()
        d.update({"agent": self.agent, "spawned_from": self.spawned_from, "inherit": self.inherit})
        return d


def spawn(repo: Repo, agent: str, *, from_rev: str | None = None, inherit: str = "full",
          task: str | None = None, message: str | None = None) -> SpawnResult:
    """Create sub-agent ``agent`` linked to ``from_rev`` (default: this
    context's HEAD).  ``inherit``: ``full`` starts the agent with the
    parent's whole context (shared, nothing copied), ``none`` with an empty
    one (settings kept).  ``task``: a user entry added in the same commit."""
    check_name(agent)
    if inherit not in INHERIT:
        raise UsageError(f"invalid --inherit '{inherit}' (expected one of: {', '.join(INHERIT)})")
    if repo.agent == agent or _name_taken(repo, agent):
        raise AgentExistsError(f"agent '{agent}' already exists")
    head = repo.head()
    origin = head.commit if from_rev is None and head.commit else repo.resolve(from_rev)
    store = repo.store
    origin_tree = store.commit(origin).tree
    by = head.branch or repo.head_ref
    task_entry = Entry(role="user", content=task).validated() if task is not None else None
    task_data = codec.encode(task_entry) if task_entry else b""
    blob = store.blob_id(task_data) if task_entry else None  # written by build(), with the commit
    child = repo.for_agent(agent)
    branch = ref(agent, "heads/main")
    subject = message or f"spawn {agent} from {origin[:7]}" + (f": {_commit.describe(task_entry)}"
                                                                if task_entry else "")
    ids: list[str] = []

    def build(tip: str | None) -> Change:
        if tip is not None:
            raise AgentExistsError(f"agent '{agent}' already exists")
        if inherit == "full":
            pnote = repo.note(origin)
            tree, total, count = origin_tree, pnote.context_tokens, pnote.entries
        else:
            tree = store.build_tree(None, {}, store.read_settings(origin_tree), set_settings=True)
            total, count = 0, 0
        trailers = [("Tract-Agent", agent), ("Tract-Spawned-From", origin), ("Tract-Spawned-By", by)]
        if task_entry is not None:
            last = store.last_item(tree)
            key = keys.after(last.key if last else None)
            store.write_blob(task_data)
            eid = repo.new_entry_id(origin, key, blob, agent)
            ids[:] = [eid]
            tree = store.build_tree(tree, {f"{key}-{eid}-user": blob})
            total += repo.counter.count_entry(task_entry, blob)
            count += 1
            trailers.insert(0, ("Tract-Entry", eid))
        return Change(tree, subject, "", trailers, parents=[origin], context_tokens=total,
                      entries=count)

    # The token note is written only when a reader could not derive it
    # cheaply: the spawn's snapshot is the parent's (compute_note reuses the
    # parent's note), or a context of at most the task entry; only a task
    # added to the whole inherited context needs its note written now.
    write_note = task_entry is not None and inherit == "full"
    try:
        res = child.commit_loop(build, op="spawn", ref=branch, max_attempts=1,
                                write_note=write_note)
    except RefUpdateError:
        raise AgentExistsError(f"agent '{agent}' already exists") from None
    res.entry_ids = list(ids)
    # the derived ref: a crash before it is repaired on read (see info()).
    # No HEAD is written: an agent without one works on its main, and its
    # first switch writes it (Repo.head, Repo.set_head).
    store.update_ref(ref(agent, "base"), res.commit, None, f"spawn: {agent}")
    return SpawnResult(agent, res, origin, inherit)


# ------------------------------------------------------------------- info
@dataclass
class AgentInfo:
    name: str
    state: str  # active | collapsed | pruned
    branch: str | None
    tip: str | None
    base: str | None  # the spawn commit
    spawned_from: str | None
    spawned_by: str | None
    collapse: str | None  # the latest collapse commit
    tokens: int
    entries: int
    commits: int | None

    def to_json(self) -> dict:
        return {
            "name": self.name, "state": self.state, "branch": self.branch, "tip": self.tip,
            "spawn": self.base, "spawned_from": self.spawned_from, "spawned_by": self.spawned_by,
            "collapse": self.collapse, "tokens": self.tokens, "entries": self.entries,
            "commits": self.commits,
        }


def _find_base(repo: Repo, agent: str, tip: str) -> str | None:
    """The spawn commit: the ``base`` ref, else found by walking back."""
    base = repo.store.read_ref(ref(agent, "base"))
    if base:
        return base
    for c in repo.store.walk(tip, first_parent=True):
        _, _, tr = parse_message(c.message)
        if trailer(tr, "Tract-Op") == "spawn" and trailer(tr, "Tract-Agent") == agent:
            try:
                repo.store.update_ref(ref(agent, "base"), c.id, None, f"spawn: {agent} (recovered)")
            except RefUpdateError:
                pass
            return c.id
    return None


def _trailers(repo: Repo, commit: str) -> list:
    return parse_message(repo.store.commit(commit).message)[2]


def info(repo: Repo, agent: str, *, count: bool = True) -> AgentInfo:
    store = repo.store
    collapse = store.read_ref(ref(agent, "collapsed"))
    if not exists(repo, agent):
        if collapse is None:
            raise UnknownAgentError(f"no such agent '{agent}'")
        tr = _trailers(repo, collapse)
        n = repo.note(collapse).extra
        return AgentInfo(agent, "pruned", None, trailer(tr, "Tract-Collapsed-From"), None,
                         trailer(tr, "Tract-Spawned-From"), None, collapse,
                         int(n.get("agent_tokens", 0)), int(n.get("agent_entries", 0)),
                         n.get("agent_commits"))
    child = repo.for_agent(agent)
    head = child.head()
    tip = head.commit
    base = _find_base(repo, agent, tip) if tip else None
    spawned_from = spawned_by = None
    if base:
        tr = _trailers(repo, base)
        spawned_from = trailer(tr, "Tract-Spawned-From")
        spawned_by = trailer(tr, "Tract-Spawned-By")
    state = "active"
    if collapse and tip and trailer(_trailers(repo, collapse), "Tract-Collapsed-From") == tip \
            and _on_a_branch(repo, collapse):
        # (a collapse undone, or on no branch any more, brought nothing back)
        state = "collapsed"
    elif tip and spawned_by:
        landed = _landed_collapse(repo, agent, tip, store.read_ref(spawned_by))
        if landed:
            state, collapse = "collapsed", landed
    note = repo.note(tip) if tip else None
    commits = None
    if count and tip:
        commits = sum(1 for _ in store.walk(tip, topo=False, hide=[spawned_from] if spawned_from else []))
    return AgentInfo(agent, state, head.short_branch, tip, base, spawned_from, spawned_by, collapse,
                     note.context_tokens if note else 0, note.entries if note else 0, commits)


def _on_a_branch(repo: Repo, commit: str) -> bool:
    """Whether a branch (of the main context or of an agent) has
    ``commit`` in its history."""
    st = repo.store
    for prefix in ("refs/heads/", "refs/tract/agents/"):
        for name, tip in st.list_refs(prefix):
            if prefix == "refs/tract/agents/" and "/heads/" not in name:
                continue
            if tip == commit or st.is_ancestor(commit, tip):
                return True
    return False


def list_agents(repo: Repo) -> list[AgentInfo]:
    return [info(repo, a) for a in names(repo)]


# --------------------------------------------------------------- collapse
@dataclass
class CollapseResult:
    agent: str
    commit: CommitResult
    collapsed_from: str
    commits: int
    summary: str
    linked: bool  # second parent (history kept reachable)

    def to_json(self) -> dict:
        d = self.commit.to_json()
        d.update({"agent": self.agent, "collapsed_from": self.collapsed_from,
                  "agent_commits": self.commits, "summary": self.summary, "linked": self.linked})
        return d


def work_entries(repo: Repo, agent_info: AgentInfo) -> list[Entry]:
    """The entries the agent added or changed since it was spawned."""
    before = {i.blob for i in repo.items(agent_info.spawned_from)} if agent_info.spawned_from else set()
    return [e for e in repo.entries(repo.items(agent_info.tip)) if e.blob not in before]


def final_output(entries: list[Entry]) -> str:
    for e in reversed(entries):
        if e.role == "assistant" and e.content.strip() and not e.skipped:
            return e.content.strip()
    for e in reversed(entries):
        if e.content.strip():
            return e.content.strip()
    return "(no output)"


def offline_summary(repo: Repo, entries: list[Entry], commits: int, target_tokens: int = 400) -> str:
    """A model-free account of the agent's work.  Uses the compression
    summarizer when it is there, else a count of what the agent did."""
    try:
        from ..summarize import offline_summary as _summ  # from the compression work
    except ImportError:
        _summ = None
    if _summ is not None and entries:
        return _summ(entries, target_tokens, repo.counter).strip()
    roles: dict[str, int] = {}
    for e in entries:
        roles[e.role] = roles.get(e.role, 0) + 1
    what = ", ".join(f"{n} {r}" for r, n in roles.items()) or "no entries"
    return f"{commits} commits, {len(entries)} entries ({what})."


def _history_mode(repo: Repo) -> str:
    v = (repo.store.get_config_local("tract.agents.history") or "link").strip().lower()
    return v if v in ("link", "detach") else "link"


def _previous_collapse(repo: Repo, ai: AgentInfo) -> str | None:
    """The agent tip the latest collapse brought into this context, when
    the agent went on from there: a new collapse then brings in only the
    work since.  None when there is no such collapse in this context's
    history (never collapsed, collapsed into another branch, or the agent's
    history was rewritten since)."""
    st = repo.store
    if not ai.collapse or not ai.tip or not st.has_object(ai.collapse):
        return None
    prev_tip = trailer(_trailers(repo, ai.collapse), "Tract-Collapsed-From")
    head = repo.head().commit
    if not prev_tip or prev_tip == ai.tip or not head or not st.has_object(prev_tip):
        return None
    if not st.is_ancestor(ai.collapse, head) or not st.is_ancestor(prev_tip, ai.tip):
        return None
    return prev_tip


def collapse(repo: Repo, agent: str, *, summary: str | None = None, summarizer=None,
             message: str | None = None, link: bool | None = None) -> CollapseResult:
    """Add a collapse commit for ``agent`` to this context.  The account of
    its work is ``summary``, else ``summarizer(agent, entries)`` (a model's:
    see ``tract_git.collapse_llm``), else the offline summary.  When an
    earlier collapse of the agent is in this context's history, only the
    work since then is brought in (``Tract-Collapsed-Since``: the agent tip
    that collapse ended at); with no new entries, NothingToDoError."""
    check_name(agent)
    if repo.agent == agent:
        raise UsageError(f"cannot collapse agent '{agent}' into its own context")
    if not exists(repo, agent):
        if repo.store.ref_exists(ref(agent, "collapsed")):
            raise NothingToDoError(f"agent '{agent}' is already collapsed (its history was pruned)")
        raise UnknownAgentError(f"no such agent '{agent}'",
                                hints=("see 'tract agents' for the agents in this store",))
    ai = info(repo, agent)
    here = repo.head().commit
    if ai.state == "collapsed" and here and (ai.collapse == here or repo.store.is_ancestor(ai.collapse, here)):
        # (collapsed into another branch: this one gets the work too)
        raise NothingToDoError(f"agent '{agent}' is already collapsed in {ai.collapse[:7]}")  # type: ignore[index]
    tip = ai.tip
    if tip is None:
        raise UnknownAgentError(f"agent '{agent}' has no commits")
    landed = _landed_collapse(repo, agent, tip, repo.head().commit)
    if landed:
        raise NothingToDoError(f"agent '{agent}' is already collapsed in {landed[:7]}")
    since = _previous_collapse(repo, ai)
    if since is None:
        work = work_entries(repo, ai)
        commits = ai.commits or 0
    else:
        seen = {i.blob for i in repo.items(since)}
        work = [e for e in repo.entries(repo.items(tip)) if e.blob not in seen]
        commits = sum(1 for _ in repo.store.walk(tip, topo=False, hide=[since]))
        if not work:
            raise NothingToDoError(f"agent '{agent}' has no new entries since its last collapse "
                                   f"in {ai.collapse[:7]}")  # type: ignore[index]
    output = final_output(work)
    llm_trailers: list = []
    llm_note: dict = {}
    if summary is None:
        if summarizer is not None:
            summary = summarizer(agent, work)
            if not isinstance(summary, str):  # a model's Summary: text and its record
                llm_trailers, llm_note = list(summary.trailers), dict(summary.note)
                summary = summary.text
        else:
            summary = offline_summary(repo, work, commits)
    summary = summary.strip()
    agent_tokens = sum(repo.counter.count_entry(e, e.blob or "") for e in work if not e.skipped)
    if since is None:
        head_line = f"Sub-agent '{agent}' finished: {commits} commits, {len(work)} entries, "
        subject = f"collapse {agent}: {commits} commits, {len(work)} entries"
    else:
        prev = ai.collapse[:7]  # type: ignore[index]
        head_line = (f"Sub-agent '{agent}' continued since its last collapse ({prev}): "
                     f"{commits} new commits, {len(work)} new entries, ")
        subject = f"collapse {agent}: {commits} new commits, {len(work)} entries since {prev}"
    content = (f"{head_line}{agent_tokens:,} tokens (full history: tract expand <this commit>).\n\n"
               f"Final output:\n{output}\n\nSummary of its work:\n{summary}\n")
    entry = Entry(role="assistant", type="output", name=agent, content=content)
    if link is None:
        link = _history_mode(repo) == "link"
    trailers = [("Tract-Agent", agent), ("Tract-Collapsed-From", tip)]
    if ai.spawned_from:
        trailers.append(("Tract-Spawned-From", ai.spawned_from))
    if since is not None:
        trailers.append(("Tract-Collapsed-Since", since))
    trailers += llm_trailers
    res = _commit.append(
        repo, [entry], message=message or subject,
        extra_trailers=trailers, op="collapse", extra_parents=[tip] if link else None,
        note_extra={"agent": agent, "agent_tokens": ai.tokens, "agent_entries": ai.entries,
                    "agent_commits": commits,
                    **({"collapsed_since": since} if since else {}), **llm_note},
    )
    _set_marker(repo, agent, res.commit)
    return CollapseResult(agent, res, tip, commits, summary, link)


def _landed_collapse(repo: Repo, agent: str, tip: str, head: str | None) -> str | None:
    """A collapse of ``tip`` among the last commits of ``head`` whose marker
    ref was not written (a crash between the two ref updates); the marker
    is repaired."""
    if not head:
        return None
    for i, c in enumerate(repo.store.walk(head, first_parent=True)):
        if i >= _REPAIR_DEPTH:
            break
        tr = parse_message(c.message)[2]
        if trailer(tr, "Tract-Op") == "collapse" and trailer(tr, "Tract-Collapsed-From") == tip \
                and trailer(tr, "Tract-Agent") == agent:
            _set_marker(repo, agent, c.id)
            return c.id
    return None


def _set_marker(repo: Repo, agent: str, commit: str) -> None:
    """Best effort: the marker is derivable (see ``_landed_collapse``)."""
    name = ref(agent, "collapsed")
    for _ in range(20):
        old = repo.store.read_ref(name)
        try:
            repo.store.update_ref(name, commit, old, f"collapse: {agent}")
            return
        except RefUpdateError:
            continue
        except TractError:  # e.g. a read-only store while listing
            return


# ----------------------------------------------------------------- expand
@dataclass
class ExpandResult:
    collapse: LogEntry
    agent: str
    collapsed_from: str
    spawned_from: str | None
    commits: list[LogEntry] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"collapse": self.collapse.to_json(), "agent": self.agent,
                "collapsed_from": self.collapsed_from, "spawned_from": self.spawned_from,
                "commits": [c.to_json() for c in self.commits]}


def expand(repo: Repo, rev: str) -> ExpandResult:
    """The sub-agent commits behind a collapse commit (``rev``, or an
    agent name: its latest collapse)."""
    marker = None
    if _NAME_RE.match(rev) and not repo.store.read_ref(repo.branch_prefix + rev):
        marker = repo.store.read_ref(ref(rev, "collapsed"))
    commit = marker or repo.resolve(rev)
    c = log(repo, commit, max_count=1)[0]
    agent = trailer(c.trailers, "Tract-Agent")
    tip = trailer(c.trailers, "Tract-Collapsed-From")
    if c.op != "collapse" or not agent or not tip:
        raise TractError(f"{commit[:7]} is not a collapse commit")  # fatal (128), not a usage error
    spawned_from = trailer(c.trailers, "Tract-Spawned-From")
    if not repo.store.has_object(tip):
        raise HistoryPrunedError(
            f"the history of agent '{agent}' behind {commit[:7]} was pruned "
            f"(it ended at {tip[:7]}); the collapse commit keeps its output and summary",
            hints=(f"tract show {commit[:7]}",),
        )
    hide = [spawned_from] if spawned_from and repo.store.has_object(spawned_from) else []
    since = trailer(c.trailers, "Tract-Collapsed-Since")  # an incremental collapse: its part only
    if since and repo.store.has_object(since):
        hide.append(since)
    return ExpandResult(c, agent, tip, spawned_from, log(repo, tip, hide=tuple(hide)))


# ------------------------------------------------------------------ prune
def prune(repo: Repo) -> list[str]:
    """Drop the refs of collapsed agents whose collapse did not link their
    history (``tract.agents.history = detach``), so that gc can delete that
    history; the collapse commit and its ``Tract-Collapsed-From`` pointer
    stay.  Returns the agents pruned."""
    out = []
    for a in names(repo):
        if not exists(repo, a):
            continue
        ai = info(repo, a, count=False)
        if ai.state != "collapsed" or ai.collapse is None:
            continue
        if ai.tip in repo.store.commit(ai.collapse).parents:
            continue  # linked: the history is part of the parent's now
        for name, _ in repo.store.list_refs(ref(a, "")):
            if name != ref(a, "collapsed"):
                repo.store.delete_ref(name)
        if repo.store.ref_exists(ref(a, "HEAD")):
            repo.store.delete_ref(ref(a, "HEAD"))
        out.append(a)
    return out
