"""The GitHub Actions workflows pass actionlint (built by scripts/install-actionlint)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _actionlint() -> str:
    sandbox = Path(os.environ.get("GOLDENPATH_SANDBOX_DIR") or ROOT / ".sandbox")
    found = sandbox / "bin" / "actionlint"
    if found.is_file():
        return str(found)
    on_path = shutil.which("actionlint")
    if on_path:
        return on_path
    if os.environ.get("CI"):
        pytest.fail("actionlint is missing in CI: .ci/run must run scripts/install-actionlint")
    pytest.skip("actionlint not installed: run scripts/install-actionlint")


def test_there_are_workflows() -> None:
    names = {w.name for w in WORKFLOWS}
    assert {"scheduled-checks.yml", "tests.yml"} <= names


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow: Path) -> None:
    result = subprocess.run([_actionlint(), str(workflow)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    # Proves the linter bites: an unknown runner label key and a bad expression must fail.
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.nope.really }\n"
    )
    result = subprocess.run([_actionlint(), str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0
