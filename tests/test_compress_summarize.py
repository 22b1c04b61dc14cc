"""The offline summarizer: deterministic, extractive, within its target."""

import pytest

from tract_git.errors import BudgetError
from tract_git.model import Entry
from tract_git.summarize import LABEL, header, offline_summary
from tract_git.tokens import Counter


def _entries(n):
    out = []
    for i in range(n):
        out.append(Entry(role="user", content=f"How do I rotate log file number {i} with logrotate?"))
        out.append(Entry(role="assistant",
                         content=f"Use a daily rule in /etc/logrotate.d/app{i}. Keep {i + 3} copies. "
                                 "Compression with gzip is optional."))
    return out


def test_header_and_target_respected():
    c = Counter()
    es = _entries(30)
    for target in (12, 40, 100, 400):
        text = offline_summary(es, target, c)
        assert text.splitlines()[0] == "[offline-extractive summary of 60 entries]"
        assert c.count_text(text) <= target
    assert LABEL == "offline-extractive"
    assert header(1) == "[offline-extractive summary of 1 entry]"


def test_deterministic_and_in_order():
    c = Counter()
    es = _entries(20)
    a = offline_summary(es, 150, c)
    assert a == offline_summary(list(es), 150, c)
    lines = a.splitlines()[1:]
    assert lines, a
    # extracted lines keep the order of the entries they come from
    idx = []
    for line in lines:
        text = line.split(": ", 1)[1]
        hits = [k for k, e in enumerate(es) if text in e.content]
        assert hits, line
        idx.append(hits[0])
    assert idx == sorted(idx)
    # near-repeats ("... number 12 ...", "... number 13 ...") are taken once
    assert sum(line.startswith("- user: How do I rotate log file number") for line in lines) == 1


def test_too_small_target_raises():
    c = Counter()
    with pytest.raises(BudgetError, match="cannot fit in 3 tokens"):
        offline_summary(_entries(2), 3, c)


def test_tool_calls_and_nested_summaries():
    c = Counter()
    es = [
        Entry(role="assistant", content="", tool_calls=[{"id": "c1", "function": {"name": "grep",
                                                                                   "arguments": {"q": "x"}}}]),
        Entry(role="tool", content="3 matches in src/app.py", tool_call_id="c1", name="grep"),
        Entry(role="user", type="summary", name=LABEL,
              content=header(4) + "\n- user: We chose PostgreSQL 16.\n- assistant: Migration is done."),
    ]
    text = offline_summary(es, 200, c)
    assert text.splitlines() == [
        "[offline-extractive summary of 3 entries]",
        '- assistant: called grep({"q":"x"})',
        "- tool(grep): 3 matches in src/app.py",
        "- user(summary): user: We chose PostgreSQL 16. assistant: Migration is done.",
    ]
