"""Helpers shared by the tests: small file trees and golden-path specs written into tmp_path."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from goldenpath.run.results import GuideResult

TESTS = Path(__file__).resolve().parent
"""The tests folder: fixtures, golden files and broken specs live here."""
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"


def build_file_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{relative path: content}`` under ``root``; return ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def guide_spec(
    guide_id: str,
    steps: Iterable[Mapping[str, Any]],
    *,
    cleanup: Iterable[Mapping[str, Any]] = (),
    parameters: Iterable[Mapping[str, Any]] = (),
    prerequisites: Iterable[Mapping[str, Any]] = (),
    troubleshooting: Iterable[Mapping[str, Any]] = (),
    guide_type: str = "how-to",
    tags: Iterable[str] = (),
    stage: str = "build",
) -> str:
    """The YAML text of a minimal valid golden-path spec."""
    spec: dict[str, Any] = {"type": guide_type, "steps": list(steps)}
    for key, value in (
        ("cleanup", cleanup),
        ("parameters", parameters),
        ("prerequisites", prerequisites),
        ("troubleshooting", troubleshooting),
    ):
        if value:
            spec[key] = list(value)
    document = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "id": guide_id,
            "title": f"Guide {guide_id}",
            "summary": "A guide written by a test.",
            "owner": "@acme/platform",
            "stage": stage,
            "tags": list(tags),
        },
        "spec": spec,
    }
    return yaml.safe_dump(document, sort_keys=False)


def write_guide(
    golden_paths: Path,
    guide_id: str,
    steps: Iterable[Mapping[str, Any]],
    templates: Mapping[str, str] | None = None,
    **options: Any,
) -> Path:
    """Write ``golden_paths/<id>/guide.yaml`` (and templates); return the spec file."""
    files = {f"{guide_id}/guide.yaml": guide_spec(guide_id, steps, **options)}
    for name, content in (templates or {}).items():
        files[f"{guide_id}/templates/{name}"] = content
    build_file_tree(golden_paths, files)
    return golden_paths / guide_id / "guide.yaml"


def processes_with(marker: str) -> list[str]:
    """Command lines of live processes whose command line or environment contains ``marker``."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
            if state == b"Z":
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    environ = handle.read()
            except OSError:
                environ = b""
        except (OSError, IndexError):
            continue
        if needle in cmdline or needle in environ:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def unreachable_kubeconfig(folder: Path) -> Path:
    """A kubeconfig whose API server address refuses connections (nothing listens on port 1)."""
    path = folder / "unreachable.kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "nowhere",
                "clusters": [{"name": "nowhere", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "nobody", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": "nowhere", "context": {"cluster": "nowhere", "user": "nobody"}}],
            }
        )
    )
    return path


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise cluster starts and stops on this machine (kwokctl picks free ports racily)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def guide_run(
    guide_id: str, run_id: str, seconds: Iterable[float], outcome: str = "passed", day: int = 1
) -> GuideResult:
    """A GuideResult to record in a History: one step per duration (``s1``, ``s2``...); for an
    outcome other than passed, its last step has that outcome."""
    import datetime  # goldenpath loads for the tests that record runs only

    from goldenpath.run.results import GuideResult, StepResult

    durations = list(seconds)
    when = datetime.datetime(2026, 11, day, 12, 0, tzinfo=datetime.timezone.utc)
    steps = tuple(
        StepResult(
            step_id=f"s{i}",
            title=f"S{i}",
            number=i,
            section="steps",
            outcome=outcome if i == len(durations) else "passed",
            message="" if outcome == "passed" else "exit code 1, expected 0",
            duration=d,
        )
        for i, d in enumerate(durations, 1)
    )
    return GuideResult(
        guide_id=guide_id,
        outcome=outcome,
        run_id=run_id,
        started=when,
        finished=when + datetime.timedelta(seconds=sum(durations)),
        sandbox="local",
        sandbox_versions={},
        steps=steps,
        content_hash="abc",
    )
