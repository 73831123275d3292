"""A guide run's folders on this machine: the workspace, its home, and the runner's scratch folder."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

SCRATCH_TMPFS = Path("/dev/shm")


def scratch_folder(root: Path) -> Path:
    """The runner's private folder: on tmpfs when there is one (each step creates and reads a few
    small files there, which costs milliseconds on a busy disk), else inside the run's folder."""
    if SCRATCH_TMPFS.is_dir() and os.access(SCRATCH_TMPFS, os.W_OK | os.X_OK):
        try:
            return Path(tempfile.mkdtemp(prefix="goldenpath-scratch-", dir=SCRATCH_TMPFS))
        except OSError:
            pass
    scratch = root / "scratch"
    scratch.mkdir()
    return scratch


def bash_version() -> str:
    try:
        out = subprocess.run(
            ["bash", "-c", "echo $BASH_VERSION"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def remove_tree(root: Path) -> list[str]:
    """Remove a workspace, including read-only folders some tools create (Go's module cache)."""

    def make_writable(func: Callable[..., object], path: str, _exc: object) -> None:
        try:
            parent = os.path.dirname(path)
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
            func(path)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(root, onexc=make_writable)
    else:
        shutil.rmtree(root, onerror=make_writable)
    return [f"files in {root} that could not be removed"] if root.exists() else []
