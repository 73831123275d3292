"""Shared fixtures. ``kwok_cluster``: one real kwok cluster per test process, for ``cluster`` tests.

Under pytest-xdist every worker that runs a cluster test starts its own small cluster (about 5 s),
so tests on different workers never see each other's cluster-scoped objects (the resource ledger
would report them as leaks). Clusters left by a killed test session are removed first.

``real_node``: the test session's cluster with a real node, for ``node`` tests. Only one real
node runs per machine, so those tests share one xdist group (one worker) and one node; a test
that needs the machine without a node stops it, and the next one that needs it starts it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldenpath import config
from goldenpath.errors import SandboxError
from goldenpath.node import RealNode
from goldenpath.node.snapshot import snapshot
from goldenpath.sandbox import kwok, realnode
from goldenpath.sandbox.kubernetes import pid_alive
from helpers import locked

try:
    from _pytest.nodeid import NodeId
except ImportError:  # before pytest 9.2 node ids are strings, which pytest-xdist rewrites itself
    NodeId = None  # type: ignore[assignment,misc]

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "gp-test-"
MISSING = "kwok binaries missing: run scripts/build-sandbox-cluster"


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
    with locked(lock):
        for other, _ready in kwok_ctl.status():
            pid = other.removeprefix(PREFIX).split("-")[0]
            if other.startswith(PREFIX) and pid.isdigit() and not pid_alive(int(pid)):
                kwok_ctl.delete(other)
        cluster = kwok_ctl.create(name)
    try:
        yield cluster
    finally:
        with locked(lock):
            kwok_ctl.delete(name)


@pytest.fixture
def extra_cluster(kwok_ctl: kwok.KwokCtl) -> Iterator[kwok.Cluster]:
    """A second, throw-away cluster for tests that break it."""
    lock = kwok_ctl.workdir / "tests.lock"
    name = f"{PREFIX}{os.getpid()}-extra"
    with locked(lock):
        cluster = kwok_ctl.create(name)
    try:
        yield cluster
    finally:
        with locked(lock):
            kwok_ctl.delete(name)


NODE_TOOLS = ("containerd", "ctr", "runc", "docker-registry", "podman", "debootstrap", "openssl")


def node_prerequisites(settings: config.Settings) -> str:
    """Why a real node cannot run on this machine ("" when it can)."""
    if os.geteuid() != 0:
        return "the real node needs root"
    missing = [tool for tool in NODE_TOOLS if shutil.which(tool) is None]
    missing += [str(p) for p in (Path("/usr/bin/docker"), Path("/usr/lib/cni/bridge")) if not p.exists()]
    if missing:
        return f"real-node packages missing ({', '.join(missing)}): run scripts/install-node-packages"
    bin_dir = kwok.sandbox_dir(settings) / "bin"
    if not kwok.binaries_present(settings) or not all((bin_dir / b).is_file() for b in ("kubelet", "pause")):
        return f"cluster binaries missing in {bin_dir}: run scripts/build-sandbox-cluster"
    if shutil.which("kubectl") is None:
        return "kubectl is not installed"
    return ""


def skip_or_fail(reason: str) -> None:
    """Skip a test whose prerequisites are missing; in CI (``CI`` set) that is a failure."""
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


class NodeCluster:
    """The test session's cluster with a real node, through the product's own
    :func:`goldenpath.sandbox.realnode.running_node`: started on first use, stopped on demand."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.sandbox_dir = kwok.sandbox_dir(settings)
        self.node = RealNode(self.sandbox_dir)
        self.baseline: dict[str, Any] = snapshot()
        """The machine before the session's first node: what every stop must get back to."""
        self._stack: contextlib.ExitStack | None = None
        self._cluster: kwok.Cluster | None = None
        self._lock: int | None = None

    def _hold_the_machine(self) -> None:
        """Keep other test processes' node tests off the machine until this session ends.

        The node tests share one xdist group, so one worker runs them all; should they be
        spread anyway, a second worker waits here instead of failing on the refusal.
        """
        if self._lock is None:
            self._lock = os.open(self.sandbox_dir / "tests-realnode.lock", os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._lock, fcntl.LOCK_EX)

    def close(self) -> None:
        self.down()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def up(self) -> kwok.Cluster:
        """The running cluster, started now if need be (a first start builds the base images)."""
        if self._cluster is not None and self.node.running(self._cluster.name) is not None:
            return self._cluster
        self.down()
        stack = contextlib.ExitStack()
        self._cluster = stack.enter_context(realnode.running_node(self.settings))
        self._stack = stack
        return self._cluster

    def down(self) -> None:
        """Stop the node and delete its cluster (nothing when none runs)."""
        self._hold_the_machine()
        stack, self._stack, self._cluster = self._stack, None, None
        if stack is not None:
            stack.close()

    @property
    def kubeconfig(self) -> Path:
        return self.up().kubeconfig


@pytest.fixture(scope="session")
def node_packages() -> None:
    """Skips (fails in CI) when the real node's Debian packages are missing."""
    missing = [tool for tool in NODE_TOOLS if shutil.which(tool) is None]
    if missing:
        skip_or_fail(f"real-node packages missing ({', '.join(missing)}): run scripts/install-node-packages")


@pytest.fixture(scope="session")
def node_settings() -> config.Settings:
    """Settings for real-node tests; skips (fails in CI) without root, packages or binaries, or
    when another real node runs on the machine (only one can)."""
    settings = config.load_settings(ROOT)
    reason = node_prerequisites(settings)
    if reason:
        skip_or_fail(reason)
    state = RealNode(kwok.sandbox_dir(settings)).state()
    if state is not None and state.running():
        skip_or_fail(
            f"a real node for cluster {state.cluster} runs on this machine and only one can: "
            "stop it with 'goldenpath sandbox down --sandbox real-node'"
        )
    return settings


@pytest.fixture(scope="session")
def real_node(node_settings: config.Settings) -> Iterator[NodeCluster]:
    """The session's real-node cluster manager; whatever runs is stopped at the end."""
    cluster = NodeCluster(node_settings)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put ``xdist_group`` into node ids where pytest-xdist could not.

    pytest-xdist 3.8 marks a test's group by rewriting ``item._nodeid``; pytest 9.2 keeps the
    id in ``item._id``, so ``--dist loadgroup`` would spread a group over the workers. Only one
    real node runs per machine: the ``realnode`` group must stay on one worker.
    """
    if NodeId is None or not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if groups and "@" not in item.nodeid and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")
