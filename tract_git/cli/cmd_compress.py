"""Replace a range of entries with one summary entry, in place.

RANGE names entries, inclusive: A..B (positions such as 0 or -3, or entry
ids; either side may be left out) or a single entry.  Without RANGE (and
without a plan) it is everything older than the last few entries: the last
--keep-last entries (default: the branch setting compress.keepLast, else
8) and the leading system entries are left out, and a tool call is never
split from its results.

Pinned entries in the range are kept verbatim, at their own place
(--include-pins folds them in too).  Skipped entries in the range are
removed and not summarized.  The summary is --summary TEXT,
--summary-file FILE, a model's (--model M, or the store setting
compress.model), or else the built-in offline summarizer, which is
extractive and needs no network; its entries are named
"offline-extractive" and say so on their first line.

The commit records what it replaced (Tract-Compressed-From,
Tract-Compressed-Range, Tract-Compressed-Summary for earlier summaries it
folded in), so `tract show --dropped REV` prints exactly what a summary
replaced and `tract undo` brings it back.  Every compress is validated
before the branch moves: pinned entries byte for byte identical, kept
entries in order.  A plan (--plan FILE, or -i to edit one) says per entry
keep, combine or drop (an entry no line names is kept); --dry-run prints the
plan and the token counts and writes nothing.  A range or plan must not split
a tool call from its results.
"""

import click

from ..errors import UsageError
from ..ops import compress as _compress
from ._common import plural, echo, emit_json, fmt_tokens, pass_ctx, read_content, short
from ._render import commit_line

MAN_EXAMPLES = """
Fold everything but the last 8 entries (and the leading system prompt) into a
summary you wrote; pinned entries stay as they are:

    $ tract compress --summary "We agreed on the API; open question: auth."

Summarize entries 1 to 40 in at most 200 tokens, with the compress model if
one is configured, else offline:

    $ tract compress 1..40 --target-tokens 200

Review the plan, change keep/combine/drop per entry, then run it:

    $ tract compress --dry-run > plan.txt
    $ $EDITOR plan.txt
    $ tract compress --plan plan.txt --summary-file summary.txt

Summarize with a model, keeping the last 4 entries:

    $ tract compress --model openai/gpt-4o-mini --keep-last 4

What the last compress replaced, and how to get it back:

    $ tract show --dropped HEAD
    $ tract undo
"""

MAN_EXIT_STATUS = """
0   the range was compressed (or, with --dry-run, planned)
1   nothing to compress (an empty default range, every entry kept)
128 the summary is over --target-tokens, validation failed, or the model failed; nothing written;
    a range that names an entry the context does not have (as any unknown entry, tract(1))
129 a bad option, range or plan (an empty range, one that splits a tool call from its results)
"""


@click.command("compress", help=__doc__)
@click.argument("range_spec", metavar="[RANGE]", required=False)
@click.option("-s", "--summary", metavar="TEXT", help="The summary text ('-' reads stdin).")
@click.option("-F", "--summary-file", metavar="FILE", help="Read the summary from FILE ('-' for stdin).")
@click.option("--model", metavar="MODEL", help="Summarize with this model (LLM adapter).")
@click.option("--offline", is_flag=True, help="Use the offline summarizer even if a model is configured.")
@click.option("-t", "--target-tokens", type=int, metavar="N",
              help="The summary must fit in N tokens, or nothing is written.")
@click.option("-k", "--keep-last", type=click.IntRange(min=0), metavar="N",
              help="Default range: leave the last N entries out (default: compress.keepLast or 8).")
@click.option("--include-pins", is_flag=True, help="Fold pinned entries in the range into the summary too.")
@click.option("-p", "--plan", "plan_file", metavar="FILE",
              help="Per-entry actions (keep, combine, drop); the format --dry-run prints ('-' for stdin).")
@click.option("-i", "--interactive", is_flag=True, help="Edit the plan in $EDITOR before running it.")
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan and token counts; write nothing.")
@click.option("--role", type=click.Choice(list(_compress.SUMMARY_ROLES)), default="user", show_default=True,
              help="Role of the summary entry.")
@click.option("-m", "--message", metavar="MSG", help="Commit message (default: generated).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_ctx
def command(ctx, range_spec, summary, summary_file, model, offline, target_tokens, keep_last,
            include_pins, plan_file, interactive, dry_run, role, message, as_json):
    sources = [x for x in (summary is not None or summary_file is not None, model, offline) if x]
    if len(sources) > 1:
        raise UsageError("give at most one of --summary/--summary-file, --model and --offline")
    repo = ctx.repo()
    text = None
    if summary is not None or summary_file is not None:
        text = read_content(summary, summary_file, what="summary", text_opt="--summary",
                            file_opt="--summary-file")
    plan_text = read_content(None, plan_file, what="plan") if plan_file else None
    plan = None
    if interactive:
        p0 = _compress.make_plan(repo, range_spec, keep_last=keep_last, plan=plan_text,
                                 include_pins=include_pins)
        edited = click.edit(p0.to_text(_tokens(repo, p0)), extension=".txt", require_save=True)
        if edited is None:
            raise UsageError("plan not saved; nothing done")
        plan_text = edited
    if plan_text is not None:
        plan = _compress.make_plan(repo, range_spec if not interactive else None, keep_last=keep_last,
                                   plan=plan_text, include_pins=include_pins)
    summarizer = None
    if text is None and not offline:
        from ..compress_llm import model_summarizer, wants_model

        if model or wants_model(repo):
            summarizer = model_summarizer(repo, model)
    res = _compress.compress(repo, range_spec, keep_last=keep_last, plan=plan, summary=text,
                             summarizer=summarizer, target_tokens=target_tokens,
                             include_pins=include_pins, role=role, message=message, dry_run=dry_run)
    if as_json:
        d = res.to_json()
        if dry_run:
            d["plan"] = res.plan.to_json()
        emit_json(d)
        return
    if dry_run:
        echo(res.plan.to_text(_tokens(repo, res.plan)), nl=False)
        echo(_totals(res), err=True)
        if res.summary is not None:
            echo(f"summary ({res.summary_source}, {res.summary_tokens} tokens):", err=True)
            echo(res.summary.content, err=True)
        return
    commit_line(ctx, res.commit)
    echo(_totals(res))


def _tokens(repo, plan) -> dict:
    return _compress.plan_tokens(repo, plan)


def _totals(res) -> str:
    p = res.plan
    verb = "would replace" if res.dry_run else "replaced"
    parts = [f"{len(p.combined)} combined"]
    if p.dropped:
        parts.append(f"{len(p.dropped)} dropped")
    parts.append(f"{len(p.kept)} kept")
    summ = f"; summary {res.summary_tokens} tokens ({res.summary_source})" if res.summary else ""
    tgt = f" of {res.target_tokens} target" if res.target_tokens and res.summary else ""
    return (f"compress {p.start}..{p.end} {verb} {plural(len(p.removed), 'entry')} ({', '.join(parts)}){summ}{tgt}: "
            f"{fmt_tokens(res.tokens_before)} -> {fmt_tokens(res.tokens_after)} tokens, "
            f"{res.entries_before} -> {plural(res.entries_after, 'entry')}"
            + (f" [parent {short(p.commit)}]" if not res.dry_run else ""))


def show_dropped(ctx, rev, recursive: bool, as_json: bool) -> None:
    """``tract show --dropped REV``: the entries a compress replaced, in the
    shape ``tract compile -f text`` prints, each headed by its position,
    id and what happened to it."""
    res = _compress.dropped(ctx.repo(), rev, recursive=recursive)
    if as_json:
        emit_json(res.to_json())
        return
    parts = []
    for d in res.entries:
        e = d.entry
        head = f"[{d.position} {e.id} {e.role}"
        if e.name:
            head += f" {e.name}"
        if e.role == "tool" and e.tool_call_id:
            head += f" {e.tool_call_id}"
        if e.priority != "normal":
            head += f" {e.priority}"
        head += f" {d.action}" + (f" depth {d.depth} via {short(d.commit)}" if d.depth else "") + "]"
        body = e.content
        for c in e.tool_calls or ():
            body += ("\n" if body else "") + f"-> {c['function']['name']}({c['function']['arguments']})"
        parts.append(f"{head}\n{body}")
    if parts:
        echo("\n\n".join(parts))
