"""The kubelet: its KubeletConfiguration, kubeconfig, a PATH without iptables, start.

Why each setting is what it is:

- ``address``/``port``: 127.0.0.1 and a free port (never 10250): reachable from this machine only,
  and no clash with a system kubelet. The API server finds it by the node's name, which resolves
  to 127.0.0.1 (:func:`goldenpath.node.config.loopback_node_name`).
- ``authentication``: no anonymous access; client certs from the node CA only (the API server's
  kubelet-client cert), bearer tokens through TokenReview; ``authorization.mode: Webhook`` asks
  the API server about each request.
- ``cgroupDriver: cgroupfs`` and ``cgroupRoot``: pods' cgroups live under a root of the node's
  in each hierarchy, so teardown finds and removes exactly them.
- eviction thresholds far down and image GC off (``imageGCHighThresholdPercent: 100``): a busy
  CI disk must not make the node evict a guide's pods or delete the image a guide just pushed.
- ``podLogsDir``, ``volumePluginDir`` and the root dir under the state dir. Still hard-coded in
  kubelet 1.33: ``/var/lib/kubelet/device-plugins`` and ``/var/log/containers``
  (:data:`HARD_CODED_PATHS`); the state file records them before the kubelet starts.
- PATH: a bin dir of symlinks to just the tools the kubelet and containerd run. Without
  ``iptables`` the kubelet logs "No iptables support on this system" instead of adding a
  KUBE-FIREWALL chain to the host (no kubelet 1.33 setting turns that off).
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from goldenpath.node import tools
from goldenpath.node.certs import KeyPair
from goldenpath.node.errors import NodeError
from goldenpath.node.tools import Daemon

HARD_CODED_PATHS = (Path("/var/lib/kubelet/device-plugins"), Path("/var/log/containers"))
"""Paths kubelet 1.33 uses whatever its config says."""
TOOLS = ("mount", "umount", "runc", "containerd", "containerd-shim-runc-v2")
"""What the kubelet, containerd and its shims run here, from the kubelet 1.33 and mount-utils
sources: mount/umount (tmpfs for projected and secret volumes), the runc v2 shim and runc. The
rest (blkid, fsck, mkfs for block volumes; systemd-run under systemd; journalctl for node logs)
is never needed; iptables must not be found."""
FORBIDDEN_TOOLS = (
    "iptables",
    "ip6tables",
    "iptables-save",
    "iptables-restore",
    "ip6tables-save",
    "ip6tables-restore",
)


def private_bin(folder: Path, system_path: str) -> str:
    """A bin dir of symlinks to :data:`TOOLS` found on ``system_path``; returned as a PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        link = folder / tool
        if not link.is_symlink():
            link.symlink_to(tools.require(tool, path=system_path))
    for tool in FORBIDDEN_TOOLS:
        if (folder / tool).exists():
            raise NodeError(
                f"{folder / tool} must not exist (the kubelet would add iptables rules): remove it"
            )
    return str(folder)


@dataclass(frozen=True)
class KubeletSettings:
    """What varies between kubelet starts; everything else is fixed in :func:`render_config`."""

    node_name: str
    node_ip: str
    """Not loopback (the kubelet refuses it) and on a local interface: the bridge's gateway."""
    port: int
    healthz_port: int
    root_dir: Path
    state_dir: Path
    runtime_socket: Path
    client_ca: Path
    serving: KeyPair
    cgroup_root: str
    address: str = "127.0.0.1"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "kubelet-config.yaml"

    @property
    def kubeconfig_path(self) -> Path:
        return self.state_dir / "kubelet.kubeconfig"

    @property
    def log(self) -> Path:
        return self.state_dir / "kubelet.log"

    @property
    def pod_logs_dir(self) -> Path:
        return self.state_dir / "pod-logs"


def render_config(s: KubeletSettings) -> dict[str, object]:
    """The KubeletConfiguration document."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": s.address,
        "port": s.port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": s.healthz_port,
        "tlsCertFile": str(s.serving.cert),
        "tlsPrivateKeyFile": str(s.serving.key),
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True, "cacheTTL": "30s"},
            "x509": {"clientCAFile": str(s.client_ca)},
        },
        "authorization": {
            "mode": "Webhook",
            "webhook": {"cacheAuthorizedTTL": "30s", "cacheUnauthorizedTTL": "5s"},
        },
        "containerRuntimeEndpoint": f"unix://{s.runtime_socket}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": "/" + s.cgroup_root.strip("/"),
        "cgroupsPerQOS": True,
        "enforceNodeAllocatable": ["pods"],
        "failSwapOn": False,
        "memorySwap": {},
        "podLogsDir": str(s.pod_logs_dir),
        "volumePluginDir": str(s.state_dir / "volume-plugins"),
        "evictionHard": {
            "memory.available": "10Mi",
            "nodefs.available": "10Mi",
            "nodefs.inodesFree": "100",
            "imagefs.available": "10Mi",
            "imagefs.inodesFree": "100",
        },
        "evictionPressureTransitionPeriod": "5s",
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "imageMinimumGCAge": "24h",
        "serializeImagePulls": False,
        "maxPods": 110,
        "clusterDomain": "cluster.local",
        "resolvConf": "/etc/resolv.conf",
        # no systemd inhibitor lock to take: there is no systemd
        "shutdownGracePeriod": "0s",
        "shutdownGracePeriodCriticalPods": "0s",
        "nodeStatusUpdateFrequency": "10s",
        "nodeStatusReportFrequency": "1m",
        "syncFrequency": "10s",
        "fileCheckFrequency": "20s",
        "kubeAPIQPS": 50,
        "kubeAPIBurst": 100,
        "registerNode": True,
        "localStorageCapacityIsolation": True,
        "protectKernelDefaults": False,
        "containerLogMaxSize": "10Mi",
        "containerLogMaxFiles": 2,
        "logging": {"format": "text"},
    }


def render_kubeconfig(server: str, cluster_ca: Path, client: KeyPair, node_name: str) -> str:
    """The kubelet's kubeconfig: the cluster's API server, as ``system:node:<node>``."""
    user = f"system:node:{node_name}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "sandbox", "cluster": {"server": server, "certificate-authority": str(cluster_ca)}}
        ],
        "users": [
            {"name": user, "user": {"client-certificate": str(client.cert), "client-key": str(client.key)}}
        ],
        "contexts": [{"name": "node", "context": {"cluster": "sandbox", "user": user}}],
        "current-context": "node",
    }
    return json.dumps(document, indent=2)


def write_files(s: KubeletSettings, *, server: str, cluster_ca: Path, client: KeyPair) -> None:
    """Write the kubelet's config and kubeconfig, and make its folders."""
    for folder in (s.root_dir, s.state_dir, s.pod_logs_dir, s.state_dir / "volume-plugins"):
        folder.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: the kubelet reads it as its config file
    s.config_path.write_text(json.dumps(render_config(s), indent=2))
    s.kubeconfig_path.write_text(render_kubeconfig(server, cluster_ca, client, s.node_name))
    s.kubeconfig_path.chmod(0o600)


def argv(binary: Path, s: KubeletSettings, verbosity: int = 2) -> list[str]:
    """The kubelet's command line: the settings a config file cannot hold."""
    return [
        str(binary),
        f"--config={s.config_path}",
        f"--kubeconfig={s.kubeconfig_path}",
        f"--root-dir={s.root_dir}",
        f"--cert-dir={s.state_dir / 'pki'}",
        f"--hostname-override={s.node_name}",
        f"--node-ip={s.node_ip}",
        f"--v={verbosity}",
    ]


def start(
    binary: Path, s: KubeletSettings, *, env: Mapping[str, str], cgroup: Path
) -> tuple[Daemon, subprocess.Popen[bytes]]:
    """Start the kubelet and wait for its /healthz (about half a second)."""
    daemon, popen = tools.start("kubelet", argv(binary, s), s.log, env=env, cgroup=cgroup)
    try:
        tools.wait_for(lambda: healthy(s), timeout=60, what="the kubelet's /healthz", daemon=daemon)
    except NodeError:
        daemon.stop()
        raise
    return daemon, popen


def healthy(s: KubeletSettings) -> bool:
    """Whether the kubelet's /healthz answers 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{s.healthz_port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def version(binary: Path) -> str:
    """``v1.33.13``: the kubelet binary's version."""
    words = tools.run([str(binary), "--version"], what="kubelet --version").stdout.split()
    return words[-1] if words else "unknown"
