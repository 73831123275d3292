"""The machine after a real node: as before after a normal stop, and after ``kill -9`` of
everything once the next start, or the next ``goldenpath sandbox`` command, has collected it.

Each test compares a snapshot of the machine taken before its node started with one taken
after, and checks each thing a node changes on its own too: processes, mounts under the state
dir, the bridge and its veths, cgroups, ``net.ipv4.ip_forward``, iptables rules and the
hard-coded folders of the kubelet, containerd, libcni and podman.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from goldenpath.node import RealNode
from goldenpath.node.config import BRIDGE, CGROUP_ROOT
from goldenpath.node.snapshot import PROGRAMS, WATCHED_PATHS, differences, snapshot
from goldenpath.node.system import cgroup_dirs, link_exists, links, mounts_under, read_sysctl
from goldenpath.sandbox import realnode
from goldenpath.sandbox.base import GuideRun
from goldenpath.sandbox.kubernetes import Kubectl

if TYPE_CHECKING:  # the fixture's class; conftest is never imported by tests
    from conftest import NodeCluster

pytestmark = [pytest.mark.cluster, pytest.mark.node, pytest.mark.xdist_group("realnode")]

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
DEPLOYMENT = "kubectl create deployment web --replicas=2 --image=registry.example.com/platform/python:3.11"
CHILD = """
import subprocess, sys, time
from pathlib import Path
from goldenpath import config
from goldenpath.sandbox import realnode

with realnode.running_node(config.load_settings(Path(sys.argv[1]))) as cluster:
    kubectl = ["kubectl", "--kubeconfig", str(cluster.kubeconfig)]
    image = "--image=registry.example.com/platform/python:3.11"
    subprocess.run([*kubectl, "create", "deployment", "web", "--replicas=2", image, "--",
                    "python3", "-m", "http.server"], check=True, capture_output=True)
    subprocess.run([*kubectl, "rollout", "status", "deployment/web", "--timeout=90s"], check=True,
                   capture_output=True)
    print(cluster.name, flush=True)
    time.sleep(600)
"""


def start_pods(kubeconfig: Path) -> None:
    """Two real pods: mounts, veths, the sysctl and pod cgroups for the collector to undo."""
    kubectl = Kubectl(str(kubeconfig))
    kubectl(*DEPLOYMENT.split()[1:], "--", "python3", "-m", "http.server")
    kubectl("rollout", "status", "deployment/web", "--timeout=90s", timeout=120)


def build_in_a_session(real_node: NodeCluster) -> None:
    """A guide session's ``docker build``: podman's machine-wide blob-info cache appears."""
    sandbox = realnode.real_node_factory(real_node.settings)
    sandbox.check()
    with sandbox.open(GuideRun("lifecycle", uuid.uuid4().hex)) as session:
        (session.workspace / "Dockerfile").write_text(
            "FROM registry.example.com/platform/python:3.11\nRUN true\n"
        )
        subprocess.run(
            ["docker", "build", "-q", "-t", "registry.example.com/acme/lifecycle:1", "."],
            cwd=session.workspace,
            env=dict(session.env),
            check=True,
            capture_output=True,
            timeout=180,
        )
    assert session.leaks == []


def kill_everything(sandbox_dir: Path) -> list[int]:
    """SIGKILL every process of the node and its pods, found without the state file: in the
    node's cgroups, or naming its state dir on their command line."""
    pids: set[int] = set()
    for procs in Path("/sys/fs/cgroup").glob(f"*/{CGROUP_ROOT}/**/cgroup.procs"):
        pids.update(int(p) for p in procs.read_text().split())
    marker = f"{sandbox_dir / 'realnode'}/".encode()  # not realnode-pki/: the API server names that
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    pids.add(int(entry.name))
            except OSError:
                continue
    pids.discard(os.getpid())
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return sorted(pids)


def live_programs() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except (OSError, UnicodeDecodeError):
            continue
        if stat[stat.rindex(")") + 2] != "Z" and os.path.basename(argv0) in PROGRAMS:
            found.append(f"{entry.name} {argv0}")
    return found


def assert_clean(before: dict[str, Any], sandbox_dir: Path) -> None:
    """The machine is as in ``before``, item by item."""
    # killed processes are reaped by PID 1 within a few seconds
    deadline = time.monotonic() + 15
    while live_programs() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live_programs() == [], "no kubelet, containerd, shim, registry, pause or podman left"
    assert mounts_under([str(sandbox_dir / "realnode")]) == []
    assert not link_exists(BRIDGE)
    assert [name for name, master in links().items() if master == BRIDGE] == []
    assert cgroup_dirs(CGROUP_ROOT) == []
    assert not list(Path("/sys/fs/cgroup").glob("*/libpod_parent"))
    assert read_sysctl("net.ipv4.ip_forward") == before["ip_forward"]
    after = snapshot()
    assert after["iptables"] == before["iptables"]
    assert [p for p in WATCHED_PATHS if os.path.lexists(p)] == before["paths"]
    assert not (sandbox_dir / "realnode").exists()
    assert differences(before, after) == []


def test_the_machine_is_as_before_after_a_normal_stop(real_node: NodeCluster) -> None:
    real_node.down()
    before = snapshot()
    cluster = real_node.up()
    start_pods(cluster.kubeconfig)
    build_in_a_session(real_node)
    during = differences(before, snapshot())
    assert any(line.startswith("links:") and BRIDGE in line for line in during), during
    assert any(line.startswith("mounts:") for line in during), during
    real_node.down()
    assert_clean(before, real_node.sandbox_dir)


def test_after_kill_9_the_next_start_collects_the_dead_node(real_node: NodeCluster) -> None:
    real_node.down()
    before = snapshot()
    cluster = real_node.up()
    start_pods(cluster.kubeconfig)
    assert kill_everything(real_node.sandbox_dir)
    time.sleep(1)
    said: list[str] = []
    node = RealNode(real_node.sandbox_dir, said.append)
    info = node.up(realnode.node_config(real_node.settings, cluster, owner_pid=os.getpid()))
    assert not info.shared
    assert said[0] == f"collecting the real node of cluster {cluster.name}, left by a process that died"
    assert any(line.startswith("unmounted ") for line in said), said
    assert any(line.startswith("deleted the network interfaces ") and BRIDGE in line for line in said), said
    assert any("cgroups under goldenpath-realnode" in line for line in said), said
    Kubectl(str(cluster.kubeconfig))(
        "wait", "--for=condition=Ready", f"node/{info.node_name}", "--timeout=60s"
    )
    real_node.down()
    assert_clean(before, real_node.sandbox_dir)


def test_a_node_whose_check_run_died_is_collected_by_the_next_command(real_node: NodeCluster) -> None:
    real_node.down()
    before = snapshot()
    env = {k: v for k, v in os.environ.items() if k != realnode.ENV_KUBECONFIG}
    env["GOLDENPATH_SANDBOX_DIR"] = str(real_node.sandbox_dir)
    root = str(real_node.settings.root)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, root],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        name = child.stdout.readline().strip()
        assert name == f"{realnode.PREFIX}-{child.pid}", child.stderr.read() if child.stderr else ""
    finally:
        child.kill()
        child.communicate(timeout=30)
    kill_everything(real_node.sandbox_dir)
    out = subprocess.run(
        [GOLDENPATH, "sandbox", "status", "--sandbox", "real-node"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"collecting the real node of cluster {name}, left by a process that died"
    assert any(line.startswith("unmounted ") for line in lines), lines
    assert any(BRIDGE in line for line in lines), lines
    assert f"removed the kwok cluster {name} of a check run that died (pid {child.pid})" in lines
    assert lines[-1] == "no real node"
    assert not (real_node.sandbox_dir / "kwok" / "clusters" / name).exists()
    assert_clean(before, real_node.sandbox_dir)
    again = subprocess.run(
        [GOLDENPATH, "sandbox", "status", "--sandbox", "real-node"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.stdout.splitlines() == ["no real node"]


def test_json_of_the_state_file_is_written_before_the_node_changes_anything(real_node: NodeCluster) -> None:
    cluster = real_node.up()
    state = json.loads((real_node.sandbox_dir / "realnode" / "hoststate.json").read_text())
    assert state["cluster"] == cluster.name and state["owner"]["pid"] == os.getpid()
    assert state["bridge"] == BRIDGE and state["cgroup_root"] == CGROUP_ROOT
    assert {p["name"] for p in state["processes"]} == {"registry", "containerd", "kubelet"}
    assert state["sysctls"]["net.ipv4.ip_forward"]["new"] == "1"


def test_sandbox_up_status_and_down_manage_the_shared_cluster(real_node: NodeCluster) -> None:
    real_node.down()
    before = snapshot()
    env = {k: v for k, v in os.environ.items() if k != realnode.ENV_KUBECONFIG}
    env["GOLDENPATH_SANDBOX_DIR"] = str(real_node.sandbox_dir)

    def sandbox(action: str) -> list[str]:
        done = subprocess.run(
            [GOLDENPATH, "sandbox", action, "--sandbox", "real-node"],
            cwd=real_node.settings.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.splitlines()

    try:
        up = sandbox("up")
        assert up[0].startswith(f"cluster {realnode.SHARED_NAME} with the real node ") and up[0].endswith(
            "is up; checks with --sandbox real-node use it"
        )
        assert "was already running" in sandbox("up")[0]
        status = sandbox("status")
        assert (
            status[0].startswith("real node ") and f"of cluster {realnode.SHARED_NAME}: running" in status[0]
        )
        assert status[1] == f"{realnode.SHARED_NAME}: running"
        # half broken: the API server and every process of the node killed
        folder = real_node.sandbox_dir / "kwok" / "clusters" / realnode.SHARED_NAME
        os.kill(int((folder / "pids" / "kube-apiserver.pid").read_text()), signal.SIGKILL)
        kill_everything(real_node.sandbox_dir)
        time.sleep(1)
        down = sandbox("down")
        assert (
            down[0]
            == f"collecting the real node of cluster {realnode.SHARED_NAME}, left by a process that died"
        )
        assert down[-1] == f"cluster {realnode.SHARED_NAME} is down"
        assert not folder.exists()
        assert sandbox("down") == ["no real node and no real-node cluster"]
    finally:
        subprocess.run(
            [GOLDENPATH, "sandbox", "down", "--sandbox", "real-node"], env=env, capture_output=True
        )
    assert_clean(before, real_node.sandbox_dir)
