"""Statuses on the built site: real checks, a real ``goldenpath build`` (MkDocs), the HTML."""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from goldenpath.run.results import GuideResult, StepResult
from goldenpath.spec import loader
from goldenpath.status.history import History
from helpers import build_file_tree, write_guide

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")

MKDOCS_YML = """\
site_name: Status test
theme:
  name: material
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.highlight
  - attr_list
  - md_in_html
  - toc: {permalink: true}
plugins:
  - search
  - goldenpath:
      golden_paths: gp
"""


def gp(root: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [GOLDENPATH, *args]
    if args[0] in ("check", "status"):
        command += ["--golden-paths", "gp"]
    env = {**os.environ, "COLUMNS": "200"}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, env=env)


def page(root: Path, uri: str) -> str:
    """The article of a built page, as text with tags (whitespace squeezed)."""
    text = (root / "site" / uri / "index.html").read_text(encoding="utf-8")
    article = re.search(r"<article.*?</article>", text, re.S)
    assert article is not None
    return html.unescape(" ".join(article.group(0).split()))


def banner(article: str) -> tuple[str, str]:
    """(state, title) of the status banner at the top of a page."""
    found = re.search(
        r'<div class="goldenpath-status goldenpath-status--(\w+)">\s*'
        r'<div class="admonition \w+">\s*<p class="admonition-title">(.*?)</p>',
        article,
    )
    assert found is not None, article[:2000]
    return found.group(1), found.group(2)


def build(root: Path) -> None:
    built = gp(root, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Traceback" not in built.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    build_file_tree(tmp_path, {"mkdocs.yml": MKDOCS_YML, "docs/index.md": "# Platform docs\n"})
    guides = tmp_path / "gp"
    write_guide(
        guides,
        "svc",
        [
            {"id": "make", "title": "Create the app", "file": {"path": "app.txt", "template": "app.txt.j2"}},
            {"id": "show", "title": "Show it", "run": "cat app.txt", "expect": {"output": "v1"}},
            {
                "id": "deploy",
                "title": "Deploy it",
                "run": "kubectl apply -f app.txt",
                "requires": ["cluster"],
            },
        ],
        templates={"app.txt.j2": "v1\n"},
    )
    write_guide(
        guides,
        "bad",
        [
            {"id": "warm", "title": "Warm up", "run": "true"},
            {"id": "oops", "title": "Call the API", "run": "echo 'HTTP 500' >&2; exit 7"},
        ],
        guide_type="getting-started",
    )
    write_guide(guides, "tool", [{"id": "use", "title": "Use the tool", "run": "gp-site-tool"}])
    write_guide(guides, "old", [{"id": "s", "title": "S", "run": "true"}])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "gp-site-tool"
    tool.write_text("#!/bin/sh\necho tool ok\n")
    tool.chmod(0o755)
    return tmp_path


@pytest.mark.slow
def test_site_builds_without_history_and_every_guide_is_unverified(project: Path) -> None:
    build(project)
    for uri in ("how-to/svc", "getting-started/bad", "how-to/tool", "how-to/old"):
        assert banner(page(project, uri)) == ("unverified", "Not verified yet")
    statuses = json.loads((project / "site" / "status.json").read_text())
    assert {item["status"] for item in statuses} == {"unverified"}
    assert "goldenpath check svc" in page(project, "how-to/svc")
    assert not (project / ".goldenpath" / "history.sqlite").exists()  # building never creates a history
    nav = (project / "site" / "index.html").read_text()
    assert 'href="status/"' in nav and "md-status--unverified" in nav


@pytest.mark.slow
def test_each_status_transition_shows_on_the_built_site(project: Path) -> None:
    tool_path = f"{project / 'bin'}{os.pathsep}{os.environ['PATH']}"
    first = gp(project, "check", "svc", "bad", "tool", path=tool_path)
    assert first.returncode == 1, first.stdout + first.stderr

    # A sandbox error (the tool is gone) after a pass: the pass still counts.
    error = gp(project, "check", "tool")
    assert error.returncode == 3, error.stdout + error.stderr

    # Time travel: "old" passed 97 days ago on the current content.
    guide = loader.load_guides(project / "gp", only=["old"])[0]
    long_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=97)
    History(project / ".goldenpath" / "history.sqlite").record(
        GuideResult(
            guide_id="old",
            outcome="passed",
            run_id="run-from-the-past",
            started=long_ago,
            finished=long_ago + datetime.timedelta(seconds=2),
            sandbox="kwok",
            sandbox_versions={"kubernetes": "v1.33.13"},
            content_hash=loader.content_hash(guide),
            steps=(
                StepResult(step_id="s", title="S", number=1, section="steps", outcome="passed", duration=2.0),
            ),
        )
    )
    build(project)

    svc = page(project, "how-to/svc")
    state, title = banner(svc)
    runs = History(project / ".goldenpath" / "history.sqlite").latest_runs()
    # A cluster step skipped on the local sandbox: partly verified, never shown as verified.
    assert state == "partial"
    assert title == "Partly verified on local: 2 of 3 steps ran; 1 skipped"
    assert runs["svc"][0].run_id in svc
    assert '<a href="#step-deploy">step 3: Deploy it</a>' in svc
    assert "so this guide is <strong>not verified</strong>" in svc
    # A short page and sub-second commands, one of them skipped: a floor, and what it is made of.
    assert "<strong>Estimated time:</strong> 1 minute or more (1 min reading, " in svc
    assert " of commands in the last passing run, which skipped 1 step)" in svc

    bad = page(project, "getting-started/bad")
    state, title = banner(bad)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert (state, title) == ("broken", f"Broken since {today} at step 2: Call the API")
    assert '<a href="#step-oops">step 2: Call the API</a>' in bad
    failed_run = runs["bad"][0].run_id
    note = re.search(
        r'id="step-oops".*?<div class="admonition failure"> '
        r'<p class="admonition-title">(.*?)</p>(.*?)</div>',
        bad,
    )
    assert note is not None and note.group(1) == f"This step failed in run {failed_run}"
    assert "exited with 7" in note.group(2)
    assert 'id="step-warm"' in bad and bad.count('class="admonition failure"') == 2

    tool = page(project, "how-to/tool")
    assert banner(tool)[0] == "verified"
    assert "hit a sandbox error" in tool and runs["tool"][0].outcome == "error"

    old = page(project, "how-to/old")
    assert banner(old) == ("stale", "Stale: not verified for 97 days")
    assert "on kwok v1.33.13 (run <code>run-from-the-past</code>)" in old

    # Editing a template changes the guide's content hash: it must be verified again.
    (project / "gp" / "svc" / "templates" / "app.txt.j2").write_text("v1\n# edited\n")
    build(project)
    assert banner(page(project, "how-to/svc")) == ("stale", "Stale: changed since it last passed")

    status_page = page(project, "status")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(
            r'<tr> <td><a href="[^"]*">Guide (\w+)</a></td> <td><span class="goldenpath-badge '
            r'goldenpath-badge--(\w+)">',
            status_page,
        )
    }
    assert rows == {"bad": "broken", "svc": "stale", "old": "stale", "tool": "verified"}
    assert 'href="../getting-started/bad/#step-oops"' in status_page
    site_json = json.loads((project / "site" / "status.json").read_text())
    cli_json = json.loads(gp(project, "status", "--format", "json").stdout)
    assert [(i["guide"], i["status"], i["reason"]) for i in site_json] == [
        (i["guide"], i["status"], i["reason"]) for i in cli_json
    ]
    nav = (project / "site" / "index.html").read_text()
    for state in ("broken", "stale", "verified"):
        assert f"md-status--{state}" in nav
    assert "--md-status--broken" in (project / "site" / "assets" / "goldenpath" / "status.css").read_text()


@pytest.mark.slow
def test_failed_build_exits_2_with_the_error_lines_and_no_traceback(project: Path) -> None:
    (project / "docs" / "index.md").write_text("# Home\n\n[missing](nowhere.md)\n")
    built = gp(project, "build")
    assert built.returncode == 2
    assert "WARNING" in built.stderr and "nowhere.md" in built.stderr
    assert "error: the site did not build: Aborted with 1 warnings in strict mode!" in built.stderr
    assert "Traceback" not in built.stderr
    lenient = gp(project, "build", "--no-strict", "--site-dir", "elsewhere")
    assert lenient.returncode == 0, lenient.stderr
    assert (project / "elsewhere" / "status.json").is_file()


@pytest.mark.slow
def test_serve_shows_statuses_and_stops_cleanly_on_sigterm(project: Path) -> None:
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [GOLDENPATH, "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = b""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status.json", timeout=2) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.3)
        assert {item["status"] for item in json.loads(body)} == {"unverified"}
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0, out
    assert "Serving on" in out and "Traceback" not in out
