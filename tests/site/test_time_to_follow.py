"""The reader's expected time on guide pages and its trend on the status page, as built."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
from test_site_status import MKDOCS_YML, build
from test_site_status import page as built_page

from goldenpath import config
from goldenpath.render.renderer import render_guide
from goldenpath.run.results import GuideResult, StepResult
from goldenpath.site import page
from goldenpath.spec import loader
from goldenpath.spec.model import Guide
from goldenpath.status import timing, trends
from goldenpath.status.history import History
from goldenpath.status.reports import collect_reports
from helpers import FIXTURES, build_file_tree, write_guide

SITE_FIXTURES = FIXTURES / "site" / "golden_paths"
UTC = datetime.timezone.utc
COMMANDS = [40.0, 42.0, 41.0, 44.0, 100.0]
"""Seconds of the reader's commands in each passing run, oldest first."""


def estimate_line(markdown: str) -> str:
    found = re.search(r"^    - \*\*Estimated time:\*\* (.*)$", markdown, re.M)
    assert found is not None, markdown[:800]
    return found.group(1)


def test_a_page_without_history_says_the_reading_time_and_the_authors_estimate() -> None:
    guides = {g.id: g for g in loader.load_guides(SITE_FIXTURES)}
    built = {p.guide_id: p for p in page.build_pages([render_guide(g) for g in guides.values()])}
    task, service = guides["sample-task"], guides["sample-service"]
    assert task.spec.estimated_minutes is None
    read = timing.reading_minutes(timing.reading_seconds(task))
    assert estimate_line(built["sample-task"].markdown) == (
        f"about {read} minute{'s' if read != 1 else ''} ({read} min reading; commands not measured yet)"
    )
    read = timing.reading_minutes(timing.reading_seconds(service))
    author = service.spec.estimated_minutes
    assert estimate_line(built["sample-service"].markdown) == (
        f"about {read + author} minutes ({read} min reading; the author estimates {author} minutes "
        "for the commands)"
    )


def write_project(root: Path) -> None:
    build_file_tree(root, {"mkdocs.yml": MKDOCS_YML, "docs/index.md": "# Platform docs\n"})
    write_guide(
        root / "gp",
        "svc",
        [
            {
                "id": "make",
                "title": "Create the app",
                "explain": "The app is one file. " * 60,  # about a minute of prose
                "file": {"path": "app.txt", "template": "app.txt.j2"},
            },
            {"id": "verify", "title": "Verify", "run": "test -f app.txt", "hidden": True},
            {"id": "show", "title": "Show it", "run": "cat app.txt", "expect": {"output": "v1"}},
        ],
        templates={"app.txt.j2": "v1\n"},
        cleanup=[{"id": "tidy", "title": "Tidy up", "run": "rm app.txt"}],
    )


def record_runs(settings: config.Settings, guide: Guide) -> None:
    history = History(settings.history_path)
    start = datetime.datetime.now(UTC) - datetime.timedelta(days=len(COMMANDS))
    for i, seconds in enumerate(COMMANDS):
        when = start + datetime.timedelta(days=i)
        steps = [
            StepResult(step_id="make", title="Create the app", number=1, section="steps", outcome="passed"),
            StepResult(
                step_id="verify", title="Verify", number=None, section="steps", outcome="passed", duration=30
            ),
            StepResult(
                step_id="show", title="Show it", number=2, section="steps", outcome="passed", duration=seconds
            ),
            StepResult(
                step_id="tidy", title="Tidy up", number=None, section="cleanup", outcome="passed", duration=9
            ),
        ]
        history.record(
            GuideResult(
                guide_id=guide.id,
                outcome="passed",
                run_id=f"run-{i}",
                started=when,
                finished=when + datetime.timedelta(seconds=seconds + 39),
                sandbox="local",
                steps=tuple(steps),
                content_hash=loader.content_hash(guide),
            )
        )


@pytest.fixture
def project(tmp_path: Path) -> tuple[config.Settings, Guide]:
    write_project(tmp_path)
    settings = config.load_settings(tmp_path, golden_paths=tmp_path / "gp")
    guide = loader.load_guides(settings.golden_paths_dir)[0]
    record_runs(settings, guide)
    return settings, guide


def test_a_page_with_a_passing_run_adds_its_command_time(project: tuple[config.Settings, Guide]) -> None:
    settings, guide = project
    reports = {r.id: r for r in collect_reports(settings)}
    pages = page.load_pages(settings.golden_paths_dir, statuses=reports)
    markdown = next(p.markdown for p in pages if p.guide_id == "svc")
    reading = timing.reading_seconds(guide)
    read = timing.reading_minutes(reading)
    assert read == 2  # a minute of prose and a little more
    total = timing.total_minutes(reading, COMMANDS[-1])
    # Only the visible steps of spec.steps count: not the hidden check, not the clean-up.
    assert estimate_line(markdown) == (
        f"about {total} minutes ({read} min reading, 1 min 40 s of commands in the last passing run)"
    )


@pytest.mark.slow
def test_the_built_status_page_and_json_show_the_trend(project: tuple[config.Settings, Guide]) -> None:
    settings, guide = project
    build(settings.root)
    reading = timing.reading_seconds(guide)
    latest = timing.total_minutes(reading, COMMANDS[-1])
    change = timing.format_span(COMMANDS[-1] - 41.5)  # the median of 40, 41, 42 and 44
    summary = f"{latest} min, ↑ {change} vs the median of {len(COMMANDS) - 1} earlier runs"

    status = built_page(settings.root, "status")
    cell = re.search(
        r'<span class="goldenpath-trend" title="([^"]*)">([▁▂▃▄▅▆▇█]+)</span> ([^<]*)</td>', status
    )
    assert cell is not None, status
    assert (
        cell.group(1) == f"Reading plus commands of the last {len(COMMANDS)} passing runs, oldest to newest"
    )
    assert cell.group(2) == trends.sparkline([reading + c for c in COMMANDS]) == "▁▁▁▁█"
    assert cell.group(3).strip() == summary
    assert "<th>Time to follow</th>" in status

    svc = built_page(settings.root, "how-to/svc")
    assert (
        f"<strong>Estimated time:</strong> about {latest} minutes (2 min reading, 1 min 40 s of commands"
        in svc
    )

    data = json.loads((settings.root / "site" / "status.json").read_text())
    follow = data[0]["time_to_follow"]
    assert (follow["summary"], follow["sparkline"], follow["latest_minutes"]) == (summary, "▁▁▁▁█", latest)
    assert [r["command_seconds"] for r in follow["runs"]] == COMMANDS
