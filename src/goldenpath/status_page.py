"""Statuses on the site: the banner atop each guide page, failed-step notes and the status page.

Plain Markdown for MkDocs Material (admonitions inside ``md_in_html`` blocks); the banner has
stable classes, ``goldenpath-status goldenpath-status--<state>``, for styling and browser tests.
"""

from __future__ import annotations

import datetime
import posixpath
from collections.abc import Mapping, Sequence

from goldenpath.config import Settings
from goldenpath.freshness import sandbox_label
from goldenpath.history import RunRecord
from goldenpath.model import Guide
from goldenpath.page import cell, code, fence, one_line, page_uri, relative_link
from goldenpath.status import GuideReport, counts

STATUS_PAGE = "status.md"
STATUS_JSON = "status.json"
STATUS_CSS = "assets/goldenpath/status.css"

DESCRIPTIONS: Mapping[str, str] = {
    "verified": "Verified: the last check passed on the current content",
    "stale": "Stale: not verified recently, or changed since it last passed",
    "broken": "Broken: the last check failed at a step",
    "unverified": "Not verified yet",
}
"""Default tooltips of Material's page status icons (``extra.status`` in ``mkdocs.yml``)."""

ADMONITIONS: Mapping[str, str] = {
    "verified": "success",
    "stale": "warning",
    "broken": "failure",
    "unverified": "info",
}

# Material Design icons (Apache-2.0), as shipped with MkDocs Material.
_ICONS: Mapping[str, str] = {
    "verified": "M12 2C6.5 2 2 6.5 2 12s4.5 10 10 10 10-4.5 10-10S17.5 2 12 2m-2 15-5-5 1.41-1.41"
    "L10 14.17l7.59-7.59L19 8z",
    "stale": "M20 12h2v6h-2zm0 8h2v2h-2zM12 2C6.5 2 2 6.5 2 12s4.5 10 10 10c2.3 0 4.3-.8 6-2V10h3.8"
    "c-.9-4.6-5-8-9.8-8m4.2 14.2L11 13V7h1.5v5.2l4.5 2.7z",
    "broken": "M12 2c5.53 0 10 4.47 10 10s-4.47 10-10 10S2 17.53 2 12 6.47 2 12 2m3.59 5L12 10.59 "
    "8.41 7 7 8.41 10.59 12 7 15.59 8.41 17 12 13.41 15.59 17 17 15.59 13.41 12 17 8.41z",
    "unverified": "m15.07 11.25-.9.92C13.45 12.89 13 13.5 13 15h-2v-.5c0-1.11.45-2.11 1.17-2.83"
    "l1.24-1.26c.37-.36.59-.86.59-1.41a2 2 0 0 0-2-2 2 2 0 0 0-2 2H8a4 4 0 0 1 4-4 "
    "4 4 0 0 1 4 4 3.2 3.2 0 0 1-.93 2.25M13 19h-2v-2h2M12 2A10 10 0 0 0 2 12a10 10 0 "
    "0 0 10 10 10 10 0 0 0 10-10c0-5.53-4.5-10-10-10",
}
_COLORS: Mapping[str, str] = {
    "verified": "#00a152",
    "stale": "#f57c00",
    "broken": "#d32f2f",
    "unverified": "#757575",
}


def stylesheet() -> str:
    """CSS for the page status icons (Material's ``md-status``) and the status page badges."""
    lines = [":root {"]
    for state, path in _ICONS.items():
        svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'><path d='{path}'/></svg>"
        lines.append(f'  --md-status--{state}: url("data:image/svg+xml;charset=utf-8,{svg}");')
    lines.append("}")
    for state, color in _COLORS.items():
        lines += [
            f".md-status--{state}::after {{",
            f"  -webkit-mask-image: var(--md-status--{state});",
            f"  mask-image: var(--md-status--{state});",
            f"  background-color: {color};",
            "}",
            f".goldenpath-badge--{state} {{ color: {color}; font-weight: 700; }}",
        ]
    return "\n".join(lines) + "\n"


def _ago(days: int) -> str:
    if days <= 0:
        return "today"
    return "1 day ago" if days == 1 else f"{days} days ago"


def _days(report: GuideReport, moment: datetime.datetime) -> int:
    return max(0, (report.now.date() - moment.astimezone(report.now.tzinfo).date()).days)


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _anchors(guide: Guide) -> dict[str, str]:
    """Step id -> how the page names it, for the steps that have an anchor on the page."""
    names: dict[str, str] = {}
    number = 0
    for step in guide.spec.steps:
        if not step.hidden:
            number += 1
            names[step.id] = f"step {number}: {one_line(step.title)}"
    for step in guide.spec.cleanup:
        if not step.hidden:
            names[step.id] = f"clean-up step: {one_line(step.title)}"
    return names


def _step_link(guide: Guide, step_id: str | None, fallback: str) -> str:
    name = _anchors(guide).get(step_id or "")
    return f"[{name}](#step-{step_id})" if name else fallback


def _failed_where(run: RunRecord) -> str:
    title = one_line(run.failed_title or run.failed_step or "a step")
    if run.failed_number:
        return f"step {run.failed_number}: {title}"
    return title


def _quote(text: str) -> str:
    """A text safe inside an admonition title's double quotes."""
    return one_line(text).replace('"', "'")


def banner(report: GuideReport) -> str:
    """The status banner atop a guide page: an admonition inside a classed block."""
    status, guide = report.status, report.guide
    body: list[str] = []
    if report.state == "verified":
        run = status.last_pass
        assert run is not None
        title = f"Verified {_ago(_days(report, run.finished))} on {sandbox_label(run)}, run {run.run_id}"
        not_run = report.not_run
        which = "The guide" if not_run else "Every step of this guide"
        body.append(
            f"{which} ran and passed on the {code(run.sandbox)} sandbox "
            f"on {_when(run.finished)} ({_versions(run)})."
        )
        if not_run:
            title += f" ({len(not_run)} step{'s' if len(not_run) != 1 else ''} not run there)"
            body.append("")
            body.append(
                f"These steps were **not verified** there, because the "
                f"{code(run.sandbox)} sandbox cannot run them:"
            )
            body.append("")
            for step in not_run:
                body.append(
                    f"- {_step_link(guide, step.step_id, one_line(step.title))}: {one_line(step.message)}"
                )
    elif report.state == "broken":
        run = status.last_run
        assert run is not None
        since = status.broken_since or run.finished
        title = f"Broken since {since.astimezone(datetime.timezone.utc).date()} at {_failed_where(run)}"
        where = _step_link(guide, run.failed_step, code(run.failed_step or "?"))
        body.append(
            f"Run {code(run.run_id)} on {sandbox_label(run)} ({_when(run.finished)}) failed at {where}."
        )
        if run.message:
            body += ["", fence(run.message, "text")]
        if status.last_pass is not None:
            body += [
                "",
                f"It last passed on {_when(status.last_pass.finished)}, run {code(status.last_pass.run_id)}.",
            ]
    elif report.state == "stale":
        run = status.last_pass
        assert run is not None
        title = f"Stale: {report.short_reason}"
        body.append(
            f"It last passed {_ago(_days(report, run.finished))}, on "
            f"{_when(run.finished)}, on {sandbox_label(run)} (run {code(run.run_id)}). "
            f"Follow it with care, or run {code('goldenpath check ' + guide.id)} "
            "to verify it again."
        )
    else:
        title = "Not verified yet"
        body.append(
            "No check has run this guide to the end yet. Run "
            f"{code('goldenpath check ' + guide.id)} to verify it."
        )
    if status.last_error is not None:
        error = status.last_error
        body += [
            "",
            f"The latest attempt, run {code(error.run_id)} on {_when(error.finished)}, hit a "
            f"sandbox error (the infrastructure failed, not the guide), so it changes "
            f"nothing: {code(error.message or 'sandbox error')}.",
        ]
    text = "\n".join(body)
    indented = "\n".join(f"    {line}" if line else "" for line in text.splitlines())
    return (
        f'<div class="goldenpath-status goldenpath-status--{report.state}" markdown>\n\n'
        f'!!! {ADMONITIONS[report.state]} "{_quote(title)}"\n\n{indented}\n\n</div>\n'
    )


def _versions(run: RunRecord) -> str:
    return ", ".join(f"{k} {v}" for k, v in run.sandbox_versions.items()) or "versions not recorded"


def failure_note(report: GuideReport) -> str:
    """The admonition under a step that failed in the run that broke the guide."""
    run = report.failed
    if run is None:
        return ""
    body = fence(run.message or "the step failed", "text")
    indented = "\n".join(f"    {line}" if line else "" for line in body.splitlines())
    return f'!!! failure "This step failed in run {_quote(run.run_id)}"\n\n{indented}\n'


def status_page(
    reports: Sequence[GuideReport], settings: Settings, uri: str = STATUS_PAGE, json_uri: str = STATUS_JSON
) -> str:
    """The Markdown of the status page: every guide, what needs attention first."""
    now = reports[0].now if reports else datetime.datetime.now(datetime.timezone.utc)
    totals = ", ".join(f"{n} {state}" for state, n in counts(reports).items())
    lines = [
        "# Guide status",
        "",
        "Whether each golden path works today. Checks run every guide in a sandbox; a guide is "
        f"**stale** when it has not passed for {settings.max_age_days} days, changed since it last "
        f"passed, or its review is older than {settings.review_age_days} days, and **broken** when "
        "its last check failed at a step. Sandbox errors never change a status.",
        "",
        f"{totals or 'No guides'}. From the run history as of {_when(now)}; also as "
        f"[{json_uri}]({posixpath.relpath(json_uri, posixpath.dirname(uri) or '.')}).",
        "",
    ]
    if reports:
        lines += [
            "| Guide | Status | Why | Owner | Stage | Last verified | Last reviewed | Typical duration |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for report in reports:
            meta = report.guide.metadata
            link = relative_link(uri, page_uri(report.guide))
            if report.failed_step_id and report.failed_step_id in _anchors(report.guide):
                link += f"#step-{report.failed_step_id}"
            badge = f'<span class="goldenpath-badge goldenpath-badge--{report.state}">{report.state}</span>'
            lines.append(
                f"| [{cell(meta.title)}]({link}) | {badge} | {cell(report.reason)} | "
                f"{code(meta.owner)} | {cell(meta.stage)} | {report.last_verified} | "
                f"{cell(report.last_reviewed)} | {cell(report.typical_duration)} |"
            )
        lines.append("")
    return "\n".join(lines)
