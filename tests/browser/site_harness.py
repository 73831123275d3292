"""Build the site, serve it on 127.0.0.1 and drive Debian's Chromium through Playwright.

Shared by the browser tests (``conftest.py``) and ``scripts/screenshot-readme``. Playwright's own
browser download is never used: the system Chromium is launched by path.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("GOLDENPATH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Without these Chromium phones home at start-up, and a closed network refuses it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
INSTALL_HINT = "run scripts/install-browser"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and Playwright are installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing"
    return None


def build_site(dest: Path, project: Path = ROOT) -> Path:
    """Build the site of ``project`` strictly into ``dest``, with statuses (``goldenpath build``);
    raise with the output on failure."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if dest.exists():
        shutil.rmtree(dest)
    command = [str(Path(sys.executable).with_name("goldenpath")), "build", "--site-dir", str(dest)]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not (dest / "index.html").is_file():
        raise RuntimeError(
            f"the site did not build:\n$ {' '.join(command)}\nexit "
            f"{result.returncode}\n{result.stdout}{result.stderr}"
        )
    return dest


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that closes a connection mid-response (page left, browser closed) is normal.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a free port of 127.0.0.1; yield the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def launch(playwright: Any) -> Any:
    """Headless Debian Chromium."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def new_context(browser: Any, base_url: str, **options: Any) -> Any:
    """A browser context that reaches only the local site (web fonts and the like are cut off,
    so pages load the same with or without a network)."""
    context = browser.new_context(viewport=VIEWPORT, base_url=base_url, **options)

    def only_local(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    # Generous: a loaded CI machine can take seconds to lay out a long page.
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    return context


def screenshot_hello_world(dest: Path) -> Path:
    """Build the site afresh and save the top of the hello-world page (1280x800, light palette)."""
    import tempfile

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="goldenpath-site-") as tmp:
        site = build_site(Path(tmp) / "site")
        with serve(site) as base_url, sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                context = new_context(browser, base_url, color_scheme="light")
                page = context.new_page()
                page.goto("getting-started/hello-world/")
                page.wait_for_load_state("networkidle")
                dest.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(dest), clip={"x": 0, "y": 0, **VIEWPORT})
            finally:
                browser.close()
    return dest


if __name__ == "__main__":
    problem = missing_browser()
    if problem:
        print(f"error: {problem}; {INSTALL_HINT}", file=sys.stderr)
        sys.exit(3)
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "assets" / "hello-world.png"
    print(screenshot_hello_world(target))
