"""The offline summarizer: extractive, deterministic, no network, no model.

``offline_summary(entries, target_tokens, counter)`` picks the sentences of
a run of entries that carry the most information (frequent content words,
first sentences, questions, numbers and identifiers, tool calls) and
writes them back in their original order, one line per entry, under a
header line that says the text was made by the offline summarizer::

    [offline-extractive summary of 42 entries]
    - user: How do I rotate the logs every night?
    - assistant: Use logrotate with a daily rule ... ; restart is not needed.
    - tool(run_tests): 12 passed, 1 failed: test_rotate_gz.

The same entries and target always give the same text (no randomness, no
clock, ties broken by position).  The result never exceeds
``target_tokens`` as counted by ``counter``; when not even the header fits,
:class:`~tract_git.errors.BudgetError` is raised.

Used by ``tract compress`` when no summary and no model is given, and by
the sub-agent collapse; keep the signature stable.
"""

from __future__ import annotations

import json
import math
import re
from typing import Sequence

from .errors import BudgetError

#: the label written into every offline summary (header line and entry name)
LABEL = "offline-extractive"
HEADER_RE = re.compile(r"^\[(?:offline-extractive )?summary of (\d+) entr(?:y|ies)[^\]]*\]\s*$")

_SENT_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*|\d[\d.,:%]*")
_MAX_SENTENCE_CHARS = 240
_STOP = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just let me more most my myself no nor not now of off on once only or other our ours ourselves
out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves ok okay yes sure please thanks
thank also like get got use using used one two
""".split())


def header(n: int) -> str:
    return f"[{LABEL} summary of {n} entr{'y' if n == 1 else 'ies'}]"


def _label(e) -> str:
    role = e.role
    if e.role == "tool" and e.name:
        return f"tool({e.name})"
    if e.name and e.type != "summary":
        return f"{role}({e.name})"
    if e.type == "summary":
        return f"{role}(summary)"
    return role


def _clip(s: str) -> str:
    s = " ".join(s.split())
    if len(s) > _MAX_SENTENCE_CHARS:
        cut = s[: _MAX_SENTENCE_CHARS - 3]
        sp = cut.rfind(" ")
        if sp > _MAX_SENTENCE_CHARS // 2:
            cut = cut[:sp]
        s = cut.rstrip(",;: ") + "..."
    return s


def _sentences(e) -> list[str]:
    """Candidate sentences of one entry, in order."""
    text = e.content or ""
    lines = text.split("\n")
    if e.type == "summary" and lines and HEADER_RE.match(lines[0].strip()):
        lines = lines[1:]  # an earlier summary: re-use its lines, not its header
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if line.startswith("- ") and e.type == "summary":
            line = line[2:]
        for s in _SENT_SPLIT.split(line):
            s = s.strip()
            if len(s) >= 2:
                out.append(_clip(s))
    for c in e.tool_calls or ():
        fn = c.get("function", c)
        args = fn.get("arguments", "")
        if not isinstance(args, str):
            args = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
        out.append(_clip(f"called {fn.get('name', '?')}({args})"))
    return out


def _words(s: str) -> list[str]:
    return [w.lower().strip(".,:") for w in _WORD.findall(s)]


def offline_summary(entries: Sequence, target_tokens: int, counter) -> str:
    """An extractive summary of ``entries`` (``tract_git.model.Entry``
    objects, in context order) in at most ``target_tokens`` tokens as
    counted by ``counter`` (``tract_git.tokens.Counter``: ``count_text``).

    Deterministic; needs no network.  The first line names the summarizer
    (see :data:`LABEL`).  Raises ``BudgetError`` if the header alone does
    not fit in ``target_tokens``.
    """
    n = len(entries)
    head = header(n)
    if target_tokens is None or target_tokens < 1 or counter.count_text(head) > target_tokens:
        raise BudgetError(
            f"a summary of {n} entries cannot fit in {target_tokens} tokens "
            f"(the offline summary header alone takes {counter.count_text(head)})"
        )
    # candidates: (entry index, sentence index, text)
    cands: list[tuple[int, int, str]] = []
    seen: set[str] = set()  # a sentence said twice is extracted once (its first time)
    for i, e in enumerate(entries):
        for j, s in enumerate(_sentences(e)):
            if s in seen:
                continue
            seen.add(s)
            cands.append((i, j, s))
    if not cands:
        return head
    # document frequency of content words across the range
    freq: dict[str, int] = {}
    cand_words: list[list[str]] = []
    for _, _, s in cands:
        ws = [w for w in _words(s) if w not in _STOP and len(w) > 1]
        cand_words.append(ws)
        for w in set(ws):
            freq[w] = freq.get(w, 0) + 1
    scored: list[tuple[float, int]] = []
    for k, ((i, j, s), ws) in enumerate(zip(cands, cand_words)):
        e = entries[i]
        if ws:
            score = sum(math.log1p(freq[w]) for w in set(ws)) / math.sqrt(len(ws) + 1)
        else:
            score = 0.0
        if j == 0:
            score += 1.0  # topic sentences
        if s.endswith("?") and e.role == "user":
            score += 1.0  # what was asked
        if _DIGIT.search(s):
            score += 0.3  # numbers, versions, ids
        if e.type in ("instruction", "artifact", "output", "summary"):
            score += 0.5
        if e.role == "user":
            score += 0.3
        if s.startswith("called "):
            score += 0.5
        score += 0.5 * i / n  # later entries matter more to what comes next
        scored.append((score, k))
    # best first; ties broken by position (earlier first): deterministic
    order = [k for _, k in sorted(scored, key=lambda t: (-t[0], t[1]))]
    budget = target_tokens - counter.count_text(head) - 1
    chosen: set[int] = set()
    chosen_words: list[set] = []
    used = 0
    misses = 0
    for k in order:
        if budget - used < 4 or misses > 200:
            break  # full, or nothing left that is both good and short enough
        ws = set(cand_words[k])
        if ws and any(len(ws & c) >= 0.6 * len(ws | c) for c in chosen_words):
            continue  # near-repeat of a sentence already taken
        cost = counter.count_text(cands[k][2]) + 3  # "- role: " and separators, roughly
        if used + cost > budget:
            misses += 1
            continue
        chosen.add(k)
        chosen_words.append(ws)
        used += cost

    def render(sel: set[int]) -> str:
        lines = [head]
        cur_entry = -1
        for k in sorted(sel):
            i, _, s = cands[k]
            if i != cur_entry:
                lines.append(f"- {_label(entries[i])}: {s}")
                cur_entry = i
            else:
                lines[-1] += f" {s}"
        return "\n".join(lines)

    text = render(chosen)
    # the estimate above is close; make it exact by dropping the weakest
    rank = {k: r for r, k in enumerate(order)}
    while chosen and counter.count_text(text) > target_tokens:
        chosen.discard(max(chosen, key=lambda k: rank[k]))
        text = render(chosen)
    return text
