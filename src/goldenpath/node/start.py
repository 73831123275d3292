"""Starting a real node for a kwok cluster: the checks first, then each step recorded before it.

The order: the base image archives (built on first use, before anything changes on the host),
the state file, the cgroups and the bridge, the registry (base images pushed to it), containerd
(the pause image imported), the kubelet's certificates and RBAC, the kubelet, and the Node Ready.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from goldenpath import host
from goldenpath.node import (
    baseimages,
    cluster,
    cni,
    containerd,
    kubelet,
    pause,
    podman,
    registry,
    state,
    system,
    tools,
)
from goldenpath.node.certs import kubelet_certs
from goldenpath.node.config import (
    BRIDGE,
    CGROUP_ROOT,
    KUBELET_ADDRESS,
    SUBNET,
    SYSTEM_PATH,
    NodeConfig,
    NodeInfo,
)
from goldenpath.node.errors import BINARIES_FIX, NodeError
from goldenpath.node.state import HostState, StateFile
from goldenpath.node.tools import Daemon

TOOLS = (
    "containerd",
    "containerd-shim-runc-v2",
    "runc",
    "ctr",
    "docker-registry",
    "openssl",
    "ip",
    "tar",
    "kubectl",
)
WATCHED = (
    *kubelet.HARD_CODED_PATHS,
    Path("/var/lib/cni"),  # libcni's result cache, inside containerd (no setting in 1.6)
    containerd.SHIM_SOCKET_DIR,
    Path("/run/netns"),
    # podman, as root, keeps its blob-info cache there whatever its config says
    Path("/var/lib/containers"),
)
"""Hard-coded paths a daemon or a session's podman may create: recorded if they are missing."""


def preflight(c: NodeConfig) -> None:
    """Everything that can be checked before the host changes; one clear error if not."""
    if os.geteuid() != 0:
        raise NodeError(
            "the real node needs root (it mounts, adds a network bridge and cgroups): run as root"
        )
    for tool in TOOLS:
        tools.require(tool)
    podman.check()
    cni.check_plugins()
    for binary in (c.kubelet_binary, c.pause_binary):
        if not binary.is_file():
            raise NodeError(f"{binary} is missing: {BINARIES_FIX}")
    if not c.kubeconfig.is_file() or not c.cluster_ca.key.is_file():
        raise NodeError(
            f"the kwok cluster {c.cluster_name} has no kubeconfig or CA key in {c.cluster_dir}: recreate it"
        )
    created = c.cluster_dir / "kwok.yaml"
    ca = c.node_ca.ca.cert
    if not ca.is_file() or (created.is_file() and ca.stat().st_mtime > created.stat().st_mtime):
        raise NodeError(
            f"the node CA {ca} is missing or newer than the cluster {c.cluster_name}, whose API server "
            "was started with another kubelet-client cert: recreate the cluster"
        )
    if system.link_exists(BRIDGE):
        raise NodeError(
            f"the network interface {BRIDGE} exists but no node of this sandbox folder ({c.state_file}) "
            f"owns it: another sandbox folder's real node may run; stop it, or 'ip link delete {BRIDGE}'"
        )
    used = cni.subnet_in_use(SUBNET)
    if used:
        raise NodeError(f"the pod subnet {SUBNET} is already routed through {used}: remove that route")
    if system.cgroup_dirs(CGROUP_ROOT):
        raise NodeError(
            f"the cgroup {CGROUP_ROOT} exists but no node of this sandbox folder owns it: another sandbox "
            f"folder's real node may run; stop it, or remove /sys/fs/cgroup/*/{CGROUP_ROOT}"
        )


@dataclass(frozen=True)
class Images:
    """The archives a node start pushes and imports, built before anything changes on the host."""

    pause_name: str
    pause_archive: Path
    base: dict[str, Path]
    """Base image name -> its archive."""


def images(c: NodeConfig, say: Callable[[str], None]) -> Images:
    """The pause and base image archives, from the cache or built now (base: about a minute)."""
    recipes = baseimages.load_recipes(c.recipes) if c.recipes is not None and c.recipes.is_file() else ()
    if c.recipes is not None and not recipes:
        say(f"no base images: {c.recipes} does not exist or lists none (the base_images setting)")
    base = {r.name: baseimages.archive(r, c.image_cache, say=say) for r in recipes}
    name = pause.image_name(c.platform_registry)
    return Images(name, pause.archive(c.pause_binary, c.image_cache, name), base)


def new_state(c: NodeConfig) -> HostState:
    """The state of a node about to start, with the paths and the sysctl it may change."""
    owner = None
    if c.owner_pid is not None:
        owner_started = host.start_time(c.owner_pid)
        if owner_started is None:
            raise NodeError(f"the process {c.owner_pid} the node is for has exited")
        owner = Daemon("owner", c.owner_pid, owner_started).to_dict()
    hs = HostState(
        cluster=c.cluster_name,
        state_dir=str(c.state_dir),
        node_name=c.node_name,
        owner=owner,
        bridge=BRIDGE,
        cgroup_root=CGROUP_ROOT,
        containerd_socket=str(containerd.Layout(c.state_dir / "containerd").socket),
        mount_roots=[str(c.state_dir)],
    )
    state.watch_paths(hs, WATCHED)
    # the bridge plugin sets it at the first pod; written down now, put back by the collector
    state.remember_sysctl(hs, "net.ipv4.ip_forward", "1")
    return hs


def bring_up(
    c: NodeConfig,
    hs: HostState,
    state_file: StateFile,
    popens: dict[int, subprocess.Popen[bytes]],
    archives: Images,
) -> NodeInfo:
    """Start the node recorded in ``hs`` (saved already); the caller collects ``hs`` on a failure.

    ``hs`` is saved to ``state_file`` before each change, so a crash at any point leaves a file
    that names everything to undo.
    """
    timings: dict[str, float] = {}
    started = time.monotonic()
    layout = containerd.Layout(c.state_dir / "containerd")

    def track(daemon: Daemon, popen: subprocess.Popen[bytes]) -> None:
        popens[daemon.pid] = popen
        hs.processes.append(daemon.to_dict())
        state_file.save(hs)

    system.create_cgroups(CGROUP_ROOT)
    daemons = _daemon_cgroup()
    node_ip = cni.create_bridge(BRIDGE, SUBNET)

    reg = registry.Layout(c.state_dir / "registry", host.free_port())
    track(*registry.start(reg, cgroup=daemons))
    t = time.monotonic()
    pushed = {name: registry.push_archive(reg.address, path, name) for name, path in archives.base.items()}
    timings["base images pushed"] = time.monotonic() - t

    bin_path = kubelet.private_bin(c.state_dir / "bin", SYSTEM_PATH)
    daemon_env = {"PATH": bin_path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    cni_conf = c.state_dir / "cni" / "net.d"
    cni.write(cni_conf, bridge=BRIDGE, subnet=SUBNET, data_dir=c.state_dir / "cni" / "ipam")
    containerd.write_config(
        layout,
        sandbox_image=archives.pause_name,
        cni_bin_dir=cni.BIN_DIR,
        cni_conf_dir=cni_conf,
        registry_hosts={c.platform_registry: reg.endpoint},
    )
    t = time.monotonic()
    track(*containerd.start(layout, env=daemon_env, cgroup=daemons))
    containerd.import_image(layout, archives.pause_archive)
    timings["containerd up"] = time.monotonic() - t

    # the node CA exists since before the cluster (preflight checked); the kubelet's client cert
    # is signed by the cluster's CA now
    client, serving = kubelet_certs(
        c.state_dir / "pki",
        node_name=c.node_name,
        node_ips=(KUBELET_ADDRESS, node_ip),
        cluster_ca=c.cluster_ca,
        node_ca=c.node_ca,
    )
    kubectl(c, "apply", "-f", "-", stdin=cluster.kubelet_client_rbac())
    settings = kubelet.KubeletSettings(
        node_name=c.node_name,
        node_ip=node_ip,
        port=host.free_port(),
        healthz_port=host.free_port(),
        root_dir=c.state_dir / "kubelet",
        state_dir=c.state_dir / "kubelet-state",
        runtime_socket=layout.socket,
        client_ca=c.node_ca.ca.cert,
        serving=serving,
        cgroup_root=CGROUP_ROOT,
    )
    server = json.loads(kubectl(c, "config", "view", "--raw", "-o", "json"))["clusters"][0]["cluster"][
        "server"
    ]
    kubelet.write_files(settings, server=str(server), cluster_ca=c.cluster_ca.cert, client=client)
    t = time.monotonic()
    track(*kubelet.start(c.kubelet_binary, settings, env=daemon_env, cgroup=daemons))
    _wait_ready(c)
    timings["kubelet up to node Ready"] = time.monotonic() - t
    timings["node up"] = time.monotonic() - started
    hs.info = {
        "registry": reg.address,
        "platform_registry": c.platform_registry,
        "kubelet_port": settings.port,
        "pushed": pushed,
        "keep_images": [archives.pause_name, *archives.base],
        "versions": {
            "containerd": containerd.version(),
            "runc": _runc_version(),
            "kubelet": kubelet.version(c.kubelet_binary),
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    state_file.save(hs)
    return NodeInfo.from_state(hs, shared=False)


def _daemon_cgroup() -> Path:
    """The cgroup (in the pids hierarchy if there is one) the daemons and their children join."""
    mounts = system.cgroup_mounts()
    preferred = [m for m in mounts if m.name == "pids"] or mounts
    if not preferred:
        raise NodeError("no cgroup hierarchy is mounted under /sys/fs/cgroup: mount cgroupfs")
    folder = preferred[0] / CGROUP_ROOT / "daemons"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait_ready(c: NodeConfig) -> None:
    # the kubelet registers its Node a moment after it is healthy: "not found" until then
    deadline = time.monotonic() + 30
    while True:
        done = tools.run(
            [
                tools.require("kubectl"),
                "--kubeconfig",
                str(c.kubeconfig),
                "wait",
                "--for=condition=Ready",
                f"node/{c.node_name}",
                "--timeout=90s",
            ],
            what="kubectl wait node Ready",
            timeout=100,
            check=False,
        )
        if done.returncode == 0:
            return
        if "not found" not in done.stderr or time.monotonic() > deadline:
            raise NodeError(
                f"the node {c.node_name} did not become Ready: {tools.last_line(done)}; "
                f"see {c.state_dir / 'kubelet-state' / 'kubelet.log'}"
            )
        time.sleep(0.2)


def kubectl(c: NodeConfig, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
    """kubectl against the node's cluster, as its admin."""
    done = tools.run(
        [tools.require("kubectl"), "--kubeconfig", str(c.kubeconfig), *args],
        what=f"kubectl {' '.join(args[:2])}",
        stdin=stdin,
        timeout=timeout,
    )
    return done.stdout


def _runc_version() -> str:
    first = tools.run([tools.require("runc"), "--version"], what="runc --version").stdout.splitlines()
    return first[0].split()[-1] if first else "unknown"
