"""The programs the node runs: found on PATH, run to completion, or kept running as daemons.

A daemon leads a process group of its own (:func:`goldenpath.host.start_group`) and is written
down as a :class:`Daemon`: its pid and the kernel's start time, so that whoever reads the state
file later, after a crash too, stops exactly that process and never one that got its pid since.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from goldenpath import host
from goldenpath.node.errors import PACKAGES_FIX, NodeError

PACKAGES = {
    "containerd": "containerd",
    "ctr": "containerd",
    "containerd-shim-runc-v2": "containerd",
    "runc": "runc",
    "docker-registry": "docker-registry",
    "podman": "podman",
    "debootstrap": "debootstrap",
    "openssl": "openssl",
    "ip": "iproute2",
    "mount": "mount",
    "umount": "mount",
    "tar": "tar",
}
"""Which Debian package provides a tool, for the message when it is missing."""


def require(tool: str, path: str | None = None) -> str:
    """The absolute path of ``tool`` on PATH, or a :class:`NodeError` naming its package."""
    found = shutil.which(tool, path=path)
    if found:
        return found
    if tool == "kubectl":
        raise NodeError("kubectl is not installed; the real node needs it: install kubectl")
    package = PACKAGES.get(tool, tool)
    raise NodeError(f"{tool} is not installed (Debian package {package}): {PACKAGES_FIX}")


def run(
    argv: Sequence[str],
    *,
    what: str = "",
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    stdin: str | None = None,
    cwd: Path | None = None,
    check: bool = True,
    hint: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; a failure is a one-line :class:`NodeError` (its last line)."""
    label = what or " ".join(argv[:3])
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        require(os.path.basename(argv[0]))
        raise NodeError(f"{label}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise NodeError(f"{label} timed out after {timeout:.0f}s{_hint(hint)}") from exc
    if check and done.returncode != 0:
        raise NodeError(f"{label} failed (exit {done.returncode}): {last_line(done)}{_hint(hint)}")
    return done


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    """What a failed command said last (tools put the reason there)."""
    lines = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()
    return lines[-1]


def _hint(hint: str) -> str:
    return f"; {hint}" if hint else ""


@dataclass(frozen=True)
class Daemon:
    """A long-running process of the node, as the state file records it."""

    name: str
    pid: int
    start_time: int
    """Clock ticks after boot (``/proc/PID/stat``): tells this process from a recycled pid."""
    log: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The record as the state file's JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Daemon:
        """A record read back from the state file."""
        return cls(str(data["name"]), int(data["pid"]), int(data["start_time"]), str(data.get("log", "")))

    def alive(self) -> bool:
        """Whether this very process still runs (not a zombie, not a recycled pid)."""
        return host.start_time(self.pid) == self.start_time

    def stop(self) -> None:
        """SIGTERM its process group, SIGKILL after the one grace period; idempotent."""
        if self.alive():
            host.stop_pids([self.pid], group=True)
        wait_for(lambda: not self.alive(), timeout=5, what=f"{self.name} (pid {self.pid}) to exit")


def start(
    name: str,
    argv: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str],
    cgroup: Path | None = None,
) -> tuple[Daemon, subprocess.Popen[bytes]]:
    """Start a daemon in a process group of its own, its output appended to ``log``.

    With ``cgroup`` (a cgroup folder) the process joins it before it execs, so everything it
    starts (containerd's shims, which outlive containerd) is found there after a crash.
    """
    if cgroup is not None:
        argv = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup), *argv]
    try:
        popen = host.start_group(argv, log, env=env)
    except OSError as exc:
        raise NodeError(f"could not start {name} ({argv[0]}): {exc}") from exc
    started = host.start_time(popen.pid)
    if started is None:
        popen.wait()
        raise NodeError(f"{name} exited at once (exit {popen.returncode}); see {log}")
    return Daemon(name, popen.pid, started, str(log)), popen


def wait_for(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    hint: str = "",
    interval: float = 0.05,
    daemon: Daemon | None = None,
) -> None:
    """Poll ``predicate()`` until it is true; fail when ``daemon`` exits or the time is up."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if daemon is not None and not daemon.alive():
            raise NodeError(f"{daemon.name} exited while waiting for {what}; see {daemon.log}")
        if time.monotonic() > deadline:
            log = f"; see {daemon.log}" if daemon is not None else ""
            raise NodeError(f"timed out after {timeout:.0f}s waiting for {what}{log}{_hint(hint)}")
        time.sleep(interval)
