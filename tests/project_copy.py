"""A copy of this project outside the repository, for tests that run the real ``goldenpath`` CLI.

The copy has the repository's ``mkdocs.yml``, ``docs/`` and a ``[tool.goldenpath]`` table, and
the repository's ``golden_paths/`` copied as ``guides/`` (symbolic links kept as links). There
is no ``golden_paths/`` folder in it, so a command only finds the guides through
``--golden-paths``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers import REPO

GUIDES = "guides"
"""The folder the repository's golden paths are copied into."""


def copy_project(root: Path, site_url: str = "") -> Path:
    """Write the project copy into ``root``; return its guides folder."""
    root.mkdir(parents=True, exist_ok=True)
    guides = root / GUIDES
    shutil.copytree(REPO / "golden_paths", guides, symlinks=True)
    shutil.copytree(REPO / "docs", root / "docs", symlinks=True)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    table = '[tool.goldenpath]\nrepo_url = "https://github.com/acme/golden-paths"\n'
    if site_url:
        table += f'site_url = "{site_url}"\n'
    (root / "pyproject.toml").write_text(table, encoding="utf-8")
    assert not guides.resolve().is_relative_to(REPO), "the copy must be outside the repository"
    return guides


def cli_env() -> dict[str, str]:
    """The environment of a CLI subprocess: no folder of guides leaked in from the test's own."""
    env = {key: value for key, value in os.environ.items() if key != "GOLDENPATH_GOLDEN_PATHS"}
    env["NO_MKDOCS_2_WARNING"] = "1"
    return env


def goldenpath_argv(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "goldenpath.cli", *map(str, args)]


def goldenpath(cwd: Path, *args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``goldenpath ARGS`` in ``cwd`` and wait for it."""
    return subprocess.run(
        goldenpath_argv(*args),
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str, timeout: float = 30) -> tuple[int, str]:
    """(HTTP status, body) of ``url``; (0, reason) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(exc)


def wait_until_served(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    """Wait until ``url`` answers 200, failing early when the server process ends."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server ended with {process.returncode}"
        status, _ = fetch(url, timeout=5)
        if status == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def group_gone(pgid: int) -> bool:
    """Whether no process of the process group ``pgid`` is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False
