"""A private containerd for the node: its own config, root, state dir and socket.

Nothing of the system's containerd is used (/etc/containerd, /var/lib/containerd and
/run/containerd stay untouched, except /run/containerd/s, where containerd 1.6 hard-codes its
shim sockets: :data:`SHIM_SOCKET_DIR`). Settings that matter here:

- ``restrict_oom_score_adj = true``: root on these machines lacks CAP_SYS_RESOURCE, so the -998
  containerd gives the pause container is refused and runc fails ("can't get final child's PID
  from pipe: EOF");
- ``netns_mounts_under_state_dir = true``: pod network namespaces under the state dir, not
  /run/netns; runc's ``Root`` there too (runc's default is /run/containerd/runc);
- ``registry.config_path``: a ``hosts.toml`` per mapped registry host, so the platform registry's
  images are pulled over plain HTTP from the local registry while pod specs keep their names.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from goldenpath import host
from goldenpath.node import tools
from goldenpath.node.errors import NodeError
from goldenpath.node.tools import Daemon

SHIM_SOCKET_DIR = Path("/run/containerd/s")
"""Where containerd 1.6's runc v2 shims put their sockets, whatever the config says."""
NAMESPACE = "k8s.io"
"""containerd's namespace of the CRI plugin: everything the kubelet runs."""
UNUSED_PLUGINS = (
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.internal.v1.tracing",
    "io.containerd.tracing.processor.v1.otlp",
)
"""Plugins the node never uses; on these machines they only log errors."""


@dataclass(frozen=True)
class Layout:
    """Where one private containerd keeps everything."""

    base: Path

    @property
    def config(self) -> Path:
        return self.base / "config.toml"

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def state(self) -> Path:
        return self.base / "state"

    @property
    def socket(self) -> Path:
        return self.base / "containerd.sock"

    @property
    def runc_root(self) -> Path:
        return self.base / "runc"

    @property
    def hosts_dir(self) -> Path:
        return self.base / "certs.d"

    @property
    def log(self) -> Path:
        return self.base / "containerd.log"


def _toml(value: object) -> str:
    """A TOML scalar or list (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def render_config(layout: Layout, *, sandbox_image: str, cni_bin_dir: Path, cni_conf_dir: Path) -> str:
    """containerd's ``config.toml`` (version 2): everything under ``layout``, CRI for the kubelet."""
    cri = '[plugins."io.containerd.grpc.v1.cri"]'
    runc = f"{cri[:-1]}.containerd.runtimes.runc]"
    lines = [
        "# written by goldenpath: the private containerd of the sandbox's real node",
        "version = 2",
        f"root = {_toml(layout.root)}",
        f"state = {_toml(layout.state)}",
        "oom_score = 0",
        f"disabled_plugins = {_toml(UNUSED_PLUGINS)}",
        "",
        "[grpc]",
        f"  address = {_toml(layout.socket)}",
        "[ttrpc]",
        f"  address = {_toml(str(layout.socket) + '.ttrpc')}",
        "[debug]",
        '  address = ""',
        "[metrics]",
        '  address = ""',
        "",
        '[plugins."io.containerd.internal.v1.opt"]',
        f"  path = {_toml(layout.base / 'opt')}",  # default /opt/containerd
        "",
        cri,
        f"  sandbox_image = {_toml(sandbox_image)}",
        "  restrict_oom_score_adj = true",
        "  netns_mounts_under_state_dir = true",
        "  disable_tcp_service = true",
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        "  enable_selinux = false",
        "  disable_apparmor = true",
        "  systemd_cgroup = false",
        "  max_container_log_line_size = 16384",
        f"  {cri[:-1]}.cni]",
        f"    bin_dir = {_toml(cni_bin_dir)}",
        f"    conf_dir = {_toml(cni_conf_dir)}",
        "    max_conf_num = 1",
        f"  {cri[:-1]}.containerd]",
        '    snapshotter = "overlayfs"',
        '    default_runtime_name = "runc"',
        f"    {runc}",
        '      runtime_type = "io.containerd.runc.v2"',
        f"      {runc[:-1]}.options]",
        f"        Root = {_toml(layout.runc_root)}",
        "        SystemdCgroup = false",
        f"  {cri[:-1]}.registry]",
        f"    config_path = {_toml(layout.hosts_dir)}",
        "",
    ]
    return "\n".join(lines)


def render_hosts_toml(endpoint: str) -> str:
    """A ``hosts.toml``: pull and resolve from ``endpoint`` (``http://127.0.0.1:PORT``)."""
    return f'server = {_toml(endpoint)}\n\n[host.{_toml(endpoint)}]\n  capabilities = ["pull", "resolve"]\n'


def write_config(
    layout: Layout,
    *,
    sandbox_image: str,
    cni_bin_dir: Path,
    cni_conf_dir: Path,
    registry_hosts: Mapping[str, str],
) -> None:
    """Write ``config.toml`` and one ``certs.d/<host>/hosts.toml`` per mapped registry host."""
    for path in (layout.root, layout.state, layout.runc_root, layout.hosts_dir):
        path.mkdir(parents=True, exist_ok=True)
    layout.config.write_text(
        render_config(layout, sandbox_image=sandbox_image, cni_bin_dir=cni_bin_dir, cni_conf_dir=cni_conf_dir)
    )
    for registry_host, endpoint in registry_hosts.items():
        folder = layout.hosts_dir / registry_host
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hosts.toml").write_text(render_hosts_toml(endpoint))


def start(layout: Layout, *, env: Mapping[str, str], cgroup: Path) -> tuple[Daemon, subprocess.Popen[bytes]]:
    """Start containerd and wait until its CRI plugin answers (about 0.2 s)."""
    binary = tools.require("containerd")
    tools.require("containerd-shim-runc-v2")
    tools.require("runc")
    if len(str(layout.socket)) > 100:  # sun_path has 108 bytes; the ttrpc socket adds 6
        raise NodeError(
            f"containerd's socket path {layout.socket} is too long for a unix socket: "
            "set GOLDENPATH_SANDBOX_DIR to a shorter folder"
        )
    layout.socket.unlink(missing_ok=True)
    daemon, popen = tools.start(
        "containerd", [binary, "--config", str(layout.config)], layout.log, env=env, cgroup=cgroup
    )
    try:
        tools.wait_for(lambda: _answers(layout.socket), timeout=30, what="containerd's socket", daemon=daemon)
        tools.wait_for(lambda: _cri_ready(layout), timeout=30, what="containerd's CRI plugin", daemon=daemon)
    except NodeError:
        daemon.stop()
        raise
    return daemon, popen


def _answers(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(str(path)) == 0


def _cri_ready(layout: Layout) -> bool:
    for line in ctr(layout, "plugins", "ls", check=False).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == "io.containerd.grpc.v1" and fields[1] == "cri":
            if fields[-1] != "ok":
                raise NodeError(f"containerd's CRI plugin did not load ({fields[-1]}): see {layout.log}")
            return True
    return False


def ctr(
    layout: Layout, *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``ctr`` against this containerd, in the CRI namespace."""
    command = [tools.require("ctr"), "--address", str(layout.socket), "--namespace", NAMESPACE, *args]
    return tools.run(command, what=f"ctr {' '.join(args[:2])}", check=check, timeout=timeout)


def import_image(layout: Layout, archive: Path) -> None:
    """Import an OCI archive (its index names the image); unpacked, as the CRI plugin needs it."""
    ctr(layout, "images", "import", str(archive), timeout=300)


def version() -> str:
    """``1.6.20~ds1``: the installed containerd's version."""
    words = tools.run([tools.require("containerd"), "--version"], what="containerd --version").stdout.split()
    return words[2] if len(words) > 2 else "unknown"


def images(layout: Layout) -> dict[str, str]:
    """Every image reference in the CRI namespace -> its target (manifest) digest."""
    refs = {}
    for line in ctr(layout, "images", "ls").stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3:
            refs[fields[0]] = fields[2]
    return refs


def remove_images(layout: Layout, names: Iterable[str], keep: Iterable[str]) -> list[str]:
    """Delete the images ``names`` and every other reference to the same digest (the CRI plugin
    adds ``name@sha256:...`` and ``sha256:<config>``), except digests an image of ``keep`` has."""
    refs = images(layout)
    kept = {refs[name] for name in keep if name in refs}
    doomed = {refs[name] for name in names if name in refs} - kept
    gone = sorted(ref for ref, digest in refs.items() if digest in doomed)
    if gone:
        ctr(layout, "images", "rm", *gone)
    return gone


def remove_all_containers(layout: Layout) -> int:
    """Kill and delete every task and container of the CRI namespace (fast, best effort)."""
    if not _answers(layout.socket):
        return 0
    tasks = ctr(layout, "tasks", "ls", "-q", check=False, timeout=10).stdout.split()
    for task in tasks:
        ctr(layout, "tasks", "kill", "--all", "--signal", "SIGKILL", task, check=False, timeout=10)
    deadline = time.monotonic() + 5
    for task in tasks:
        while time.monotonic() < deadline:
            done = ctr(layout, "tasks", "delete", "--force", task, check=False, timeout=10)
            if done.returncode == 0 or "not found" in done.stderr:
                break
            time.sleep(0.1)
    containers = ctr(layout, "containers", "ls", "-q", check=False, timeout=10).stdout.split()
    if containers:
        ctr(layout, "containers", "delete", *containers, check=False, timeout=30)
    return len(containers)


def shim_socket_paths(layout: Layout) -> list[str]:
    """The sockets containerd 1.6 gave the shims of its current tasks.

    ``runtime/v2/shim.SocketAddress``: ``/run/containerd/s/<sha256 of "<grpc address>/<ns>/<id>">``,
    computed from the task bundles in the state dir, so it works when containerd is dead.
    """
    bundles = layout.state / "io.containerd.runtime.v2.task" / NAMESPACE
    if not bundles.is_dir():
        return []
    return [
        str(SHIM_SOCKET_DIR / hashlib.sha256(f"{layout.socket}/{NAMESPACE}/{b.name}".encode()).hexdigest())
        for b in bundles.iterdir()
    ]


def shims_of(socket_path: str) -> list[int]:
    """Live runc v2 shims of the containerd at ``socket_path`` (it is on their command line)."""

    def ours(pid: int, _stat: str) -> bool:
        argv = host.command_line(pid).split()
        return bool(argv) and argv[0].endswith("containerd-shim-runc-v2") and socket_path in argv

    return list(host.processes(ours))
