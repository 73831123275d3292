"""Merging run histories: the shards of one check, recorded on several machines, into one history.

Every run of every source is copied with its steps into the target, unless the target already
holds that run (same run id and guide id): merging is idempotent, and merging overlapping files
keeps each run once. A source is read through ``ATTACH`` and never written; a source recorded by
an older goldenpath reads as if upgraded (the columns added since are NULL, as
``schema.add_columns`` makes them). Each source is merged in one transaction: a merge that
fails part-way leaves the target with whole sources only. The same transaction drops the runs
the target's retention lets go (:mod:`.retention`) of the guides that gained runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from goldenpath.errors import Problem, UserError
from goldenpath.status import schema
from goldenpath.status.history import History, _retry_locked
from goldenpath.status.retention import KEEP_ALL, Retention, prune

_ALIAS = "incoming"
"""The schema name a source is attached under."""


@dataclass(frozen=True)
class Merged:
    """What a merge did."""

    target: Path
    files: int
    new: int
    """Runs copied into the target."""
    present: int
    """Runs of the sources the target already held (or an earlier source of the merge gave it)."""
    removed: int = 0
    """Older runs of the target the retention settings let go."""

    def __str__(self) -> str:
        text = (
            f"merged {self.new} new run(s) from {self.files} file(s) into {self.target} "
            f"({self.present} already there)"
        )
        return text + (f"; removed {self.removed} old run(s) (history_keep_*)" if self.removed else "")


def merge(sources: Sequence[Path], target: Path, retention: Retention = KEEP_ALL) -> Merged:
    """Copy every run and its steps from each source into ``target`` (created if missing), then
    drop the target's runs that ``retention`` lets go (never those a status is decided from).

    A source that is missing, is the target, or is not a run history raises :class:`UserError`
    (before anything is written, for the first two); a target that cannot be written raises
    :class:`~goldenpath.errors.SandboxError`.
    """
    problems = []
    for source in sources:
        if not source.is_file():
            problems.append(Problem(source, None, "", "no such run history file", "give the path of a file"))
        elif target.exists() and source.samefile(target):
            problems.append(Problem(source, None, "", "is the target itself", "merge other files into it"))
    if problems:
        raise UserError(problems)
    new = present = removed = 0
    with History(target)._connect() as conn:
        for source in sources:
            added, total, dropped = _merge_one(conn, source, retention)
            new += added
            present += total - added
            removed += dropped
    return Merged(target, len(sources), new, present, removed)


def _merge_one(conn: sqlite3.Connection, source: Path, retention: Retention) -> tuple[int, int, int]:
    """Merge one attached source in one transaction: (runs added, runs in the source, runs removed)."""
    try:
        conn.execute(f"ATTACH DATABASE ? AS {_ALIAS}", (str(source),))
    except sqlite3.Error as exc:
        raise _not_a_history(source, exc) from exc
    try:
        try:
            runs = _select_list(conn, "runs", schema.RUN_COLUMNS)
            steps = _select_list(conn, "steps", schema.STEP_COLUMNS)
        except sqlite3.Error as exc:
            raise _not_a_history(source, exc) from exc

        def write() -> tuple[int, int, int]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                added, total = _copy(conn, runs, steps)
                grown = [row[0] for row in conn.execute("SELECT DISTINCT guide_id FROM temp.merging")]
                counts = added, total, prune(conn, grown, retention)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return counts

        try:
            counts = _retry_locked(write)
        except sqlite3.IntegrityError as exc:  # a row the target's schema refuses
            raise _not_a_history(source, exc) from exc
        assert isinstance(counts, tuple)
        return counts
    finally:
        conn.execute(f"DETACH DATABASE {_ALIAS}")


_NEW_RUNS = "(run_id, guide_id) IN (SELECT run_id, guide_id FROM temp.merging)"


def _copy(conn: sqlite3.Connection, runs: str, steps: str) -> tuple[int, int]:
    """Inside the transaction: the source's runs the target lacks, with their steps."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS merging (run_id TEXT, guide_id TEXT)")
    conn.execute("DELETE FROM temp.merging")
    conn.execute(
        f"INSERT INTO temp.merging SELECT run_id, guide_id FROM {_ALIAS}.runs "
        "EXCEPT SELECT run_id, guide_id FROM main.runs"
    )
    # Steps left without their run (never written so) would mix with the copied ones.
    conn.execute(f"DELETE FROM main.steps WHERE {_NEW_RUNS}")
    conn.execute(
        f"INSERT INTO main.runs ({schema.RUN_COLUMNS}) SELECT {runs} FROM {_ALIAS}.runs WHERE {_NEW_RUNS}"
    )
    conn.execute(
        f"INSERT INTO main.steps ({schema.STEP_COLUMNS}) SELECT {steps} FROM {_ALIAS}.steps WHERE {_NEW_RUNS}"
    )
    (added,) = conn.execute("SELECT COUNT(*) FROM temp.merging").fetchone()
    (total,) = conn.execute(f"SELECT COUNT(*) FROM {_ALIAS}.runs").fetchone()
    return int(added), int(total)


def _select_list(conn: sqlite3.Connection, table: str, columns: str) -> str:
    """The source's columns of ``table`` in the target's order; NULL for those it predates."""
    present = {row[1] for row in conn.execute(f"PRAGMA {_ALIAS}.table_info({table})")}
    if not present:
        raise sqlite3.DatabaseError(f"no table {table}")
    names = [name.strip() for name in columns.split(",")]
    return ", ".join(name if name in present else f"NULL AS {name}" for name in names)


def _not_a_history(source: Path, exc: sqlite3.Error) -> UserError:
    return UserError(
        [Problem(source, None, "", f"not a goldenpath run history: {exc}", "give a history.sqlite file")]
    )
