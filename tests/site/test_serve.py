"""``goldenpath serve`` survives a broken spec: it keeps answering, shows lint's lines, recovers.

A real server in a subprocess (its own process group) on a free port, serving a copy of the
repository's golden paths outside the repository (see :mod:`project_copy`).
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from goldenpath.site.serving import BANNER_ID
from project_copy import (
    GUIDES,
    cli_env,
    copy_project,
    fetch,
    free_port,
    goldenpath,
    goldenpath_argv,
    group_gone,
    wait_until_served,
)

SECONDS = 30
"""How long a rebuild may take to show (a rebuild of the copy takes about 2 s)."""
FIXED_TITLE = "Hello again, fixed"


def broken(text: str) -> tuple[str, int]:
    """The spec with an unknown key under metadata, and the key's line."""
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  stage: ")) + 1
    lines.insert(at, "  colour: red\n")
    return "".join(lines), at + 1


def poll(url: str, until: Callable[[str], bool]) -> tuple[str, float]:
    """Fetch ``url`` until ``until(body)``; every answer on the way must be HTTP 200."""
    start = time.monotonic()
    while True:
        status, body = fetch(url)
        assert status == 200, (url, status, body[:500])
        if until(body):
            return body, time.monotonic() - start
        assert time.monotonic() - start < SECONDS, f"{url}: not there after {SECONDS} s"
        time.sleep(0.2)


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"the server did not stop on {sig.name}") from None


@pytest.mark.slow
def test_serve_keeps_serving_through_a_broken_spec(tmp_path: Path) -> None:
    project = tmp_path / "project"
    guides = copy_project(project)
    spec = guides / "hello-world" / "guide.yaml"
    good = spec.read_text(encoding="utf-8")
    title = re.search(r"(?m)^  title: .*$", good)
    assert title is not None
    old_title = yaml.safe_load(good)["metadata"]["title"]
    port = free_port()
    root = f"http://127.0.0.1:{port}/"
    guide_page = root + "getting-started/hello-world/"
    terminal = tmp_path / "serve.log"
    with terminal.open("w") as out:
        process = subprocess.Popen(
            goldenpath_argv("serve", "--golden-paths", GUIDES, "--dev-addr", f"127.0.0.1:{port}"),
            cwd=project,
            env=cli_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        wait_until_served(guide_page, process)
        assert BANNER_ID not in fetch(root)[1]

        text, line = broken(good)
        spec.write_text(text, encoding="utf-8")
        page, took = poll(root, lambda body: f"hello-world/guide.yaml:{line}" in body)
        print(f"the error showed after {took:.1f} s")
        assert process.poll() is None
        assert f'id="{BANNER_ID}"' in page
        shown = html.unescape(page)
        # The same lines goldenpath lint prints (its paths are absolute, the page's relative).
        lint = goldenpath(project, "lint", "--golden-paths", GUIDES)
        assert lint.returncode == 2
        lint_lines = [ln for ln in lint.stderr.splitlines() if ln.startswith("error: ")]
        assert lint_lines and f"guide.yaml:{line}: metadata.colour: unknown key 'colour'" in lint_lines[0]
        for lint_line in lint_lines:
            assert lint_line.replace(f"{project.resolve()}/", "") in shown
        # The last good guide page is still served, with the banner.
        status, last_good = fetch(guide_page)
        assert status == 200 and old_title in html.unescape(last_good) and BANNER_ID in last_good
        # A build is still strict about the same spec.
        built = goldenpath(project, "build", "--golden-paths", GUIDES, "--site-dir", tmp_path / "site")
        assert built.returncode == 2 and f"guide.yaml:{line}" in built.stderr

        spec.write_text(good.replace(title.group(0), f"  title: {FIXED_TITLE}"), encoding="utf-8")
        _, took = poll(guide_page, lambda body: FIXED_TITLE in body and BANNER_ID not in body)
        print(f"the fix showed after {took:.1f} s")
        assert BANNER_ID not in fetch(root)[1]
    finally:
        stop(process, signal.SIGTERM)
    output = terminal.read_text(encoding="utf-8")
    assert process.returncode == 0, output[-3000:]
    assert group_gone(process.pid), "processes of the server's group are left"
    assert f"guides/hello-world/guide.yaml:{line}: metadata.colour: unknown key 'colour'" in output
    assert "serving the last good guide pages" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_serve_starts_with_a_broken_spec_and_recovers(tmp_path: Path) -> None:
    """No good build yet: the site answers without guide pages, with the banner, until fixed."""
    project = tmp_path / "project"
    guides = copy_project(project)
    spec = guides / "hello-world" / "guide.yaml"
    good = spec.read_text(encoding="utf-8")
    text, line = broken(good)
    spec.write_text(text, encoding="utf-8")
    port = free_port()
    root = f"http://127.0.0.1:{port}/"
    process = subprocess.Popen(
        goldenpath_argv("serve", "--golden-paths", GUIDES, "--dev-addr", f"127.0.0.1:{port}"),
        cwd=project,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_served(root, process)
        page = fetch(root)[1]
        assert f"hello-world/guide.yaml:{line}" in page and "the guide pages are missing" in page
        spec.write_text(good, encoding="utf-8")
        poll(root, lambda body: BANNER_ID not in body)
        status, guide = fetch(root + "getting-started/hello-world/")  # 404 while it was broken
        assert status == 200 and BANNER_ID not in guide
    finally:
        stop(process, signal.SIGINT)
    assert process.returncode == 0
    assert group_gone(process.pid)
