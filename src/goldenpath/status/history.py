"""Run history in SQLite: every guide run, from the CLI, pytest or the scheduler.

One transaction per guide result, WAL journal and a busy timeout: several writers (xdist workers,
a scheduler and a CLI) can record at once, and a run killed mid-way never damages earlier runs.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from goldenpath.errors import SandboxError
from goldenpath.run.results import Coverage, GuideResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT NOT NULL,
    guide_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    sandbox TEXT NOT NULL,
    sandbox_versions TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    failed_step TEXT,
    failed_title TEXT,
    failed_number INTEGER,
    message TEXT NOT NULL,
    leaks TEXT NOT NULL,
    steps_real INTEGER,
    steps_simulated INTEGER,
    steps_skipped INTEGER,
    failed_expected TEXT,
    failed_output TEXT,
    failed_exit_code INTEGER,
    PRIMARY KEY (run_id, guide_id)
);
CREATE INDEX IF NOT EXISTS runs_by_guide ON runs (guide_id, finished);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL,
    guide_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    outcome TEXT NOT NULL,
    duration REAL NOT NULL,
    message TEXT NOT NULL,
    coverage TEXT,
    PRIMARY KEY (run_id, guide_id, position)
);
"""
_ADDED_COLUMNS = {
    "runs": (
        "steps_real INTEGER",
        "steps_simulated INTEGER",
        "steps_skipped INTEGER",
        "failed_expected TEXT",
        "failed_output TEXT",
        "failed_exit_code INTEGER",
    ),
    "steps": ("coverage TEXT",),
}
"""Columns added since the first history format; older files gain them (NULL: not recorded)."""
_RUN_COLUMNS = (
    "run_id, guide_id, outcome, started, finished, sandbox, sandbox_versions, content_hash, "
    "failed_step, failed_title, failed_number, message, leaks, steps_real, steps_simulated, steps_skipped, "
    "failed_expected, failed_output, failed_exit_code"
)
EXCERPT_LINES = 12
"""Lines of the failing step's expected-versus-actual and output kept for the page."""
_STEP_COLUMNS = "run_id, guide_id, position, step_id, title, section, outcome, duration, message, coverage"


@dataclass(frozen=True)
class RunRecord:
    """One recorded guide run, as read back from history."""

    run_id: str
    guide_id: str
    outcome: str
    started: datetime.datetime
    finished: datetime.datetime
    sandbox: str
    sandbox_versions: dict[str, str]
    content_hash: str
    failed_step: str | None
    failed_title: str | None
    failed_number: int | None
    message: str
    leaks: list[str]
    coverage: Coverage | None = None
    """How many steps ran for real, simulated or skipped; None for runs recorded before it was."""
    failed_expected: str = ""
    """What the failing step expected and did not see (a diff for "you should see"), in short."""
    failed_output: str = ""
    """The end of the failing step's output (masked, like everything recorded)."""
    failed_exit_code: int | None = None


@dataclass(frozen=True)
class StepRecord:
    """One step of a recorded run."""

    step_id: str
    title: str
    section: str
    outcome: str
    duration: float
    message: str
    coverage: str | None = None
    """real, simulated or skipped; None for runs recorded before it was."""


class History:
    """The run history of a project; cheap to open, safe to share between processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise SandboxError(f"cannot open run history {self.path}: {exc}") from exc
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            _retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            _retry_locked(lambda: conn.executescript(_SCHEMA))
            _retry_locked(lambda: _add_columns(conn))
            yield conn
        except sqlite3.DatabaseError as exc:
            raise SandboxError(f"run history {self.path} is unusable: {exc}") from exc
        finally:
            conn.close()

    def record(self, result: GuideResult) -> None:
        """Store one guide run atomically: either all of it is recorded or none."""
        problem = result.problem
        coverage = result.coverage
        row = (
            result.run_id,
            result.guide_id,
            result.outcome,
            result.started.isoformat(),
            result.finished.isoformat(),
            result.sandbox,
            json.dumps(dict(result.sandbox_versions)),
            result.content_hash,
            problem.step_id if problem else None,
            problem.title if problem else None,
            problem.number if problem else None,
            problem.message if problem else "",
            json.dumps(list(result.leaks)),
            coverage.real,
            coverage.simulated,
            coverage.skipped,
            _excerpt(problem.expected) if problem else None,
            _excerpt(problem.stdout + problem.stderr) if problem else None,
            problem.exit_code if problem else None,
        )
        steps = [
            (
                result.run_id,
                result.guide_id,
                i,
                s.step_id,
                s.title,
                s.section,
                s.outcome,
                s.duration,
                s.message,
                s.coverage,
            )
            for i, s in enumerate(result.steps)
        ]

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    f"INSERT OR REPLACE INTO runs ({_RUN_COLUMNS}) VALUES ({_marks(_RUN_COLUMNS)})", row
                )
                conn.execute(
                    "DELETE FROM steps WHERE run_id = ? AND guide_id = ?", (result.run_id, result.guide_id)
                )
                conn.executemany(
                    f"INSERT INTO steps ({_STEP_COLUMNS}) VALUES ({_marks(_STEP_COLUMNS)})", steps
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        with self._connect() as conn:
            _retry_locked(lambda: write(conn))

    def runs(self, guide_id: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first; of one guide when ``guide_id`` is given."""
        if not self.path.exists():
            return []
        query = f"SELECT {_RUN_COLUMNS} FROM runs"
        args: list[object] = []
        if guide_id is not None:
            query += " WHERE guide_id = ?"
            args.append(guide_id)
        query += " ORDER BY finished DESC"
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        with self._connect() as conn:
            return [_record(row) for row in conn.execute(query, args)]

    def latest_runs(self) -> dict[str, list[RunRecord]]:
        """Every guide's runs, newest first, in one query."""
        by_guide: dict[str, list[RunRecord]] = {}
        for run in self.runs():
            by_guide.setdefault(run.guide_id, []).append(run)
        return by_guide

    def steps(self, runs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[StepRecord]]:
        """The steps of each (run id, guide id), in the order they ran; one connection for all."""
        keys = list(dict.fromkeys(runs))
        if not keys or not self.path.exists():
            return {}
        found: dict[tuple[str, str], list[StepRecord]] = {key: [] for key in keys}
        query = (
            "SELECT step_id, title, section, outcome, duration, message, coverage FROM steps "
            "WHERE run_id = ? AND guide_id = ? ORDER BY position"
        )
        with self._connect() as conn:
            for key in keys:
                found[key] = [
                    StepRecord(
                        str(a), str(b), str(c), str(d), float(e), str(f), None if g is None else str(g)
                    )
                    for a, b, c, d, e, f, g in conn.execute(query, key)
                ]
        return found

    def step_durations(self) -> dict[str, dict[str, float]]:
        """Per guide, per step, the duration in the guide's latest passing run."""
        if not self.path.exists():
            return {}
        query = """
            SELECT s.guide_id, s.step_id, s.duration FROM steps s
            JOIN (SELECT guide_id, run_id, MAX(finished) FROM runs WHERE outcome = 'passed'
                  GROUP BY guide_id) latest
              ON s.guide_id = latest.guide_id AND s.run_id = latest.run_id
        """
        durations: dict[str, dict[str, float]] = {}
        with self._connect() as conn:
            for guide_id, step_id, duration in conn.execute(query):
                durations.setdefault(guide_id, {})[step_id] = duration
        return durations


def _record(row: tuple[object, ...]) -> RunRecord:
    (
        run_id,
        guide_id,
        outcome,
        started,
        finished,
        sandbox,
        versions,
        content_hash,
        failed_step,
        failed_title,
        failed_number,
        message,
        leaks,
        real,
        simulated,
        skipped,
        failed_expected,
        failed_output,
        failed_exit_code,
    ) = row
    counts = (real, simulated, skipped)
    coverage = None if None in counts else Coverage(*(int(str(n)) for n in counts))
    return RunRecord(
        run_id=str(run_id),
        guide_id=str(guide_id),
        outcome=str(outcome),
        started=datetime.datetime.fromisoformat(str(started)),
        finished=datetime.datetime.fromisoformat(str(finished)),
        sandbox=str(sandbox),
        sandbox_versions=json.loads(str(versions)),
        content_hash=str(content_hash),
        failed_step=None if failed_step is None else str(failed_step),
        failed_title=None if failed_title is None else str(failed_title),
        failed_number=None if failed_number is None else int(str(failed_number)),
        message=str(message),
        leaks=json.loads(str(leaks)),
        coverage=coverage,
        failed_expected=str(failed_expected or ""),
        failed_output=str(failed_output or ""),
        failed_exit_code=None if failed_exit_code is None else int(str(failed_exit_code)),
    )


def _excerpt(text: str) -> str:
    """The last :data:`EXCERPT_LINES` lines of a text (for a diff: the lines that differ)."""
    lines = text.rstrip("\n").splitlines()
    if len(lines) > EXCERPT_LINES:
        changed = [
            i
            for i, line in enumerate(lines)
            if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))
        ]
        start = max(0, changed[0] - 2) if changed else len(lines) - EXCERPT_LINES
        lines = lines[start : start + EXCERPT_LINES]
    return "\n".join(lines)


def _marks(columns: str) -> str:
    """One ``?`` placeholder per column of a comma-separated column list."""
    return ",".join("?" * len(columns.split(",")))


def _add_columns(conn: sqlite3.Connection) -> None:
    """Give a history written by an older goldenpath the columns added since."""
    for table, columns in _ADDED_COLUMNS.items():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column.split()[0] not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def _retry_locked(action: object) -> object:
    """Run ``action`` again while another writer holds the lock beyond the busy timeout."""
    assert callable(action)
    for attempt in range(20):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(min(0.05 * 2**attempt, 2.0))
    return action()


class Recorder:
    """Records each guide result as it finishes; a failing write is remembered, never raised.

    A check must finish its guides (and their cleanup) even when the history cannot be written;
    the caller reports :attr:`errors` at the end and exits as for a sandbox error.
    """

    def __init__(self, history: History | None) -> None:
        self.history = history
        self.errors: list[str] = []

    def __call__(self, result: GuideResult) -> None:
        if self.history is None:
            return
        try:
            self.history.record(result)
        except (SandboxError, OSError, sqlite3.Error) as exc:
            self.errors.append(
                f"could not record run {result.run_id} of '{result.guide_id}' in the run history: {exc}"
            )
