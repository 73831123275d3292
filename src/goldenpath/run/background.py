"""Background steps: a server started by a step, gated by a readiness condition, stopped at the end."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from goldenpath.host import exit_status, stop_group
from goldenpath.run.cancel import Watch
from goldenpath.run.http import request
from goldenpath.run.results import StepOutcome
from goldenpath.run.shell import Shell, read_tail
from goldenpath.sandbox.base import Session
from goldenpath.spec.model import Ready
from goldenpath.spec.patterns import Pattern, compile_pattern

POLL = 0.05
"""Seconds between readiness probes."""


class Background:
    """A process started by a background step, in a process group of its own."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path, cancel: Watch) -> None:
        self.proc = proc
        self.log = log
        self.cancel = cancel

    @classmethod
    def start(cls, command: str, shell: Shell, session: Session, log: Path, cancel: Watch) -> Background:
        """Start ``command`` with the shell's exported variables and working directory."""
        script = log.with_suffix(".sh")
        script.write_text(command + "\n", encoding="utf-8")
        state = log.with_suffix(".state")  # the shell's state as it is now
        shell.save_state(state)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                session.contained(
                    [
                        "bash",
                        "--noprofile",
                        "--norc",
                        "-c",
                        '[ -f "$1" ] && . "$1" >/dev/null 2>&1; cd -- "$2" 2>/dev/null; . "$3"',
                        "bash",
                        str(state),
                        str(shell.cwd),
                        str(script),
                    ]
                ),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=session.workspace,
                env=dict(session.env),
                start_new_session=True,
            )
        return cls(proc, log, cancel)

    def log_text(self) -> str:
        return read_tail(self.log)

    def exit_code(self) -> int | None:
        code = self.proc.poll()
        return None if code is None else exit_status(code)

    def wait_ready(self, ready: Ready | None) -> tuple[StepOutcome, str]:
        """Wait for the readiness condition; ("passed", "") or (outcome, message)."""
        if ready is None:
            # Without a condition, only make sure it did not fail straight away.
            self.cancel.pause(0.2)
            code = self.exit_code()
            if code not in (None, 0):
                return "failed", f"the background process exited with {code}"
            return "passed", ""
        deadline = time.monotonic() + ready.timeout
        pattern = compile_pattern(ready.log, multiline=True) if ready.log is not None else None
        while True:
            seen = self._probe(ready, pattern)
            if seen is None:
                return "passed", ""
            code = self.exit_code()
            if code is not None:
                return "failed", f"the background process exited with {code} before it was ready"
            if time.monotonic() >= deadline:
                return (
                    "timeout",
                    f"not ready within {ready.timeout:g}s: wanted {describe_ready(ready)}; {seen}",
                )
            self.cancel.pause(POLL)

    def _probe(self, ready: Ready, pattern: Pattern | None) -> str | None:
        """None when the condition holds, else what the probe saw (for the report)."""
        if ready.port is not None:
            try:
                socket.create_connection(("127.0.0.1", int(ready.port)), timeout=0.5).close()
            except OSError as exc:
                return f"the last try to connect got: {exc.strerror or exc}"
            except ValueError as exc:  # a port that is not a number
                return f"the port is not a number: {exc}"
            return None
        if ready.http is not None:
            status, _, error = request("GET", ready.http, {}, None, 1.0)
            if error is None and 200 <= status < 300:
                return None
            return f"the last answer was {f'HTTP {status}' if error is None else error}"
        assert pattern is not None
        log = self.log_text()
        if pattern.search(log) is not None:
            return None
        last = [line for line in log.splitlines() if line.strip()][-3:]
        return "its last output lines were: " + " | ".join(last) if last else "it printed nothing"

    def stop(self) -> None:
        stop_group(self.proc)


def describe_ready(ready: Ready) -> str:
    """The readiness condition in words, for reports."""
    if ready.port is not None:
        what = f"port {ready.port} to accept connections on 127.0.0.1"
    elif ready.http is not None:
        what = f"{ready.http} to answer with 2xx"
    else:
        what = f"a log line matching {ready.log!r}"
    return f"{what} within {ready.timeout:g}s"
