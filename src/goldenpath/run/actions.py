"""One attempt at each kind of step: a command in the shell, a file, an HTTP call, a background process.

Each returns an :class:`~goldenpath.run.expectations.Attempt`; the runner decides about retries,
skips, masking and reporting.
"""

from __future__ import annotations

from pathlib import Path

from goldenpath.render.renderer import RenderedStep
from goldenpath.run.background import Background, describe_ready
from goldenpath.run.cancel import Watch
from goldenpath.run.expectations import (
    Attempt,
    check_files,
    check_json,
    check_text,
    not_installed,
)
from goldenpath.run.http import request
from goldenpath.run.shell import Shell
from goldenpath.sandbox.base import Session
from goldenpath.spec.model import Expect, HttpAction

PREREQUISITE_TIMEOUT = 60.0


def prerequisite(shell: Shell, text: str, title: str) -> Attempt:
    """Check one prerequisite: its command exits with 0 (anything else is an error, not a break)."""
    out = shell.run(text, timeout=PREREQUISITE_TIMEOUT)
    attempt = Attempt("passed", command=text, exit_code=out.exit_code, stdout=out.stdout, stderr=out.stderr)
    if out.timed_out:
        attempt.outcome = "error"
        attempt.message = f"prerequisite check timed out after {PREREQUISITE_TIMEOUT:g}s"
    elif out.exit_code != 0:
        attempt.outcome = "error"
        attempt.message = f"prerequisite not met: {title} (`{text}` exited with {out.exit_code})"
        attempt.expected = "exit code 0"
    return attempt


def command(shell: Shell, text: str, expect: Expect, timeout: float) -> Attempt:
    """Run one command in the guide's shell and check its exit code and output."""
    out = shell.run(text, timeout)
    attempt = Attempt("passed", command=text, exit_code=out.exit_code, stdout=out.stdout, stderr=out.stderr)
    if out.timed_out:
        attempt.outcome = "timeout"
        attempt.exit_code = None
        attempt.message = f"still running after {timeout:g}s; stopped (timeout)"
        return attempt
    wanted = 0 if expect.exit_code is None else expect.exit_code
    if out.exit_code == 127 and wanted != 127 and "not found" in out.stderr:
        attempt.outcome = "error"
        attempt.message = not_installed(out.stderr)
        return attempt
    if out.exit_code != wanted:
        attempt.outcome = "failed"
        attempt.message = f"exited with {out.exit_code}, expected {wanted}"
        if out.died:
            attempt.message += " (the command ended the shell)"
        attempt.expected = f"exit code {wanted}"
        return attempt
    return attempt.check_output(expect, out.stdout, out.stderr, shell.cwd)


def write_file(step: RenderedStep, cwd: Path) -> Attempt:
    """Create the step's rendered file where the reader's working directory is."""
    assert step.file is not None
    target = cwd / step.file.path
    created = f"create {step.file.path}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.file.content, encoding="utf-8")
    except OSError as exc:
        return Attempt("error", f"cannot write {step.file.path}: {exc.strerror}", command=created)
    return Attempt("passed", command=created).fail(check_files(step.expect, cwd))


def call_http(http: HttpAction, expect: Expect, timeout: float) -> Attempt:
    """Call an endpoint and check the status, the body and its JSON fields."""
    status, body, error = request(http.method, http.url, dict(http.headers), http.body, timeout)
    attempt = Attempt("passed", command=f"{http.method} {http.url}", stdout=body)
    wanted = expect.status
    if error is not None:
        attempt.outcome = "timeout" if "timed out" in error else "failed"
        attempt.message = f"request failed: {error}"
        attempt.expected = f"HTTP {wanted or '2xx'}"
        return attempt
    if not (status == wanted if wanted is not None else 200 <= status < 300):
        attempt.outcome = "failed"
        attempt.message = f"HTTP status {status}, expected {wanted or '2xx'}"
        attempt.expected = f"HTTP {wanted or '2xx'}"
        return attempt
    return attempt.fail(check_text(expect, body, "", body) or check_json(expect, body), wrong_output=True)


def start_background(
    step: RenderedStep, shell: Shell, session: Session, log: Path, cancel: Watch
) -> tuple[Background, Attempt]:
    """Start a background step and wait for its readiness condition."""
    assert step.run is not None
    process = Background.start(step.run, shell, session, log, cancel)
    attempt = Attempt("passed", command=step.run)
    ready = step.ready
    outcome, message = process.wait_ready(ready)
    attempt.stdout = process.log_text()
    if outcome == "passed":
        return process, attempt.check_output(step.expect, attempt.stdout, "", shell.cwd)
    attempt.outcome = outcome
    attempt.message = message
    attempt.exit_code = process.exit_code()
    if attempt.exit_code == 127 and "not found" in attempt.stdout:
        attempt.outcome = "error"
        attempt.message = not_installed(attempt.stdout)
    elif ready is not None:
        attempt.expected = describe_ready(ready)
    return process, attempt
