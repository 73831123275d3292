"""The time to follow a guide over a real run history: the query, the trend, the JSON report."""

from __future__ import annotations

import dataclasses
import datetime
import json
import statistics
from pathlib import Path

import pytest

from goldenpath import config
from goldenpath.run.results import GuideResult, StepResult
from goldenpath.spec import loader
from goldenpath.spec.model import Guide
from goldenpath.status import reports, timing, trends
from goldenpath.status.history import History
from helpers import write_guide

UTC = datetime.timezone.utc
START = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
COMMANDS = [30.0, 32.0, 31.0, 29.0, 33.0, 30.0, 34.0, 31.0, 35.0, 40.0, 30.0, 90.0]
"""Seconds of the reader's commands in each passing run, oldest first: the last one got slower."""


def write_project(root: Path) -> None:
    write_guide(
        root / "gp",
        "svc",
        [
            {"id": "make", "title": "Create the app", "explain": "Start here.", "run": "echo app > app.txt"},
            {"id": "check", "title": "Check it", "run": "test -f app.txt", "hidden": True},
            {"id": "show", "title": "Show it", "run": "cat app.txt", "expect": {"output": "app"}},
        ],
        cleanup=[{"id": "tidy", "title": "Tidy up", "run": "rm app.txt"}],
        prerequisites=[{"text": "A shell.", "command": "true"}],
    )
    write_guide(root / "gp", "never", [{"id": "s", "title": "S", "run": "true"}])


def result(
    guide: Guide, run_id: str, when: datetime.datetime, commands: float, outcome: str = "passed"
) -> GuideResult:
    def step(step_id: str, section: str, duration: float, number: int | None = None) -> StepResult:
        return StepResult(
            step_id=step_id,
            title=step_id,
            number=number,
            section=section,
            outcome="passed",
            duration=duration,
        )

    steps = (
        step("prerequisite-1", "prerequisites", 5.0),
        step("make", "steps", commands / 3, 1),
        step("check", "steps", 60.0),  # hidden: not the reader's
        step("show", "steps", commands * 2 / 3, 2),
        step("tidy", "cleanup", 20.0),
    )
    if outcome != "passed":
        failed = dataclasses.replace(steps[3], outcome=outcome, message="exit code 1, expected 0")
        steps = (*steps[:3], failed)
    return GuideResult(
        guide_id=guide.id,
        outcome=outcome,  # type: ignore[arg-type]
        run_id=run_id,
        started=when,
        finished=when + datetime.timedelta(seconds=commands),
        sandbox="local",
        steps=steps,
        content_hash=loader.content_hash(guide),
    )


@pytest.fixture
def project(tmp_path: Path) -> tuple[config.Settings, Guide]:
    write_project(tmp_path)
    settings = config.load_settings(tmp_path, golden_paths=tmp_path / "gp")
    guide = loader.load_guides(settings.golden_paths_dir, only=["svc"])[0]
    history = History(settings.history_path)
    for i, seconds in enumerate(COMMANDS):
        when = START + datetime.timedelta(hours=i)
        history.record(result(guide, f"run-{i:02d}", when, seconds))
        if i == 5:  # a failing run in between is no time to follow
            history.record(result(guide, "run-failed", when + datetime.timedelta(minutes=5), 500.0, "failed"))
    return settings, guide


def test_every_passing_runs_command_time(project: tuple[config.Settings, Guide]) -> None:
    settings, guide = project
    found = trends.command_times(History(settings.history_path), [guide], last=None)
    assert list(found) == ["svc"]
    runs = found["svc"]
    assert [r.run_id for r in runs] == [f"run-{i:02d}" for i in range(len(COMMANDS))]
    assert [r.command_seconds for r in runs] == pytest.approx(COMMANDS)
    assert runs == tuple(sorted(runs, key=lambda r: r.finished))
    assert trends.command_times(History(settings.root / "none.sqlite"), [guide]) == {}


def test_the_trend_reads_only_its_window_of_passes(project: tuple[config.Settings, Guide]) -> None:
    settings, guide = project
    everything = trends.command_times(History(settings.history_path), [guide], last=None)["svc"]
    window = trends.command_times(History(settings.history_path), [guide])["svc"]
    assert window == everything[-trends.WINDOW :]
    assert trends.Trend(10.0, window).to_json() == trends.Trend(10.0, everything).to_json()


def test_a_pass_that_ran_none_of_the_readers_steps_is_no_time_to_follow(
    project: tuple[config.Settings, Guide],
) -> None:
    settings, guide = project
    history = History(settings.history_path)
    newest = START + datetime.timedelta(days=2)
    other = dataclasses.replace(result(guide, "run-other", newest, 1.0), steps=())
    history.record(other)
    window = trends.command_times(history, [guide])["svc"]
    assert "run-other" not in [r.run_id for r in window]
    assert [r.run_id for r in window][-1] == f"run-{len(COMMANDS) - 1:02d}"
    assert len(window) == trends.WINDOW


def test_trend_in_the_report_and_its_json(project: tuple[config.Settings, Guide]) -> None:
    settings, guide = project
    by_id = {r.id: r for r in reports.collect_reports(settings)}
    report = by_id["svc"]
    reading = timing.reading_seconds(guide)
    window = COMMANDS[-trends.WINDOW :]
    median = statistics.median(reading + c for c in window[:-1])
    latest = reading + COMMANDS[-1]
    latest_minutes = timing.total_minutes(reading, COMMANDS[-1])
    change = timing.format_span(latest - median)

    trend = report.trend
    assert trend.seconds == pytest.approx([reading + c for c in window])
    assert trend.latest_minutes == latest_minutes
    assert trend.median_earlier == pytest.approx(median)
    bars = trend.bars
    assert len(bars) == trends.WINDOW and bars[-1] == "█" and set(bars[:-1]) <= set("▁▂")
    summary = f"{latest_minutes} min, ↑ {change} vs the median of {trends.WINDOW - 1} earlier runs"
    assert report.time_to_follow == summary
    # The page's estimate is the same latest run: the hidden step, clean-up and prerequisite are out.
    assert report.estimated_time == timing.describe(reading, COMMANDS[-1], None)

    data = {item["guide"]: item for item in json.loads(reports.to_json(list(by_id.values())))}
    follow = data["svc"]["time_to_follow"]
    assert follow["latest_minutes"] == latest_minutes and follow["summary"] == summary
    assert follow["sparkline"] == bars and follow["earlier_runs"] == trends.WINDOW - 1
    assert follow["median_earlier_seconds"] == pytest.approx(median, abs=1e-3)
    assert follow["change_seconds"] == pytest.approx(latest - median, abs=1e-3)
    assert [r["run_id"] for r in follow["runs"]] == [f"run-{i:02d}" for i in range(2, len(COMMANDS))]
    assert [r["command_seconds"] for r in follow["runs"]] == pytest.approx(window, abs=1e-3)
    assert data["svc"]["command_seconds"] == pytest.approx(COMMANDS[-1], abs=1e-3)
    assert data["svc"]["estimated_time"] == report.estimated_time

    never = data["never"]["time_to_follow"]
    assert never["runs"] == [] and never["latest_minutes"] is None and never["sparkline"] == ""
    assert by_id["never"].time_to_follow == "~1 min reading, commands not measured"


def test_a_single_run_and_a_steady_guide() -> None:
    one = trends.Trend(30.0, (trends.RunTime("r", START, 20.0),))
    assert (one.summary, one.change, one.median_earlier) == ("1 min", "", None)
    steady = trends.Trend(30.0, tuple(trends.RunTime(f"r{i}", START, 20.0) for i in range(3)))
    assert steady.summary == "1 min, same as the median of 2 earlier runs"
    assert steady.bars == "▄▄▄"
    faster = trends.Trend(0.0, (trends.RunTime("a", START, 200.0), trends.RunTime("b", START, 95.0)))
    assert faster.summary == "2 min, ↓ 1 min 45 s vs the run before"
    assert trends.sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
