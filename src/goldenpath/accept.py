"""Accept mode: write a guide's "you should see" blocks from what a real run printed.

A guide runs as in a check, except that a step that did everything it should but print its
expected block passes and reports what it printed. Each such block is then written into the spec
in place (:mod:`goldenpath.spec.rewrite`: every other byte of the file stays as it was), with
run-specific values generalised (:mod:`goldenpath.spec.generalise`). A run that hit a sandbox
error accepts nothing: what it printed says nothing about the guide.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.check import CheckRun
from goldenpath.render.jinja import jinja_env, substitute
from goldenpath.render.renderer import RenderedGuide
from goldenpath.run.events import Event, EventHook
from goldenpath.run.results import GuideResult
from goldenpath.spec import matching
from goldenpath.spec.generalise import AcceptError, accepted_block
from goldenpath.spec.rewrite import RewriteError, replace_scalar


@dataclass
class Acceptance:
    """What accept mode makes of one guide's run."""

    rendered: RenderedGuide
    result: GuideResult
    before: str = ""
    after: str = ""
    accepted: list[str] = field(default_factory=list)
    """Ids of the steps whose block was rewritten."""
    notes: list[str] = field(default_factory=list)
    """Blocks that were not rewritten, and why."""
    refused: str = ""
    """Why nothing of this run was accepted (a sandbox error), or ""."""

    @property
    def changed(self) -> bool:
        return self.after != self.before

    def diff(self) -> str:
        name = str(self.rendered.guide.source)
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True), name, name
        )
        return "".join(lines)

    def write(self) -> None:
        """Replace the spec file with the accepted text, atomically."""
        source = self.rendered.guide.source
        handle, temporary = tempfile.mkstemp(dir=source.parent, prefix=".accept-", suffix=".yaml")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(self.after)
            os.chmod(temporary, source.stat().st_mode & 0o777)
            os.replace(temporary, source)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def accept_guide(
    check_run: CheckRun, rendered: RenderedGuide, on_event: EventHook | None = None
) -> Acceptance:
    """Run one guide in accept mode and compute its accepted spec text (nothing is written)."""
    seen: dict[str, Event] = {}

    def hook(event: Event) -> None:
        if event.kind == "output-seen":
            seen[event.step_id] = event
        elif on_event is not None:
            on_event(event)

    result = check_run.run(rendered, hook, accept=True)
    guide = rendered.guide
    text = guide.source.read_text(encoding="utf-8")
    outcome = Acceptance(rendered, result, before=text, after=text)
    errors = [s for s in result.steps if s.outcome == "error"]
    if errors:
        outcome.refused = f"{errors[0].label} hit an error, not a wrong output: {errors[0].message}"
        return outcome
    secret = {p.name for p in guide.spec.parameters if p.secret}
    values = {k: str(v) for k, v in rendered.values.items() if k not in secret}
    for section in ("steps", "cleanup"):
        for index, step in enumerate(getattr(guide.spec, section)):
            event = seen.get(step.id)
            if event is None or step.expect.output is None:
                continue
            names = {**values, **event.captured}
            try:
                block = accepted_block(step.expect.output, _line_renderer(names), event.output, names)
                if not matching.match_output(_render(block, names), event.output).ok:
                    raise AcceptError("the generalised block would not match what the step printed")
                outcome.after = replace_scalar(outcome.after, f"spec.{section}[{index}].expect.output", block)
            except (AcceptError, RewriteError) as exc:
                outcome.notes.append(f"step '{step.id}': not accepted: {exc}")
                continue
            outcome.accepted.append(step.id)
    skipped = [s.step_id for s in result.steps if s.outcome == "skipped" and guide.step(s.step_id)]
    unseen = [i for i in skipped if (step := guide.step(i)) is not None and step.expect.output is not None]
    if unseen:
        outcome.notes.append(
            f"not run on the {result.sandbox} sandbox, so not accepted: {', '.join(unseen)} "
            "(accept them on a sandbox that runs them, e.g. --sandbox real-node)"
        )
    return outcome


def _render(source: str, values: Mapping[str, Any]) -> str:
    simple = substitute(source, values)
    return simple if simple is not None else jinja_env().from_string(source).render(values)


def _line_renderer(values: Mapping[str, Any]) -> Any:
    def render_line(line: str) -> str:
        return _render(line, values) if "{" in line else line

    return render_line
