"""Run history in SQLite: records, concurrent writers, and a writer killed mid-run."""

from __future__ import annotations

import datetime
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from goldenpath.run.results import GuideResult, StepResult
from goldenpath.status.history import History

UTC = datetime.timezone.utc


def make_result(
    guide_id: str,
    run_id: str,
    outcome: str = "passed",
    when: datetime.datetime | None = None,
    content_hash: str = "abc",
) -> GuideResult:
    when = when or datetime.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    steps = [
        StepResult(step_id="first", title="First", number=1, section="steps", outcome="passed", duration=0.5)
    ]
    if outcome != "passed":
        steps.append(
            StepResult(
                step_id="second",
                title="Second step",
                number=2,
                section="steps",
                outcome=outcome,
                message="exit code 1, expected 0",
                duration=0.2,
            )
        )
    return GuideResult(
        guide_id=guide_id,
        outcome=outcome,
        run_id=run_id,
        started=when,  # type: ignore[arg-type]
        finished=when + datetime.timedelta(seconds=1),
        sandbox="local",
        sandbox_versions={"bash": "5.2"},
        steps=tuple(steps),
        content_hash=content_hash,
    )


def test_record_and_read_back(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite")
    history.record(make_result("a", "r1"))
    history.record(make_result("a", "r2", "failed", when=datetime.datetime(2026, 11, 2, tzinfo=UTC)))
    runs = history.runs("a")
    assert [r.run_id for r in runs] == ["r2", "r1"]
    assert runs[0].failed_step == "second" and runs[0].failed_number == 2
    assert runs[0].failed_title == "Second step"
    assert runs[1].sandbox_versions == {"bash": "5.2"}
    assert history.step_durations() == {"a": {"first": 0.5}}


def test_missing_history_reads_as_empty(tmp_path: Path) -> None:
    history = History(tmp_path / "none" / "h.sqlite")
    assert history.runs() == []
    assert history.step_durations() == {}


WRITER = textwrap.dedent("""
    import datetime, sys
    sys.path.insert(0, {tests!r})
    from test_history import make_result
    from goldenpath.status.history import History
    history = History(__import__("pathlib").Path({db!r}))
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for i in range({count}):
        history.record(make_result("guide-{name}", f"{name}-{{i}}",
                                   when=start + datetime.timedelta(minutes=i)))
        if i == 4:
            print("ready", flush=True)
""")


def _writer(db: Path, name: str, count: int) -> subprocess.Popen[str]:
    code = WRITER.format(tests=str(Path(__file__).parent), db=str(db), name=name, count=count)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    writers = [_writer(db, name, 40) for name in ("x", "y", "z")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    runs = History(db).latest_runs()
    assert {k: len(v) for k, v in runs.items()} == {"guide-x": 40, "guide-y": 40, "guide-z": 40}


@pytest.mark.slow
def test_sigkill_mid_run_keeps_earlier_runs(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    History(db).record(make_result("earlier", "before"))
    writer = _writer(db, "k", 100_000)
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    history = History(db)
    assert [r.run_id for r in history.runs("earlier")] == ["before"]
    written = history.runs("guide-k")
    assert len(written) >= 5
    # Every recorded run is whole: its steps were written in the same transaction.
    with sqlite3.connect(db) as conn:
        orphans = conn.execute(
            "SELECT COUNT(*) FROM runs r WHERE NOT EXISTS "
            "(SELECT 1 FROM steps s WHERE s.run_id = r.run_id AND s.guide_id = r.guide_id)"
        ).fetchone()[0]
    assert orphans == 0
