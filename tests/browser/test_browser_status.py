"""Statuses on the published pages, in the browser: broken, stale and verified guides as a reader
sees them. The site is built from a copy of the project whose run history says:

- hello-world broke at a step (its last run failed there, after an earlier pass);
- scale-a-service passed, but long ago (stale);
- add-an-endpoint passed an hour ago on its current content (verified, unless its review is old).
"""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_harness import ROOT, build_site, new_context, serve
from test_browser_reader import GUIDES, HELLO, SECTION_JS, page_url, status_banner_state, visible_steps

from goldenpath import config
from goldenpath.render.renderer import RenderedGuide
from goldenpath.run.results import GuideResult, StepResult
from goldenpath.spec.loader import content_hash
from goldenpath.status.history import History

pytestmark = pytest.mark.browser

BROKEN_GUIDE = HELLO
BROKEN_STEP = "call-it"
STALE_GUIDE = "scale-a-service"
FRESH_GUIDE = "add-an-endpoint"
FAILURE = "expected output differs:\n- Hello from hello!\n+ curl: (7) Failed to connect to 127.0.0.1"
NOW = datetime.datetime.now(datetime.timezone.utc)


def result(
    guide: RenderedGuide, run_id: str, finished: datetime.datetime, fail_at: str | None = None
) -> GuideResult:
    """A run of ``guide`` that passed every step, or failed at ``fail_at`` (later steps not run)."""
    steps = []
    for step in guide.steps:
        if fail_at is not None and step.id == fail_at:
            steps.append(
                StepResult(
                    step_id=step.id,
                    title=step.title,
                    number=step.number,
                    section="steps",
                    outcome="failed",
                    message=FAILURE,
                    command=step.run or "",
                    exit_code=7,
                    expected="--- expected\n+++ actual\n@@ output line 1 @@\n-Hello from hello!\n+",
                    stderr="curl: (7) Failed to connect to 127.0.0.1 port 8080: Connection refused\n",
                    line=step.step.line,
                )
            )
            break
        steps.append(
            StepResult(
                step_id=step.id,
                title=step.title,
                number=step.number,
                section="steps",
                outcome="passed",
                duration=0.5,
                line=step.step.line,
            )
        )
    return GuideResult(
        guide_id=guide.id,
        outcome="failed" if fail_at else "passed",
        run_id=run_id,
        started=finished - datetime.timedelta(minutes=2),
        finished=finished,
        sandbox="local",
        sandbox_versions={"python": "3.11"},
        steps=tuple(steps),
        content_hash=content_hash(guide.guide),
        source=str(guide.guide.source),
    )


@pytest.fixture(scope="module")
def status_site(
    tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> Iterator[tuple[str, dict[str, str]]]:
    """The variant site's base URL and each guide's state as ``goldenpath status`` computes it."""
    project = tmp_path_factory.mktemp("status-project")
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy2(ROOT / name, project / name)
    for folder in ("docs", "golden_paths"):
        shutil.copytree(ROOT / folder, project / folder)
    settings = config.load_settings(project)
    assert settings.root == project
    history = History(settings.history_path)
    hour = datetime.timedelta(hours=1)
    history.record(result(GUIDES[BROKEN_GUIDE], "run-pass-1", NOW - 48 * hour))
    history.record(result(GUIDES[BROKEN_GUIDE], "run-broken-2", NOW - hour, fail_at=BROKEN_STEP))
    long_ago = NOW - datetime.timedelta(days=settings.max_age_days + 30)
    history.record(result(GUIDES[STALE_GUIDE], "run-old-3", long_ago))
    history.record(result(GUIDES[FRESH_GUIDE], "run-fresh-4", NOW - hour))

    from goldenpath.status.reports import collect_reports

    states = {r.id: r.state for r in collect_reports(settings)}
    assert states[BROKEN_GUIDE] == "broken" and states[STALE_GUIDE] == "stale", states
    site = build_site(project / "site", project=project)
    with serve(site) as url:
        yield url, states


@pytest.fixture
def status_page(browser: Any, status_site: tuple[str, dict[str, str]]) -> Iterator[Any]:
    context = new_context(browser, status_site[0])
    try:
        yield context.new_page()
    finally:
        context.close()


def test_broken_guide_shows_the_broken_banner_and_marks_the_failing_step(
    status_page: Any, artifacts: Path
) -> None:
    page = status_page
    guide = GUIDES[BROKEN_GUIDE]
    page.goto(page_url(guide))
    assert status_banner_state(page) == "broken"
    page.screenshot(path=str(artifacts / f"{BROKEN_GUIDE}-broken.png"))
    banner = page.locator("article .goldenpath-status")
    step = next(s for s in visible_steps(guide) if s.id == BROKEN_STEP)
    headline = banner.locator(".admonition-title").inner_text()
    assert "Broken" in headline and f"step {step.number}" in headline, headline
    text = banner.inner_text()
    assert "run-broken-2" in text
    # What it expected and what came instead, and the fix that matches this failure.
    assert "What it expected, and what came instead" in text and "-Hello from hello!" in text
    assert "Known problem: curl prints nothing, or Connection refused." in text
    assert "The service is not running or listens on another port." in text
    assert "It last passed on" in text and "run-pass-1" in text

    # The failing step, and only it, carries the failure with the run's message.
    marked = page.evaluate(
        """(ids) => ids.filter((id) => {
             const heading = document.getElementById('step-' + id);
             let el = heading.nextElementSibling;
             for (; el && !/^H[12]$/.test(el.tagName); el = el.nextElementSibling) {
               if (el.matches('.admonition.failure')) return true;
             }
             return false;
           })""",
        [s.id for s in visible_steps(guide)],
    )
    assert marked == [BROKEN_STEP]
    section = page.evaluate_handle(SECTION_JS, f"step-{BROKEN_STEP}")
    note = page.evaluate("(els) => els.find((el) => el.matches('.admonition.failure')).innerText", section)
    assert "run-broken-2" in note and "Failed to connect" in note

    # The banner leads to the failing step.
    banner.locator(f"a[href='#step-{BROKEN_STEP}']").first.click()
    assert page.url.endswith(f"#step-{BROKEN_STEP}")
    assert page.locator(f"[id='step-{BROKEN_STEP}']").is_visible()


def test_stale_guide_shows_the_stale_banner(status_page: Any) -> None:
    page = status_page
    page.goto(page_url(GUIDES[STALE_GUIDE]))
    assert status_banner_state(page) == "stale"
    banner = page.locator("article .goldenpath-status")
    assert "Stale" in banner.locator(".admonition-title").inner_text()
    assert "run-old-3" in banner.inner_text()
    assert page.locator("article .admonition.failure").count() == 0


def test_every_guide_shows_the_status_goldenpath_computes(
    status_page: Any, status_site: tuple[str, dict[str, str]]
) -> None:
    page = status_page
    states = status_site[1]
    assert states[FRESH_GUIDE] in ("verified", "stale")  # stale only if its review is too old
    for guide_id, guide in GUIDES.items():
        page.goto(page_url(guide))
        assert status_banner_state(page) == states[guide_id], guide_id
