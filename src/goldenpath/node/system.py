"""What the node touches of the machine itself: mounts, cgroups, network links and sysctls.

Plain reads of ``/proc`` and ``/sys`` and the few writes that undo the node's changes; what the
node changed is decided elsewhere (:mod:`goldenpath.node.state`), this module only does it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from goldenpath import host
from goldenpath.node import tools
from goldenpath.node.errors import NodeError

_MNT_DETACH = 2
"""umount2 flag: detach now, clean up when no longer busy (for a mount a dying process holds)."""


# -- mounts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    """One line of ``/proc/self/mountinfo``: where, and which file system."""

    target: str
    fstype: str


def _unescape(path: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes (\040 ...)
    return path.encode().decode("unicode_escape").encode("latin-1").decode()


def mountinfo() -> list[Mount]:
    """Every mount of this mount namespace, in mount order."""
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        mounts.append(Mount(_unescape(left.split()[4]), right.split()[0]))
    return mounts


def mounts_under(roots: Iterable[str]) -> list[str]:
    """Mount points at or under any of ``roots``, deepest (and latest) first."""
    prefixes = [os.path.realpath(root).rstrip("/") for root in roots if root]
    found = []
    for index, mount in enumerate(mountinfo()):
        if any(mount.target == p or mount.target.startswith(p + "/") for p in prefixes):
            found.append((mount.target.count("/"), index, mount.target))
    return [target for _, _, target in sorted(found, reverse=True)]


def unmount_all(roots: Iterable[str], timeout: float = 10.0) -> int:
    """Unmount everything at or under ``roots`` (lazily if busy); the number of mounts undone."""
    roots = list(roots)
    libc = ctypes.CDLL(None, use_errno=True)
    deadline = time.monotonic() + timeout
    count = 0
    while targets := mounts_under(roots):
        for target in targets:
            if libc.umount2(target.encode(), 0) != 0:
                libc.umount2(target.encode(), _MNT_DETACH)
            count += 1
        if time.monotonic() > deadline:
            raise NodeError(f"could not unmount {targets[0]}: see findmnt -R {targets[0]}")
    return count


# -- cgroups --------------------------------------------------------------------------------------


def cgroup_mounts() -> list[Path]:
    """Mount points of every cgroup v1 hierarchy and of the cgroup2 (unified) one."""
    return [Path(m.target) for m in mountinfo() if m.fstype in ("cgroup", "cgroup2")]


def create_cgroups(relative: str) -> None:
    """The cgroup ``relative`` in every hierarchy (the kubelet's cgroupRoot must exist in all)."""
    for mount in cgroup_mounts():
        (mount / relative).mkdir(parents=True, exist_ok=True)


def cgroup_dirs(relative: str) -> list[Path]:
    """Every cgroup at or under ``relative`` in every hierarchy, deepest first."""
    if not relative.strip("/"):
        raise NodeError("refusing to touch the root cgroup: the node's cgroup root is empty")
    found: list[Path] = []
    for mount in cgroup_mounts():
        top = mount / relative.strip("/")
        if top.is_dir():
            found.extend(Path(folder) for folder, _, _ in os.walk(top))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def cgroup_pids(relative: str) -> set[int]:
    """Live processes in the cgroups at or under ``relative`` (a zombie waits for its parent)."""
    pids: set[int] = set()
    for folder in cgroup_dirs(relative):
        with contextlib.suppress(OSError):
            pids.update(int(x) for x in (folder / "cgroup.procs").read_text().split())
    return {pid for pid in pids if host.start_time(pid) is not None}


def kill_cgroups(relative: str, timeout: float = 10.0) -> int:
    """SIGKILL every process in the cgroups until none is left; how many there were."""
    deadline = time.monotonic() + timeout
    killed: set[int] = set()
    while pids := cgroup_pids(relative):
        host.kill_pids(pids)
        killed |= pids
        if time.monotonic() > deadline:
            raise NodeError(
                f"processes {sorted(pids)} in cgroup {relative} survive SIGKILL: see ps -o pid,stat,cmd"
            )
        time.sleep(0.05)
    return len(killed)


def remove_cgroups(relative: str, timeout: float = 10.0) -> int:
    """rmdir the cgroups bottom up in every hierarchy; how many were removed."""
    deadline = time.monotonic() + timeout
    removed = 0
    for folder in cgroup_dirs(relative):
        while True:
            try:
                folder.rmdir()
                removed += 1
                break
            except FileNotFoundError:
                break
            except OSError as exc:  # EBUSY while the kernel finishes with exited tasks
                if time.monotonic() > deadline:
                    raise NodeError(f"could not remove cgroup {folder}: {exc}; are processes in it?") from exc
                time.sleep(0.05)
    return removed


# -- network and sysctls --------------------------------------------------------------------------


def links() -> dict[str, str]:
    """Network interface name -> the bridge it is enslaved to ("" for none)."""
    result = {}
    for entry in Path("/sys/class/net").iterdir():
        try:
            result[entry.name] = os.path.basename(os.readlink(entry / "master"))
        except FileNotFoundError:  # no master, or a pod's veth the kernel is removing right now
            result[entry.name] = ""
        except OSError:
            continue
    return result


def link_exists(name: str) -> bool:
    """Whether a network interface of that name exists."""
    return bool(name) and Path(f"/sys/class/net/{name}").exists()


def delete_bridge(bridge: str) -> list[str]:
    """Delete the veths on ``bridge``, then the bridge; the names of what was deleted."""
    if not bridge:
        return []
    deleted = []
    ip = tools.require("ip")
    for name, master in links().items():
        if master == bridge:
            tools.run([ip, "link", "delete", name], what=f"ip link delete {name}", check=False)
            deleted.append(name)
    if link_exists(bridge):
        tools.run([ip, "link", "delete", bridge], what=f"ip link delete {bridge}")
        deleted.append(bridge)
    return deleted


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def read_sysctl(name: str) -> str:
    """A sysctl's value, ``net.ipv4.ip_forward`` -> ``0``."""
    return _sysctl_path(name).read_text().strip()


def write_sysctl(name: str, value: str) -> None:
    """Set a sysctl."""
    _sysctl_path(name).write_text(value + "\n")
