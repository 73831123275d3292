"""What goldenpath does to this machine's process table: process groups, stopping, sweeping, ports.

Every process a run starts (the guide's shell, background steps, stand-ins, cluster components)
leads a process group of its own and is stopped the same way: SIGTERM to the group, SIGKILL after
one grace period. Processes that escaped their group are found by the run id in their
environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

GRACE = 2.0
"""Seconds a stopped process group gets between SIGTERM and SIGKILL."""


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group led by ``proc``, SIGKILL it after the grace period, reap ``proc``."""
    stop_pids([proc.pid], group=True, poll=proc.poll)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=GRACE)


def stop_pids(pids: Iterable[int], *, group: bool = False, poll: Callable[[], object] | None = None) -> None:
    """Stop processes (or the groups they lead): SIGTERM, then SIGKILL what is left after GRACE.

    ``poll`` reaps a child among them while waiting (a zombie leader never counts as alive).
    """
    pids = list(pids)
    kill = os.killpg if group else os.kill
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGTERM)
    alive = group_alive if group else pid_alive
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        if poll is not None:
            poll()
        if not any(alive(pid) for pid in pids):
            break
        time.sleep(0.02)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def start_group(
    argv: Sequence[str], log: Path, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a long-running process leading a new process group, its output appended to ``log``.

    Raises ``OSError`` when it cannot be started (the caller says which program and why).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )


def kill_pids(pids: Iterable[int]) -> None:
    """SIGKILL processes at once: for what is left after its owner was stopped (a container, a
    containerd shim), which has nothing to shut down gracefully."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def start_time(pid: int) -> int | None:
    """When a process started (clock ticks after boot), or None when it is gone or a zombie.

    A pid and its start time name one process for good: a pid recycled after a crash has
    another start time, so a state file never makes us signal a stranger.
    """
    stat = _stat(pid)
    if stat is None:
        return None
    fields = _fields(stat)
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine still runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _stat(pid)
    return stat is None or _state(stat) != "Z"


def group_alive(pgid: int) -> bool:
    """Whether a process group still has a live (non-zombie) member."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    return any(True for _ in processes(lambda pid, stat: _pgrp(stat) == pgid))


def _stat(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _fields(stat: str) -> list[str]:
    # /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses
    return stat[stat.rfind(")") + 2 :].split()


def _state(stat: str) -> str:
    fields = _fields(stat)
    return fields[0] if fields else ""


def _pgrp(stat: str) -> int:
    fields = _fields(stat)
    return int(fields[2]) if len(fields) > 2 and fields[0] != "Z" else -1


def processes(test: Callable[[int, str], bool]) -> Iterator[int]:
    """Pids of the live processes whose ``/proc/PID/stat`` line passes ``test(pid, stat)``."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _stat(pid)
        if stat is not None and test(pid, stat):
            yield pid


def carrying(name: str, value: str) -> list[int]:
    """Live processes (not this one) whose environment holds ``name=value``."""
    if not os.path.isdir("/proc"):
        return []
    marker = f"{name}={value}".encode()
    me = os.getpid()

    def carries(pid: int, stat: str) -> bool:
        if pid == me or _pgrp(stat) == -1:
            return False
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                return marker in handle.read().split(b"\0")
        except OSError:
            return False

    return list(processes(carries))


def mentioning(*markers: str) -> list[int]:
    """Live processes (not this one) whose command line contains any of ``markers``."""
    me = os.getpid()
    return [
        pid
        for pid in processes(lambda pid, _stat: pid != me)
        if any(marker in command_line(pid) for marker in markers)
    ]


def command_line(pid: int) -> str:
    """The command line of a process, for reports ("" when it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def sweep(name: str, value: str) -> list[str]:
    """Kill every live process that carries ``name=value`` in its environment; describe each."""
    leaks = []
    for pid in carrying(name, value):
        cmdline = command_line(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        leaks.append(f"process {pid} ({cmdline[:200]}) was still running after the guide; stopped it")
    return leaks


def stop_pid_files(folder: Path) -> None:
    """Stop the processes named by ``*.pid`` files in ``folder`` (a killed cluster's components)."""
    if not folder.is_dir():
        return
    pids = []
    for pid_file in folder.glob("*.pid"):
        with contextlib.suppress(ValueError, OSError):
            pids.append(int(pid_file.read_text().strip()))
    stop_pids([pid for pid in pids if pid_alive(pid)])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exit_status(returncode: int) -> int:
    """A shell's view of a return code: a process killed by signal N exited with 128 + N."""
    return 128 - returncode if returncode < 0 else returncode
