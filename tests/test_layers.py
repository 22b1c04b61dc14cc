"""The layers keep one direction of imports (see docs/design.md):
errors <- store (the only pygit2 importer) <- ops (never prints, never uses
click) <- llm/policy <- api and cli.  litellm is imported only by the llm
layer."""

import ast
import os

import pytest

PKG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tract_git")


def modules():
    for root, _, files in os.walk(PKG):
        if "sample_hooks" in root:
            continue
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(root, f)
                yield os.path.relpath(path, PKG).replace(os.sep, "/"), path


def imported(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


ALL = sorted(modules())


@pytest.mark.parametrize("rel,path", ALL, ids=[r for r, _ in ALL])
def test_import_direction(rel, path):
    names = imported(path)
    if "pygit2" in names:
        assert rel.startswith("store/"), f"{rel} imports pygit2: only the store layer may"
    if "litellm" in names:
        assert rel.startswith("llm/"), f"{rel} imports litellm: only the llm layer may"
    if rel.startswith(("store/", "ops/")) or rel in ("model.py", "errors.py", "tokens.py"):
        assert "click" not in names, f"{rel} imports click: library code never talks to the user"


@pytest.mark.parametrize("rel,path", [m for m in ALL if m[0].startswith(("ops/", "store/"))],
                         ids=[r for r, _ in ALL if r.startswith(("ops/", "store/"))])
def test_library_never_prints(rel, path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("print", "input"), f"{rel}:{node.lineno} calls {node.func.id}()"
