"""The layout of ``src/goldenpath``: no import cycles, no arrows back up the layers, small modules.

The checks read the package's own imports with ``ast`` (nothing is imported), so they also run on
a small tree written for the test, which shows that each check fails when it should.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import REPO, build_file_tree

PACKAGE = REPO / "src" / "goldenpath"
MAX_LINES = 400

LAYERS: tuple[tuple[str, ...], ...] = (
    ("goldenpath", "goldenpath.errors", "goldenpath.config", "goldenpath.host", "goldenpath.interrupts"),
    ("goldenpath.spec",),
    ("goldenpath.node",),
    ("goldenpath.render",),
    ("goldenpath.sandbox",),
    ("goldenpath.run",),
    ("goldenpath.status",),
    ("goldenpath.check", "goldenpath.accept", "goldenpath.lint", "goldenpath.importer", "goldenpath.follow"),
    ("goldenpath.site", "goldenpath.review"),
    ("goldenpath.cli", "goldenpath.pytest_plugin"),
)
"""The pipelines from the bottom up: a module may import its own layer and the layers below."""


def modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for every module of the package at ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module an import names: itself, or the package holding the imported name."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at module top) for each import of the package in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            resolved = _resolve(target, known)
            if resolved is not None and resolved != name:
                yield resolved, node.lineno, id(node) in top


def graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: {target for target, _, _ in imports(name, path, known)} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or around a loop (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer(name: str) -> int:
    for number, members in enumerate(LAYERS):
        # Sub-packages own everything below them; the top package owns only its own modules.
        if name in members or any(name.startswith(m + ".") for m in members if m != "goldenpath"):
            return number
    raise AssertionError(f"{name} belongs to no layer: add it to LAYERS")


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} -> {target}"
        for source, targets in edges.items()
        for target in targets
        if layer(target) > layer(source)
    )


def long_modules(root: Path, limit: int = MAX_LINES) -> list[str]:
    return [
        f"{path.relative_to(root.parent)}: {count} lines"
        for path in sorted(root.rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > limit
    ]


def unexplained_inner_imports(root: Path) -> list[str]:
    """Imports inside functions or classes without a comment on their line or the line above."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for scope in ast.walk(ast.parse(source)):
            if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(scope):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    # The comment may sit above a group of imports.
                    first = node.lineno - 1
                    while first > 0 and lines[first - 1].lstrip().startswith(("from ", "import ")):
                        first -= 1
                    around = "".join(lines[max(first - 1, 0) : node.lineno])
                    if "#" not in around:
                        problems.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return sorted(set(problems))


def test_no_import_cycles() -> None:
    assert cycles(graph(PACKAGE)) == []


def test_no_imports_back_up_the_layers() -> None:
    assert upward(graph(PACKAGE)) == []


def test_no_module_is_longer_than_the_limit() -> None:
    assert long_modules(PACKAGE) == []


def test_imports_inside_functions_say_why() -> None:
    assert unexplained_inner_imports(PACKAGE) == []


def test_every_package_says_what_it_owns() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{init} has no docstring"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tiny package laid out like goldenpath, clean to start with."""
    return (
        build_file_tree(
            tmp_path,
            {
                "goldenpath/__init__.py": '"""Top."""\n',
                "goldenpath/errors.py": "",
                "goldenpath/spec/__init__.py": '"""Spec."""\n',
                "goldenpath/spec/model.py": "from goldenpath import errors\n",
                "goldenpath/spec/loader.py": "from goldenpath.spec.model import Guide\n",
                "goldenpath/run/__init__.py": '"""Run."""\n',
                "goldenpath/run/runner.py": "from goldenpath.spec import loader\n",
            },
        )
        / "goldenpath"
    )


def test_the_checks_pass_on_a_clean_tree(tree: Path) -> None:
    edges = graph(tree)
    assert edges["goldenpath.spec.loader"] == {"goldenpath.spec.model"}
    assert cycles(edges) == [] and upward(edges) == [] and long_modules(tree) == []


def test_a_cycle_is_found(tree: Path) -> None:
    (tree / "spec" / "model.py").write_text("from goldenpath.spec import loader\n")
    assert cycles(graph(tree)) == [["goldenpath.spec.loader", "goldenpath.spec.model"]]


def test_an_import_back_up_is_found(tree: Path) -> None:
    (tree / "spec" / "model.py").write_text("def f():\n    from goldenpath.run.runner import go\n")
    assert upward(graph(tree)) == ["goldenpath.spec.model -> goldenpath.run.runner"]
    assert unexplained_inner_imports(tree) == ["goldenpath/spec/model.py:2"]


def test_a_long_module_is_found(tree: Path) -> None:
    (tree / "run" / "runner.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert long_modules(tree) == [f"goldenpath/run/runner.py: {MAX_LINES + 1} lines"]
