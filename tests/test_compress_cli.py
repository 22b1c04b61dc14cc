"""`tract compress`, `tract show --dropped`, `tract undo` from the command
line: exact output, exit codes, store untouched on errors."""

import json


def _seed(cli):
    assert cli("init").code == 0
    cli("system", "You are terse.")
    cli("user", "--pin", "Rule: answer in French.")
    for i in range(4):
        cli("user", f"Question {i}?")
        cli("assistant", f"Answer {i}.")


def test_compress_manual_exact_output(cli, git, fsck, tmp_path):
    _seed(cli)
    store = str(tmp_path / "store")
    tip0 = git(store, "rev-parse", "HEAD").strip()
    tree0 = git(store, "rev-parse", "HEAD^{tree}").strip()
    r = cli("compress", "--keep-last", "2", "--summary", "Asked and answered 0-2.")
    assert r.code == 0, r.err
    head = git(store, "rev-parse", "HEAD").strip()
    sid = git(store, "log", "-1", "--format=%(trailers:key=Tract-Entry,valueonly)").strip()
    assert r.out == (
        f"[main {head[:7]}] compress 1..7: 6 entries into a summary (42 -> 26 tokens)\n"
        f" compress {sid}: -16 tokens (context 26 tokens, 5 entries)\n"
        f"compress 1..7 replaced 6 entries (6 combined, 1 kept); summary 8 tokens (manual): "
        f"42 -> 26 tokens, 10 -> 5 entries [parent {tip0[:7]}]\n"
    )
    assert r.err == ""
    assert git(store, "log", "-1", "--format=%(trailers:key=Tract-Compressed-From,valueonly)").strip() == tip0
    r = cli("show", "--dropped", "HEAD")
    assert r.code == 0, r.err
    ids = [line.split()[1] for line in r.out.splitlines() if line.startswith("[")]
    assert len(ids) == 6
    assert r.out.startswith(f"[2 {ids[0]} user combine]\nQuestion 0?\n\n[3 {ids[1]} assistant combine]\nAnswer 0.\n")
    assert r.out.endswith(f"[7 {ids[5]} assistant combine]\nAnswer 2.\n")
    d = json.loads(cli("show", "--dropped", "--json").out)
    assert d["from"] == tip0 and d["summary"] == sid
    assert [e["content"] for e in d["entries"]] == ["Question 0?", "Answer 0.", "Question 1?", "Answer 1.",
                                                    "Question 2?", "Answer 2."]
    r = cli("undo")
    assert r.code == 0
    assert git(store, "rev-parse", "HEAD^{tree}").strip() == tree0
    fsck(store)


def test_compress_errors_leave_store(cli, refs_of, tmp_path):
    _seed(cli)
    store = str(tmp_path / "store")
    snap = refs_of(store)
    cases = [
        (("compress", "-k", "2", "--summary", "far too many words for this target", "-t", "2"), 128,
         "fatal: the summary is 7 tokens, over the target of 2; nothing written\n"
         "hint: shorten the summary or raise --target-tokens\n"),
        (("compress", "--summary", "x", "--offline"), 129,
         "error: give at most one of --summary/--summary-file, --model and --offline\n"),
        (("compress", "5..2", "--summary", "x"), 129,
         "error: empty range '5..2': entry 5 comes after entry 2\n"),
        (("compress", "1", "--summary", "x"), 1,
         "error: nothing to compress: every entry in 1..1 is kept\n"),
        (("compress", "--keep-last", "20"), 1,
         "error: nothing to compress: the context has 10 entries and the last 20 are kept\n"
         "hint: name a range (e.g. tract compress 0..-3) or lower --keep-last\n"),
        (("compress", "--plan", "-"), 129, "error: the plan is empty (every line is blank or a comment)\n"),
        (("show", "--dropped", "HEAD"), 128, "fatal: commit {head} is not a compress (Tract-Op: append)\n"),
        (("compress", "zzzz..2"), 128, "fatal: unknown entry 'zzzz'\n"),
    ]
    import subprocess

    head = subprocess.run(["git", "--git-dir", store, "rev-parse", "--short=7", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    for args, code, err in cases:
        r = cli(*args, input=b"# nothing\n")
        assert (r.code, r.out, r.err) == (code, "", err.format(head=head)), args
        assert refs_of(store) == snap, args


def test_dry_run_and_plan_file(cli, tmp_path, refs_of):
    _seed(cli)
    store = str(tmp_path / "store")
    snap = refs_of(store)
    r = cli("compress", "--dry-run", "-k", "4", "--summary", "S")
    assert r.code == 0, r.err
    assert refs_of(store) == snap
    lines = r.out.splitlines()
    assert lines[0].startswith("# tract compress plan: main at ") and lines[0].endswith(", entries 1..5")
    body = [ln for ln in lines if not ln.startswith("#")]
    assert [ln.split()[0] for ln in body] == ["keep", "combine", "combine", "combine", "combine"]
    assert "pinned  Rule: answer in French." in body[0]
    assert r.err == ("compress 1..5 would replace 4 entries (4 combined, 1 kept); summary 1 tokens (manual): "
                     "42 -> 27 tokens, 10 -> 7 entries\nsummary (manual, 1 tokens):\nS\n")
    # edit the plan: drop the first question instead of summarizing it
    plan = r.out.replace("\ncombine", "\ndrop   ", 1)
    (tmp_path / "plan.txt").write_text(plan)
    r = cli("compress", "--plan", str(tmp_path / "plan.txt"), "--summary", "S", "--json")
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert len(d["dropped"]) == 1 and len(d["combined"]) == 3 and len(d["kept"]) == 1
    assert d["summary"]["content"] == "S" and d["summary"]["source"] == "manual"
    assert d["range"] == [1, 5]


def test_summary_from_file_and_stdin(cli, tmp_path):
    _seed(cli)
    (tmp_path / "s.txt").write_text("from a file\n")
    r = cli("compress", "-k", "6", "--summary-file", str(tmp_path / "s.txt"), "--json")
    assert json.loads(r.out)["summary"]["content"] == "from a file\n"
    r = cli("compress", "-k", "2", "--summary", "-", "--json", input="from stdin ✓".encode())
    assert json.loads(r.out)["summary"]["content"] == "from stdin ✓"


def test_offline_default_without_model(cli):
    _seed(cli)
    r = cli("compress", "-k", "2", "--json")
    assert r.code == 0, r.err
    s = json.loads(r.out)["summary"]
    assert s["source"] == "offline-extractive"
    assert s["content"].startswith("[offline-extractive summary of 6 entries]\n")
    r = cli("compile", "-f", "dicts")
    summ = [m for m in json.loads(r.out) if m["type"] == "summary"]
    assert summ[0]["name"] == "offline-extractive"


def test_interactive_plan_in_editor(cli):
    _seed(cli)
    # an "editor" that drops the first combined entry
    editor = "sed -i -e '0,/^combine/s//drop   /'"
    r = cli("compress", "-i", "-k", "4", "--summary", "S", "--json", env={"EDITOR": editor})
    assert r.code == 0, r.err
    d = json.loads(r.out)
    assert (len(d["dropped"]), len(d["combined"]), len(d["kept"])) == (1, 3, 1)
    r = cli("compress", "-i", "-k", "2", "--summary", "S", env={"EDITOR": "true"})
    assert (r.code, r.err) == (129, "error: plan not saved; nothing done\n")


def test_no_litellm_import_without_a_model(cli, tmp_path):
    import subprocess
    import sys

    _seed(cli)
    code = ("import sys\nfrom tract_git.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "assert 'litellm' not in sys.modules\n")
    for args in (["compress", "-k", "2", "-n"], ["compile", "--budget", "36", "--strategy", "compress"]):
        p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                           env={**__import__("os").environ, "TRACT_DIR": str(tmp_path / "store")})
        assert p.returncode == 0, p.stderr


def test_generated_summary_that_grows_the_context_is_refused(cli, refs_of, tmp_path):
    assert cli("init", "-q").code == 0
    for role, text in (("user", "Plan a trip to Rome"), ("assistant", "Day 1: Colosseum."),
                       ("user", "Budget?"), ("assistant", "About 1000 EUR.")):
        assert cli(role, text).code == 0
    store = str(tmp_path / "store")
    before = refs_of(store)
    r = cli("compress", "0..2")
    assert r.code == 128
    assert r.err.startswith("fatal: the offline-extractive summary (")
    assert "would make the context bigger (" in r.err and r.err.count("\n") == 2
    assert r.err.splitlines()[1] == "hint: compress a longer range, pass --summary TEXT, or use --model"
    assert refs_of(store) == before
    # a summary the user writes is taken as given
    assert cli("compress", "0..2", "--summary", "Rome trip, 1000 EUR budget.").code == 0
