"""A control group per guide run, so every process the run starts can be found and stopped.

A step can put a process out of reach of process groups and of the run id in its environment:
``setsid``, a double fork, ``env -i``. A cgroup v2 group cannot be left that way: children are
born in their parent's group, whatever they do to their session or environment. Each run gets
``<cgroup2 mount>/goldenpath-runs/<run id>``; the guide's shell, its background steps and the
stand-ins join it. At the end, what is still in it is listed for the report and killed. Where no
cgroup2 hierarchy is writable (not root, or no cgroup2 mount), runs fall back to the run-id sweep
of :func:`goldenpath.host.sweep`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from goldenpath.host import command_line
from goldenpath.node import system
from goldenpath.node.errors import NodeError

PARENT = "goldenpath-runs"


def _unified() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted and writable, or None."""
    with contextlib.suppress(OSError):
        for mount in system.mountinfo():
            if mount.fstype == "cgroup2" and os.access(mount.target, os.W_OK):
                return Path(mount.target)
    return None


class RunGroup:
    """The cgroup of one guide run; ``path`` is None when containment is unavailable here."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @classmethod
    def create(cls, run_id: str) -> RunGroup:
        mount = _unified()
        if mount is None:
            return cls(None)
        path = mount / PARENT / run_id
        try:
            path.mkdir(parents=True)
        except OSError:
            return cls(None)
        return cls(path)

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """``argv`` preceded by a shell that moves itself into the group, then execs it: joining
        before the program runs leaves no moment in which it could fork outside the group."""
        if self.path is None:
            return list(argv)
        join = 'echo $$ > "$0" 2>/dev/null; exec "$@"'
        return ["sh", "-c", join, str(self.path / "cgroup.procs"), *argv]

    def close(self) -> list[str]:
        """Kill what is left in the group and remove it; describe each process that was left."""
        return remove_group(self.path, "was still running after the guide") if self.path else []


def remove_group(path: Path, why: str) -> list[str]:
    """Kill every member of a run's group, remove the group (and its parent once empty); one line
    per process that was still in it, saying ``why`` it was."""
    if not path.is_dir():
        return []
    relative = f"{PARENT}/{path.name}"
    left = sorted(system.cgroup_pids(relative) - {os.getpid()})
    leaks = [f"process {pid} ({command_line(pid)[:200]}) {why}; stopped it" for pid in left]
    try:
        system.kill_cgroups(relative)
        system.remove_cgroups(relative)
    except NodeError as exc:
        leaks.append(str(exc))
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when no other run's group is in it
    return leaks
