"""The docs: a man page for every command, kept up to date by the generator,
the hand-written pages, and pages that render without roff warnings."""

from __future__ import annotations

import os
import shutil
import subprocess

import click
import pytest

from tract_git import docgen
from tract_git.cli.main import command_names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAN = os.path.join(ROOT, "man")
CLI_MD = os.path.join(ROOT, "docs", "cli.md")
HAND_WRITTEN = ("tract.1", "tract-format.5", "tract-hooks.5")
NAMES = command_names()


def all_pages():
    return sorted(f for f in os.listdir(MAN) if f.endswith((".1", ".5")))


@pytest.mark.parametrize("name", NAMES)
def test_every_command_has_a_page(name):
    path = os.path.join(MAN, f"tract-{name}.1")
    assert os.path.isfile(path), f"no man page for 'tract {name}': run python -m tract_git.docgen man/"


@pytest.mark.parametrize("page", HAND_WRITTEN)
def test_hand_written_pages_exist(page):
    with open(os.path.join(MAN, page), encoding="utf-8") as f:
        text = f.read()
    assert text.startswith(".TH") or "\n.TH " in text
    assert docgen.MARKER not in text


def test_pages_are_up_to_date(capsys):
    code = docgen.main(["--check", MAN, "--markdown", CLI_MD])
    err = capsys.readouterr().err
    assert code == 0, err
    assert err == ""


def test_tract1_lists_every_command():
    with open(os.path.join(MAN, "tract.1"), encoding="utf-8") as f:
        text = f.read()
    for name in NAMES:
        assert f"\\fBtract\\-{name.replace('-', chr(92) + '-')}\\fR(1)" in text, name


@pytest.mark.parametrize("name", NAMES)
def test_help_exits_0(cli, name):
    r = cli(name, "--help")
    assert r.code == 0, r.err
    assert r.out.startswith(f"Usage: tract {name} ")
    assert r.err == ""


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
@pytest.mark.parametrize("page", sorted(os.listdir(MAN)) if os.path.isdir(MAN) else [])
def test_page_renders_without_warnings(page):
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(MAN, page)],
                       capture_output=True, text=True)
    assert p.returncode == 0
    assert p.stderr == ""


# ------------------------------------------------------------ the generator
def _render(cmd, mod_attrs=None, name="fake", tmp_path=None, monkeypatch=None):
    import sys
    import types

    mod = types.ModuleType(f"tract_git.cli.cmd_{name.replace('-', '_')}")
    mod.command = cmd
    for k, v in (mod_attrs or {}).items():
        setattr(mod, k, v)
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    return docgen.render_page(name, NAMES + [name])


def test_generator_handles_any_click_command(monkeypatch):
    @click.command("fake")
    @click.argument("src", nargs=-1, required=True)
    @click.argument("dest", required=False, metavar="[DEST]")
    @click.option("-f", "--format", "fmt", type=click.Choice(["a", "b"]), default="a", show_default=True,
                  help="Output shape.")
    @click.option("--hard", "mode", flag_value="hard", default=True, help="Hard.")
    @click.option("--soft", "mode", flag_value="soft", help="Soft.")
    @click.option("-x", "--exclude", multiple=True, metavar="GLOB", help="Leave GLOB out.")
    @click.option("--color/--no-color", default=True, help="Colour.")
    @click.option("-v", "--verbose", count=True, help="More output.")
    @click.option("--model", envvar="TRACT_FAKE_MODEL", help="Model.")
    @click.option("--secret", hidden=True)
    @click.option("-n", type=int, required=True, help="How many.")
    def fake(**kw):
        """Do a fake thing to SRC.

        Paragraph with `code`, --format and a backslash \\ and a dot:
        .not a request

            $ tract fake a b

        - one item
        - two items
        """

    page = _render(fake, {"MAN_EXAMPLES": "Try it:\n\n    $ tract fake -n 1 x\n    printed output\n",
                          "MAN_EXIT_STATUS": "1   it found something\n    on two lines\n",
                          "MAN_SEE_ALSO": "git-log(1)"}, monkeypatch=monkeypatch)
    assert "\\fBtract fake\\fR \\fB\\-n\\fR \\fIN\\fR [\\fB\\-f\\fR (a|b)] [\\fB\\-\\-hard\\fR | " \
           "\\fB\\-\\-soft\\fR]" in page
    assert "[\\fB\\-x\\fR \\fIGLOB\\fR]..." in page
    assert "[\\fB\\-\\-\\fR[\\fBno\\-\\fR]\\fBcolor\\fR]" in page
    assert "[\\fB\\-v\\fR...]" in page
    assert "\\fISRC\\fR..." in page and "[\\fIDEST\\fR]" in page
    assert "secret" not in page
    assert "Output shape. One of: a, b. Default: a." in page
    assert "Environment: TRACT_FAKE_MODEL." in page
    assert "Leave \\fIGLOB\\fR out. May be given more than once." not in page  # GLOB is an option's
    assert "\\&.not a request" in page
    assert "a backslash \\e and" in page
    assert ".IP \\(bu 2\none item" in page
    assert ".TP\n\\fB1\\fR\nIt found something on two lines." in page
    assert ".PP\nTry it:\n.PP\n.RS 4\n.nf\n$ tract fake \\-n 1 x\nprinted output\n.fi\n.RE" in page
    assert "\\fBgit\\-log\\fR(1)" in page
    assert "\\fBtract\\-fake\\fR(1)" not in page  # not its own SEE ALSO


def test_generator_handles_groups(monkeypatch):
    @click.group("remote")
    def remote():
        """Manage remotes."""

    @remote.command("add")
    @click.argument("name")
    @click.argument("url")
    @click.option("--fetch/--no-fetch", help="Fetch at once.")
    def add(**kw):
        """Add a remote NAME at URL."""

    @remote.command("list")
    def list_(**kw):
        """List remotes."""

    page = _render(remote, name="remote", monkeypatch=monkeypatch)
    assert "\\fBtract remote add\\fR [\\fB\\-\\-\\fR[\\fBno\\-\\fR]\\fBfetch\\fR] \\fINAME\\fR \\fIURL\\fR" in page
    assert "\\fBtract remote list\\fR" in page
    assert ".SH COMMANDS" in page and '.SS "tract remote add"' in page


def test_check_reports_missing_stale_and_orphaned(tmp_path, capsys):
    out = tmp_path / "man"
    md = tmp_path / "cli.md"
    assert docgen.main([str(out), "--markdown", str(md)]) == 0
    capsys.readouterr()
    assert docgen.main(["--check", str(out), "--markdown", str(md)]) == 0
    (out / "tract-log.1").write_text("stale\n")
    (out / "tract-status.1").unlink()
    (out / "tract-gone.1").write_text(docgen.MARKER + "\n.TH X 1\n")
    (out / "tract-mine.1").write_text(".TH MINE 1\n")  # hand-written: left alone
    assert docgen.main(["--check", str(out), "--markdown", str(md)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert f"error: {out / 'tract-log.1'}: out of date" in err
    assert f"error: {out / 'tract-status.1'}: missing" in err
    assert f"error: {out / 'tract-gone.1'}: generated for a command that no longer exists" in err
    assert not any("tract-mine" in e for e in err)
    assert docgen.main([str(out), "--markdown", str(md)]) == 0
    assert not (out / "tract-gone.1").exists() and (out / "tract-mine.1").exists()
    assert docgen.main(["--check", str(out), "--markdown", str(md)]) == 0


def test_output_is_deterministic(tmp_path):
    a = docgen.render_page("log")
    assert a == docgen.render_page("log")
    assert docgen.__version__ in a
    assert "\n.TH \"TRACT\\-LOG\" \"1\" \"\" " in a


# ------------------------------------------------ the README shows real output
def _readme_blocks(kind):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    import re

    return re.findall(r"```" + kind + r"\n(.*?)```", text, re.S)


ADA = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
       "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}


def replay(steps, tmp_path, cli, monkeypatch):
    """Run (command, expected output lines) in order in a fresh directory
    as Ada, at the fixed date; tract commands run in-process (fast), the
    others in bash.  An empty expectation is not checked (setup steps)."""
    import shlex

    for k, v in ADA.items():
        monkeypatch.setenv(k, v)
    store = str(tmp_path / ".tract")
    assert steps
    for cmd, expected in steps:
        argv = shlex.split(cmd)
        if argv[0] == "tract" and not set("|&;<>$") & set(cmd):
            r = cli(*argv[1:], store=store)
            code, out = r.code, r.out + r.err
        else:
            p = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True, text=True)
            code, out = p.returncode, p.stdout + p.stderr
        assert code == 0, (cmd, out)
        if expected:
            got = out.replace(str(tmp_path), "/tmp/qs").rstrip("\n").splitlines()
            want = "\n".join(expected).rstrip("\n").splitlines()
            assert [ln.rstrip() for ln in got] == [ln.rstrip() for ln in want], cmd


def transcript(lines):
    steps = []
    for line in lines:
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif steps:
            steps[-1][1].append(line)
    return steps


def test_readme_quickstart_is_real_output(tmp_path, cli, monkeypatch):
    """Every `$ command` in the README's console blocks prints what the
    README says (paths aside)."""
    lines = [ln for block in _readme_blocks("console") for ln in block.splitlines()]
    replay(transcript(lines), tmp_path, cli, monkeypatch)


def test_format_page_example_is_real_output(tmp_path, cli, monkeypatch):
    """tract-format(5) walks through a real store: replay its EXAMPLE."""
    import re

    with open(os.path.join(MAN, "tract-format.5"), encoding="utf-8") as f:
        page = f.read()
    section = page[page.index(".SH EXAMPLE\n"):page.index(".SH SEE ALSO")]
    lines = []
    for block in re.findall(r"^\.nf\n(.*?)^\.fi$", section, re.S | re.M):
        for ln in block.splitlines():
            ln = ln.replace("\\-", "-").replace("\\(aq", "'").replace("\\&", "").replace("\\e", "\\")
            lines.append(ln)
    steps = transcript(lines)
    assert len(steps) > 10
    replay(steps, tmp_path, cli, monkeypatch)


def test_readme_python_example_is_real_output(tmp_path, monkeypatch, capsys):
    code, = [b for b in _readme_blocks("python") if "Tract.open" in b]
    out, = _readme_blocks("text")
    for k, v in ADA.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out == out


def test_refresh_transcripts_puts_real_output_in(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("Intro\n\n```console\n$ tract init -q\n$ tract user hi\nstale output\n"
                  "```\n\n```python\nprint(1 + 1)\n```\n\n```text\n3\n```\n")
    assert docgen.refresh_transcripts(str(md)) is True
    assert md.read_text() == (
        "Intro\n\n```console\n$ tract init -q\n$ tract user hi\n[main 5f62236] user: hi\n"
        " append 6b49f3a3a144: +1 tokens (context 1 tokens, 1 entries)\n"
        "```\n\n```python\nprint(1 + 1)\n```\n\n```text\n2\n```\n")
    page = tmp_path / "x.5"
    page.write_text('.TH X 5\n.SH EXAMPLE\n.nf\n$ echo \\-a\nold\n.fi\n.SH SEE ALSO\n.nf\n$ echo b\nkeep\n.fi\n')
    assert docgen.refresh_transcripts(str(page)) is True
    assert page.read_text() == '.TH X 5\n.SH EXAMPLE\n.nf\n$ echo \\-a\n\\-a\n.fi\n.SH SEE ALSO\n.nf\n$ echo b\nkeep\n.fi\n'
    assert docgen.refresh_transcripts(str(page)) is False
