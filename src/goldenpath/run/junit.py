"""JUnit XML reports of check runs, for CI: one test case per guide, step details as properties."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

from goldenpath.run.results import GuideResult, describe_failure, step_summary
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


def write_junit(
    results: Sequence[GuideResult],
    guides: Mapping[str, Guide],
    path: Path,
    site_url: str = "",
    suite: str = "goldenpath",
) -> None:
    """Write one JUnit ``<testsuite>`` with a test case per guide; atomically (temp + rename)."""
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(sum(r.broken for r in results)),
        errors=str(sum(r.outcome == "error" for r in results)),
        skipped="0",
        time=f"{sum(r.duration for r in results):.3f}",
    )
    if results:
        root.set("timestamp", min(r.started for r in results).isoformat())
    for result in results:
        guide = guides[result.guide_id]
        case = ET.SubElement(
            root,
            "testcase",
            classname=result.source or str(guide.source),
            name=result.guide_id,
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
                result, guide, site_url
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
    ET.indent(root)
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
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
