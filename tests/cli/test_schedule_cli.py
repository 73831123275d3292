"""``goldenpath schedule``: ``--once`` runs every guide, records history and rebuilds the site."""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from goldenpath import config
from goldenpath.cli.schedule import due_guides
from goldenpath.run.results import GuideResult
from goldenpath.spec import loader
from goldenpath.status.history import History
from goldenpath.status.reports import collect_reports
from helpers import build_file_tree, write_guide

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")


def schedule(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOLDENPATH, "schedule", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    build_file_tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.goldenpath]\ngolden_paths = "gp"\n',
            "mkdocs.yml": "site_name: Scheduled\ntheme: {name: material}\n"
            "markdown_extensions: [admonition, attr_list, md_in_html, pymdownx.superfences]\n"
            "plugins: [goldenpath]\n",
            "docs/index.md": "# Home\n",
        },
    )
    write_guide(tmp_path / "gp", "fine", [{"id": "s", "title": "S", "run": "echo ok"}])
    return tmp_path


@pytest.mark.slow
def test_once_runs_every_guide_records_history_and_rebuilds_the_site(project: Path) -> None:
    ran = schedule(project, "--once")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "starting a full run" in ran.stderr and "site rebuilt in" in ran.stderr
    assert "full run finished with exit code 0" in ran.stderr
    assert [r.outcome for r in History(project / ".goldenpath/history.sqlite").runs("fine")] == ["passed"]
    site = json.loads((project / "site" / "status.json").read_text())
    assert [(i["guide"], i["status"]) for i in site] == [("fine", "verified")]

    write_guide(project / "gp", "broken", [{"id": "x", "title": "X", "run": "exit 1"}])
    again = schedule(project, "--once")
    assert again.returncode == 1, again.stdout + again.stderr
    assert "Traceback" not in again.stderr
    site = {i["guide"]: i["status"] for i in json.loads((project / "site/status.json").read_text())}
    assert site == {"fine": "verified", "broken": "broken"}


@pytest.mark.slow
def test_once_skips_while_another_run_holds_the_lock_and_rejects_bad_options(project: Path) -> None:
    lock = project / ".goldenpath" / "schedule.lock"
    lock.parent.mkdir()
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        skipped = schedule(project, "--once")
    assert skipped.returncode == 3 and "another run is still going" in skipped.stderr
    assert not (project / ".goldenpath" / "history.sqlite").exists()
    bad = schedule(project, "--daily-at", "25:00")
    assert bad.returncode == 2 and "not HH:MM" in bad.stderr
    write_guide(project / "gp", "invalid", [{"id": "x", "title": "X"}])
    invalid = schedule(project, "--once")
    assert invalid.returncode == 2 and "Traceback" not in invalid.stderr
    assert "invalid/guide.yaml" in invalid.stderr


def test_due_guides_are_unverified_or_close_to_their_max_age(tmp_path: Path) -> None:
    for name in ("fresh", "aging", "never"):
        write_guide(tmp_path / "gp", name, [{"id": "s", "title": "S", "run": "true"}])
    settings = config.load_settings(tmp_path, golden_paths=tmp_path / "gp")
    history = History(settings.history_path)
    now = datetime.datetime.now(datetime.timezone.utc)
    for guide in loader.load_guides(settings.golden_paths_dir, only=["fresh", "aging"]):
        when = now - datetime.timedelta(days=1 if guide.id == "fresh" else 84)
        history.record(
            GuideResult(
                guide_id=guide.id,
                outcome="passed",
                run_id=f"r-{guide.id}",
                started=when,
                finished=when,
                sandbox="local",
                content_hash=loader.content_hash(guide),
            )
        )
    reports = collect_reports(settings, now=now)
    assert {r.id: r.state for r in reports} == {
        "fresh": "verified",
        "aging": "verified",
        "never": "unverified",
    }
    assert sorted(due_guides(reports, settings)) == ["aging", "never"]
