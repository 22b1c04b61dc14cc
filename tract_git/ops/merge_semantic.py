"""``merge --strategy semantic``: a model reconciles what a structural
merge cannot judge (see docs/merge.md).

The structural three-way merge runs first (ours-first order).  The model
then sees the entries in conflict (base, ours, theirs) and the entries each
side appended since the merge base, and answers in JSON with a decision per
entry: a conflict is settled with ``ours``, ``theirs``, ``rewrite`` (new
content) or ``drop``; an appended entry may be ``drop``-ped (redundant with
another) or ``rewrite``-n (to reconcile a contradiction); entries it does
not name are kept as they are.  The reply is checked before anything is
written; the merge commit records the model, its usage and cost in
trailers and in its token note.  Without a configured model the merge
fails with ``ModelNotConfiguredError`` and nothing changes.
"""

from __future__ import annotations

import json

from ..errors import LLMError
from ..store import codec, treediff
from ..store.repo import Item
from . import threeway
from .repo import Repo

OPERATION = "merge"

SYSTEM_PROMPT = """You merge two branches of an LLM agent's context (its message list).
A structural merge already combined them: ours' new entries, then theirs'.
You decide what a structural merge cannot:
- conflicts: an entry edited differently on both sides, or edited on one
  side and removed on the other; choose "ours", "theirs", "drop", or
  "rewrite" with a reconciled "content";
- contradiction: two new entries that state incompatible facts or
  instructions; "rewrite" one (or both) so the context is consistent, or
  "drop" the one that is wrong;
- redundancy: a new entry that repeats what another entry already says;
  "drop" the repeat.
Keep everything else: list only entries you act on, plus every conflict.
Answer with JSON only, no prose:
{"decisions": [{"id": "<entry id>", "action": "ours|theirs|drop|rewrite",
  "content": "<new text, for rewrite>"}], "summary": "<one line>"}"""

CONFLICT_ACTIONS = ("ours", "theirs", "drop", "rewrite")
APPEND_ACTIONS = ("keep", "drop", "rewrite")


def _entry_json(repo: Repo, it: Item | None):
    if it is None:
        return None
    e = repo.entry(it)
    d = {"role": e.role, "content": e.content}
    if e.tool_calls:
        d["tool_calls"] = [c["function"]["name"] for c in e.tool_calls]
    return d


def _added(repo: Repo, a: str | None, b: str | None) -> list[Item]:
    rem, add = treediff.diff_items(repo.store, a, b)
    gone = {i.id for i in rem}
    return [i for i in add if i.id not in gone]


def _parse(text: str, model: str) -> dict:
    s = text.strip()
    if s.startswith("```"):
        s = s.strip("`")
        s = s[s.find("\n") + 1:] if "\n" in s else s
    i, j = s.find("{"), s.rfind("}")
    try:
        data = json.loads(s[i:j + 1]) if i >= 0 and j > i else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("decisions", []), list):
        raise LLMError(f"malformed reply from {model}: expected a JSON object with 'decisions'")
    return data


def merge(repo: Repo, rev: str, branch: str, ours: str, theirs: str, base: str | None, *,
          message: str | None = None, model: str | None = None):
    from .. import llm  # the LLM layer; litellm itself loads only on the call
    from .merge import MergeResult, _commit

    st = repo.store
    base_tree = st.commit(base).tree if base else None
    ours_tree, theirs_tree = st.commit(ours).tree, st.commit(theirs).tree
    p = threeway.plan(repo, base_tree, ours_tree, theirs_tree, strategy="ours-first")
    ours_new = _added(repo, base_tree, ours_tree)
    theirs_new = _added(repo, base_tree, theirs_tree)
    request = {
        "conflicts": [{"id": c.id, "kind": c.kind, "base": _entry_json(repo, c.base),
                       "ours": _entry_json(repo, c.ours), "theirs": _entry_json(repo, c.theirs)}
                      for c in p.conflicts],
        "ours_new": [dict(id=i.id, **_entry_json(repo, i)) for i in ours_new],
        "theirs_new": [dict(id=i.id, **_entry_json(repo, i)) for i in theirs_new],
    }
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": json.dumps(request, ensure_ascii=False, indent=1)}]
    c = llm.complete(repo, messages, operation=OPERATION, model=model)
    data = _parse(c.text, c.model)

    conflicts = {x.id: x for x in p.conflicts}
    appended = {i.id: ("ours", i) for i in ours_new}
    appended.update({i.id: ("theirs", i) for i in theirs_new})
    planned = {name.rsplit("-", 2)[1]: name for name, blob in p.changes.items() if blob is not None}
    decided: dict[str, dict] = {}
    for d in data.get("decisions", []):
        if not isinstance(d, dict) or not isinstance(d.get("id"), str):
            raise LLMError(f"malformed reply from {c.model}: a decision without an entry id")
        eid, action = d["id"], d.get("action")
        allowed = CONFLICT_ACTIONS if eid in conflicts else APPEND_ACTIONS if eid in appended else None
        if allowed is None:
            raise LLMError(f"malformed reply from {c.model}: entry {eid} was not offered to it")
        if action not in allowed:
            raise LLMError(f"malformed reply from {c.model}: action {action!r} for entry {eid}")
        if action == "rewrite" and not (isinstance(d.get("content"), str) and d["content"].strip()):
            raise LLMError(f"malformed reply from {c.model}: rewrite of {eid} without content")
        decided[eid] = d
    missing = [x for x in conflicts if x not in decided]
    if missing:
        raise LLMError(f"malformed reply from {c.model}: no decision for conflicting entr"
                       f"{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}")

    from .merge import resolution_changes

    resolved, dropped, rewritten = [], 0, 0
    for eid, d in decided.items():
        action = d["action"]
        if eid in conflicts:
            x = conflicts[eid]
            if action == "drop":
                ch = {x.ours.name: None} if x.ours is not None else {}
            else:
                how = "content" if action == "rewrite" else action
                ch = resolution_changes(repo, x, how, d.get("content"))
            for name, blob in ch.items():
                if blob is None and x.ours is not None and name == x.ours.name:
                    p.remove(x.ours)
                else:
                    p.changes[name] = blob
            resolved.append((eid, f"{action} (semantic)"))
            continue
        side, it = appended[eid]
        if action == "keep":
            continue
        if action == "drop":
            dropped += 1
            if side == "ours":
                p.remove(it)
            else:
                p.changes.pop(planned[eid], None)
            continue
        rewritten += 1
        blob = st.write_blob(codec.encode(repo.entry(it).with_(content=d["content"]).validated()))
        p.put(it.name if side == "ours" else planned[eid], blob)
    trailers = [("Tract-Model", c.model), ("Tract-Usage", str(c.usage))]
    if c.cost is not None:  # as on every model commit: present only for a priced model
        trailers.append(("Tract-Cost", llm.format_cost(c.cost)))
    trailers += [("Tract-Semantic", f"{len(resolved)} conflicts resolved, {dropped} dropped, "
                                   f"{rewritten} rewritten")]
    summary = data.get("summary") if isinstance(data.get("summary"), str) else ""
    short = branch[len("refs/heads/"):]
    subject = message or f"Merge branch '{rev}' into {short}"
    llm_note = {"model": c.model, "usage": c.usage.to_json(), "cost": c.cost, "operation": OPERATION}
    res = _commit(repo, branch, ours, theirs, base, p, subject, "semantic", resolved,
                  trailers=trailers, body=summary.strip(), note_extra={"llm": llm_note})
    return MergeResult("merged", short, theirs, ours, res.commit, "semantic", commit=res,
                       extra={"llm": llm_note, "dropped": dropped, "rewritten": rewritten,
                              "resolved": len(resolved)})
