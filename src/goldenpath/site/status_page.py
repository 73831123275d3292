"""Statuses on the site: the banner atop each guide page, failed-step notes and the status page.

Plain Markdown for MkDocs Material (admonitions inside ``md_in_html`` blocks), from the templates
``banner.md.j2``, ``failure-note.md.j2``, ``status.md.j2`` and ``status.css.j2``, which a platform
team can override like ``page.md.j2``.
"""

from __future__ import annotations

import dataclasses
import datetime
import posixpath
from collections.abc import Mapping, Sequence

import jinja2

from goldenpath.config import Settings
from goldenpath.site.markdown import one_line
from goldenpath.site.templating import render_template
from goldenpath.spec.model import Guide, Troubleshooting
from goldenpath.spec.urls import page_uri, relative_link
from goldenpath.status.reports import GuideReport, counts

STATUS_PAGE = "status.md"
STATUS_JSON = "status.json"
STATUS_CSS = "assets/goldenpath/status.css"

DESCRIPTIONS: Mapping[str, str] = {
    "verified": "Verified: every step ran for real and passed on the current content",
    "partial": "Partly verified: the last check passed, but not every step ran for real",
    "stale": "Stale: not verified recently, or changed since it last passed",
    "broken": "Broken: the last check failed at a step",
    "unverified": "Not verified yet",
}
"""Default tooltips of Material's page status icons (``extra.status`` in ``mkdocs.yml``)."""


def stylesheet(env: jinja2.Environment) -> str:
    """CSS for the page status icons (Material's ``md-status``) and the status page badges."""
    return render_template(env, "status.css.j2", {})


def anchors(guide: Guide) -> dict[str, str]:
    """Step id -> how the banner names it, for the steps that have an anchor on the page."""
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


def banner(
    env: jinja2.Environment, report: GuideReport, troubleshooting: Sequence[Troubleshooting] | None = None
) -> str:
    """The status banner atop a guide page: an admonition inside a classed block.

    ``troubleshooting`` is the guide's entries as the page shows them (parameters filled in).
    """
    guide = report.guide
    fixes: list[Troubleshooting] = []
    other_fixes: list[Troubleshooting] = []
    run = report.failed
    if run is not None and run.failed_step:
        entries = guide.spec.troubleshooting if troubleshooting is None else troubleshooting
        shown = dataclasses.replace(
            guide, spec=dataclasses.replace(guide.spec, troubleshooting=tuple(entries))
        )
        text = "\n".join((run.message, run.failed_output))
        fixes, other_fixes = shown.known_problems(run.failed_step, text, run.failed_exit_code)
    context = {"report": report, "anchors": anchors(guide), "fixes": fixes, "other_fixes": other_fixes}
    return render_template(env, "banner.md.j2", context)


def failure_note(env: jinja2.Environment, report: GuideReport) -> str:
    """The admonition under a step that failed in the run that broke the guide ("" otherwise)."""
    run = report.failed
    return render_template(env, "failure-note.md.j2", {"run": run}) if run is not None else ""


def status_page(
    env: jinja2.Environment,
    reports: Sequence[GuideReport],
    settings: Settings,
    uri: str = STATUS_PAGE,
    json_uri: str = STATUS_JSON,
) -> str:
    """The Markdown of the status page: every guide, what needs attention first."""
    rows = []
    for report in reports:
        link = relative_link(uri, page_uri(report.guide))
        if report.failed_step_id and report.failed_step_id in anchors(report.guide):
            link += f"#step-{report.failed_step_id}"
        rows.append({"report": report, "link": link})
    context = {
        "reports": reports,
        "rows": rows,
        "settings": settings,
        "totals": ", ".join(f"{n} {state}" for state, n in counts(reports).items()),
        "now": reports[0].now if reports else datetime.datetime.now(datetime.timezone.utc),
        "json_uri": json_uri,
        "json_link": posixpath.relpath(json_uri, posixpath.dirname(uri) or "."),
    }
    return render_template(env, "status.md.j2", context)
