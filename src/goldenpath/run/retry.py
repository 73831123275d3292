"""Retrying a step until its expectations hold, its output settles on a wrong answer, or its
retry budget ends."""

from __future__ import annotations

import time
from collections.abc import Callable

from goldenpath.run.cancel import Watch
from goldenpath.run.expectations import Attempt, settled_text
from goldenpath.spec.model import Retry


def with_retry(
    once: Callable[[float], Attempt], retry: Retry | None, timeout: float, cancel: Watch
) -> tuple[Attempt, int]:
    """Call ``once(timeout)`` until it passes or errs; return the last attempt and how many ran.

    The budget is honoured in full: the last attempt starts at the deadline at the latest.
    """
    if retry is None:
        return once(timeout), 1
    start = time.monotonic()
    deadline = start + retry.within
    interval = retry.interval
    attempts = same = 0
    previous: tuple[object, ...] | None = None
    while True:
        attempts += 1
        budget = max(deadline - time.monotonic(), 0.5)
        attempt = once(min(timeout, budget))
        if attempt.outcome in ("passed", "error"):
            return attempt, attempts
        seen = (
            attempt.outcome,
            attempt.exit_code,
            settled_text(attempt.stdout),
            settled_text(attempt.stderr),
        )
        same = same + 1 if seen == previous else 1
        previous = seen
        elapsed = time.monotonic() - start
        if attempt.wrong_output and retry.settle and same >= retry.settle:
            attempt.message += (
                f" (the same output {same} times in a row; {attempts} attempts in {elapsed:.1f}s "
                f"of the {retry.within:g}s retry budget, stopped early: retry.settle)"
            )
            return attempt, attempts
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        cancel.pause(min(interval, remaining))
        interval *= retry.backoff
    attempt.outcome = "timeout"
    attempt.message = (
        f"still not as expected after {attempts} attempts in {time.monotonic() - start:.1f}s "
        f"(retry.within {retry.within:g}s); last attempt: {attempt.message}"
    )
    return attempt, attempts
