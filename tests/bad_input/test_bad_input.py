"""Every case of the bad-input corpus (``cases.py``), run as a user runs ``goldenpath``.

For each: the documented exit code, no traceback, no hang (each case has a minute), an error line
that names the file (and line) and says what is wrong, and nothing written anywhere in the case's
folder except under ``dest`` (what ``goldenpath new`` writes) and the run history.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bad_input.cases import CASES, Case

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
ALLOWED = ("dest", ".goldenpath")
"""Where a command may write in the case's folder (``new``'s destination, the history)."""


def build(case: Case, root: Path) -> None:
    for folder in case.dirs:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for relative, content in case.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{tmp}", str(root)), encoding="utf-8")
    for relative, target in case.links.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target.replace("{tmp}", str(root)))


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if not any(p.is_relative_to(root / a) for a in ALLOWED)}


def line_of(file: Path, text: str) -> int:
    for number, line in enumerate(file.read_bytes().decode("utf-8", "replace").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {file}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    build(case, root)
    before = tree(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOLDENPATH_", "KUBECONFIG"))}
    env.update({k: v.replace("{tmp}", str(root)) for k, v in case.env.items()})
    env.update(COLUMNS="250", GOLDENPATH_RUNS_DIR=str(tmp_path / "runs"))
    argv = [a.replace("{tmp}", str(root)) for a in case.argv]
    done = subprocess.run(
        [GOLDENPATH, *argv],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    assert done.returncode == case.exit, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if case.message in line]
    assert lines, f"no line says {case.message!r}:\n{output}"
    assert all(len(line) < 600 for line in lines), "an error line quotes too much"
    if case.where:
        location = case.where
        if case.at is not None:
            location += f":{line_of(root / case.where, case.at)}:"
        assert any(location in line for line in lines), f"{location} not on the error line:\n{output}"
    assert tree(root) == before, "written outside the destination"
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_the_corpus_covers_every_class() -> None:
    from bad_input import cases

    sizes = {name: len(getattr(cases, name)) for name in ("DECODING", "NUMBERS", "PATTERNS", "TEMPLATES")}
    sizes |= {name: len(getattr(cases, name)) for name in ("CONFINEMENT", "COMMAND_LINE", "SANDBOX")}
    assert len(CASES) >= 60 and min(sizes.values()) >= 4, sizes
    assert len({c.id for c in CASES}) == len(CASES)
