"""Run history in SQLite: every guide run, from the CLI, pytest or the scheduler.

One transaction per guide result, WAL journal and a busy timeout: several writers (xdist workers,
a scheduler and a CLI) can record at once, and a run killed mid-way never damages earlier runs.
Each call opens its own connection and closes it, and the last connection to close checkpoints
the WAL into the file and removes it: once no process has the history open (a check, a merge has
ended), a copy of ``history.sqlite`` alone holds every run, as CI copies and hashes it. The file
format and the indexed look-ups are in :mod:`.schema`, what is kept in :mod:`.retention`.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from goldenpath.config import Settings
from goldenpath.errors import SandboxError
from goldenpath.run.results import Coverage, GuideResult
from goldenpath.status import schema
from goldenpath.status.retention import KEEP_ALL, Retention, prune

EXCERPT_LINES = 12
"""Lines of the failing step's expected-versus-actual and output kept for the page."""
_RUN_COLUMNS = schema.RUN_COLUMNS
_STEPS_OF_RUN = (
    "SELECT step_id, title, section, outcome, duration, message, coverage FROM steps "
    "WHERE run_id = ? AND guide_id = ? ORDER BY position"
)


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

    def __init__(self, path: Path, retention: Retention = KEEP_ALL) -> None:
        self.path = path
        self.retention = retention
        """What :meth:`record` keeps of the recorded guide's earlier runs (default: all)."""

    @classmethod
    def of(cls, settings: Settings) -> History:
        """The project's history (``history``), keeping what its ``history_keep_*`` settings say."""
        return cls(settings.history_path, Retention.of(settings))

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
            _retry_locked(lambda: schema.upgrade(conn))
            yield conn
        except sqlite3.DatabaseError as exc:
            raise SandboxError(f"run history {self.path} is unusable: {exc}") from exc
        finally:
            conn.close()

    def record(self, result: GuideResult) -> None:
        """Store one guide run atomically: either all of it is recorded or none. The same
        transaction drops the guide's runs that :attr:`retention` lets go."""
        self.record_all([result])

    def record_all(self, results: Iterable[GuideResult]) -> None:
        """Store guide runs in one transaction, as :meth:`record` stores one (bulk imports)."""
        rows = [_rows(result) for result in results]

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for run, steps in rows:
                    conn.execute(schema.INSERT_RUN, run)
                    conn.execute("DELETE FROM steps WHERE run_id = ? AND guide_id = ?", run[:2])
                    conn.executemany(schema.INSERT_STEP, steps)
                prune(conn, [str(run[1]) for run, _ in rows], self.retention)
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

    def deciding_runs(self, guide_ids: Sequence[str] | None = None) -> dict[str, list[RunRecord]]:
        """Per guide (the given ones, else every guide of the history), the runs its status is
        decided from (:data:`.schema.DECIDING`), newest first: a few index seeks per guide,
        however many runs the history holds. Guides without a run are left out."""
        if not self.path.exists():
            return {}
        query, params = schema.deciding_runs(guide_ids)
        by_guide: dict[str, list[RunRecord]] = {}
        with self._connect() as conn:
            for row in conn.execute(query, params):
                run = _record(row)
                by_guide.setdefault(run.guide_id, []).append(run)
        return by_guide

    def steps(self, runs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[StepRecord]]:
        """The steps of each (run id, guide id), in the order they ran; one connection for all."""
        keys = list(dict.fromkeys(runs))
        if not keys or not self.path.exists():
            return {}
        found: dict[tuple[str, str], list[StepRecord]] = {}
        with self._connect() as conn:
            for key in keys:
                found[key] = [
                    StepRecord(
                        str(a), str(b), str(c), str(d), float(e), str(f), None if g is None else str(g)
                    )
                    for a, b, c, d, e, f, g in conn.execute(_STEPS_OF_RUN, key)
                ]
        return found

    def step_durations(self, guide_ids: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
        """Per guide (the given ones, else every guide of the history), per step, the duration in
        the guide's latest passing run; one index seek per guide."""
        if not self.path.exists():
            return {}
        query, params = schema.latest_pass_steps(guide_ids)
        durations: dict[str, dict[str, float]] = {}
        with self._connect() as conn:
            for guide_id, step_id, duration in conn.execute(query, params):
                durations.setdefault(guide_id, {})[step_id] = duration
        return durations


def _rows(result: GuideResult) -> tuple[tuple[object, ...], list[tuple[object, ...]]]:
    """The row of a guide result in ``runs`` and its rows in ``steps``."""
    problem = result.problem
    coverage = result.coverage
    run: tuple[object, ...] = (
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
    steps: list[tuple[object, ...]] = [
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
    return run, steps


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
