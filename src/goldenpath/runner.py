"""Run a rendered guide end to end in a sandbox, step by step, as a reader would.

All ``run`` steps of a guide run in one long-lived ``bash`` process, so the working directory,
variables and functions carry from step to step exactly as in a reader's terminal. Each command is
written to a script file and sourced with its output redirected to files of its own; after it,
the shell saves its state (``export -p`` and ``cd``) and reports the exit code and working
directory on a private pipe. The shell runs in its own process group: a step that outlives its
timeout is stopped by killing that group, and the shell is started again from the saved state so
later steps (cleanup above all) still run.

Background steps run in process groups of their own, gated by a readiness condition and stopped
when the guide ends. When the guide ends every process that carries the run's id in its
environment is stopped and reported, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from goldenpath import matching, params, render
from goldenpath.errors import SandboxError
from goldenpath.model import Expect, Guide, Ready
from goldenpath.render import RenderedGuide, RenderedStep
from goldenpath.results import (
    GuideResult,
    StepOutcome,
    StepResult,
    guide_outcome,
    mask,
    tail,
)
from goldenpath.sandbox import GuideRun, Sandbox, Session

EventKind = Literal["guide-started", "step-started", "step-finished", "guide-finished"]

GRACE = 2.0
"""Seconds a stopped process group gets between SIGTERM and SIGKILL."""
MAX_OUTPUT = 4 * 1024 * 1024
"""Bytes of a step's output kept for matching (the end of it)."""
_POLL = 0.05


@dataclass(frozen=True)
class Event:
    """Progress of a run, for displays: a guide or step started or finished."""

    kind: EventKind
    guide_id: str
    step_id: str = ""
    title: str = ""
    number: int | None = None
    section: str = ""
    result: StepResult | None = None
    guide_result: GuideResult | None = None


EventHook = Callable[[Event], None]


def prepare(guide: Guide, kubernetes_version: str | None = None) -> RenderedGuide:
    """Render a guide for a check run: free ports, secrets from the environment."""
    values, secrets = params.run_values(guide)
    if kubernetes_version is None:
        return render.render_guide(guide, values, secrets)
    return render.render_guide(guide, values, secrets, kubernetes_version=kubernetes_version)


def run_guide(
    rendered: RenderedGuide,
    sandbox: Sandbox,
    *,
    on_event: EventHook | None = None,
    run_id: str | None = None,
    cancel: threading.Event | None = None,
) -> GuideResult:
    """Run every prerequisite and step of a guide, then its cleanup; classify the result.

    Cleanup always runs once a step has started, also after a failure, a timeout or Ctrl-C
    (``KeyboardInterrupt`` is re-raised after cleanup, with every process stopped). Setting
    ``cancel`` (from another thread) interrupts the run the same way.
    """
    guide = rendered.guide
    run_id = run_id or f"{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    emit = on_event or (lambda event: None)
    started = datetime.datetime.now(datetime.timezone.utc)
    emit(Event("guide-started", guide.id, title=guide.metadata.title))
    secret_env = {
        p.env_var: rendered.secrets[p.name]
        for p in guide.spec.parameters
        if p.secret and p.name in rendered.secrets
    }
    steps: list[StepResult] = []
    leaks: list[str] = []
    try:
        versions = sandbox.versions()
        with sandbox.open(GuideRun(guide.id, run_id, secret_env)) as session:
            run = _GuideRun(rendered, session, run_id, emit, _Watch(cancel))
            try:
                run.run()
            finally:
                steps = run.results
                leaks.extend(run.close())
        leaks.extend(session.leaks)
    except SandboxError as exc:
        versions = {}
        steps.append(_sandbox_error(rendered, exc))
    result = GuideResult(
        guide_id=guide.id,
        outcome=guide_outcome(steps),
        run_id=run_id,
        started=started,
        finished=datetime.datetime.now(datetime.timezone.utc),
        sandbox=sandbox.name,
        sandbox_versions=versions,
        steps=tuple(steps),
        leaks=tuple(mask(leak, rendered.secrets.values()) for leak in leaks),
        content_hash=rendered.content_hash(),
        source=str(guide.source),
    )
    emit(Event("guide-finished", guide.id, guide_result=result))
    return result


# --- one guide run ------------------------------------------------------------------------------


def _sandbox_error(rendered: RenderedGuide, exc: SandboxError) -> StepResult:
    return StepResult(
        step_id="sandbox",
        title="open the sandbox",
        number=None,
        section="sandbox",
        outcome="error",
        message=mask(str(exc), rendered.secrets.values()),
    )


def unavailable(rendered: RenderedGuide, sandbox_name: str, exc: SandboxError) -> GuideResult:
    """The result of a guide that could not start because the sandbox is unavailable.

    Recorded like any run, so pages show that the last attempt hit a sandbox error while the
    guide keeps its previous status.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    return GuideResult(
        guide_id=rendered.guide.id,
        outcome="error",
        run_id=f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}",
        started=now,
        finished=now,
        sandbox=sandbox_name,
        steps=(_sandbox_error(rendered, exc),),
        content_hash=rendered.content_hash(),
        source=str(rendered.guide.source),
    )


@dataclass
class _Attempt:
    """What one attempt at a step produced, before masking."""

    outcome: StepOutcome
    message: str = ""
    command: str = ""
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    expected: str = ""


class _GuideRun:
    def __init__(
        self, rendered: RenderedGuide, session: Session, run_id: str, emit: EventHook, cancel: _Watch
    ) -> None:
        self.rendered = rendered
        self.guide = rendered.guide
        self.session = session
        self.run_id = run_id
        self.emit = emit
        self.secrets = [s for s in rendered.secrets.values() if s]
        self.cancel = cancel
        self.shell = _Shell(session, cancel)
        self.background: list[_Background] = []
        self.results: list[StepResult] = []

    def run(self) -> None:
        started_steps = False
        try:
            if not self._prerequisites():
                self._not_run(self.rendered.steps, "not run: a prerequisite is not met")
                self._not_run(self.rendered.cleanup, "not run: no step ran")
                return
            started_steps = True
            for index, step in enumerate(self.rendered.steps):
                result = self._step(step)
                if result.outcome not in ("passed", "skipped"):
                    self._not_run(self.rendered.steps[index + 1 :], f"not run: {result.label} did not pass")
                    break
        except KeyboardInterrupt:
            self.cancel.armed = False  # cleanup runs in full; only a second Ctrl-C stops it
            self.shell.stop()
            if started_steps:
                self._cleanup()
            raise
        self._cleanup()

    def _cleanup(self) -> None:
        for step in self.rendered.cleanup:
            self._step(step)

    def close(self) -> list[str]:
        """Stop background processes and the shell; return what had to be stopped as leftovers."""
        for process in reversed(self.background):
            process.stop()
        self.shell.close()
        return [mask(leak, self.secrets) for leak in _sweep(self.run_id)]

    def _not_run(self, steps: Sequence[RenderedStep], reason: str) -> None:
        for step in steps:
            result = self._result(step, _Attempt("skipped", reason), 0.0, 0)
            self.results.append(result)
            self.emit(
                Event(
                    "step-finished",
                    self.guide.id,
                    step.id,
                    step.title,
                    step.number,
                    step.section,
                    result=result,
                )
            )

    def _result(self, step: RenderedStep, attempt: _Attempt, duration: float, attempts: int) -> StepResult:
        m = self._mask
        return StepResult(
            step_id=step.id,
            title=step.title,
            number=step.number,
            section=step.section,
            outcome=attempt.outcome,
            message=m(attempt.message),
            command=m(attempt.command),
            exit_code=attempt.exit_code,
            stdout=m(tail(attempt.stdout)),
            stderr=m(tail(attempt.stderr)),
            expected=m(attempt.expected),
            duration=duration,
            line=step.step.line,
            attempts=attempts,
            hidden=step.step.hidden,
        )

    def _mask(self, text: str) -> str:
        return mask(text, self.secrets)

    # prerequisites --------------------------------------------------------------------------

    def _prerequisites(self) -> bool:
        ok = True
        for index, (text, command) in enumerate(self.rendered.prerequisites):
            if command is None:
                continue
            step_id = f"prerequisite-{index + 1}"
            title = _first_line(text)
            self.emit(Event("step-started", self.guide.id, step_id, title, None, "prerequisites"))
            start = time.monotonic()
            out = self.shell.run(command, timeout=60.0)
            attempt = _Attempt(
                "passed", command=command, exit_code=out.exit_code, stdout=out.stdout, stderr=out.stderr
            )
            if out.timed_out:
                attempt.outcome, attempt.message = "error", "prerequisite check timed out after 60s"
            elif out.exit_code != 0:
                attempt.outcome = "error"
                attempt.message = f"prerequisite not met: {title} (`{command}` exited with {out.exit_code})"
                attempt.expected = "exit code 0"
            result = StepResult(
                step_id=step_id,
                title=title,
                number=None,
                section="prerequisites",
                outcome=attempt.outcome,
                message=self._mask(attempt.message),
                command=self._mask(command),
                exit_code=out.exit_code,
                stdout=self._mask(tail(out.stdout)),
                stderr=self._mask(tail(out.stderr)),
                expected=attempt.expected,
                duration=time.monotonic() - start,
                line=self.guide.line_of(f"spec.prerequisites[{index}]"),
            )
            self.results.append(result)
            self.emit(
                Event("step-finished", self.guide.id, step_id, title, None, "prerequisites", result=result)
            )
            ok = ok and result.outcome == "passed"
        return ok

    # steps ----------------------------------------------------------------------------------

    def _step(self, step: RenderedStep) -> StepResult:
        self.emit(Event("step-started", self.guide.id, step.id, step.title, step.number, step.section))
        start = time.monotonic()
        missing = [r for r in step.step.requires if not self.session.supports(r)]
        attempts = 1
        if missing:
            attempt = _Attempt("skipped", self.session.sandbox.skip_reason(missing[0]))
        elif (not_ready := self._prepare(step)) is not None:
            attempt = not_ready
        elif step.file is not None:
            attempt = self._file(step)
        elif step.step.background:
            attempt = self._background(step)
        else:
            attempt, attempts = self._with_retry(step)
        if attempt.outcome in ("failed", "timeout") and step.step.requires:
            attempt = self._diagnose(step, attempt)
        result = self._result(step, attempt, time.monotonic() - start, attempts)
        self.results.append(result)
        self.emit(
            Event(
                "step-finished", self.guide.id, step.id, step.title, step.number, step.section, result=result
            )
        )
        return result

    def _prepare(self, step: RenderedStep) -> _Attempt | None:
        """Let the sandbox get ready for a step (kwok starts stand-ins); its failure is an error."""
        try:
            self.session.sandbox.before_step(self.session, self.rendered, step)
        except SandboxError as exc:
            return _Attempt("error", f"the sandbox could not prepare the step: {exc}")
        return None

    def _diagnose(self, step: RenderedStep, attempt: _Attempt) -> _Attempt:
        """A step that needs the sandbox failed: blame the sandbox if it broke meanwhile."""
        problem = self.session.sandbox.diagnose(self.session)
        if problem is None:
            return attempt
        return dataclasses.replace(
            attempt, outcome="error", message=f"{problem} (the step said: {attempt.message})"
        )

    def _with_retry(self, step: RenderedStep) -> tuple[_Attempt, int]:
        retry = step.step.retry
        if retry is None:
            return self._once(step, step.step.timeout), 1
        deadline = time.monotonic() + retry.within
        interval = retry.interval
        attempts = 0
        while True:
            attempts += 1
            budget = max(deadline - time.monotonic(), 0.5)
            attempt = self._once(step, min(step.step.timeout, budget))
            if attempt.outcome in ("passed", "error"):
                return attempt, attempts
            if time.monotonic() + interval > deadline:
                break
            self.cancel.pause(interval)
            interval *= retry.backoff
        attempt.outcome = "timeout"
        attempt.message = (
            f"still not as expected after {attempts} attempts within "
            f"{retry.within:g}s (retry.within); last attempt: {attempt.message}"
        )
        return attempt, attempts

    def _once(self, step: RenderedStep, timeout: float) -> _Attempt:
        if step.http is not None:
            return self._http(step, timeout)
        attempt = _Attempt("passed")
        for command in step.commands:
            attempt = self._command(command, step.expect, timeout)
            if attempt.outcome != "passed":
                return attempt
        attempt.command = "\n".join(step.commands)
        return attempt

    def _command(self, command: str, expect: Expect, timeout: float) -> _Attempt:
        out = self.shell.run(command, timeout)
        attempt = _Attempt(
            "passed", command=command, exit_code=out.exit_code, stdout=out.stdout, stderr=out.stderr
        )
        if out.timed_out:
            attempt.outcome = "timeout"
            attempt.exit_code = None
            attempt.message = f"still running after {timeout:g}s; stopped (timeout)"
            return attempt
        wanted = 0 if expect.exit_code is None else expect.exit_code
        if out.exit_code == 127 and wanted != 127 and "not found" in out.stderr:
            tool = _missing_tool(out.stderr)
            attempt.outcome = "error"
            attempt.message = (
                f"{tool or 'a command'} is not installed in the sandbox (exit 127, command not found)"
            )
            return attempt
        if out.exit_code != wanted:
            attempt.outcome = "failed"
            attempt.message = f"exited with {out.exit_code}, expected {wanted}"
            if out.died:
                attempt.message += " (the command ended the shell)"
            attempt.expected = f"exit code {wanted}"
            return attempt
        return self._expectations(attempt, expect, out.stdout, out.stderr)

    def _expectations(self, attempt: _Attempt, expect: Expect, stdout: str, stderr: str) -> _Attempt:
        """Check output expectations; ``stdout`` and ``stderr`` together are "the output"."""
        both = stdout + ("\n" if stdout and not stdout.endswith("\n") else "") + stderr
        problem = _check_text(expect, stdout, stderr, both)
        if problem is None:
            problem = self._check_files(expect)
        if problem is not None:
            attempt.outcome = "failed"
            attempt.message, attempt.expected = problem
        return attempt

    def _check_files(self, expect: Expect) -> tuple[str, str] | None:
        missing = [f for f in expect.files if not (self.shell.cwd / f).exists()]
        if missing:
            return (
                f"missing file(s): {', '.join(missing)}",
                "files: " + ", ".join(expect.files) + f" (relative to {self.shell.cwd})",
            )
        return None

    def _file(self, step: RenderedStep) -> _Attempt:
        assert step.file is not None
        target = self.shell.cwd / step.file.path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.file.content, encoding="utf-8")
        except OSError as exc:
            return _Attempt(
                "error", f"cannot write {step.file.path}: {exc.strerror}", command=f"create {step.file.path}"
            )
        attempt = _Attempt("passed", command=f"create {step.file.path}")
        problem = self._check_files(step.expect)
        if problem is not None:
            attempt.outcome = "failed"
            attempt.message, attempt.expected = problem
        return attempt

    def _http(self, step: RenderedStep, timeout: float) -> _Attempt:
        assert step.http is not None
        http = step.http
        command = f"{http.method} {http.url}"
        status, body, error = _request(http.method, http.url, dict(http.headers), http.body, timeout)
        attempt = _Attempt("passed", command=command, stdout=body)
        if error is not None:
            attempt.outcome = "timeout" if "timed out" in error else "failed"
            attempt.message = f"request failed: {error}"
            attempt.expected = f"HTTP {step.expect.status or '2xx'}"
            return attempt
        expected_status = step.expect.status
        ok = status == expected_status if expected_status is not None else 200 <= status < 300
        if not ok:
            attempt.outcome = "failed"
            attempt.message = f"HTTP status {status}, expected {expected_status or '2xx'}"
            attempt.expected = f"HTTP {expected_status or '2xx'}"
            return attempt
        problem = _check_text(step.expect, body, "", body) or _check_json(step.expect, body)
        if problem is not None:
            attempt.outcome = "failed"
            attempt.message, attempt.expected = problem
        return attempt

    def _background(self, step: RenderedStep) -> _Attempt:
        assert step.run is not None
        log = self.session.scratch / f"background-{len(self.background) + 1}.log"
        process = _Background.start(step.run, self.shell, self.session, log, self.cancel)
        self.background.append(process)
        attempt = _Attempt("passed", command=step.run)
        ready = step.ready
        outcome, message = process.wait_ready(ready)
        attempt.stdout = process.log_text()
        if outcome != "passed":
            attempt.outcome = outcome
            attempt.message = message
            attempt.exit_code = process.exit_code()
            if attempt.exit_code == 127 and "not found" in attempt.stdout:
                tool = _missing_tool(attempt.stdout)
                attempt.outcome = "error"
                attempt.message = (
                    f"{tool or 'a command'} is not installed in the sandbox (exit 127, command not found)"
                )
            elif ready is not None:
                attempt.expected = _describe_ready(ready)
            return attempt
        return self._expectations(attempt, step.expect, attempt.stdout, "")


def _check_text(expect: Expect, stdout: str, stderr: str, both: str) -> tuple[str, str] | None:
    """The first unmet text expectation as (message, expected), or None."""
    for text in expect.contains:
        if text not in both:
            return f"output does not contain {text!r}", f"output containing {text!r}"
    for text in expect.not_contains:
        if text in both:
            return f"output contains {text!r}", f"output without {text!r}"
    for pattern in expect.matches:
        if re.search(pattern, both, re.MULTILINE) is None:
            return (
                f"output does not match the regular expression {pattern!r}",
                f"output matching {pattern!r}",
            )
    if expect.output is not None:
        first = matching.match_output(expect.output, stdout)
        if first.ok:
            return None
        for candidate in (stderr, both):
            if candidate and matching.match_output(expect.output, candidate).ok:
                return None
        diff = first.diff
        if not stdout.strip() and stderr.strip():
            diff = matching.match_output(expect.output, stderr).diff
        return 'output differs from "you should see"', diff
    return None


def _check_json(expect: Expect, body: str) -> tuple[str, str] | None:
    if not expect.json:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return "response body is not JSON", "a JSON body with " + ", ".join(expect.json)
    for path, wanted in expect.json.items():
        found, value = _json_path(data, path)
        if not found:
            return f"JSON field {path} is missing", f"{path} = {json.dumps(wanted)}"
        if value != wanted or isinstance(value, bool) != isinstance(wanted, bool):
            return (
                f"JSON field {path} is {json.dumps(value)}, expected {json.dumps(wanted)}",
                f"{path} = {json.dumps(wanted)}",
            )
    return None


def _json_path(data: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path such as ``items[0].name`` or ``items.0.name``."""
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(data, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(data) <= index < len(data):
                return False, None
            data = data[index]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return False, None
    return True, data


def _request(
    method: str, url: str, headers: dict[str, str], body: str | None, timeout: float
) -> tuple[int, str, str | None]:
    """Status, body text and an error description (None when an answer came back)."""
    data = None if body is None else body.encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    host = urllib.parse.urlsplit(url).hostname or ""
    handlers: list[urllib.request.BaseHandler] = []
    if host in ("localhost", "127.0.0.1", "::1"):
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), None
    except urllib.error.URLError as exc:
        return 0, "", str(exc.reason)
    except (OSError, ValueError) as exc:
        return 0, "", str(exc) or type(exc).__name__


def _missing_tool(stderr: str) -> str | None:
    found = re.search(r"(?:^|: )([^\s:]+): (?:command )?not found", stderr, re.MULTILINE)
    return f"'{found.group(1)}'" if found else None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "prerequisite"


def _describe_ready(ready: Ready) -> str:
    if ready.port is not None:
        what = f"port {ready.port} open on 127.0.0.1"
    elif ready.http is not None:
        what = f"{ready.http} answering with 2xx"
    else:
        what = f"a log line matching {ready.log!r}"
    return f"{what} within {ready.timeout:g}s"


# --- the shell ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShellOutput:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    died: bool = False
    """The command ended the shell (``exit``, ``set -e``); it restarts from the saved state."""


class _Shell:
    """One persistent bash per guide run, fed one sourced script per command."""

    def __init__(self, session: Session, cancel: _Watch) -> None:
        self.session = session
        self.cancel = cancel
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
                ["bash", "--noprofile", "--norc"],
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
        self._send(
            f". {q(str(script))} >{q(str(out))} 2>{q(str(err))} </dev/null {fd}>&-\n"
            f"__goldenpath_rc=$?; {{ export -p; printf 'cd -- %q\\n' \"$PWD\"; }} "
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
                exit_code = _exit_status(proc.wait(timeout=GRACE))
            except subprocess.TimeoutExpired:
                exit_code = None
            self.stop()
        else:
            exit_code, cwd = status
            self.cwd = Path(cwd)
            previous, self.state = self.state, state
            previous.unlink(missing_ok=True)
        output = ShellOutput(exit_code, _read(out), _read(err), timed_out, died)
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
            _stop_group(self.proc)
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
            _stop_group(self.proc)
        self._reset()
        self.log.close()


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - MAX_OUTPUT))
            return handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


# --- background processes -----------------------------------------------------------------------


class _Background:
    """A process started by a background step, in a process group of its own."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path, cancel: _Watch) -> None:
        self.proc = proc
        self.log = log
        self.cancel = cancel

    @classmethod
    def start(cls, command: str, shell: _Shell, session: Session, log: Path, cancel: _Watch) -> _Background:
        """Start ``command`` with the shell's exported variables and working directory."""
        script = log.with_suffix(".sh")
        script.write_text(command + "\n", encoding="utf-8")
        state = log.with_suffix(".state")  # its own copy: the shell replaces its state files
        if shell.state.exists():
            shutil.copyfile(shell.state, state)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
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
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=session.workspace,
                env=dict(session.env),
                start_new_session=True,
            )
        return cls(proc, log, cancel)

    def log_text(self) -> str:
        return _read(self.log)

    def exit_code(self) -> int | None:
        code = self.proc.poll()
        return None if code is None else _exit_status(code)

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
        pattern = re.compile(ready.log, re.MULTILINE) if ready.log is not None else None
        while True:
            if self._is_ready(ready, pattern):
                return "passed", ""
            code = self.exit_code()
            if code is not None:
                return "failed", f"the background process exited with {code} before it was ready"
            if time.monotonic() >= deadline:
                return (
                    "timeout",
                    f"not ready within {ready.timeout:g}s: {_describe_ready(ready)} never happened",
                )
            self.cancel.pause(_POLL)

    def _is_ready(self, ready: Ready, pattern: re.Pattern[str] | None) -> bool:
        if ready.port is not None:
            with (
                contextlib.suppress(OSError, ValueError),
                socket.create_connection(("127.0.0.1", int(ready.port)), timeout=0.5),
            ):
                return True
            return False
        if ready.http is not None:
            status, _, error = _request("GET", ready.http, {}, None, 1.0)
            return error is None and 200 <= status < 300
        assert pattern is not None
        return pattern.search(self.log_text()) is not None

    def stop(self) -> None:
        _stop_group(self.proc)


class _Watch:
    """Turns a cancel event set by another thread into a ``KeyboardInterrupt`` in this run, once.

    The event is shared by all guides of a parallel check, so it is never cleared; after the
    interrupt the watch disarms, and cleanup runs in full.
    """

    def __init__(self, event: threading.Event | None) -> None:
        self.event = event
        self.armed = event is not None

    def check(self) -> None:
        if self.armed and self.event is not None and self.event.is_set():
            self.armed = False
            raise KeyboardInterrupt

    def pause(self, seconds: float) -> None:
        """Sleep, waking up as an interrupt when the run is cancelled."""
        if self.armed and self.event is not None:
            self.event.wait(seconds)
            self.check()
        else:
            time.sleep(seconds)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group led by ``proc``, SIGKILL it after a grace period, reap ``proc``."""
    pgid = proc.pid
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        while time.monotonic() < deadline:
            proc.poll()
            if not _group_alive(pgid):
                break
            time.sleep(0.02)
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=GRACE)


def _group_alive(pgid: int) -> bool:
    """Whether a process group still has a live (non-zombie) member."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    return any(True for _ in _proc_matching(lambda pid, stat: _pgrp(stat) == pgid))


def _pgrp(stat: str) -> int:
    # /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[2]) if len(fields) > 2 and fields[0] != "Z" else -1


def _proc_matching(test: Callable[[int, str], bool]) -> Iterator[int]:
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        if test(pid, stat):
            yield pid


def _sweep(run_id: str) -> list[str]:
    """Stop every live process that still carries this run's id; describe each one."""
    if not os.path.isdir("/proc"):
        return []
    marker = f"GOLDENPATH_RUN_ID={run_id}".encode()
    me = os.getpid()

    def carries(pid: int, stat: str) -> bool:
        if pid == me or _pgrp(stat) == -1:
            return False
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                return marker in handle.read().split(b"\0")
        except OSError:
            return False

    leaks = []
    for pid in list(_proc_matching(carries)):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            os.kill(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue
        leaks.append(f"process {pid} ({cmdline[:200]}) was still running after the guide; stopped it")
    return leaks


__all__ = ["Event", "EventHook", "ShellOutput", "prepare", "run_guide"]
