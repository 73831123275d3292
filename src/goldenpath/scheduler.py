"""Run the checks on a cadence with the ``schedule`` package.

Two jobs: a daily run at a set time of the guides that are due (not verified, or close to their
max age), and a full run every few days, so that every guide is checked well within a quarter.
Runs never overlap (a lock file also keeps out a second scheduler or a CLI run started by
``goldenpath schedule --once``), a failing run is logged and the next one goes ahead, and SIGTERM or
Ctrl-C stops the process cleanly: an interrupted run still runs its guides' cleanup.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import schedule

log = logging.getLogger("goldenpath.schedule")

Job = Callable[[bool], int]
"""A check run: called with ``full`` (every guide) or not (only guides that are due)."""


@dataclass(frozen=True)
class Cadence:
    daily_at: str = "02:00"
    """Time of day (HH:MM, local time) of the run of due guides."""
    full_every_days: int = 7
    """Days between full runs of every guide."""


class Scheduler:
    """Calls ``job`` on a cadence until stopped."""

    def __init__(self, job: Job, cadence: Cadence, lock_path: Path, poll_seconds: float = 30.0):
        self.job = job
        self.cadence = cadence
        self.lock_path = lock_path
        self.poll_seconds = poll_seconds
        self.stop_event = threading.Event()
        self.runs: list[tuple[bool, int | None]] = []
        """Every attempted run: (full, exit code, or None when it raised or was skipped)."""
        self._running = False
        self._schedule = schedule.Scheduler()
        self._schedule.every().day.at(cadence.daily_at).do(self.run, full=False)
        self._schedule.every(cadence.full_every_days).days.do(self.run, full=True)

    def run(self, full: bool) -> int | None:
        """One run, unless another holds the lock; never raises for a failing run."""
        with self._lock() as acquired:
            if not acquired:
                log.warning("skipped a %s run: another run is still going", _kind(full))
                self.runs.append((full, None))
                return None
            self._running = True
            started = time.monotonic()
            log.info("starting a %s run", _kind(full))
            try:
                code = self.job(full)
            except KeyboardInterrupt:
                log.info("run interrupted")
                self.runs.append((full, None))
                raise
            except Exception:
                log.exception("the %s run failed; the next run goes ahead as planned", _kind(full))
                self.runs.append((full, None))
                return None
            finally:
                self._running = False
            log.info("%s run finished with exit code %s in %.1fs", _kind(full), code,
                     time.monotonic() - started)
            self.runs.append((full, code))
            return code

    @contextlib.contextmanager
    def _lock(self) -> Iterator[bool]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def run_pending(self) -> None:
        self._schedule.run_pending()

    def next_run(self) -> str:
        upcoming = self._schedule.next_run
        return upcoming.isoformat(timespec="minutes") if upcoming else "never"

    def serve(self) -> int:
        """Run until SIGTERM or Ctrl-C; return 0 after a clean stop."""
        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            log.info("scheduler started; next run at %s", self.next_run())
            while not self.stop_event.is_set():
                self.run_pending()
                self.stop_event.wait(self.poll_seconds)
        except KeyboardInterrupt:
            log.info("stopping on interrupt")
        finally:
            signal.signal(signal.SIGTERM, previous)
        log.info("scheduler stopped")
        return 0

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        log.info("received SIGTERM")
        self.stop_event.set()
        if self._running:
            # Interrupt the run so its guides clean up before the process exits.
            raise KeyboardInterrupt


def _kind(full: bool) -> str:
    return "full" if full else "due-guides"
