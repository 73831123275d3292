"""Shared fixtures. ``kwok_cluster``: one real kwok cluster per test process, for ``cluster`` tests.

Under pytest-xdist every worker that runs a cluster test starts its own small cluster (about 5 s),
so tests on different workers never see each other's cluster-scoped objects (the resource ledger
would report them as leaks). Clusters left by a killed test session are removed first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenpath import config
from goldenpath.errors import SandboxError
from goldenpath.sandbox import kwok
from goldenpath.sandbox.kubernetes import pid_alive

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "gp-test-"
MISSING = "kwok binaries missing: run scripts/build-sandbox-cluster"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise cluster starts and stops on this machine (kwokctl picks free ports racily)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def kwok_ctl() -> kwok.KwokCtl:
    """The kwok cluster manager; skips (fails in CI) when the binaries are not built."""
    settings = config.load_settings(ROOT)
    if not kwok.binaries_present(settings):
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING} (looked in {kwok.sandbox_dir(settings)}/bin)", pytrace=False)
        pytest.skip(MISSING)
    try:
        return kwok.KwokCtl(settings)
    except SandboxError as exc:  # kubectl is missing
        if os.environ.get("CI"):
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def kwok_cluster(kwok_ctl: kwok.KwokCtl) -> Iterator[kwok.Cluster]:
    """A running kwok cluster for this test process, deleted at the end of the session."""
    lock = kwok_ctl.workdir / "tests.lock"
    name = f"{PREFIX}{os.getpid()}"
    with _locked(lock):
        for other, _ready in kwok_ctl.status():
            pid = other.removeprefix(PREFIX).split("-")[0]
            if other.startswith(PREFIX) and pid.isdigit() and not pid_alive(int(pid)):
                kwok_ctl.delete(other)
        cluster = kwok_ctl.create(name)
    try:
        yield cluster
    finally:
        with _locked(lock):
            kwok_ctl.delete(name)


@pytest.fixture
def extra_cluster(kwok_ctl: kwok.KwokCtl) -> Iterator[kwok.Cluster]:
    """A second, throw-away cluster for tests that break it."""
    lock = kwok_ctl.workdir / "tests.lock"
    name = f"{PREFIX}{os.getpid()}-extra"
    with _locked(lock):
        cluster = kwok_ctl.create(name)
    try:
        yield cluster
    finally:
        with _locked(lock):
            kwok_ctl.delete(name)
