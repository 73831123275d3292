"""The state file: everything a real node owns on the machine, written down before it changes.

:class:`HostState` is saved as JSON in the node's state dir (temp file, fsync, rename) *before*
each change it records, so whoever finds it later (``down``, or the next start after a crash,
``kill -9`` included) can undo exactly that with :func:`goldenpath.node.collect.collect`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from goldenpath.node import system
from goldenpath.node.errors import NodeError
from goldenpath.node.tools import Daemon

VERSION = 1
"""Of the file's layout: a file of another version is refused, not misread."""
STATE_FILE = "hoststate.json"


@dataclass
class HostState:
    """Everything one real node owns on the host."""

    cluster: str
    """The kwok cluster the node belongs to."""
    state_dir: str
    node_name: str = ""
    owner: dict[str, Any] | None = None
    """The process the node lives for (a :class:`Daemon` record): when it is dead, so is the node.
    None for a node that lives until ``goldenpath sandbox down``."""
    processes: list[dict[str, Any]] = field(default_factory=list)
    mount_roots: list[str] = field(default_factory=list)
    bridge: str = ""
    sysctls: dict[str, dict[str, str]] = field(default_factory=dict)
    """name -> {"old": the value before, "new": the value the node (its bridge plugin) sets}."""
    cgroup_root: str = ""
    """A cgroup path (``goldenpath-realnode``) under every hierarchy, removed with all below it."""
    created_paths: list[str] = field(default_factory=list)
    """Hard-coded host paths that did not exist before the node: removed when it stops."""
    containerd_socket: str = ""
    shim_sockets: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    """What users of the running node need: the registry address, the images to keep."""
    version: int = VERSION
    started: float = field(default_factory=time.time)

    def to_json(self) -> str:
        """The state as the file's JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HostState:
        """The state of a file's JSON; a file of another layout version is refused."""
        data = json.loads(text)
        if data.get("version") != VERSION:
            raise NodeError(
                f"the node's state file has version {data.get('version')}, this goldenpath reads "
                f"{VERSION}: stop the node with the goldenpath that started it"
            )
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def daemons(self) -> list[Daemon]:
        """The recorded processes, alive or not."""
        return [Daemon.from_dict(p) for p in self.processes]

    def live_daemons(self) -> list[Daemon]:
        """The recorded processes that still run (a recycled pid does not count)."""
        return [d for d in self.daemons() if d.alive()]

    def owner_alive(self) -> bool:
        """Whether the process the node lives for still runs (True without one)."""
        return self.owner is None or Daemon.from_dict(self.owner).alive()

    def running(self) -> bool:
        """A node runs while one of its processes does and whoever it lives for still lives."""
        return bool(self.live_daemons()) and self.owner_alive()

    def describe(self) -> str:
        """Its processes, for messages: ``registry 15604, containerd 15610, kubelet 15712``."""
        return ", ".join(f"{d.name} {d.pid}" for d in self.live_daemons()) or "no process alive"


class StateFile:
    """The JSON file of one node's :class:`HostState`, rewritten atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> HostState | None:
        """The recorded state, or None when there is no file."""
        try:
            return HostState.from_json(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise NodeError(
                f"the node's state file {self.path} is unreadable ({exc}): undo what it lists by hand, "
                "then delete it"
            ) from exc

    def save(self, state: HostState) -> None:
        """Replace the file with ``state`` atomically, on disk before this returns."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(state.to_json())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        # the rename itself must reach the disk before the change it announces is made
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def remove(self) -> None:
        """Delete the file (the node is gone)."""
        self.path.unlink(missing_ok=True)


def watch_paths(state: HostState, paths: Iterable[Path]) -> None:
    """Record hard-coded paths that do not exist yet: a daemon may create them, we remove them.

    The top-most missing folder is recorded, so ``/var/lib/kubelet/device-plugins`` on a machine
    without ``/var/lib/kubelet`` removes ``/var/lib/kubelet`` and nothing of what was there.
    """
    for path in paths:
        if path.exists() or any(Path(p) in (path, *path.parents) for p in state.created_paths):
            continue
        top = path
        for parent in path.parents:
            if parent.exists():
                break
            top = parent
        state.created_paths.append(str(top))


def remember_sysctl(state: HostState, name: str, new: str) -> None:
    """Record ``name``'s value before something (the bridge plugin) sets it to ``new``."""
    if name not in state.sysctls:
        state.sysctls[name] = {"old": system.read_sysctl(name), "new": new}
