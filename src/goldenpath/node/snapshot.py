"""What the machine looks like where a real node could change it, to compare before and after.

:func:`snapshot` is plain data, equal before a node starts and after it stopped (normally or by
``kill -9`` and collection); :func:`differences` says, one line each, what is not.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from goldenpath import host
from goldenpath.node import system, tools
from goldenpath.node.config import CGROUP_ROOT

WATCHED_PATHS = (
    "/var/lib/kubelet",
    "/var/log/containers",
    "/var/log/pods",
    "/var/lib/cni",
    "/run/netns",
    "/run/containerd",
    "/var/lib/containerd",
    "/var/lib/containers",
    "/run/containers",
    "/run/libpod",
    "/etc/cni/net.d",
    "/opt/cni",
    "/opt/containerd",
    "/usr/libexec/kubernetes",
    "/dev/shm/libpod_lock",
)
"""Hard-coded paths of the kubelet, containerd, libcni and podman."""
PROGRAMS = (
    "kubelet",
    "containerd",
    "containerd-shim",
    "containerd-shim-runc-v2",
    "docker-registry",
    "conmon",
    "catatonit",
    "podman",
    "buildah",
    "pause",
    "runc",
)


def snapshot() -> dict[str, Any]:
    """The host state a node could change, as plain data."""
    iptables: dict[str, list[str]] = {}
    for tool in ("iptables-save", "ip6tables-save", "iptables-legacy-save"):
        path = shutil.which(tool)
        if path:
            out = tools.run([path], what=tool, check=False).stdout
            # chain lines carry packet counters: compare the chain names only
            iptables[tool] = [
                line.split(" [")[0] if line.startswith(":") else line
                for line in out.splitlines()
                if line and not line.startswith("#")
            ]
    programs = []
    for pid in host.processes(lambda _pid, _stat: True):
        argv0 = host.command_line(pid).split(" ", 1)[0]
        if os.path.basename(argv0) in PROGRAMS:
            programs.append(f"{pid} {argv0}")
    cgroups = [str(p) for p in system.cgroup_dirs(CGROUP_ROOT)]
    for mount in system.cgroup_mounts():
        if (mount / "libpod_parent").exists():
            cgroups.append(str(mount / "libpod_parent"))
    return {
        "iptables": iptables,
        "links": sorted(system.links()),
        "mounts": sorted({m.target for m in system.mountinfo()}),
        "ip_forward": system.read_sysctl("net.ipv4.ip_forward"),
        "cgroups": sorted(cgroups),
        "paths": [p for p in WATCHED_PATHS if os.path.lexists(p)],
        "run_netns": sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else [],
        "programs": sorted(programs),
    }


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """One line per thing that changed between two snapshots (programs compare by name)."""
    lines = []
    for key in before:
        old, new = before[key], after.get(key)
        if key == "programs":
            old = sorted(p.split(" ", 1)[1] for p in old)
            new = sorted(p.split(" ", 1)[1] for p in new or [])
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list):
            added = [x for x in new if x not in old]
            gone = [x for x in old if x not in new]
            lines.append(f"{key}: added {added}, removed {gone}")
        else:
            lines.append(f"{key}: {old!r} -> {new!r}")
    return lines
