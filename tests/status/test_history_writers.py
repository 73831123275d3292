"""Concurrent writers: ``pytest checks/ -n 2`` and ``goldenpath check`` at once, one history."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from goldenpath.status.history import History
from helpers import build_file_tree, write_guide

GUIDES = [f"g{i}" for i in range(6)]


@pytest.mark.slow
def test_pytest_workers_and_a_cli_run_record_every_run(tmp_path: Path) -> None:
    build_file_tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.goldenpath]\ngolden_paths = "gp"\n',
            "checks/all.suite.yaml": "golden_paths: ../gp\n",
        },
    )
    for name in GUIDES:
        write_guide(
            tmp_path / "gp",
            name,
            [
                {"id": "a", "title": "Wait", "run": "sleep 0.2"},
                {"id": "b", "title": "Say", "run": f"echo {name}", "expect": {"output": name}},
            ],
        )
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("PYTEST_XDIST_WORKER", None)
    suite = subprocess.Popen(
        [sys.executable, "-m", "pytest", "checks/", "-n", "2", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    cli = subprocess.Popen(
        [str(Path(sys.executable).parent / "goldenpath"), "check"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    suite_out, _ = suite.communicate(timeout=180)
    cli_out, _ = cli.communicate(timeout=180)
    assert suite.returncode == 0, suite_out
    assert cli.returncode == 0, cli_out

    history = History(tmp_path / ".goldenpath" / "history.sqlite")
    runs = history.latest_runs()
    assert sorted(runs) == GUIDES
    for name in GUIDES:
        assert len(runs[name]) == 2, runs[name]
        assert {r.outcome for r in runs[name]} == {"passed"}
    steps = history.steps((r.run_id, r.guide_id) for rs in runs.values() for r in rs)
    assert len(steps) == 2 * len(GUIDES)
    assert all([s.step_id for s in found] == ["a", "b"] for found in steps.values())
