"""The persistent shell of a guide run: one ``bash`` per guide, fed one sourced script per command.

All ``run`` steps of a guide run in one long-lived ``bash`` process, so the working directory,
variables and functions carry from step to step exactly as in a reader's terminal. Each command is
written to a script file, and a short request on the shell's input sources a protocol script,
which sources the command with its output redirected to files of its own, reports the exit code
and working directory on a private pipe, then sends the shell's state (``export -p``) on another.
The shell runs in its own process group: a step that outlives its timeout is stopped by killing
that group, and the shell is started again from the saved state so later steps (cleanup above
all) still run.

A step costs the shell no new process and few system calls, and the runner's share of the work
runs while the shell does its own: bash reads its input one byte at a time (so as not to read
ahead of a command that reads it), so a request is a short line; the runner waits on the report
alone, written once, so it wakes once per command, and takes the state (kept in memory, written
to a file only when a shell or a background step starts from it) while the next command runs.
Two protocol scripts take turns, each with its own output files, so the files of one command are
removed while the next one runs, and a process a command left running never writes into the
output of a later one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shlex
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from goldenpath.errors import SandboxError
from goldenpath.host import GRACE, exit_status, stop_group
from goldenpath.run.cancel import Watch
from goldenpath.sandbox.base import Session

MAX_OUTPUT = 4 * 1024 * 1024
"""Bytes of a step's output kept for matching (the end of it)."""

_POLL = 0.2
"""Seconds between looks at a cancelled run, a shell that died, or a state too big for its pipe."""

_PROTOCOL_VAR = "__goldenpath"
"""The shell variables naming the two protocol scripts (``__goldenpath0``, ``__goldenpath1``)."""
_REQUESTS = tuple(f'. "${_PROTOCOL_VAR}{turn}"\n'.encode() for turn in (0, 1))
_STATE_PIPE_SIZE = 1 << 20
"""Bytes the state pipe holds (Linux's default limit), so ``export -p`` does not wait for the runner."""
_READ_SIZE = 1 << 16


@dataclass(frozen=True)
class ShellOutput:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    died: bool = False
    """The command ended the shell (``exit``, ``set -e``); it restarts from the saved state."""


class Shell:
    """One persistent bash per guide run, fed one sourced script per command."""

    def __init__(self, session: Session, cancel: Watch, secret_vars: Iterable[str] = ()) -> None:
        self.session = session
        self.cancel = cancel
        self.secret_vars = tuple(secret_vars)
        """Left out of the saved state: a secret stays in memory (a restart gets it from the session)."""
        self.scratch = session.scratch
        self.cwd = session.workspace
        self.exported: bytes | None = None
        """``export -p`` after the latest command whose state arrived (None before the first)."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.commands = self.reports = self.states = -1
        """The shell's input, and the pipes of its reports and of its state (-1: no shell)."""
        self.reported = self.received = 0
        """Commands that reported, and states that arrived, since the shell started."""
        self.state_chunks: list[bytes] = []
        """The part of a state that arrived so far."""
        self.turn = 0
        self.outputs = [(str(self.scratch / f"out-{t}"), str(self.scratch / f"err-{t}")) for t in (0, 1)]
        """The output files of each turn."""
        self.done: tuple[str, ...] = ()
        """Output files read already, removed once the next command is under way."""
        self.log = open(self.scratch / "shell.log", "ab")  # noqa: SIM115 - closed in close()
        command = self.scratch / "command.sh"
        self.command = os.open(command, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        """The command's script, rewritten for each command (the shell has read it by its report)."""
        self.command_file = str(command)

    def _start(self) -> subprocess.Popen[bytes]:
        pipes = [os.pipe() for _ in range(3)]
        (commands_in, commands), (reports, report_fd), (states, state_fd) = pipes
        with contextlib.suppress(OSError):  # a smaller pipe only costs a wait for a huge state
            fcntl.fcntl(state_fd, fcntl.F_SETPIPE_SZ, _STATE_PIPE_SIZE)
        os.set_blocking(states, False)
        try:
            proc = subprocess.Popen(
                self.session.contained(["bash", "--noprofile", "--norc"]),
                stdin=commands_in,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                cwd=self.session.workspace,
                env=dict(self.session.env),
                pass_fds=(report_fd, state_fd),
                start_new_session=True,
            )
        except OSError as exc:
            for fd in (commands, reports, states):
                os.close(fd)
            raise SandboxError(f"cannot start bash: {exc}") from exc
        finally:
            for fd in (commands_in, report_fd, state_fd):
                os.close(fd)
        self.proc, self.commands, self.reports, self.states = proc, commands, reports, states
        self.reported = self.received = 0
        self.state_chunks = []
        start = ""
        for turn, (out, err) in enumerate(self.outputs):
            protocol = self.scratch / f"protocol-{turn}.sh"
            protocol.write_text(self._protocol(out, err, report_fd, state_fd), encoding="utf-8")
            start += f"{_PROTOCOL_VAR}{turn}={shlex.quote(str(protocol))}\n"
        state = self.scratch / "state.sh"
        if self.save_state(state):
            start += f". {shlex.quote(str(state))} >/dev/null 2>&1\n"
        self._send(start.encode())
        return proc

    def _protocol(self, out: str, err: str, report_fd: int, state_fd: int) -> str:
        """The script a request sources: the command, its report, then the state."""
        q = shlex.quote
        exported = "export -p"
        if self.secret_vars:  # in a subshell, so the secrets stay set in the shell itself
            exported = f"(unset -v {' '.join(map(q, self.secret_vars))} 2>/dev/null; export -p)"
        return (
            f". {q(self.command_file)} >{q(out)} 2>{q(err)} </dev/null {report_fd}>&- {state_fd}>&-\n"
            f'printf \'%s\\0%s\\0\' "$?" "$PWD" >&{report_fd}; '
            f"{{ {exported}; printf '\\0'; }} >&{state_fd}\n"
        )

    def save_state(self, path: Path) -> bool:
        """Write the state after the latest command that ended (exported variables, then ``cd``)
        as a script to source; False, and nothing written, before the first one."""
        self._take_state(wait=True)
        if self.exported is None:
            return False
        path.write_bytes(self.exported + os.fsencode(f"cd -- {shlex.quote(str(self.cwd))}\n"))
        return True

    def _send(self, data: bytes) -> None:
        while data:
            data = data[os.write(self.commands, data) :]

    def run(self, command: str, timeout: float) -> ShellOutput:
        """Run one command as the reader would type it; wait at most ``timeout`` seconds."""
        if self.proc is not None and self.proc.poll() is not None:  # it ended between commands
            self._take_state(wait=True)
            self._reset()
        proc = self.proc or self._start()
        deadline = time.monotonic() + timeout
        data = (command if command.endswith("\n") else command + "\n").encode()
        os.ftruncate(self.command, 0)
        written = 0
        while written < len(data):
            written += os.pwrite(self.command, data[written:], written)
        out, err = self.outputs[self.turn]
        status: tuple[int, str] | Literal["timeout", "died"]
        try:
            self._send(_REQUESTS[self.turn])
        except BrokenPipeError:
            status = "died"
        else:
            self.turn ^= 1
            self._tidy()  # while the command runs
            try:
                status = self._wait_status(proc, deadline)
            except KeyboardInterrupt:
                self.done = (out, err)  # removed with the next command's files, or at the end
                raise
        timed_out = died = False
        exit_code: int | None
        if status == "timeout":
            timed_out = True
            self.stop()
            exit_code = None
        elif status == "died":
            died = True
            try:
                exit_code = exit_status(proc.wait(timeout=GRACE))
            except subprocess.TimeoutExpired:
                exit_code = None
            self.stop()
        else:
            exit_code, cwd = status
            if cwd != str(self.cwd):
                self.cwd = Path(cwd)
        output = ShellOutput(exit_code, read_tail(out), read_tail(err), timed_out, died)
        self.done = (out, err)
        if self.proc is None:
            self._tidy()
        return output

    def _tidy(self) -> None:
        """Remove the output files read already, and take the state that arrived."""
        for path in self.done:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.done = ()
        if self.states >= 0:
            self._take_state(wait=False)

    def _wait_status(
        self, proc: subprocess.Popen[bytes], deadline: float
    ) -> tuple[int, str] | Literal["timeout", "died"]:
        """The exit code and working directory the shell reports after a command."""
        report = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([self.reports], [], [], min(remaining, _POLL))
            self.cancel.check()
            if not ready:
                self._take_state(wait=False)  # a state bigger than its pipe: make room for the rest
                if proc.poll() is not None:
                    return "died"
                continue
            chunk = os.read(self.reports, 4096)
            if not chunk:
                return "died"
            report += chunk
            if report.count(b"\0") >= 2:
                code, cwd = report.split(b"\0")[:2]
                self.reported += 1
                return int(code), os.fsdecode(cwd)

    def _take_state(self, wait: bool) -> None:
        """Read what arrived on the state pipe; the latest whole state becomes the saved state.
        With ``wait``, first let the state of the latest reported command arrive in full."""
        deadline = time.monotonic() + GRACE
        while self.states >= 0:
            try:
                chunk = os.read(self.states, _READ_SIZE)
            except BlockingIOError:
                left = deadline - time.monotonic()
                if not (wait and self.received < self.reported and left > 0):
                    return
                select.select([self.states], [], [], left)
                continue
            if not chunk:  # the shell is gone: a state it did not finish is not one
                self.state_chunks = []
                return
            *whole, rest = chunk.split(b"\0")
            if whole:
                self.exported = b"".join(self.state_chunks) + whole[0] if len(whole) == 1 else whole[-1]
                self.received += len(whole)
                self.state_chunks = []
            if rest:
                self.state_chunks.append(rest)
            elif self.received == self.reported:
                return  # every state is in: no need to ask the pipe again

    def stop(self) -> None:
        """Kill the shell and everything in its process group (a timeout, Ctrl-C)."""
        if self.proc is not None:
            self._take_state(wait=True)
            stop_group(self.proc)
            self._reset()

    def _reset(self) -> None:
        self.proc = None
        for fd in (self.commands, self.reports, self.states):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.commands = self.reports = self.states = -1

    def close(self) -> None:
        """End the shell like a reader closing the terminal, then stop what is left of its group."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self._send(b"exit 0\n")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=GRACE)
        if self.proc is not None and _group_left(self.proc.pid):
            stop_group(self.proc)
        self._reset()
        self._tidy()
        os.close(self.command)
        self.log.close()


def _group_left(pgid: int) -> bool:
    """Whether anything may be left of a process group (the usual answer, none, is cheap to get:
    stopping looks through every process)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_tail(path: Path | str) -> str:
    """The last :data:`MAX_OUTPUT` bytes of a file as text ("" when it does not exist or is empty)."""
    try:
        size = os.stat(path).st_size
        if size == 0:  # most output files of most steps: no need to open them
            return ""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return ""
    try:
        if size > MAX_OUTPUT:
            os.lseek(fd, size - MAX_OUTPUT, os.SEEK_SET)
        chunks = []
        while True:  # to the end, also past ``size`` if something still writes to it
            wanted = min(size, MAX_OUTPUT) + 1  # one byte more: a short read is the end of the file
            chunk = os.read(fd, wanted)
            chunks.append(chunk)
            if len(chunk) < wanted:
                break
        data = b"".join(chunks)
        return (data[-MAX_OUTPUT:] if len(data) > MAX_OUTPUT else data).decode("utf-8", "replace")
    finally:
        os.close(fd)
