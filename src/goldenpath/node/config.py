"""Where a real node keeps things and what it is called: nothing here starts anything.

One real node runs per machine, so the machine-wide names are fixed: the bridge
:data:`BRIDGE` with the pod subnet :data:`SUBNET`, and the cgroup root :data:`CGROUP_ROOT`.
Everything else lives in the sandbox folder (``$GOLDENPATH_SANDBOX_DIR``, ``<repo>/.sandbox``)::

    bin/kubelet, bin/pause        built by scripts/build-sandbox-cluster
    realnode.lock                 held while a node starts or stops
    realnode-pki/                 the node CA: made before the cluster, kept across nodes
    images/                       the pause and base image archives (cache)
    realnode/                     the running node's state dir, removed when it stops
        hoststate.json            the state file
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.node.certs import KeyPair, NodeCA
from goldenpath.node.state import STATE_FILE, HostState

BRIDGE = "gprealnode0"
SUBNET = "10.88.250.0/24"
CGROUP_ROOT = "goldenpath-realnode"
KUBELET_ADDRESS = "127.0.0.1"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Where the daemons' tools are looked up (not the caller's PATH, which may hold anything)."""


def loopback_node_name() -> str:
    """The machine's host name if it resolves to 127.0.0.1 only, else ``localhost``.

    The API server reaches a kubelet at the node's Hostname address first (kwok's fake nodes
    need that order: their InternalIPs are fake), and that address is the node's name, so the
    name must resolve to where the kubelet listens. Debian's usual ``127.0.1.1 <host>`` line
    does not qualify.
    """
    name = socket.gethostname().lower()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None, socket.AF_INET)}
    except OSError:
        addresses = set()
    if addresses == {KUBELET_ADDRESS} and all(c.isalnum() or c in "-." for c in name):
        return name
    return "localhost"


def state_dir(sandbox_dir: Path) -> Path:
    """The running node's state dir in a sandbox folder."""
    return sandbox_dir / "realnode"


def node_ca(sandbox_dir: Path) -> NodeCA:
    """The node CA of this sandbox folder: the API server's flags name its files."""
    return NodeCA(sandbox_dir / "realnode-pki")


@dataclass(frozen=True)
class NodeConfig:
    """A node to start for one kwok cluster."""

    sandbox_dir: Path
    cluster_name: str
    cluster_dir: Path
    """kwokctl's folder of the cluster: ``kubeconfig.yaml``, ``pki/ca.{crt,key}``."""
    recipes: Path | None = None
    """The base image recipes; None (or a missing file): no base images."""
    platform_registry: str = "registry.example.com"
    owner_pid: int | None = None
    """The process the node lives for (a check run's); None: until it is stopped."""
    node_name: str = field(default_factory=loopback_node_name)
    kubelet_verbosity: int = 2

    @property
    def state_dir(self) -> Path:
        return state_dir(self.sandbox_dir)

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    @property
    def node_ca(self) -> NodeCA:
        return node_ca(self.sandbox_dir)

    @property
    def image_cache(self) -> Path:
        return self.sandbox_dir / "images"

    @property
    def kubeconfig(self) -> Path:
        return self.cluster_dir / "kubeconfig.yaml"

    @property
    def cluster_ca(self) -> KeyPair:
        return KeyPair(self.cluster_dir / "pki" / "ca.crt", self.cluster_dir / "pki" / "ca.key")

    @property
    def kubelet_binary(self) -> Path:
        return self.sandbox_dir / "bin" / "kubelet"

    @property
    def pause_binary(self) -> Path:
        return self.sandbox_dir / "bin" / "pause"


@dataclass(frozen=True)
class NodeInfo:
    """What the users of a running node need to know about it."""

    cluster: str
    node_name: str
    registry: str
    """``127.0.0.1:PORT``: where the platform registry really is."""
    platform_registry: str
    containerd_socket: str
    keep_images: tuple[str, ...]
    """The pause and base images: never deleted after a guide run."""
    versions: dict[str, str] = field(default_factory=dict)
    shared: bool = False
    """Started by someone else: stopping it is not this user's job."""
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_state(cls, state: HostState, shared: bool) -> NodeInfo:
        """The info a state file holds about its node."""
        info: dict[str, Any] = state.info
        return cls(
            cluster=state.cluster,
            node_name=state.node_name,
            registry=str(info.get("registry", "")),
            platform_registry=str(info.get("platform_registry", "")),
            containerd_socket=state.containerd_socket,
            keep_images=tuple(info.get("keep_images", ())),
            versions=dict(info.get("versions", {})),
            shared=shared,
            timings=dict(info.get("timings", {})),
        )
