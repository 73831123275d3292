"""Session fixtures of the browser tests: the built site, served on 127.0.0.1, and Chromium.

Without Chromium or Playwright the tests are skipped on a developer machine (run
scripts/install-browser) and fail in CI, where ``CI`` is set: CI must never pass them silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_harness import (
    INSTALL_HINT,
    ROOT,
    build_site,
    launch,
    missing_browser,
    new_context,
    serve,
)

from goldenpath import config
from goldenpath.render.renderer import RenderedGuide, render_guide
from goldenpath.spec import loader
from goldenpath.status.reports import collect_reports


def _require_browser() -> None:
    problem = missing_browser()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {problem}; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"{problem}; {INSTALL_HINT}")


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    return config.load_settings(ROOT)


@pytest.fixture(scope="session")
def rendered(settings: config.Settings) -> dict[str, RenderedGuide]:
    """Every guide of the repository rendered as the page and the check see it, by id."""
    guides = loader.load_guides(settings.golden_paths_dir)
    return {g.id: render_guide(g, kubernetes_version=settings.kubernetes_version) for g in guides}


@pytest.fixture(scope="session")
def site_states(site_dir: Path) -> dict[str, str]:
    """Each guide's status as the site was built with it (from the project's run history)."""
    return _states


_states: dict[str, str] = {}


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory, settings: config.Settings) -> Path:
    _require_browser()
    _states.update({r.id: r.state for r in collect_reports(settings)})
    return build_site(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture(scope="session")
def base_url(site_dir: Path) -> Iterator[str]:
    with serve(site_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Any, base_url: str) -> Iterator[Any]:
    ctx = new_context(browser, base_url)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = ROOT / "artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
