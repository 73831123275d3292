"""JUnit XML reports of check runs, for CI: one test case per guide, step details as properties."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from goldenpath.run.results import GuideResult, describe_failure, shown_path, step_summary
from goldenpath.spec.model import Guide


def junit_properties(result: GuideResult) -> list[tuple[str, str]]:
    """Per-step details as (name, value) pairs, for JUnit ``<properties>``."""
    props = [
        ("guide", result.guide_id),
        ("outcome", result.outcome),
        ("run_id", result.run_id),
        ("sandbox", result.sandbox),
        ("content_hash", result.content_hash),
    ]
    props += [(f"sandbox.{k}", v) for k, v in result.sandbox_versions.items()]
    coverage = result.coverage
    props += [
        ("coverage", coverage.kind),
        ("coverage.summary", coverage.describe()),
        ("steps.real", str(coverage.real)),
        ("steps.simulated", str(coverage.simulated)),
        ("steps.skipped", str(coverage.skipped)),
    ]
    for step in result.steps:
        prefix = "prerequisite" if step.section == "prerequisites" else step.section.rstrip("s")
        props.append((f"{prefix}.{step.step_id}", step_summary(step)))
    props += [("leak", leak) for leak in result.leaks]
    return props


def spec_location(result: GuideResult, guide: Guide, root: Path | None = None) -> tuple[str, int]:
    """The spec file (relative to ``root``) and the line CI should point at: the failing step's."""
    step = result.problem
    line = step.line if step is not None and step.line else guide.line_of("metadata.id")
    return shown_path(result.source or str(guide.source), root), line


def classname(spec: str) -> str:
    """The test case's class name, as pytest derives it from the spec's node id."""
    return spec.replace(os.sep, ".")


def write_junit(
    results: Sequence[GuideResult],
    guides: Mapping[str, Guide],
    path: Path,
    site_url: str = "",
    suite: str = "goldenpath",
    root: Path | None = None,
) -> None:
    """Write one JUnit ``<testsuite>`` with a test case per guide; atomically (temp + rename).

    Each test case carries ``file`` and ``line`` at the failing step's spec line, so CI tools
    annotate the spec where the guide broke.
    """
    suite_element = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(sum(r.broken for r in results)),
        errors=str(sum(r.outcome == "error" for r in results)),
        skipped="0",
        time=f"{sum(r.duration for r in results):.3f}",
    )
    if results:
        suite_element.set("timestamp", min(r.started for r in results).isoformat())
    for result in results:
        guide = guides[result.guide_id]
        spec, line = spec_location(result, guide, root)
        case = ET.SubElement(
            suite_element,
            "testcase",
            classname=classname(spec),
            name=result.guide_id,
            file=spec,
            line=str(line),
            time=f"{result.duration:.3f}",
        )
        props = ET.SubElement(case, "properties")
        for name, value in junit_properties(result):
            ET.SubElement(props, "property", name=name, value=value)
        if result.outcome != "passed":
            tag = "failure" if result.broken else "error"
            step = result.problem
            message = f"{step.label}: {step.message}" if step else result.outcome
            ET.SubElement(case, tag, message=message, type=result.outcome).text = describe_failure(
                result, guide, site_url, root
            )
        coverage = result.coverage
        summary = f"{result.guide_id}: {result.outcome}, {coverage.kind}: {coverage.describe()}"
        out = "\n".join(
            [summary]
            + [
                f"[{s.outcome}, {s.coverage}] {s.label} ({s.duration:.2f}s)"
                + (f": {s.message}" if s.message else "")
                for s in result.steps
            ]
        )
        ET.SubElement(case, "system-out").text = out
    ET.indent(suite_element)
    data = ET.tostring(suite_element, encoding="utf-8", xml_declaration=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _escape(text: str, *, property: bool = False) -> str:
    """Text for a GitHub workflow command: ``%``, line breaks (and in properties ``:`` ``,``)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def annotation(level: str, file: str, line: int, title: str, message: str) -> str:
    """A GitHub Actions annotation: the pull request shows ``message`` at ``file:line``."""
    return (
        f"::{level} file={_escape(file, property=True)},line={line},"
        f"title={_escape(title, property=True)}::{_escape(message)}"
    )


def github_annotations(
    results: Sequence[GuideResult], guides: Mapping[str, Guide], root: Path | None = None
) -> list[str]:
    """One annotation per guide that did not pass: an error for a broken guide, a warning for a
    sandbox error (the infrastructure failed, not the doc)."""
    lines = []
    for result in results:
        step = result.problem
        if step is None:
            continue
        file, line = spec_location(result, guides[result.guide_id], root)
        level = "error" if result.broken else "warning"
        what = {"failed": "broken", "timeout": "timed out", "error": "sandbox error"}[result.outcome]
        lines.append(annotation(level, file, line, f"{result.guide_id} {what} at {step.label}", step.message))
    return lines
