"""Freshness policy: is a guide verified, partly verified, stale, broken or unverified right now?

- ``verified``: a pass in which every step ran for real, on the current content, within the max
  age, and the review record is younger than the review age.
- ``partial``: the last pass is current, but some steps were skipped (the local sandbox has no
  cluster) or ran against simulated parts (kwok's fake nodes): never shown as verified.
- ``stale``: the last pass is older than the max age, or the content changed since it, or the
  review is too old.
- ``broken``: the last conclusive run failed or timed out at a step.
- ``unverified``: no conclusive run yet.

Sandbox errors are not conclusive: they leave the previous status in place and are reported
beside it, so an infrastructure failure never turns a page red and never counts as a pass.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from goldenpath.config import Settings
from goldenpath.errors import UserError
from goldenpath.spec.model import Guide
from goldenpath.status.history import RunRecord

State = Literal["verified", "partial", "stale", "broken", "unverified"]
STATES: tuple[State, ...] = ("verified", "partial", "stale", "broken", "unverified")
_CONCLUSIVE = ("passed", "failed", "timeout")


def parse_states(text: str) -> tuple[State, ...]:
    """``broken,stale`` as states; raise :class:`UserError` naming the allowed ones."""
    states = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise UserError(
            f"unknown status {', '.join(repr(s) for s in unknown)} "
            f"(use a comma-separated list of {', '.join(STATES)})"
        )
    return tuple(s for s in STATES if s in states)


@dataclass(frozen=True)
class Status:
    """A guide's freshness, with everything a page or a report needs to explain it."""

    guide_id: str
    state: State
    reason: str
    """One sentence a reader understands: why the guide has this state."""
    last_run: RunRecord | None = None
    """The run that decided the state (the last conclusive run)."""
    last_pass: RunRecord | None = None
    broken_since: datetime.datetime | None = None
    last_error: RunRecord | None = None
    """A newer run that hit a sandbox error, if any: shown, but it changes nothing."""
    age_days: int | None = None
    """Days since the last pass."""
    last_full_pass: RunRecord | None = None
    """The last pass in which every step ran for real (the last time the guide was verified)."""

    def to_json(self) -> dict[str, object]:
        def when(run: RunRecord | None) -> str | None:
            return run.finished.isoformat() if run else None

        return {
            "guide": self.guide_id,
            "status": self.state,
            "reason": self.reason,
            "last_run": self.last_run.run_id if self.last_run else None,
            "last_run_at": when(self.last_run),
            "last_verified_at": when(self.last_full_pass),
            "last_passed_at": when(self.last_pass),
            "coverage": _coverage_json(self.last_pass),
            "sandbox": self.last_run.sandbox if self.last_run else None,
            "sandbox_versions": self.last_run.sandbox_versions if self.last_run else {},
            "broken_since": self.broken_since.isoformat() if self.broken_since else None,
            "failed_step": self.last_run.failed_step if self.state == "broken" and self.last_run else None,
            "last_error_at": when(self.last_error),
            "age_days": self.age_days,
        }


def _coverage_json(run: RunRecord | None) -> dict[str, object] | None:
    """How the steps of a pass ran: counts, and ``full``, ``partial`` or ``simulated``."""
    if run is None or run.coverage is None:
        return None
    coverage = run.coverage
    return {
        "kind": coverage.kind,
        "real": coverage.real,
        "simulated": coverage.simulated,
        "skipped": coverage.skipped,
        "summary": coverage.describe(),
    }


def max_age_days(guide: Guide, settings: Settings) -> int:
    """Days a pass stays fresh: the guide's own override, else the site's policy."""
    return guide.metadata.freshness.max_age_days or settings.max_age_days


def _days_between(earlier: datetime.datetime, later: datetime.datetime) -> int:
    """Calendar days, as a reader counts them: yesterday evening is "1 day ago"."""
    return max(0, (later.date() - earlier.astimezone(later.tzinfo).date()).days)


def evaluate(
    guide: Guide,
    runs: Sequence[RunRecord],
    content_hash: str,
    settings: Settings,
    now: datetime.datetime | None = None,
) -> Status:
    """The guide's status from its runs (newest first) and its current content hash: every run, or
    only those it is decided from (:meth:`.History.deciding_runs`), give the same status."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    conclusive = [r for r in runs if r.outcome in _CONCLUSIVE]
    last_error = runs[0] if runs and runs[0].outcome not in _CONCLUSIVE else None
    if not conclusive:
        reason = "never verified"
        if last_error is not None:
            reason += f"; the last attempt hit a sandbox error: {last_error.message}"
        return Status(guide.id, "unverified", reason, last_error=last_error)

    last = conclusive[0]
    last_pass = next((r for r in conclusive if r.outcome == "passed"), None)
    full = next((r for r in conclusive if r.outcome == "passed" and _ran_for_real(r)), None)
    status = _decide(guide, conclusive, last, last_pass, full, last_error, content_hash, settings, now)
    return dataclasses.replace(status, last_full_pass=full)


def _decide(
    guide: Guide,
    conclusive: Sequence[RunRecord],
    last: RunRecord,
    last_pass: RunRecord | None,
    full: RunRecord | None,
    last_error: RunRecord | None,
    content_hash: str,
    settings: Settings,
    now: datetime.datetime,
) -> Status:
    age = _days_between(last_pass.finished, now) if last_pass else None
    if last.outcome != "passed":
        since = last.finished
        for run in conclusive:
            if run.outcome == "passed":
                break
            since = run.finished
        where = f"step {last.failed_number}" if last.failed_number else f"'{last.failed_step}'"
        reason = f"broken at {where}: {last.failed_title}" if last.failed_title else "broken"
        return Status(guide.id, "broken", reason, last, last_pass, since, last_error, age)

    max_age = max_age_days(guide, settings)

    def stale_reason(run: RunRecord) -> str:
        if run.content_hash and content_hash and run.content_hash != content_hash:
            return "changed since it last passed"
        days = _days_between(run.finished, now)
        return f"not verified for {days} days (limit {max_age})" if days > max_age else ""

    if full is not None and not stale_reason(full):
        last_pass, age = full, _days_between(full.finished, now)
    assert last_pass is not None and age is not None  # the last conclusive run passed
    why_stale = stale_reason(last_pass) or _review_reason(guide, settings, now)
    if why_stale:
        return Status(guide.id, "stale", why_stale, last, last_pass, None, last_error, age)
    if last_pass is full:
        reason = f"verified {_ago(age)} on {sandbox_label(last_pass)}"
        return Status(guide.id, "verified", reason, last, last_pass, None, last_error, age)
    coverage = last_pass.coverage
    ran = coverage.describe() if coverage is not None else "which steps ran for real was not recorded"
    reason = f"partly verified {_ago(age)} on {sandbox_label(last_pass)}: {ran}"
    return Status(guide.id, "partial", reason, last, last_pass, None, last_error, age)


def _ran_for_real(run: RunRecord) -> bool:
    return run.coverage is not None and run.coverage.kind == "full"


def _review_reason(guide: Guide, settings: Settings, now: datetime.datetime) -> str:
    review = guide.metadata.review
    if review is None:
        return ""
    review_age = guide.metadata.freshness.review_age_days or settings.review_age_days
    review_days = max(0, (now.date() - review.date).days)
    return f"last reviewed {review_days} days ago (limit {review_age})" if review_days > review_age else ""


def _ago(days: int) -> str:
    if days == 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


def sandbox_label(run: RunRecord) -> str:
    """``kwok v1.33.13`` or ``local``: the sandbox and, for clusters, the Kubernetes version."""
    version = run.sandbox_versions.get("kubernetes") or run.sandbox_versions.get("server")
    return f"{run.sandbox} {version}" if version and version != "unknown" else run.sandbox


def evaluate_all(
    guides: Sequence[Guide],
    runs_by_guide: dict[str, list[RunRecord]],
    hashes: dict[str, str],
    settings: Settings,
    now: datetime.datetime | None = None,
) -> dict[str, Status]:
    return {
        g.id: evaluate(g, runs_by_guide.get(g.id, []), hashes.get(g.id, ""), settings, now) for g in guides
    }
