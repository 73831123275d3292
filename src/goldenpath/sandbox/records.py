"""Run records: what a live guide run owns, on disk, so what a killed run left can be removed.

A run cleans up after itself, also on Ctrl-C and SIGTERM; only SIGKILL (or a power cut) stops it
before it can. So each session writes a record as it opens, and before it makes anything: the
owner's pid and start time, the folders, the cgroup, the namespace and the podman store it owns.
A clean end deletes the record. The next ``check``, ``sandbox up|down|status`` or pytest session
finds the records of owners that are gone and removes what they name, one line for each thing.

Records live in ``$GOLDENPATH_RUNS_DIR`` (default ``<temp dir>/goldenpath-runs``), beside the
workspaces they name.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from goldenpath.host import pid_alive, start_time, sweep
from goldenpath.sandbox import containment
from goldenpath.sandbox.workspace import remove_tree

RUNS_ENV = "GOLDENPATH_RUNS_DIR"


def runs_dir() -> Path:
    return Path(os.environ.get(RUNS_ENV) or Path(tempfile.gettempdir()) / "goldenpath-runs")


@dataclass
class RunRecord:
    run_id: str
    guide_id: str
    root: str
    pid: int = field(default_factory=os.getpid)
    started: int | None = field(default_factory=lambda: start_time(os.getpid()))
    scratch: str = ""
    cgroup: str = ""
    namespace: str = ""
    kubeconfig: str = ""
    """The session's own kubeconfig (in its scratch folder), to delete the namespace with."""
    podman: str = ""

    @property
    def path(self) -> Path:
        return runs_dir() / f"{self.run_id}.json"

    def save(self) -> None:
        """Write the record atomically: a reader never sees half of it."""
        folder = runs_dir()
        temp = folder / f".{self.run_id}.{os.getpid()}.tmp"
        for attempt in range(3):  # the folder goes when its last record does, maybe just now
            folder.mkdir(parents=True, exist_ok=True)
            try:
                temp.write_text(json.dumps(asdict(self)), encoding="utf-8")
                os.replace(temp, self.path)
                return
            except FileNotFoundError:
                if attempt == 2:
                    raise

    def note(self, **owned: str) -> None:
        """Record something the run is about to own (before it exists, so a kill cannot miss it)."""
        for key, value in owned.items():
            setattr(self, key, value)
        self.save()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()  # the last run leaves nothing behind

    def owner_alive(self) -> bool:
        if self.started is None:  # no /proc to tell a recycled pid from its owner: trust the pid
            return pid_alive(self.pid)
        return start_time(self.pid) == self.started


def _load(path: Path) -> RunRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def collect_dead_runs() -> list[str]:
    """Remove what runs whose process died left behind; one line per thing removed."""
    folder = runs_dir()
    if not folder.is_dir():
        return []
    for claimed in folder.glob("*.collecting-*"):  # its collector was killed too: take it over
        collector = claimed.suffix.removeprefix(".collecting-")
        if collector.isdigit() and not pid_alive(int(collector)):
            with contextlib.suppress(OSError):
                os.rename(claimed, claimed.with_suffix(".json"))
    lines: list[str] = []
    for path in sorted(folder.glob("*.json")):
        record = _load(path)
        if record is None:
            if _older_than_a_minute(path):  # written by hand or truncated: nothing to act on
                path.unlink(missing_ok=True)
            continue
        if record.owner_alive():
            continue
        claimed = path.with_suffix(f".collecting-{os.getpid()}")
        try:
            os.rename(path, claimed)  # two collectors at once: one wins the record
        except OSError:
            continue
        lines += _remove(record)
        claimed.unlink(missing_ok=True)
    return lines


def _remove(record: RunRecord) -> list[str]:
    from goldenpath.node import podman  # for a dead run's store only: every sandbox's run imports this module

    origin = f"left by run {record.run_id} of {record.guide_id} (pid {record.pid}, which died)"
    lines: list[str] = []
    if record.cgroup:
        why = f"was {origin}"
        lines += containment.remove_group(Path(record.cgroup), why)
    lines += [f"{leak} ({origin})" for leak in sweep("GOLDENPATH_RUN_ID", record.run_id)]
    if record.namespace and _delete_namespace(record.namespace, record.kubeconfig):
        lines.append(f"deleted namespace {record.namespace} {origin}")
    if record.podman and Path(record.podman).exists():
        lines += [f"{line} ({origin})" for line in podman.cleanup(Path(record.podman), None)]
    for folder, what in ((record.scratch, "scratch folder"), (record.root, "workspace")):
        if folder and Path(folder).exists():
            problems = remove_tree(Path(folder))
            lines += problems or [f"removed the {what} {folder} {origin}"]
    return lines


def _delete_namespace(namespace: str, kubeconfig: str) -> bool:
    if not Path(kubeconfig).is_file():
        return False
    delete = ["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"]
    try:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", kubeconfig, "--request-timeout=10s", *delete],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False  # the cluster went with the run; nothing is left to delete there
    return done.returncode == 0 and "deleted" in done.stdout


def _older_than_a_minute(path: Path) -> bool:
    with contextlib.suppress(OSError):
        return time.time() - path.stat().st_mtime > 60
    return False
