"""A real node in the session's kwok cluster: Ready beside the fake node, reachable only with the
right certificates, pulling from the registry stand-in, and alone on the machine."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from goldenpath.node import NodeConfig, NodeError, RealNode
from goldenpath.node.config import SUBNET, loopback_node_name
from goldenpath.sandbox import realnode
from goldenpath.sandbox.kubernetes import Kubectl
from helpers import write_guide

if TYPE_CHECKING:  # the fixture's class; conftest is never imported by tests
    from conftest import NodeCluster

pytestmark = [pytest.mark.cluster, pytest.mark.node, pytest.mark.xdist_group("realnode")]

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
BASE_IMAGE = "registry.example.com/platform/python:3.11"


@pytest.fixture
def kubectl(real_node: NodeCluster) -> Iterator[Kubectl]:
    """kubectl in a namespace of the test's own, deleted afterwards."""
    namespace = f"gp-test-{uuid.uuid4().hex[:8]}"
    admin = Kubectl(str(real_node.kubeconfig))
    admin("create", "namespace", namespace)
    yield NamespacedKubectl(admin, namespace)
    admin("delete", "pods", "--all", "-n", namespace, "--grace-period=0", "--force", "--wait=false")
    admin("delete", "namespace", namespace, "--wait=false")


class NamespacedKubectl(Kubectl):
    """kubectl with ``--namespace``."""

    def __init__(self, admin: Kubectl, namespace: str) -> None:
        super().__init__(admin.kubeconfig)
        self.namespace = namespace

    def args(self) -> list[str]:
        return [*super().args(), "--namespace", self.namespace]


def pod(name: str, image: str = BASE_IMAGE, **spec: Any) -> str:
    container = {"name": "app", "image": image, "command": ["python3", "-m", "http.server", "8080"]}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [container], **spec},
        }
    )


def test_the_node_is_ready_beside_a_working_fake_node(real_node: NodeCluster, kubectl: Kubectl) -> None:
    nodes = {n["metadata"]["name"]: n for n in json.loads(kubectl("get", "nodes", "-o", "json"))["items"]}
    name = loopback_node_name()
    real = nodes[name]
    ready = {c["type"]: c["status"] for c in real["status"]["conditions"]}
    assert ready["Ready"] == "True"
    assert real["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.")
    assert real["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    assert "kwok.x-k8s.io/node" not in real["metadata"].get("annotations", {}), "kwok must leave it alone"
    fake = next(n for n in nodes.values() if n["metadata"]["labels"].get("type") == "kwok")
    assert {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"} in fake["spec"]["taints"]

    kubectl("create", "-f", "-", stdin=pod("real"))
    tolerating = {
        "nodeSelector": {"type": "kwok"},
        "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists"}],
    }
    kubectl(
        "create", "-f", "-", stdin=pod("simulated", image="registry.example.com/none/at-all:1", **tolerating)
    )
    kubectl("wait", "--for=condition=Ready", "pod/real", "pod/simulated", "--timeout=90s", timeout=120)
    placed = json.loads(kubectl("get", "pods", "-o", "json"))["items"]
    where = {p["metadata"]["name"]: (p["spec"]["nodeName"], p["status"].get("podIP", "")) for p in placed}
    assert where["real"][0] == name and where["real"][1].startswith(SUBNET.rsplit(".", 2)[0])
    assert where["simulated"][0] == fake["metadata"]["name"], "the fake node runs pods that tolerate it"


def test_the_kubelet_answers_only_the_api_server(real_node: NodeCluster) -> None:
    state = RealNode(real_node.sandbox_dir).state()
    assert state is not None
    port = state.info["kubelet_port"]
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"https://127.0.0.1:{port}/pods", context=context, timeout=10)
    assert anonymous.value.code == 401


def test_every_kwok_cluster_keeps_the_flex_volume_dir_inside_its_folder(real_node: NodeCluster) -> None:
    folder = real_node.up().workdir
    pid = int((folder / "pids" / "kube-controller-manager.pid").read_text().strip())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert f"--flex-volume-plugin-dir={folder / 'flexvolume'}" in argv
    log = (folder / "logs" / "kube-controller-manager.log").read_text()
    assert "/usr/libexec/kubernetes" not in log


def test_a_typo_in_an_image_name_surfaces_the_pull_error(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", stdin=pod("typo", image="registry.example.com/acme/helo:1.0.0"))
    deadline = time.monotonic() + 60
    waiting: dict[str, Any] = {}
    while time.monotonic() < deadline:
        statuses = json.loads(kubectl("get", "pod", "typo", "-o", "json"))["status"].get(
            "containerStatuses", []
        )
        waiting = (statuses[0].get("state", {}).get("waiting") or {}) if statuses else {}
        if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff") and waiting.get("message"):
            break
        time.sleep(0.5)
    assert waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"), waiting
    assert 'failed to pull and unpack image "registry.example.com/acme/helo:1.0.0"' in waiting["message"]
    assert "not found" in waiting["message"]


def test_one_node_per_machine_shared_by_its_cluster_refused_to_another(
    real_node: NodeCluster, tmp_path: Path
) -> None:
    cluster = real_node.up()
    node = RealNode(real_node.sandbox_dir)
    shared = node.up(realnode.node_config(real_node.settings, cluster, owner_pid=None))
    assert shared.shared and shared.cluster == cluster.name

    other = NodeConfig(real_node.sandbox_dir, "other", real_node.sandbox_dir / "kwok" / "clusters" / "other")
    with pytest.raises(NodeError) as refused:
        node.up(other)
    message = str(refused.value)
    assert message.startswith(
        f"a real node for cluster '{cluster.name}' already runs on this machine (registry "
    )
    assert "only one can (the kubelet's paths, the bridge and the cgroups are machine-wide)" in message
    assert f"it belongs to the check run of process {os.getpid()}: wait for that run to end" in message

    # a second check run on the machine is refused before it makes a cluster for nothing
    env = {k: v for k, v in os.environ.items() if k != realnode.ENV_KUBECONFIG}
    env["GOLDENPATH_SANDBOX_DIR"] = str(real_node.sandbox_dir)
    write_guide(
        tmp_path / "gp", "second", [{"id": "s", "title": "S", "run": "true", "requires": ["cluster"]}]
    )
    out = subprocess.run(
        [
            GOLDENPATH,
            "check",
            "--golden-paths",
            str(tmp_path / "gp"),
            "--sandbox",
            "real-node",
            "--no-history",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    clusters = real_node.sandbox_dir / "kwok" / "clusters"
    assert sorted(p.name for p in clusters.iterdir() if p.name.startswith(realnode.PREFIX)) == [cluster.name]
    assert out.returncode == 3, out.stdout + out.stderr
    assert f"a real node for cluster '{cluster.name}' already runs on this machine" in out.stderr
