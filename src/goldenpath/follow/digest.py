"""The end of a guided run: each step's status, what now exists (files, cluster objects, URLs,
processes left running and how to stop them) and where to go next."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterator, Mapping, Sequence

import yaml

from goldenpath.follow.machine import ReaderMachine
from goldenpath.follow.terminal import Terminal
from goldenpath.render.renderer import RenderedStep
from goldenpath.run.background import Background
from goldenpath.run.results import StepResult
from goldenpath.spec.model import Guide

MARK = {
    "passed": "good",
    "done by you, checked": "good",
    "done by you": "neutral",
    "skipped by you": "neutral",
}


@dataclasses.dataclass
class Done:
    """What became of one step in this session."""

    step: RenderedStep
    status: str
    """passed, failed, done by you[, checked], skipped by you, refused."""
    result: StepResult | None = None


def show(
    term: Terminal,
    machine: ReaderMachine,
    guide: Guide,
    steps: Sequence[Done],
    kept: Sequence[tuple[RenderedStep, Background]],
    titles: Mapping[str, str] | None = None,
) -> None:
    """The digest; the guide's next steps only when ``titles`` is given (the end was reached)."""
    term.heading("Where you are")
    for done in steps:
        if done.step.step.hidden and done.status == "passed":
            continue
        label = f"{done.step.number}. " if done.step.number else ""
        term.status(MARK.get(done.status, "bad"), f"{label}{done.step.title}: {done.status}")
    passed = [d for d in steps if d.status in ("passed", "done by you, checked", "done by you")]
    files = [d.step.file.path for d in passed if d.step.file is not None]
    if files:
        term.say()
        term.say(f"Files you now have (in {machine.workdir}):")
        for path in files:
            term.say(f"  {path}")
    objects = list(_applied(passed))
    if objects:
        context = machine.context()
        term.say()
        term.say(f"In the cluster (kubectl context {context!r}):" if context else "In the cluster:")
        for kind, name, source in objects:
            term.say(f"  {kind} {name} (from {source})")
    if kept:
        term.say()
        term.say("Still running, as you asked:")
        for step, process in kept:
            url = _url(step)
            term.say(f"  {step.title}: process {process.proc.pid}{f', {url}' if url else ''}")
            term.say(f"    its output: {process.log}")
            term.say(f"    stop it with: kill -- -{process.proc.pid}")
    if titles is not None:
        _next_steps(term, guide, titles)


def _applied(passed: list[Done]) -> Iterator[tuple[str, str, str]]:
    """Kubernetes objects of the manifests this session wrote that a passed step applied (or
    created) and no later passed step deleted, in the order the steps ran."""
    applied: set[str] = set()
    for done in passed:
        if done.step.run is None:
            continue
        words = shlex.split(done.step.run)
        if "delete" in words:
            applied -= set(words)
        elif "apply" in words or "create" in words:
            applied |= set(words)
    for done in passed:
        file = done.step.file
        if file is None or not file.is_manifest or file.path not in applied:
            continue
        for document in yaml.safe_load_all(file.content):
            if isinstance(document, dict) and isinstance(document.get("metadata"), dict):
                yield (
                    str(document.get("kind", "object")),
                    str(document["metadata"].get("name", "")),
                    file.path,
                )


def _url(step: RenderedStep) -> str:
    ready = step.ready
    if ready is None:
        return ""
    if ready.http:
        return ready.http.rsplit("/", 1)[0] + "/" if ready.http.count("/") > 2 else ready.http
    if ready.port is not None:
        return f"http://127.0.0.1:{ready.port}/"
    return ""


def _next_steps(term: Terminal, guide: Guide, titles: Mapping[str, str]) -> None:
    if not guide.spec.next_steps:
        return
    term.heading("Next steps")
    for step in guide.spec.next_steps:
        title = step.title or titles.get(step.guide or "") or step.guide or step.url or ""
        text = f": {' '.join(step.text.split())}" if step.text else ""
        term.say(f"- {title}{text}")
        term.say(f"    goldenpath follow {step.guide}" if step.guide else f"    {step.url}")
