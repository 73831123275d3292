"""The history's indexed look-ups: the same answers as reading every run, from index seeks only;
older files upgraded in place; a copy of the file alone holding every run."""

from __future__ import annotations

import datetime
import random
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenpath.config import Settings
from goldenpath.run.results import GuideResult, StepResult
from goldenpath.spec import loader
from goldenpath.spec.model import Guide
from goldenpath.status import freshness, reports, schema, trends
from goldenpath.status.history import History
from goldenpath.status.merge import merge
from helpers import guide_run, write_guide

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GUIDES = [f"g{i}" for i in range(8)]
OUTCOMES = ("passed", "passed", "passed", "failed", "timeout", "error")
COVERAGES = ("real", "real", "real", "simulated", "skipped")


def random_run(rng: random.Random, guide_id: str, index: int) -> GuideResult:
    """A run of ``guide_id`` with a random outcome, coverage, content and time (unique per index)."""
    outcome = rng.choice(OUTCOMES)
    finished = NOW - datetime.timedelta(days=rng.uniform(0, 200), microseconds=index)
    steps = tuple(
        StepResult(
            step_id=f"s{n}",
            title=f"S{n}",
            number=n,
            section="steps",
            outcome=outcome if n == 3 and outcome != "passed" else "passed",
            message="" if outcome == "passed" or n != 3 else "exit code 1",
            duration=rng.uniform(0.1, 30.0),
            coverage=rng.choice(COVERAGES),
        )
        for n in (1, 2, 3)
    )
    return GuideResult(
        guide_id=guide_id,
        outcome=outcome,  # type: ignore[arg-type]
        run_id=f"run-{index}",
        started=finished - datetime.timedelta(minutes=1),
        finished=finished,
        sandbox=rng.choice(("local", "kwok")),
        steps=steps,
        content_hash=rng.choice(("current", "current", "old")),
    )


def random_history(path: Path, seed: int, runs: int = 400) -> History:
    rng = random.Random(seed)
    history = History(path)
    history.record_all(random_run(rng, rng.choice(GUIDES), i) for i in range(runs))
    # A guide whose only runs are sandbox errors, and one with a single run.
    history.record_all([random_run(rng, "errors-only", runs + 1), random_run(rng, "once", runs + 2)])
    return history


@pytest.fixture
def guides(tmp_path: Path) -> list[Guide]:
    for guide_id in (*GUIDES, "errors-only", "once", "never-ran"):
        write_guide(
            tmp_path / "gp", guide_id, [{"id": f"s{n}", "title": f"S{n}", "run": "true"} for n in (1, 2, 3)]
        )
    return loader.load_guides(tmp_path / "gp")


@pytest.mark.parametrize("seed", range(6))
def test_the_deciding_runs_decide_as_every_run_does(tmp_path: Path, guides: list[Guide], seed: int) -> None:
    history = random_history(tmp_path / "h.sqlite", seed)
    deciding = history.deciding_runs([g.id for g in guides])
    everything = history.latest_runs()
    assert set(deciding) == set(everything) == {g.id for g in guides} - {"never-ran"}
    settings = Settings(max_age_days=60)
    for guide in guides:
        some, all_runs = deciding.get(guide.id, []), everything.get(guide.id, [])
        assert len(some) <= 8 and {r.run_id for r in some} <= {r.run_id for r in all_runs}
        for content_hash in ("current", "old"):
            assert freshness.evaluate(guide, some, content_hash, settings, NOW) == freshness.evaluate(
                guide, all_runs, content_hash, settings, NOW
            )
    assert history.deciding_runs() == deciding  # every guide of the history, found by the index


def test_step_durations_are_those_of_each_guides_newest_pass(tmp_path: Path) -> None:
    history = random_history(tmp_path / "h.sqlite", 7)
    expected = {}
    for guide_id, runs in history.latest_runs().items():
        newest = next((r for r in runs if r.outcome == "passed"), None)
        if newest is not None:
            steps = history.steps([(newest.run_id, guide_id)])[newest.run_id, guide_id]
            expected[guide_id] = {s.step_id: s.duration for s in steps}
    assert history.step_durations() == expected
    assert history.step_durations(["g1", "nothing"]) == {"g1": expected["g1"]}


def test_reports_from_the_deciding_runs(tmp_path: Path, guides: list[Guide]) -> None:
    history = random_history(tmp_path / "h.sqlite", 3)
    settings = Settings(root=tmp_path, golden_paths=Path("gp"), history=Path("h.sqlite"))
    found = {r.id: r for r in reports.collect_reports(settings, guides, now=NOW)}
    everything = history.latest_runs()
    durations = history.step_durations()
    windows = trends.command_times(history, guides, last=None)
    for guide in guides:
        report = found[guide.id]
        hashed = loader.content_hash(guide)
        assert report.status == freshness.evaluate(guide, everything.get(guide.id, []), hashed, settings, NOW)
        assert report.durations == durations.get(guide.id, {})
        assert report.run_times == windows.get(guide.id, ())[-trends.WINDOW :]
        last_pass = report.status.last_pass
        if last_pass is not None:
            steps = history.steps([(last_pass.run_id, guide.id)])[last_pass.run_id, guide.id]
            assert report.pass_steps == tuple(steps)


def plan(conn: sqlite3.Connection, query: str, params: object = ()) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", params)]  # type: ignore[arg-type]


FULL_SCAN = re.compile(r"^SCAN (runs|steps|r|p|s)\b")
"""A plan step that reads a table of the history from end to end."""


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    random_history(tmp_path / "h.sqlite", 1)
    connection = sqlite3.connect(tmp_path / "h.sqlite")
    yield connection
    connection.close()


@pytest.mark.parametrize("guide_ids", [GUIDES, None], ids=["given guides", "every guide"])
def test_the_status_queries_seek_indexes_and_scan_no_table(
    conn: sqlite3.Connection, guide_ids: list[str] | None
) -> None:
    deciding = plan(conn, *schema.deciding_runs(guide_ids))
    assert not [step for step in deciding if FULL_SCAN.match(step)], deciding
    assert any("USING COVERING INDEX runs_by_guide (guide_id=?)" in step for step in deciding)
    assert any("USING COVERING INDEX runs_by_outcome (guide_id=? AND outcome=?)" in step for step in deciding)
    assert any("USING INDEX runs_full_passes (guide_id=?)" in step for step in deciding)
    assert "USE TEMP B-TREE FOR ORDER BY" not in deciding[:-1]  # only the final sort of the few found
    durations = plan(conn, *schema.latest_pass_steps(guide_ids))
    assert not [step for step in durations if FULL_SCAN.match(step)], durations
    assert any("sqlite_autoindex_steps_1 (run_id=? AND guide_id=?)" in step for step in durations)


def test_the_trend_reads_its_window_through_the_index(conn: sqlite3.Connection) -> None:
    steps = plan(conn, schema.PASS_WINDOW, {"guide": "g1", "steps": '["s1"]', "last": 10})
    assert not [step for step in steps if FULL_SCAN.match(step)], steps
    assert steps[0] == "SEARCH r USING INDEX runs_by_outcome (guide_id=? AND outcome=?)"
    assert not any("TEMP B-TREE" in step for step in steps)  # newest first straight from the index


CURRENT_BEFORE_INDEXES = """
CREATE TABLE runs (
    run_id TEXT NOT NULL, guide_id TEXT NOT NULL, outcome TEXT NOT NULL, started TEXT NOT NULL,
    finished TEXT NOT NULL, sandbox TEXT NOT NULL, sandbox_versions TEXT NOT NULL,
    content_hash TEXT NOT NULL, failed_step TEXT, failed_title TEXT, failed_number INTEGER,
    message TEXT NOT NULL, leaks TEXT NOT NULL, steps_real INTEGER, steps_simulated INTEGER,
    steps_skipped INTEGER, failed_expected TEXT, failed_output TEXT, failed_exit_code INTEGER,
    PRIMARY KEY (run_id, guide_id)
);
CREATE INDEX runs_by_guide ON runs (guide_id, finished);
CREATE TABLE steps (
    run_id TEXT NOT NULL, guide_id TEXT NOT NULL, position INTEGER NOT NULL, step_id TEXT NOT NULL,
    title TEXT NOT NULL, section TEXT NOT NULL, outcome TEXT NOT NULL, duration REAL NOT NULL,
    message TEXT NOT NULL, coverage TEXT, PRIMARY KEY (run_id, guide_id, position)
);
INSERT INTO runs VALUES ('r1', 'alpha', 'passed', '2026-11-01T00:00:00+00:00',
    '2026-11-01T00:01:00+00:00', 'local', '{}', 'h', NULL, NULL, NULL, '', '[]', 1, 0, 0, NULL, NULL, NULL);
INSERT INTO runs VALUES ('r2', 'alpha', 'failed', '2026-11-02T00:00:00+00:00',
    '2026-11-02T00:01:00+00:00', 'local', '{}', 'h', 's1', 'S1', 1, 'exit code 1', '[]', 1, 0, 0,
    NULL, NULL, 1);
INSERT INTO steps VALUES ('r1', 'alpha', 0, 's1', 'S1', 'steps', 'passed', 60.0, '', 'real');
INSERT INTO steps VALUES ('r2', 'alpha', 0, 's1', 'S1', 'steps', 'failed', 2.0, 'exit code 1', 'real');
"""
"""A history of the goldenpath before the look-ups were indexed (``user_version`` 0)."""


def indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        found = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    db.close()
    return found


def test_an_older_history_gains_the_indexes_and_keeps_its_runs(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as db:
        db.executescript(CURRENT_BEFORE_INDEXES)
    db.close()
    assert "runs_by_outcome" not in indexes(old)
    history = History(old)
    assert [r.run_id for r in history.deciding_runs()["alpha"]] == ["r2", "r1"]
    assert {"runs_by_guide", "runs_by_outcome", "runs_full_passes"} <= indexes(old)
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (schema.VERSION,)
        assert db.execute("SELECT COUNT(*) FROM steps").fetchone() == (2,)
    db.close()
    assert history.step_durations() == {"alpha": {"s1": 60.0}}
    history.record(guide_run("alpha", "r3", (1.0,), day=3))
    assert [r.run_id for r in history.runs("alpha")] == ["r3", "r2", "r1"]


def test_a_copy_of_the_file_alone_holds_every_recorded_run(tmp_path: Path) -> None:
    """CI copies history.sqlite (and hashes it) after a check: nothing may wait in a -wal file."""
    history = History(tmp_path / "h.sqlite")
    history.record(guide_run("alpha", "r1", (1.0,)))
    history.record_all([guide_run("bravo", "r1", (2.0,)), guide_run("alpha", "r2", (1.0,), day=2)])
    merge([tmp_path / "h.sqlite"], tmp_path / "merged.sqlite")
    for name in ("h", "merged"):
        assert not (tmp_path / f"{name}.sqlite-wal").exists()
        shutil.copyfile(tmp_path / f"{name}.sqlite", tmp_path / "copy.sqlite")
        with sqlite3.connect(tmp_path / "copy.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (3,)
        db.close()
