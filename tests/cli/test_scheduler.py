"""The scheduler: runs at its time, never overlaps, survives failures, stops on SIGTERM."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
import schedule

from goldenpath.cli.schedule import Cadence, Scheduler


class _Clock:
    """A controlled clock for the ``schedule`` package, which reads datetime.datetime.now().

    Waiting for 02:00 in real time is impossible in a test, so the clock is the one thing faked;
    the scheduler, its jobs and its lock are real.
    """

    def __init__(self, start: datetime.datetime) -> None:
        self.now = start
        clock = self

        class _DateTime(datetime.datetime):
            @classmethod
            def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
                return clock.now

        self.module = types.SimpleNamespace(
            datetime=_DateTime, timedelta=datetime.timedelta, date=datetime.date, time=datetime.time
        )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    controlled = _Clock(datetime.datetime(2026, 11, 23, 1, 59, 0))
    monkeypatch.setattr(schedule, "datetime", controlled.module)
    return controlled


def test_daily_run_happens_at_its_time_and_full_run_weekly(clock: _Clock, tmp_path: Path) -> None:
    calls: list[bool] = []
    sched = Scheduler(lambda full: calls.append(full) or 0, Cadence("02:00", 7), tmp_path / "lock")
    sched.run_pending()
    assert calls == []
    clock.now = datetime.datetime(2026, 11, 23, 2, 0, 1)
    sched.run_pending()
    assert calls == [False]
    sched.run_pending()
    assert calls == [False]  # not twice
    clock.now = datetime.datetime(2026, 11, 30, 2, 0, 2)
    sched.run_pending()
    assert sorted(calls) == [False, False, True]
    assert sched.runs[-1][1] == 0


def test_a_failing_run_is_survived(clock: _Clock, tmp_path: Path) -> None:
    def job(full: bool) -> int:
        raise RuntimeError("cluster exploded")

    sched = Scheduler(job, Cadence("02:00", 7), tmp_path / "lock")
    assert sched.run(full=False) is None
    assert sched.run(full=True) is None
    assert sched.runs == [(False, None), (True, None)]


def test_an_overlapping_run_is_skipped(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    inner: list[int | None] = []

    def job(full: bool) -> int:
        inner.append(sched.run(full=True))  # a second run while this one holds the lock
        return 0

    sched = Scheduler(job, Cadence(), lock)
    assert sched.run(full=False) == 0
    assert inner == [None]
    assert sched.runs == [(True, None), (False, 0)]


def test_a_run_of_another_process_is_not_overlapped(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import fcntl, os, time
            fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)
            fcntl.flock(fd, fcntl.LOCK_EX)
            print("locked", flush=True)
            time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        calls: list[bool] = []
        sched = Scheduler(lambda full: calls.append(full) or 0, Cadence(), lock)
        assert sched.run(full=True) is None
        assert calls == []
    finally:
        holder.kill()
        holder.wait()
    assert sched.run(full=True) == 0


SERVE = textwrap.dedent("""
    import logging, sys, time
    from pathlib import Path
    from goldenpath.cli.schedule import Cadence, Scheduler
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    out = Path(sys.argv[1])

    def job(full):
        try:  # SIGTERM may come as soon as "started" exists: inside the try, or no cleanup
            (out / "started").write_text("yes")
            time.sleep(60)
        finally:
            (out / "cleaned-up").write_text("yes")
        return 0

    sched = Scheduler(job, Cadence(), out / "lock", poll_seconds=0.05)
    if sys.argv[2] == "busy":
        sched._schedule.every(1).seconds.do(sched.run, full=True)
    sys.exit(sched.serve())
""")


@pytest.mark.parametrize("state", ["idle", "busy"])
def test_sigterm_stops_cleanly(tmp_path: Path, state: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(tmp_path), state],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert "scheduler started" in proc.stderr.readline()  # logged once SIGTERM is handled
    if state == "busy":
        deadline = time.monotonic() + 20
        while not (tmp_path / "started").exists():
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert "scheduler stopped" in proc.stderr.read()
    if state == "busy":
        assert (tmp_path / "cleaned-up").exists()
