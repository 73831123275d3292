"""Merging run histories: every run once, idempotent, old sources, bad sources."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from goldenpath.errors import UserError
from goldenpath.status.history import History
from goldenpath.status.merge import merge
from helpers import guide_run


def rows(path: Path) -> tuple[set[tuple[object, ...]], list[tuple[object, ...]]]:
    """(guide id, run id) of every run, and every step row, of a history file."""
    with sqlite3.connect(path) as conn:
        runs = conn.execute("SELECT guide_id, run_id FROM runs").fetchall()
        steps = conn.execute("SELECT * FROM steps ORDER BY run_id, guide_id, position").fetchall()
    assert len(runs) == len(set(runs)), "a run is in the file twice"
    return set(runs), steps


def two_shards(tmp_path: Path) -> tuple[Path, Path]:
    first, second = History(tmp_path / "one.sqlite"), History(tmp_path / "two.sqlite")
    shared = guide_run("alpha", "seed", (1.0,), day=1)  # restored on both machines before the check
    first.record(shared)
    second.record(shared)
    first.record(guide_run("alpha", "r1", (1.5, 0.5), day=2))
    first.record(guide_run("bravo", "r1", (2.0,), outcome="failed", day=2))
    second.record(guide_run("charlie", "r2", (3.0, 1.0, 0.25), day=2))
    second.record(guide_run("delta", "r1", (0.5,), day=2))  # same run id as a run of bravo: another run
    return first.path, second.path


def test_merging_two_shards_keeps_every_run_once(tmp_path: Path) -> None:
    one, two = two_shards(tmp_path)
    target = tmp_path / "new" / "merged.sqlite"  # its folder does not exist yet
    merged = merge([one, two], target)
    assert str(merged) == f"merged 5 new run(s) from 2 file(s) into {target} (1 already there)"
    runs, steps = rows(target)
    (runs_one, steps_one), (runs_two, steps_two) = rows(one), rows(two)
    assert runs == runs_one | runs_two and len(runs) == 5
    assert steps == sorted(set(steps_one) | set(steps_two))
    records = {(r.guide_id, r.run_id): r for r in History(target).runs()}
    assert records["bravo", "r1"].outcome == "failed" and records["bravo", "r1"].failed_step == "s1"
    assert records["charlie", "r2"].coverage is not None

    again = merge([one, two], target)
    assert (again.new, again.present) == (0, 6)
    assert rows(target) == (runs, steps)


def test_merging_into_a_history_that_has_some_of_the_runs(tmp_path: Path) -> None:
    one, two = two_shards(tmp_path)
    before = rows(two)
    merged = merge([one], two)
    assert (merged.new, merged.present, merged.files) == (2, 1, 1)
    runs, steps = rows(two)
    assert runs == before[0] | rows(one)[0]
    assert steps == sorted(set(before[1]) | set(rows(one)[1]))
    # The merged history is an ordinary one: its durations balance the next shards.
    assert History(two).step_durations()["alpha"] == {"s1": 1.5, "s2": 0.5}


OLD_SCHEMA = """
CREATE TABLE runs (
    run_id TEXT NOT NULL, guide_id TEXT NOT NULL, outcome TEXT NOT NULL, started TEXT NOT NULL,
    finished TEXT NOT NULL, sandbox TEXT NOT NULL, sandbox_versions TEXT NOT NULL,
    content_hash TEXT NOT NULL, failed_step TEXT, failed_title TEXT, failed_number INTEGER,
    message TEXT NOT NULL, leaks TEXT NOT NULL, PRIMARY KEY (run_id, guide_id)
);
CREATE TABLE steps (
    run_id TEXT NOT NULL, guide_id TEXT NOT NULL, position INTEGER NOT NULL, step_id TEXT NOT NULL,
    title TEXT NOT NULL, section TEXT NOT NULL, outcome TEXT NOT NULL, duration REAL NOT NULL,
    message TEXT NOT NULL, PRIMARY KEY (run_id, guide_id, position)
);
INSERT INTO runs VALUES ('old1', 'alpha', 'passed', '2025-01-01T00:00:00+00:00',
    '2025-01-01T00:01:00+00:00', 'local', '{}', 'h', NULL, NULL, NULL, '', '[]');
INSERT INTO steps VALUES ('old1', 'alpha', 0, 's1', 'S1', 'steps', 'passed', 60.0, '');
"""


def test_a_history_of_an_older_goldenpath_merges_without_being_changed(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.executescript(OLD_SCHEMA)
    conn.close()
    content = old.read_bytes()
    target = tmp_path / "merged.sqlite"
    History(target).record(guide_run("bravo", "r1", (1.0,)))
    assert (merge([old], target).new) == 1
    (record,) = History(target).runs("alpha")
    assert record.coverage is None and record.failed_exit_code is None and record.failed_output == ""
    assert History(target).steps([("old1", "alpha")])[("old1", "alpha")][0].coverage is None
    assert History(target).step_durations()["alpha"] == {"s1": 60.0}
    assert old.read_bytes() == content


def test_bad_sources_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    one, _ = two_shards(tmp_path)
    target = tmp_path / "merged.sqlite"
    with pytest.raises(UserError, match=re.escape("missing.sqlite: no such run history file")):
        merge([one, tmp_path / "missing.sqlite"], target)
    assert not target.exists()
    with pytest.raises(UserError, match=re.escape("one.sqlite: is the target itself")):
        merge([one], one)
    (tmp_path / "junk.sqlite").write_text("not a database\n")
    with pytest.raises(UserError, match=re.escape("junk.sqlite: not a goldenpath run history")):
        merge([tmp_path / "junk.sqlite"], target)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with pytest.raises(
        UserError, match=re.escape("other.sqlite: not a goldenpath run history: no table runs")
    ):
        merge([other], target)
    # The sources before a bad one are merged, each in its own transaction; none half-way.
    with pytest.raises(UserError):
        merge([one, other], target)
    assert rows(target)[0] == rows(one)[0]
