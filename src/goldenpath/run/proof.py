"""What a step proves beyond its own expectations, and what it hands on to later steps.

A bite check (``check:``) runs before its step, where it must fail, and after it, where it must
pass: a check that passes either way proves nothing about the step. Captures (``capture:``) take
named values from a step's output for the steps after it.
"""

from __future__ import annotations

import json

from goldenpath.run import actions
from goldenpath.run.cancel import Watch
from goldenpath.run.expectations import Attempt, json_path
from goldenpath.run.retry import with_retry
from goldenpath.run.shell import Shell
from goldenpath.spec.model import BiteCheck, Capture, Retry
from goldenpath.spec.patterns import compile_pattern

CHECK_TIMEOUT = 60.0
"""Seconds one run of a bite check may take."""
WOULD_PASS = "this check would pass without the step"


def _once(shell: Shell, check: BiteCheck, timeout: float) -> Attempt:
    if check.http is not None:
        return actions.call_http(check.http, check.expect, timeout)
    assert check.run is not None
    return actions.command(shell, check.run, check.expect, timeout)


def describe(check: BiteCheck) -> str:
    if check.http is not None:
        return f"{check.http.method} {check.http.url}"
    return check.run or ""


def before(shell: Shell, check: BiteCheck) -> Attempt | None:
    """Run the check before its step: a failed attempt when it already passes, else None."""
    attempt = _once(shell, check, CHECK_TIMEOUT)
    if attempt.outcome == "error":  # e.g. its tool is missing: it cannot prove anything
        attempt.message = f"the step's check could not run: {attempt.message}"
        return attempt
    if attempt.outcome != "passed":
        return None
    attempt.outcome = "failed"
    attempt.message = (
        f"{WOULD_PASS}: `{describe(check)}` already passed before the step ran, so it does not "
        "show that the step did its work"
    )
    attempt.expected = "the check fails before the step and passes after it (spec: check)"
    return attempt


def after(shell: Shell, check: BiteCheck, cancel: Watch) -> Attempt:
    """Run the check after its step (for up to ``within`` seconds): it must pass now."""
    retry = Retry(within=check.within, interval=0.5, settle=0) if check.within else None
    attempt, _ = with_retry(lambda timeout: _once(shell, check, timeout), retry, CHECK_TIMEOUT, cancel)
    if attempt.outcome != "passed":
        attempt.message = f"the step's check did not pass after the step: {attempt.message}"
    return attempt


def take(captures: tuple[Capture, ...], output: str) -> tuple[dict[str, str], str]:
    """The values of ``captures`` in a step's output, and why one could not be taken ("" if none)."""
    values: dict[str, str] = {}
    for capture in captures:
        value, problem = _value(capture, output)
        if problem:
            return values, f"capture '{capture.name}': {problem}"
        values[capture.name] = value
    return values, ""


def _value(capture: Capture, output: str) -> tuple[str, str]:
    if capture.json is not None:
        try:
            data = json.loads(output)
        except ValueError:
            return "", "the output is not JSON"
        found, value = json_path(data, capture.json)
        if not found:
            return "", f"the output has no JSON field {capture.json}"
        if isinstance(value, (dict, list)) or value is None:
            return "", f"JSON field {capture.json} is not a single value"
        return (str(value).lower() if isinstance(value, bool) else str(value)), ""
    assert capture.regex is not None
    found_match = compile_pattern(capture.regex, multiline=True).search(output)
    if found_match is None:
        return "", f"the regular expression {capture.regex!r} found nothing in the output"
    try:
        value = found_match.group(1)
    except IndexError:
        value = found_match.group(0)
    value = (value or "").strip()
    if not value:
        return "", f"the regular expression {capture.regex!r} matched an empty value"
    return value, ""
