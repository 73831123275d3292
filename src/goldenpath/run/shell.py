"""The persistent shell of a guide run: one ``bash`` per guide, fed one sourced script per command.

All ``run`` steps of a guide run in one long-lived ``bash`` process, so the working directory,
variables and functions carry from step to step exactly as in a reader's terminal. Each command is
written to a script file and sourced with its output redirected to files of its own; after it,
the shell saves its state (``export -p`` and ``cd``) and reports the exit code and working
directory on a private pipe. The shell runs in its own process group: a step that outlives its
timeout is stopped by killing that group, and the shell is started again from the saved state so
later steps (cleanup above all) still run.
"""

from __future__ import annotations

import contextlib
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
        self.state = self.scratch / "state-0.sh"
        """The latest saved state; a new file per command (rewriting one file is slow on ext4)."""
        self.cwd = session.workspace
        self.proc: subprocess.Popen[bytes] | None = None
        self.status_fd = -1
        self.reader = -1
        self.count = 0
        self.log = open(self.scratch / "shell.log", "ab")  # noqa: SIM115 - closed in close()

    def _start(self) -> subprocess.Popen[bytes]:
        read, write = os.pipe()
        try:
            proc = subprocess.Popen(
                self.session.contained(["bash", "--noprofile", "--norc"]),
                stdin=subprocess.PIPE,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                cwd=self.session.workspace,
                env=dict(self.session.env),
                pass_fds=(write,),
                start_new_session=True,
            )
        except OSError as exc:
            os.close(read)
            raise SandboxError(f"cannot start bash: {exc}") from exc
        finally:
            os.close(write)
        self.proc, self.status_fd, self.reader = proc, write, read
        if self.state.exists():
            self._send(f". {shlex.quote(str(self.state))} >/dev/null 2>&1\n")
        return proc

    def _send(self, text: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def run(self, command: str, timeout: float) -> ShellOutput:
        """Run one command as the reader would type it; wait at most ``timeout`` seconds."""
        proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
        self.count += 1
        script = self.scratch / f"step-{self.count}.sh"
        out, err = self.scratch / f"out-{self.count}", self.scratch / f"err-{self.count}"
        state = self.scratch / f"state-{self.count}.sh"
        script.write_text(command if command.endswith("\n") else command + "\n", encoding="utf-8")
        q = shlex.quote
        fd = self.status_fd
        unset = f"unset -v {' '.join(map(q, self.secret_vars))} 2>/dev/null; " if self.secret_vars else ""
        self._send(
            f". {q(str(script))} >{q(str(out))} 2>{q(str(err))} </dev/null {fd}>&-\n"
            f"__goldenpath_rc=$?; {{ ({unset}export -p); printf 'cd -- %q\\n' \"$PWD\"; }} "
            f">{q(str(state))} 2>/dev/null; "
            f'printf \'%s\\0%s\\0\' "$__goldenpath_rc" "$PWD" >&{fd}; unset __goldenpath_rc\n'
        )
        status = self._wait_status(proc, time.monotonic() + timeout)
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
            self.cwd = Path(cwd)
            previous, self.state = self.state, state
            previous.unlink(missing_ok=True)
        output = ShellOutput(exit_code, read_tail(out), read_tail(err), timed_out, died)
        for done in (script, out, err):  # keep the scratch folder (on tmpfs) small
            done.unlink(missing_ok=True)
        return output

    def _wait_status(
        self, proc: subprocess.Popen[bytes], deadline: float
    ) -> tuple[int, str] | Literal["timeout", "died"]:
        """The exit code and working directory the shell reports after a command."""
        buffer = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            ready, _, _ = select.select([self.reader], [], [], min(remaining, 0.2))
            self.cancel.check()
            if not ready:
                if proc.poll() is not None:
                    return "died"
                continue
            chunk = os.read(self.reader, 4096)
            if not chunk:
                return "died"
            buffer += chunk
            if buffer.count(b"\0") >= 2:
                code, cwd = buffer.split(b"\0")[:2]
                return int(code), os.fsdecode(cwd)

    def stop(self) -> None:
        """Kill the shell and everything in its process group (a timeout, Ctrl-C)."""
        if self.proc is not None:
            stop_group(self.proc)
            self._reset()

    def _reset(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            self.proc = None
        if self.reader >= 0:
            os.close(self.reader)
            self.reader = -1

    def close(self) -> None:
        """End the shell like a reader closing the terminal, then stop what is left of its group."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self._send("exit 0\n")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=GRACE)
        if self.proc is not None:
            stop_group(self.proc)
        self._reset()
        self.log.close()


def read_tail(path: Path) -> str:
    """The last :data:`MAX_OUTPUT` bytes of a file as text ("" when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - MAX_OUTPUT))
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
