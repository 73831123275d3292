"""Each status transition of the freshness policy."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from test_history import make_result

from goldenpath.config import Settings
from goldenpath.spec.loader import parse_guide
from goldenpath.spec.model import Freshness, Guide, Review
from goldenpath.status.freshness import evaluate
from goldenpath.status.history import History

UTC = datetime.timezone.utc
DAY0 = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

SPEC = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  id: demo
  title: Demo
  summary: A demo.
  owner: "@acme/platform"
  stage: build
  review: {by: alice, date: 2026-10-30}
spec:
  type: how-to
  steps:
    - id: first
      title: First
      run: echo hi
"""


def _guide(tmp_path: Path) -> Guide:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "guide.yaml").write_text(SPEC)
    guide, problems = parse_guide(folder / "guide.yaml")
    assert guide is not None and not problems
    return guide


def _status(
    tmp_path: Path,
    guide: Guide,
    results: list,
    now: datetime.datetime,
    content_hash: str = "abc",
    settings: Settings | None = None,
):
    history = History(tmp_path / "h.sqlite")
    for result in results:
        history.record(result)
    return evaluate(guide, history.runs(guide.id), content_hash, settings or Settings(), now)


def test_never_run_is_unverified(tmp_path: Path) -> None:
    status = _status(tmp_path, _guide(tmp_path), [], DAY0)
    assert status.state == "unverified"


def test_pass_is_verified(tmp_path: Path) -> None:
    status = _status(
        tmp_path, _guide(tmp_path), [make_result("demo", "r1", when=DAY0)], DAY0 + datetime.timedelta(days=3)
    )
    assert status.state == "verified"
    assert status.reason == "verified 3 days ago on local"
    assert status.last_pass is not None and status.last_pass.run_id == "r1"


def test_changed_content_is_stale(tmp_path: Path) -> None:
    status = _status(
        tmp_path, _guide(tmp_path), [make_result("demo", "r1", when=DAY0)], DAY0, content_hash="changed"
    )
    assert status.state == "stale"
    assert "changed since it last passed" in status.reason


def test_time_travel_past_max_age_is_stale(tmp_path: Path) -> None:
    guide = _guide(tmp_path)
    results = [make_result("demo", "r1", when=DAY0)]
    assert _status(tmp_path, guide, results, DAY0 + datetime.timedelta(days=90)).state == "verified"
    status = _status(tmp_path, guide, [], DAY0 + datetime.timedelta(days=97))
    assert status.state == "stale"
    assert status.reason == "not verified for 97 days (limit 90)"


def test_per_guide_max_age_overrides_the_site(tmp_path: Path) -> None:
    guide = _guide(tmp_path)
    guide = dataclasses.replace(
        guide, metadata=dataclasses.replace(guide.metadata, freshness=Freshness(max_age_days=7))
    )
    status = _status(
        tmp_path, guide, [make_result("demo", "r1", when=DAY0)], DAY0 + datetime.timedelta(days=8)
    )
    assert status.state == "stale"


def test_old_review_is_stale(tmp_path: Path) -> None:
    guide = _guide(tmp_path)
    guide = dataclasses.replace(
        guide,
        metadata=dataclasses.replace(guide.metadata, review=Review(by="bob", date=datetime.date(2025, 1, 1))),
    )
    status = _status(tmp_path, guide, [make_result("demo", "r1", when=DAY0)], DAY0)
    assert status.state == "stale" and "reviewed" in status.reason


def test_failing_step_is_broken_and_named(tmp_path: Path) -> None:
    guide = _guide(tmp_path)
    results = [
        make_result("demo", "r1", when=DAY0),
        make_result("demo", "r2", "failed", when=DAY0 + datetime.timedelta(days=1)),
        make_result("demo", "r3", "failed", when=DAY0 + datetime.timedelta(days=2)),
    ]
    status = _status(tmp_path, guide, results, DAY0 + datetime.timedelta(days=3))
    assert status.state == "broken"
    assert status.reason == "broken at step 2: Second step"
    assert status.broken_since == DAY0 + datetime.timedelta(days=1, seconds=1)


def test_timeout_is_broken(tmp_path: Path) -> None:
    status = _status(tmp_path, _guide(tmp_path), [make_result("demo", "r1", "timeout", when=DAY0)], DAY0)
    assert status.state == "broken"


def test_sandbox_error_keeps_the_previous_status(tmp_path: Path) -> None:
    guide = _guide(tmp_path)
    results = [
        make_result("demo", "r1", when=DAY0),
        make_result("demo", "r2", "error", when=DAY0 + datetime.timedelta(days=1)),
    ]
    status = _status(tmp_path, guide, results, DAY0 + datetime.timedelta(days=2))
    assert status.state == "verified"
    assert status.last_error is not None and status.last_error.run_id == "r2"
    # ... and after a broken run, an error does not turn it green either.
    results = [
        make_result("demo", "r3", "failed", when=DAY0 + datetime.timedelta(days=3)),
        make_result("demo", "r4", "error", when=DAY0 + datetime.timedelta(days=4)),
    ]
    assert _status(tmp_path, guide, results, DAY0 + datetime.timedelta(days=5)).state == "broken"


def test_only_errors_is_unverified(tmp_path: Path) -> None:
    status = _status(tmp_path, _guide(tmp_path), [make_result("demo", "r1", "error", when=DAY0)], DAY0)
    assert status.state == "unverified" and "sandbox error" in status.reason
