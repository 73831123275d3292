"""Guide statuses for people and tools: ``goldenpath status``, the site's banners and status page.

:mod:`.freshness` decides each guide's state from its runs; this module gathers what a report
needs beside it (owner, review, measured durations, the steps a sandbox did not run, the step that
failed) into one :class:`GuideReport` per guide, and prints the reports as a table, JSON or
Markdown. The site shows the same reports (:mod:`goldenpath.site.status_page`).
"""

from __future__ import annotations

import datetime
import functools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from goldenpath.config import Settings
from goldenpath.errors import EXIT_BROKEN, EXIT_OK
from goldenpath.run.junit import annotation as github_annotation
from goldenpath.run.results import shown_path
from goldenpath.spec import loader
from goldenpath.spec.model import Guide
from goldenpath.spec.urls import page_path, page_url
from goldenpath.status import freshness, timing, trends
from goldenpath.status.freshness import STATES, State, Status, sandbox_label
from goldenpath.status.history import History, RunRecord, StepRecord
from goldenpath.status.trends import RunTime, Trend

SEVERITY: Mapping[str, int] = {"broken": 0, "stale": 1, "partial": 2, "unverified": 3, "verified": 4}
"""Order of reports: what needs attention first."""


@dataclass(frozen=True)
class GuideReport:
    """A guide's status with everything a report or page shows about it."""

    guide: Guide
    status: Status
    now: datetime.datetime
    durations: Mapping[str, float] = field(default_factory=dict)
    """Seconds per step id in the latest passing run."""
    pass_steps: tuple[StepRecord, ...] = ()
    """The steps of the last passing run (to tell which were not run on its sandbox)."""
    run_times: tuple[RunTime, ...] = ()
    """The command time of every passing run, oldest to newest (:func:`.trends.command_times`)."""

    @property
    def id(self) -> str:
        return self.guide.id

    @property
    def state(self) -> State:
        return self.status.state

    @property
    def not_run(self) -> tuple[StepRecord, ...]:
        """Steps the last pass skipped because its sandbox could not run them: not verified."""
        return tuple(
            s for s in self.pass_steps if s.outcome == "skipped" and not s.message.startswith("not run")
        )

    @property
    def simulated(self) -> tuple[StepRecord, ...]:
        """Steps of the last pass that ran against simulated parts (kwok's fake nodes): not verified."""
        return tuple(s for s in self.pass_steps if s.coverage == "simulated")

    @property
    def failed(self) -> RunRecord | None:
        """The run that broke the guide, when it is broken."""
        return self.status.last_run if self.state == "broken" else None

    @property
    def failed_step_id(self) -> str | None:
        failed = self.failed
        return failed.failed_step if failed else None

    @property
    def typical_seconds(self) -> float | None:
        """How long the guide's steps took in its latest passing run."""
        return sum(self.durations.values()) if self.durations else None

    @property
    def typical_duration(self) -> str:
        seconds = self.typical_seconds
        if seconds is not None:
            return format_duration(seconds)
        minutes = self.guide.spec.estimated_minutes
        return f"~{minutes} min (estimate)" if minutes else "unknown"

    @functools.cached_property
    def reading_seconds(self) -> float:
        """Seconds to read the guide's page (:mod:`.timing`)."""
        return timing.reading_seconds(self.guide)

    @property
    def command_seconds(self) -> float | None:
        """Seconds the reader's commands (visible steps of ``spec.steps``) took in the last pass."""
        return timing.command_seconds(self.durations, self.guide)

    @property
    def estimated_time(self) -> str:
        """The page's estimate: reading time plus the commands of the last passing run, else plus
        the author's ``estimatedMinutes`` (:func:`.timing.describe`)."""
        shown = {s.id for s in timing.shown_steps(self.guide)}
        skipped = sum(s.step_id in shown and s.outcome == "skipped" for s in self.pass_steps)
        return timing.describe(
            self.reading_seconds, self.command_seconds, self.guide.spec.estimated_minutes, skipped
        )

    @property
    def trend(self) -> Trend:
        """The time to follow the guide over its passing runs."""
        return Trend(self.reading_seconds, self.run_times)

    @property
    def time_to_follow(self) -> str:
        """The status page's short form: the latest time and its change, else the estimate."""
        if self.trend.summary:
            return self.trend.summary
        reading = timing.reading_minutes(self.reading_seconds)
        estimate = self.guide.spec.estimated_minutes
        if estimate:
            return f"~{reading + estimate} min (estimate)"
        return f"~{reading} min reading, commands not measured"

    @property
    def last_verified(self) -> str:
        """When every step last ran for real and passed."""
        full = self.status.last_full_pass
        return _date(full.finished) if full else "never"

    @property
    def last_reviewed(self) -> str:
        review = self.guide.metadata.review
        return f"{review.date.isoformat()} by {review.by}" if review else "never"

    @property
    def reason(self) -> str:
        """Why the guide has its state, in one sentence."""
        return self.status.reason

    @property
    def short_reason(self) -> str:
        """The reason without the limit, as a headline says it: ``not verified for 97 days``."""
        return self.status.reason.split(" (limit")[0]

    def days_since(self, moment: datetime.datetime) -> int:
        """Calendar days from ``moment`` to the report's time, as a reader counts them."""
        return max(0, (self.now.date() - moment.astimezone(self.now.tzinfo).date()).days)

    def to_json(self) -> dict[str, Any]:
        """The status as JSON, with the guide's metadata: ``goldenpath status --format json``."""
        meta = self.guide.metadata
        data: dict[str, Any] = self.status.to_json()
        failed = self.failed
        data.update(
            {
                "reason": self.reason,
                "title": meta.title,
                "type": self.guide.spec.type,
                "owner": meta.owner,
                "stage": meta.stage,
                "page": page_path(self.guide),
                "failed_step_title": failed.failed_title if failed else None,
                "failed_step_number": failed.failed_number if failed else None,
                "failure_message": failed.message if failed else None,
                "last_error_message": self.status.last_error.message if self.status.last_error else None,
                "not_verified_steps": [s.step_id for s in self.not_run],
                "simulated_steps": [s.step_id for s in self.simulated],
                "last_reviewed": meta.review.date.isoformat() if meta.review else None,
                "reviewed_by": meta.review.by if meta.review else None,
                "typical_duration_seconds": None
                if self.typical_seconds is None
                else round(self.typical_seconds, 3),
                "estimated_minutes": self.guide.spec.estimated_minutes,
                "estimated_time": self.estimated_time,
                "command_seconds": None if self.command_seconds is None else round(self.command_seconds, 3),
                "time_to_follow": self.trend.to_json(),
            }
        )
        return data


def format_duration(seconds: float) -> str:
    """``4s``, ``2m 05s``, ``1h 03m``."""
    whole = round(seconds)
    if whole < 60:
        return f"{max(whole, 0)}s" if seconds >= 1 or seconds == 0 else "<1s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _date(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).date().isoformat()


def collect_reports(
    settings: Settings,
    guides: Sequence[Guide] | None = None,
    *,
    now: datetime.datetime | None = None,
    history: History | None = None,
    use_history: bool = True,
) -> list[GuideReport]:
    """Every guide's report, what needs attention first; ``history`` defaults to the project's.

    Without ``use_history`` every guide is unverified. Raises
    :class:`~goldenpath.errors.SandboxError` when the history cannot be read.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    guides = loader.load_guides(settings.golden_paths_dir) if guides is None else guides
    history = history or History(settings.history_path)
    # Only the runs that decide each status: index seeks per guide, however long the history.
    runs = history.deciding_runs([g.id for g in guides]) if use_history else {}
    hashes = {g.id: loader.content_hash(g) for g in guides}
    statuses = freshness.evaluate_all(guides, runs, hashes, settings, now)
    run_times = trends.command_times(history, guides) if use_history else {}
    passes = {g.id: statuses[g.id].last_pass for g in guides}
    # The newest pass gives the step durations; the pass a status names may be an older full one.
    newest = {guide_id: next((r for r in rs if r.outcome == "passed"), None) for guide_id, rs in runs.items()}
    wanted = [(run.run_id, guide_id) for found in (passes, newest) for guide_id, run in found.items() if run]
    steps = history.steps(wanted) if use_history else {}
    durations = {
        guide_id: {s.step_id: s.duration for s in steps[run.run_id, guide_id]}
        for guide_id, run in newest.items()
        if run
    }
    reports = []
    for guide in guides:
        last_pass = passes[guide.id]
        pass_steps = steps.get((last_pass.run_id, guide.id), []) if last_pass else []
        reports.append(
            GuideReport(
                guide,
                statuses[guide.id],
                now,
                durations.get(guide.id, {}),
                tuple(pass_steps),
                run_times.get(guide.id, ()),
            )
        )
    return sort_reports(reports)


def sort_reports(reports: Iterable[GuideReport]) -> list[GuideReport]:
    return sorted(reports, key=lambda r: (SEVERITY[r.state], r.guide.metadata.title.lower()))


def counts(reports: Sequence[GuideReport]) -> dict[str, int]:
    return {state: sum(r.state == state for r in reports) for state in STATES}


def to_json(reports: Sequence[GuideReport]) -> str:
    return json.dumps([r.to_json() for r in reports], indent=2) + "\n"


def markdown(reports: Sequence[GuideReport], site_url: str = "") -> str:
    """A Markdown list for an issue or a PR comment; empty when there is nothing to list."""
    if not reports:
        return ""
    lines = ["Golden paths that need attention:", ""]
    for report in reports:
        meta = report.guide.metadata
        title = meta.title.replace("[", "(").replace("]", ")")
        if site_url:
            title = f"[{title}]({page_url(report.guide, site_url, report.failed_step_id)})"
        line = f"- **{report.state}** {title} (`{report.id}`, owner {meta.owner}): {report.reason}"
        if report.status.last_run is not None:
            line += f"; last run `{report.status.last_run.run_id}` on {sandbox_label(report.status.last_run)}"
        if report.failed is not None and report.failed.message:
            line += f"; error: {' '.join(report.failed.message.split())}"
        if report.status.last_error is not None:
            line += f"; latest attempt hit a sandbox error on {_date(report.status.last_error.finished)}"
        lines.append(line)
    totals = ", ".join(f"{n} {state}" for state, n in counts(reports).items() if n)
    lines += [
        "",
        f"{totals}. Run `goldenpath check GUIDE` to reproduce; `goldenpath status` shows every guide.",
    ]
    return "\n".join(lines) + "\n"


_STYLES = {
    "verified": "green",
    "partial": "yellow",
    "stale": "yellow",
    "broken": "bold red",
    "unverified": "dim",
}


def table(reports: Sequence[GuideReport], console: Any) -> None:
    """The rich table of ``goldenpath status``."""
    # rich loads for the table only: the site and the JSON and Markdown formats never need it.
    from rich.table import Table

    if not reports:
        console.print("no guides")
        return
    grid = Table(title="goldenpath status", title_justify="left")
    grid.add_column("Guide", no_wrap=True)
    grid.add_column("Status", no_wrap=True)
    grid.add_column("Why", ratio=1, min_width=20)
    for column in ("Owner", "Stage", "Verified", "Reviewed", "Duration"):
        grid.add_column(column, overflow="fold")
    for report in reports:
        reason = report.reason
        if report.status.last_error is not None and report.state != "unverified":
            reason += "; latest attempt: sandbox error"
        review = report.guide.metadata.review
        grid.add_row(
            report.id,
            f"[{_STYLES[report.state]}]{report.state}[/]",
            reason,
            report.guide.metadata.owner,
            report.guide.metadata.stage,
            report.last_verified,
            review.date.isoformat() if review else "never",
            report.typical_duration,
        )
    console.print(grid)
    console.print(", ".join(f"{n} {state}" for state, n in counts(reports).items() if n))


def print_report(reports: Sequence[GuideReport], fmt: str, out: TextIO, site_url: str = "") -> None:
    if fmt == "json":
        out.write(to_json(reports))
    elif fmt == "markdown":
        out.write(markdown(reports, site_url))
    else:
        # See table(): rich loads for the table only.
        from rich.console import Console

        # Piped into a file or a CI log, rich would assume 80 columns and cut the table.
        wide = not out.isatty() and "COLUMNS" not in os.environ
        table(reports, Console(file=out, highlight=False, width=140 if wide else None))


def annotation(report: GuideReport, root: Path | None = None) -> str:
    """A GitHub Actions annotation for a guide that needs attention, at its spec: an error for a
    broken guide (at the failing step), a warning for a stale, partial or unverified one."""
    guide = report.guide
    step = guide.step(report.failed_step_id) if report.failed_step_id else None
    line = step.line if step is not None and step.line else guide.line_of("metadata.id")
    level = "error" if report.state == "broken" else "warning"
    return github_annotation(
        level, shown_path(str(guide.source), root), line, f"{guide.id} is {report.state}", report.reason
    )


def exit_code(reports: Sequence[GuideReport], fail_on: Iterable[str]) -> int:
    """1 when any guide is in one of the ``fail_on`` states, else 0."""
    wanted = set(fail_on)
    return EXIT_BROKEN if any(r.state in wanted for r in reports) else EXIT_OK
