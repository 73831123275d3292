"""Run records: collected only when their owner is gone, once, and whatever the collector's fate."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from goldenpath.host import start_time
from goldenpath.sandbox.records import RunRecord, collect_dead_runs, runs_dir


@pytest.fixture(autouse=True)
def _runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOLDENPATH_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _record(tmp_path: Path, run_id: str, pid: int, started: int | None) -> Path:
    root = tmp_path / f"goldenpath-{run_id}"
    (root / "work").mkdir(parents=True)
    RunRecord(run_id, "guide", str(root), pid=pid, started=started).save()
    return root


def test_only_runs_whose_owner_is_gone_are_collected(tmp_path: Path) -> None:
    alive = subprocess.Popen(["sleep", "30"])
    try:
        live = _record(tmp_path, "live", alive.pid, start_time(alive.pid))
        # the pid of a live process, but another start time: the pid was recycled after a crash
        recycled = _record(tmp_path, "recycled", alive.pid, (start_time(alive.pid) or 0) - 1)
        gone = _dead_pid()
        dead = _record(tmp_path, "dead", gone, 12345)
        assert sorted(collect_dead_runs()) == sorted(
            f"removed the workspace {root} left by run {name} of guide (pid {pid}, which died)"
            for root, name, pid in ((recycled, "recycled", alive.pid), (dead, "dead", gone))
        )
        assert live.exists() and not recycled.exists() and not dead.exists()
        assert [p.name for p in runs_dir().iterdir()] == ["live.json"]
        assert collect_dead_runs() == []  # collected once
    finally:
        alive.kill()
        alive.wait()


def test_a_record_claimed_by_a_killed_collector_is_taken_over(tmp_path: Path) -> None:
    owner = _dead_pid()
    root = _record(tmp_path, "orphan", owner, 1)
    record = runs_dir() / "orphan.json"
    record.rename(record.with_suffix(f".collecting-{_dead_pid()}"))
    assert collect_dead_runs() == [
        f"removed the workspace {root} left by run orphan of guide (pid {owner}, which died)"
    ]
    assert not root.exists() and list(runs_dir().iterdir()) == []


def test_unreadable_records_are_dropped_once_they_are_old(tmp_path: Path) -> None:
    folder = runs_dir()
    folder.mkdir()
    torn = folder / "torn.json"
    torn.write_text('{"run_id": "torn", "gu')
    assert collect_dead_runs() == [] and torn.exists()  # maybe still being written
    old = time.time() - 120
    os.utime(torn, (old, old))
    assert collect_dead_runs() == [] and not torn.exists()
