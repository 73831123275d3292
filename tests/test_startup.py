"""Start-up: what a process loads before it does its work, checked on real processes.

``goldenpath --version``, the parser, a check of one guide on the local sandbox and a pytest run
without guides each load only what they use (the heavy modules of the other commands would double
their start-up). The checks read the modules a process imported, never how long it took.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import goldenpath
from helpers import REPO, build_file_tree, write_guide

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

HEAVY = (
    "jsonschema",
    "kubernetes_validate",
    "rich",
    "jinja2",
    "yaml",
    "mkdocs",
    "markdown_it",
    "goldenpath.render",
    "goldenpath.node",
    "goldenpath.sandbox.kwok",
    "goldenpath.spec",
    "goldenpath.status",
    "goldenpath.check",
)
"""Loaded by some commands only: none of them for the parser or ``--version``."""
OTHER_SANDBOXES = (
    "goldenpath.sandbox.kwok",
    "goldenpath.sandbox.realnode",
    "goldenpath.sandbox.kubernetes",
    "goldenpath.sandbox.standins",
    "goldenpath.node.node",
    "goldenpath.node.start",
    "jsonschema",
    "kubernetes_validate",
    "goldenpath.run.junit",
    "goldenpath.review",
    "goldenpath.lint",
    "goldenpath.site",
    "goldenpath.accept",
    "mkdocs",
)
"""What a check of a trivial guide on the local sandbox has no use for."""
CHECK_PATH = (
    "goldenpath.check",
    "goldenpath.spec",
    "goldenpath.render",
    "goldenpath.run",
    "goldenpath.status",
    "goldenpath.sandbox.kwok",
    "goldenpath.node.node",
    "yaml",
    "jinja2",
    "jsonschema",
    "rich",
)
"""What a pytest run loads for guides only (a local sandbox's run collects the leftovers of runs
that died first, with the run records and what they need of the node to clean up)."""

# Written at exit, after the command's own sys.exit: every module the process imported.
_RECORD = (
    "import atexit, os, sys\n"
    "atexit.register(lambda: open(os.environ['LOADED_MODULES'], 'w').write('\\n'.join(sys.modules)))\n"
)


def loaded_modules(code: str, args: Sequence[str], cwd: Path, tmp_path: Path) -> tuple[set[str], str]:
    """The modules a fresh ``python -c code args...`` imported, and what it printed."""
    record = tmp_path / "loaded-modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", _RECORD + code, *args],
        cwd=cwd,
        # A sandbox folder where no cluster was ever made: the leftovers of dead clusters are
        # collected, and their modules loaded, only where one was (see collect_leftovers).
        env={
            **os.environ,
            "LOADED_MODULES": str(record),
            "GOLDENPATH_SANDBOX_DIR": str(tmp_path / "sandbox"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return set(record.read_text().split()), done.stdout


def among(modules: set[str], names: Sequence[str]) -> list[str]:
    """The modules of ``names`` (or inside those packages) that were loaded."""
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def goldenpath_main(args: Sequence[str], cwd: Path, tmp_path: Path) -> tuple[set[str], str]:
    return loaded_modules(
        "import sys\nfrom goldenpath.cli.main import main\nsys.exit(main(sys.argv[1:]))", args, cwd, tmp_path
    )


def test_the_version_is_the_one_of_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert goldenpath.__version__ == project["version"]


def test_the_command_line_module_loads_no_command(tmp_path: Path) -> None:
    modules, _ = loaded_modules("import goldenpath.cli.main", [], tmp_path, tmp_path)
    assert "goldenpath.cli.main" in modules
    assert among(modules, HEAVY) == []


def test_version_loads_nothing_more(tmp_path: Path) -> None:
    modules, out = goldenpath_main(["--version"], tmp_path, tmp_path)
    assert out == f"goldenpath {goldenpath.__version__}\n"
    assert among(modules, HEAVY) == []
    # Not even the settings or the errors (dataclasses): argparse answers as it reads --version.
    assert among(modules, ("goldenpath.config", "goldenpath.errors", "tomllib")) == []


def test_a_local_check_loads_no_other_sandbox(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {"pyproject.toml": "[tool.goldenpath]\n"})
    write_guide(tmp_path / "golden_paths", "trivial", [{"id": "nothing", "title": "Nothing", "run": "true"}])
    modules, out = goldenpath_main(["check", "--sandbox", "local", "--no-history"], tmp_path, tmp_path)
    assert "1 passed" in out
    assert "goldenpath.sandbox.local" in modules
    assert among(modules, OTHER_SANDBOXES) == []


@pytest.mark.parametrize("sandbox", [[], ["--sandbox", "local"]])
def test_pytest_without_guides_loads_no_check_path(tmp_path: Path, sandbox: list[str]) -> None:
    """The plugin is loaded by every pytest process of the environment: a run that collects no
    guide (or starts a local sandbox's run) never loads the spec model or the check path."""
    build_file_tree(
        tmp_path,
        {
            "pyproject.toml": "[tool.pytest.ini_options]\n",
            "test_plain.py": "def test_plain():\n    pass\n",
            "notes.txt": "not a spec\n",
        },
    )
    modules, out = loaded_modules(
        "import sys, pytest\nsys.exit(pytest.main(sys.argv[1:]))",
        ["-q", "-p", "no:cacheprovider", *sandbox],
        tmp_path,
        tmp_path,
    )
    assert "1 passed" in out
    assert "goldenpath.pytest_plugin" in modules
    assert among(modules, CHECK_PATH) == []
