"""The run history's SQLite format: tables, indexes, the upgrade of older files, and the indexed
look-ups that keep ``goldenpath status`` and the site as fast with 100,000 runs as with 100.

Every look-up starts from the guides (a few hundred) and seeks each one's newest runs through an
index, so its cost grows with the number of guides, never with the number of runs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

VERSION = 1
"""``PRAGMA user_version`` of a file with every table, column and index below; 0 for files of an
older goldenpath, which gain what they lack when first opened (no run is lost)."""

_TABLES = (
    """CREATE TABLE IF NOT EXISTS runs (
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
    )""",
    """CREATE TABLE IF NOT EXISTS steps (
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
    )""",
)
ADDED_COLUMNS = {
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
FULL_PASS = "outcome = 'passed' AND steps_real IS NOT NULL AND steps_simulated = 0 AND steps_skipped = 0"
"""A pass in which every step ran for real (:attr:`.Coverage.kind` ``full``)."""
_INDEXES = (
    # A guide's newest runs, of any outcome.
    "CREATE INDEX IF NOT EXISTS runs_by_guide ON runs (guide_id, finished)",
    # A guide's newest pass, failure or timeout, and the window of its last passes (the trend).
    "CREATE INDEX IF NOT EXISTS runs_by_outcome ON runs (guide_id, outcome, finished)",
    # A guide's newest full pass, however many partial passes came after it.
    f"CREATE INDEX IF NOT EXISTS runs_full_passes ON runs (guide_id, finished) WHERE {FULL_PASS}",
)
RUN_COLUMNS = (
    "run_id, guide_id, outcome, started, finished, sandbox, sandbox_versions, content_hash, "
    "failed_step, failed_title, failed_number, message, leaks, steps_real, steps_simulated, steps_skipped, "
    "failed_expected, failed_output, failed_exit_code"
)
STEP_COLUMNS = "run_id, guide_id, position, step_id, title, section, outcome, duration, message, coverage"
INSERT_RUN = (
    f"INSERT OR REPLACE INTO runs ({RUN_COLUMNS}) VALUES ({','.join('?' * RUN_COLUMNS.count(','))},?)"
)
INSERT_STEP = f"INSERT INTO steps ({STEP_COLUMNS}) VALUES ({','.join('?' * STEP_COLUMNS.count(','))},?)"


def upgrade(conn: sqlite3.Connection) -> None:
    """Give the file every table, column and index of :data:`VERSION`, in one transaction; a file
    already at it costs one pragma read. The caller retries while another writer holds the lock."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _TABLES:
            conn.execute(statement)
        add_columns(conn)
        for statement in _INDEXES:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def add_columns(conn: sqlite3.Connection) -> None:
    """Give a history written by an older goldenpath the columns added since."""
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column.split()[0] not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def guides(guide_ids: Sequence[str] | None) -> tuple[str, dict[str, object]]:
    """The ``wanted(guide_id)`` part of a ``WITH RECURSIVE`` clause, with its parameters: the given
    guides, or (None) every guide of the history, found by one index seek per guide."""
    if guide_ids is not None:
        return "wanted(guide_id) AS (SELECT value FROM json_each(:guides))", {
            "guides": json.dumps(list(guide_ids))
        }
    return (
        """every(guide_id) AS (
            SELECT MIN(guide_id) FROM runs
            UNION ALL
            SELECT (SELECT MIN(r.guide_id) FROM runs r WHERE r.guide_id > every.guide_id)
            FROM every WHERE every.guide_id IS NOT NULL
        ),
        wanted(guide_id) AS (SELECT guide_id FROM every WHERE guide_id IS NOT NULL)""",
        {},
    )


_NEWEST = "ORDER BY r.finished DESC, r.rowid DESC LIMIT 1"
DECIDING = f"""
    picked(id) AS (
        SELECT (SELECT r.rowid FROM runs r WHERE r.guide_id = w.guide_id {_NEWEST}) FROM wanted w
        UNION
        SELECT (SELECT r.rowid FROM runs r WHERE r.guide_id = w.guide_id AND r.outcome = o.value {_NEWEST})
        FROM wanted w, json_each('["passed", "failed", "timeout"]') o
        UNION
        SELECT (
            SELECT r.rowid FROM runs r INDEXED BY runs_full_passes
            WHERE r.guide_id = w.guide_id AND {FULL_PASS} {_NEWEST}
        )
        FROM wanted w
        UNION
        SELECT (
            SELECT r.rowid FROM runs r
            WHERE r.guide_id = w.guide_id AND r.outcome = o.value AND r.finished > coalesce((
                SELECT p.finished FROM runs p WHERE p.guide_id = w.guide_id AND p.outcome = 'passed'
                ORDER BY p.finished DESC, p.rowid DESC LIMIT 1
            ), '')
            ORDER BY r.finished, r.rowid LIMIT 1
        )
        FROM wanted w, json_each('["failed", "timeout"]') o
    ),
    deciding(id) AS (SELECT id FROM picked WHERE id IS NOT NULL)
"""
"""The ``deciding(id)`` part of a ``WITH RECURSIVE`` clause after :func:`guides`: the rowids of the
runs that decide each wanted guide's status. They are its newest run, its newest pass, failure and
timeout (the newest of which is its last conclusive run), its newest full pass, and the first
failure and timeout since its newest pass (the oldest of which is the start of its breakage):
:func:`.freshness.evaluate` of these runs alone is the same as of them all."""


def deciding_runs(guide_ids: Sequence[str] | None) -> tuple[str, dict[str, object]]:
    """The query of the runs that decide each guide's status (:data:`DECIDING`), by guide and
    newest first, with its parameters."""
    wanted, params = guides(guide_ids)
    query = (
        f"WITH RECURSIVE {wanted}, {DECIDING} SELECT {RUN_COLUMNS} FROM runs "
        "WHERE rowid IN (SELECT id FROM deciding) ORDER BY guide_id, finished DESC, rowid DESC"
    )
    return query, params


def latest_pass_steps(guide_ids: Sequence[str] | None) -> tuple[str, dict[str, object]]:
    """The query of every step (guide id, step id, duration) of each guide's newest pass."""
    wanted, params = guides(guide_ids)
    query = f"""WITH RECURSIVE {wanted}
        SELECT s.guide_id, s.step_id, s.duration FROM wanted w
        JOIN runs p ON p.rowid = (
            SELECT r.rowid FROM runs r WHERE r.guide_id = w.guide_id AND r.outcome = 'passed' {_NEWEST}
        )
        JOIN steps s ON s.run_id = p.run_id AND s.guide_id = p.guide_id
        ORDER BY s.guide_id, s.position
    """
    return query, params


PASS_WINDOW = """
    SELECT r.run_id, r.finished, (
        SELECT SUM(s.duration) FROM steps s
        WHERE s.run_id = r.run_id AND s.guide_id = r.guide_id AND s.section = 'steps'
          AND s.step_id IN (SELECT value FROM json_each(:steps))
    ) AS seconds
    FROM runs r
    WHERE r.guide_id = :guide AND r.outcome = 'passed' AND seconds IS NOT NULL
    ORDER BY r.finished DESC, r.rowid DESC
    LIMIT :last
"""
"""One guide's last ``:last`` passes (-1: all) that ran any of ``:steps`` (a JSON list of step ids),
newest first, with the seconds those steps took; a pass that ran none of them is no time to follow."""
