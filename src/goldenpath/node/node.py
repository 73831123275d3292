"""The machine's real node: start it for a cluster, share it, refuse a second one, stop it,
and collect one whose owner died.

Only one real node runs per machine: the bridge, the subnet, the cgroup root, the kubelet's
hard-coded paths and the node's name are machine-wide. :class:`RealNode` holds an flock on
``<sandbox>/realnode.lock`` while it starts or stops a node and reads the state file of the node
that may already run: the same cluster's node is shared, another cluster's is refused with a
message that names it, and a dead one (no process left, or its owner gone) is collected first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from goldenpath.node import collect, tools
from goldenpath.node.config import NodeConfig, NodeInfo, state_dir
from goldenpath.node.errors import NodeError
from goldenpath.node.state import STATE_FILE, HostState, StateFile
from goldenpath.node.tools import Daemon

LOCK_NAME = "realnode.lock"
STOP_HINT = "goldenpath sandbox down --sandbox real-node"
LOCK_TIMEOUT = 300.0
"""Seconds to wait for another process's start or stop (a first base image build takes ~1 min)."""


class RealNode:
    """The real node of one sandbox folder (one per machine): its lock and its state file."""

    def __init__(self, sandbox_dir: Path, say: Callable[[str], None] | None = None) -> None:
        self.sandbox_dir = sandbox_dir
        self.say = say or (lambda _line: None)
        self.state_file = StateFile(state_dir(sandbox_dir) / STATE_FILE)
        self._popens: dict[int, subprocess.Popen[bytes]] = {}
        self._depth = 0

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the machine's node lock (re-entrant for this object)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        path = self.sandbox_dir / LOCK_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC: the daemons started while it is held must not inherit (and keep) the lock
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "?"
                        raise NodeError(
                            f"another process ({holder}) has been starting or stopping the real node for "
                            f"{LOCK_TIMEOUT:.0f}s ({path}): wait for it, or stop it"
                        ) from None
                    time.sleep(0.2)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
        finally:
            os.close(fd)  # releases the flock

    def state(self) -> HostState | None:
        """The state file's node, running or not (None: no node was started)."""
        return self.state_file.load()

    def running(self, cluster: str | None = None) -> NodeInfo | None:
        """The running node (of ``cluster``, if given), or None."""
        found = self.state()
        if found is None or not found.running() or (cluster is not None and found.cluster != cluster):
            return None
        return NodeInfo.from_state(found, shared=True)

    def collect_dead(self) -> list[str]:
        """Collect a node whose processes or owner died: a first line saying so, then one line
        per thing removed."""
        with self.locked():
            found = self.state()
            if found is None or found.running():
                return []
            head = f"collecting the real node of cluster {found.cluster}, left by a process that died"
            return [head, *collect.collect(found, self.state_file)]

    def check_free(self, cluster: str) -> None:
        """Raise, before a cluster is made for nothing, when another cluster's node runs here."""
        found = self.state()
        if found is not None and found.running() and found.cluster != cluster:
            raise NodeError(self.refusal(found))

    def refusal(self, found: HostState) -> str:
        """The one-line refusal when ``found``'s node runs for another cluster."""
        if found.owner is not None:
            owner = Daemon.from_dict(found.owner).pid
            how = f"it belongs to the check run of process {owner}: wait for that run to end"
        else:
            how = f"stop it with '{STOP_HINT}' or use that cluster"
        return (
            f"a real node for cluster {found.cluster!r} already runs on this machine ({found.describe()}; "
            f"{self.state_file.path}); only one can (the kubelet's paths, the bridge and the cgroups are "
            f"machine-wide): {how}"
        )

    def up(self, config: NodeConfig) -> NodeInfo:
        """Start the node for ``config``'s cluster, or share the one that runs for it."""
        from goldenpath.node import start  # the start sequence (images, daemons) loads to start

        with self.locked():
            found = self.state()
            if found is not None and found.running():
                if found.cluster != config.cluster_name:
                    raise NodeError(self.refusal(found))
                return NodeInfo.from_state(found, shared=True)
            for line in self.collect_dead():
                self.say(line)
            start.preflight(config)
            archives = start.images(config, self.say)
            hs = start.new_state(config)
            config.state_dir.mkdir(parents=True, exist_ok=True)
            self.state_file.save(hs)
            try:
                return start.bring_up(config, hs, self.state_file, self._popens, archives)
            except BaseException:
                with contextlib.suppress(NodeError):
                    collect.collect(hs, self.state_file)
                self._reap()
                raise

    def down(self, cluster: str | None = None, kubeconfig: Path | None = None) -> list[str]:
        """Stop the node (only ``cluster``'s, if given) and put the host back; what was done.

        With ``kubeconfig`` the Node object is deleted from the cluster first (best effort).
        """
        with self.locked():
            found = self.state()
            if found is None or (cluster is not None and found.cluster != cluster):
                return []
            if kubeconfig is not None and kubeconfig.is_file() and found.node_name:
                with contextlib.suppress(NodeError):
                    tools.run(
                        [
                            tools.require("kubectl"),
                            "--kubeconfig",
                            str(kubeconfig),
                            "delete",
                            "node",
                            found.node_name,
                            "--ignore-not-found",
                            "--wait=false",
                            "--request-timeout=5s",
                        ],
                        what="kubectl delete node",
                        timeout=10,
                    )
            done = collect.collect(found, self.state_file)
            self._reap()
            return done

    def status(self) -> dict[str, Any]:
        """The node as plain data: running or not, its cluster, processes and registry."""
        found = self.state()
        if found is None:
            return {"running": False}
        return {
            "running": found.running(),
            "cluster": found.cluster,
            "node": found.node_name,
            "processes": {d.name: d.pid for d in found.live_daemons()},
            "owner_alive": found.owner_alive(),
            "registry": found.info.get("registry", ""),
            "state_file": str(self.state_file.path),
        }

    def _reap(self) -> None:
        # the daemons this process started are its children: wait for them, or they stay zombies
        for popen in self._popens.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=1)
        self._popens.clear()
