"""Undo what a real node did to the machine, from its state file: after ``down``, or a crash.

:func:`collect`, in this order:

1. stop the kubelet; with containerd still up, kill and delete every pod container through it;
2. stop containerd and the registry (SIGTERM to the group, SIGKILL after the one grace period);
3. SIGKILL what is left: containerd's shims (found by our socket on their command line) and every
   process in the node's cgroups (containers whose shim died);
4. unmount everything at or under the state dir and the created paths, deepest first;
5. delete the veths on the node's bridge, then the bridge;
6. put back the sysctls the node changed (``net.ipv4.ip_forward``), if they still hold its value;
7. remove the node's cgroups in every hierarchy, bottom up, and the shim sockets;
8. remove the hard-coded host paths the node created, then the state dir (never across a mount).

Each step is idempotent and does nothing when there is nothing to undo, so :func:`collect` is
safe on a clean machine and after a half-finished start. It returns one line per thing it did.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from goldenpath import host
from goldenpath.node import containerd, system
from goldenpath.node.errors import NodeError
from goldenpath.node.state import HostState, StateFile


def collect(state: HostState, state_file: StateFile) -> list[str]:
    """Stop the node's processes and put the host back; what was done, one line each."""
    try:
        return _collect(state, state_file)
    except OSError as exc:  # the machine changed under us (a process or link just went): again
        raise NodeError(
            f"putting the host back after the real node failed: {exc}; run the command again"
        ) from exc


def _collect(state: HostState, state_file: StateFile) -> list[str]:
    done: list[str] = []
    did = done.append

    daemons = state.daemons()
    for daemon in (d for d in daemons if d.name == "kubelet"):
        if daemon.alive():
            daemon.stop()
            did(f"stopped the kubelet (pid {daemon.pid})")
    layout = containerd.Layout(Path(state.state_dir) / "containerd")
    # the shims' socket names derive from the task bundles, which go with the tasks
    state.shim_sockets = sorted({*state.shim_sockets, *containerd.shim_socket_paths(layout)})
    with contextlib.suppress(NodeError):
        removed = containerd.remove_all_containers(layout)
        if removed:
            did(f"removed {removed} pod containers through containerd")
    for daemon in reversed([d for d in daemons if d.name != "kubelet"]):
        if daemon.alive():
            daemon.stop()
            did(f"stopped {daemon.name} (pid {daemon.pid})")
    leftovers = set(containerd.shims_of(state.containerd_socket)) if state.containerd_socket else set()
    host.kill_pids(leftovers)
    if state.cgroup_root:
        leftovers |= system.cgroup_pids(state.cgroup_root)
        system.kill_cgroups(state.cgroup_root)
    if leftovers:
        did(f"killed {len(leftovers)} leftover processes (containerd shims and containers)")
    roots = [state.state_dir, *state.created_paths]
    mounts = system.mounts_under(roots)
    if mounts:
        system.unmount_all(roots)
        did(f"unmounted {len(mounts)} mounts under {state.state_dir}")
    deleted = system.delete_bridge(state.bridge) if system.link_exists(state.bridge) else []
    if deleted:
        did(f"deleted the network interfaces {', '.join(deleted)}")
    for name, values in state.sysctls.items():
        with contextlib.suppress(OSError):
            if system.read_sysctl(name) != values["old"]:
                system.write_sysctl(name, values["old"])
                did(f"restored {name} = {values['old']}")
    if state.cgroup_root:
        count = system.remove_cgroups(state.cgroup_root)
        if count:
            did(f"removed {count} cgroups under {state.cgroup_root}")
    for socket_path in state.shim_sockets:
        Path(socket_path).unlink(missing_ok=True)
    for created in sorted(state.created_paths, key=len, reverse=True):
        path = Path(created)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            did(f"removed {path} (the node created it)")
        elif path.exists() or path.is_symlink():
            path.unlink(missing_ok=True)
            did(f"removed {path} (the node created it)")
    state_dir = Path(state.state_dir)
    if system.mounts_under([str(state_dir)]):
        raise NodeError(f"{state_dir} still has mounts: see findmnt -R {state_dir}")
    state_file.remove()
    if state_dir.exists():
        shutil.rmtree(state_dir, ignore_errors=True)
        did(f"removed the node's state dir {state_dir}")
    return done
