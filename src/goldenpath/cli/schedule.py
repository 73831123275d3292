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
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import schedule

from goldenpath.cli.check import check
from goldenpath.config import Settings, load_settings
from goldenpath.errors import EXIT_BAD_INPUT, EXIT_INFRA, EXIT_OK, GoldenPathError, UserError
from goldenpath.site.build import CONFIG_FILE, build_site
from goldenpath.status.freshness import max_age_days
from goldenpath.status.reports import GuideReport, collect_reports

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
            log.info(
                "%s run finished with exit code %s in %.1fs", _kind(full), code, time.monotonic() - started
            )
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


# --- the scheduled checks -----------------------------------------------------------------------

DUE_MARGIN_DAYS = 7
"""A verified guide is due this many days before it would turn stale by age."""
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def due_guides(reports: Sequence[GuideReport], settings: Settings) -> list[str]:
    """Guides a daily run checks: not verified, or within a week of their max age."""
    due = []
    for report in reports:
        max_age = max_age_days(report.guide, settings)
        age = report.status.age_days
        if report.state != "verified" or (age is not None and age >= max_age - DUE_MARGIN_DAYS):
            due.append(report.id)
    return due


def scheduled_run(full: bool, settings: Settings, rebuild_site: bool = True) -> int:
    """One scheduled run: check all guides (``full``) or the due ones, then rebuild the site.

    Returns the check's exit code; the history is recorded by the check. Known errors are logged
    as lines and turned into exit codes, so the scheduler never shows a traceback for them.
    """
    code = EXIT_OK
    try:
        names: list[str] = []
        if not full:
            names = due_guides(collect_reports(settings), settings)
            if not names:
                log.info("no guide is due")
        if full or names:
            log.info(
                "checking %s on the %s sandbox",
                ", ".join(names) if names else "every guide",
                settings.sandbox,
            )
            code = check(names, settings.sandbox, settings.golden_paths_dir)
    except UserError as exc:
        for line in [str(p) for p in exc.problems]:
            log.error("%s", line)
        return EXIT_BAD_INPUT
    except GoldenPathError as exc:
        log.error("%s", exc)
        code = exc.exit_code
    if rebuild_site:
        config_file = settings.root / CONFIG_FILE
        if not config_file.is_file():
            log.info("no %s in %s: the site is not rebuilt", CONFIG_FILE, settings.root)
        else:
            try:
                # The site shows the guides just checked (also those of --golden-paths DIR).
                built = build_site(config_file, quiet=True, golden_paths=settings.golden_paths_dir)
                log.info("site rebuilt in %s", built)
            except UserError as exc:
                log.error("%s", exc)
    return code


def run_schedule(
    *,
    once: bool = False,
    daily_at: str | None = None,
    full_every_days: int | None = None,
    sandbox: str | None = None,
    golden_paths: Path | None = None,
) -> int:
    """``goldenpath schedule``: serve the cadence until stopped, or one full run with ``once``."""
    settings = load_settings(golden_paths=golden_paths, sandbox=sandbox)
    cadence = Cadence(
        daily_at or settings.schedule_daily_at, full_every_days or settings.schedule_full_every_days
    )
    if not _TIME.fullmatch(cadence.daily_at):
        raise UserError(f"daily time {cadence.daily_at!r} is not HH:MM (e.g. 02:00)")
    if cadence.full_every_days < 1:
        raise UserError(f"full runs every {cadence.full_every_days} days: use 1 or more")
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
        )
    log.setLevel(logging.INFO)
    lock = settings.history_path.parent / "schedule.lock"
    scheduler = Scheduler(lambda full: scheduled_run(full, settings), cadence, lock)
    if once:
        code = scheduler.run(full=True)
        return EXIT_INFRA if code is None else code
    log.info(
        "daily run of due guides at %s, a full run every %d day(s), on the %s sandbox",
        cadence.daily_at,
        cadence.full_every_days,
        settings.sandbox,
    )
    return scheduler.serve()
