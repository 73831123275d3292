"""Retention (``history_keep_runs``, ``history_keep_days``): old runs go, a status never changes."""

from __future__ import annotations

import dataclasses
import datetime
import random
import sqlite3
from pathlib import Path

import pytest
from test_history_queries import GUIDES, random_run

from goldenpath import config
from goldenpath.errors import UserError
from goldenpath.run.results import GuideResult, StepResult
from goldenpath.spec import loader
from goldenpath.spec.model import Guide
from goldenpath.status import freshness
from goldenpath.status.history import History
from goldenpath.status.merge import merge
from goldenpath.status.retention import Retention
from helpers import write_guide

UTC = datetime.timezone.utc
TODAY = datetime.datetime.now(UTC).replace(microsecond=0)


def run(run_id: str, days_ago: float, outcome: str = "passed", skipped: bool = False) -> GuideResult:
    """A run of ``alpha`` that finished ``days_ago`` days ago; ``skipped``: a partial pass."""
    finished = TODAY - datetime.timedelta(days=days_ago)
    steps = (
        StepResult(step_id="s1", title="S1", number=1, section="steps", outcome="passed", duration=1.0),
        StepResult(
            step_id="s2",
            title="S2",
            number=2,
            section="steps",
            outcome="skipped" if skipped and outcome == "passed" else outcome,  # type: ignore[arg-type]
            coverage="skipped" if skipped else "real",
            duration=2.0,
        ),
    )
    return GuideResult(
        guide_id="alpha",
        outcome=outcome,  # type: ignore[arg-type]
        run_id=run_id,
        started=finished - datetime.timedelta(minutes=1),
        finished=finished,
        sandbox="local",
        steps=steps,
        content_hash="abc",
    )


def kept(history: History, guide_id: str = "alpha") -> list[str]:
    return [r.run_id for r in history.runs(guide_id)]


def orphan_steps(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM steps s WHERE NOT EXISTS "
            "(SELECT 1 FROM runs r WHERE r.run_id = s.run_id AND r.guide_id = s.guide_id)"
        ).fetchone()
    db.close()
    return int(count)


def test_keep_runs_keeps_each_guides_newest_runs(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite", Retention(runs=3))
    other = History(tmp_path / "h.sqlite")  # another guide's runs, recorded without retention
    other.record(dataclasses.replace(run("b1", 50), guide_id="bravo"))
    other.record(dataclasses.replace(run("b2", 40), guide_id="bravo"))
    for n in range(10):
        history.record(run(f"r{n}", 10 - n))
    assert kept(history) == ["r9", "r8", "r7"]
    assert kept(history, "bravo") == ["b2", "b1"]  # only the recorded guide is pruned
    assert orphan_steps(history.path) == 0


def test_the_runs_a_status_is_decided_from_are_always_kept(tmp_path: Path) -> None:
    results = [
        run("full", 60),  # the last time every step ran for real
        *(run(f"partial{n}", 50 - n, skipped=True) for n in range(5)),  # newest pass: partial46
        run("broke", 30, "failed"),  # broken since then
        run("timed-out", 20, "timeout"),
        run("error", 10, "error"),  # a sandbox error: the newest run
        run("failed-again", 15, "failed"),
    ]
    pruned = History(tmp_path / "pruned.sqlite", Retention(runs=1, days=1))
    whole = History(tmp_path / "whole.sqlite")
    for result in results:
        pruned.record(result)
        whole.record(result)
    assert kept(pruned) == ["error", "failed-again", "timed-out", "broke", "partial4", "full"]
    guide = _guide(tmp_path)
    settings = config.Settings(max_age_days=365)
    status = freshness.evaluate(guide, pruned.runs("alpha"), "abc", settings)
    assert status == freshness.evaluate(guide, whole.runs("alpha"), "abc", settings)
    assert status.state == "broken" and status.broken_since == results[6].finished
    assert status.last_full_pass is not None and status.last_full_pass.run_id == "full"
    assert pruned.step_durations() == whole.step_durations()


def test_keep_days_drops_what_finished_before_the_limit(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite", Retention(days=30))
    for run_id, days_ago in (("old", 90), ("older-than-limit", 31), ("recent", 29), ("newest", 1)):
        history.record(run(run_id, days_ago))
    assert kept(history) == ["newest", "recent"]
    history.record(run("late-arrival", 200))  # an old run merged late goes at once
    assert kept(history) == ["newest", "recent"]


def _guide(tmp_path: Path) -> Guide:
    write_guide(tmp_path / "gp", "alpha", [{"id": "s1", "title": "S1", "run": "true"}])
    return loader.load_guides(tmp_path / "gp")[0]


@pytest.mark.parametrize("seed", range(4))
def test_statuses_and_durations_are_the_same_with_retention(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    results = [random_run(rng, rng.choice(GUIDES), i) for i in range(300)]
    rng.shuffle(results)  # recorded out of time order, as merged shards are
    whole = History(tmp_path / "whole.sqlite")
    whole.record_all(results)
    pruned = History(tmp_path / "pruned.sqlite", Retention(runs=4, days=60))
    for start in range(0, len(results), 7):
        pruned.record_all(results[start : start + 7])
    assert orphan_steps(pruned.path) == 0
    assert sum(map(len, pruned.latest_runs().values())) < len(results) / 2
    for guide_id in GUIDES:
        assert pruned.deciding_runs([guide_id]) == whole.deciding_runs([guide_id])
    assert pruned.step_durations() == whole.step_durations()


def test_merge_applies_the_targets_retention(tmp_path: Path) -> None:
    shard = History(tmp_path / "shard.sqlite")
    shard.record_all([run(f"r{n}", 10 - n) for n in range(6)])
    target = tmp_path / "target.sqlite"
    History(target).record(run("old", 100))
    merged = merge([shard.path], target, Retention(runs=2))
    assert (merged.new, merged.removed) == (6, 5)
    assert str(merged).endswith("(0 already there); removed 5 old run(s) (history_keep_*)")
    assert kept(History(target)) == ["r5", "r4"]
    assert orphan_steps(target) == 0
    again = merge([shard.path], target, Retention(runs=2))  # the removed runs come back, and go again
    assert (again.new, again.removed) == (4, 4) and kept(History(target)) == ["r5", "r4"]


def test_retention_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.goldenpath]\nhistory_keep_runs = 200\nhistory_keep_days = 365\n", encoding="utf-8"
    )
    settings = config.load_settings(tmp_path)
    assert History.of(settings).retention == Retention(runs=200, days=365)
    assert History.of(settings).path == tmp_path / ".goldenpath" / "history.sqlite"
    assert History.of(config.Settings()).retention.keeps_all
    (tmp_path / "pyproject.toml").write_text("[tool.goldenpath]\nhistory_keep_runs = -1\n", encoding="utf-8")
    with pytest.raises(UserError, match="history_keep_runs: must be 0 or more, got -1"):
        config.load_settings(tmp_path)
