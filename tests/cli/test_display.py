"""The live display: every step's line, in order, exactly as rich's markup prints it."""

from __future__ import annotations

import datetime
import io

import pytest
from rich.console import Console

from goldenpath.cli.display import CheckDisplay
from goldenpath.run.events import Event
from goldenpath.run.results import GuideResult, StepOutcome, StepResult
from goldenpath.sandbox.base import StepCoverage

TITLES = [
    "Say hi",
    "Use [bold]x[/] here",
    "ends in a \\",
    "a\ttab",
    "smile :smile:",
    "note: a colon",
    "日本語 ✓",
]
KINDS: tuple[tuple[StepOutcome, StepCoverage], ...] = (
    ("passed", "real"),
    ("failed", "simulated"),
    ("skipped", "skipped"),
)
MESSAGES = ["", "exited with 1, expected 0", "odd :x: here", "trailing space ", "two\nlines"]


def events(guide_id: str = "demo") -> list[Event]:
    found = [Event("guide-started", guide_id, title="Demo")]
    number = 0
    for title in TITLES:
        for message in MESSAGES:
            for outcome, coverage in KINDS:
                number += 1
                section = ("steps", "cleanup", "prerequisites")[number % 3]
                result = StepResult(
                    step_id=f"s{number}",
                    title=title,
                    number=number,
                    section=section,
                    outcome=outcome,
                    message=message,
                    duration=number / 7,
                    coverage=coverage,
                )
                found.append(Event("step-started", guide_id, f"s{number}", title, number, section))
                found.append(
                    Event("step-finished", guide_id, f"s{number}", title, number, section, result=result)
                )
    now = datetime.datetime.now(datetime.timezone.utc)
    finished = GuideResult(
        guide_id=guide_id, outcome="failed", run_id="r", started=now, finished=now, sandbox="local"
    )
    return [*found, Event("guide-finished", guide_id, guide_result=finished)]


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    if terminal:
        return Console(file=out, highlight=False, width=60, force_terminal=True, color_system="standard"), out
    return Console(file=out, highlight=False, width=60, color_system=None), out


@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_step_lines_print_as_their_markup_does(terminal: bool, parallel: bool) -> None:
    (shown, out), (expected, wanted) = console(terminal), console(terminal)
    display = CheckDisplay(shown, 1, parallel=parallel)
    for event in events():
        display.event(event)
        if event.kind == "step-finished":
            assert event.result is not None
            expected.print(display._step_markup(event, event.result), soft_wrap=True)
    steps = out.getvalue().splitlines()[1:-1]  # without the guide's first and last lines
    assert "\n".join(steps) + "\n" == wanted.getvalue()
    assert "😄" in out.getvalue() and "❌" in out.getvalue()  # rich's markup replaces emoji codes: kept


def test_lines_written_in_batches_are_the_lines_written_one_by_one() -> None:
    (batched, out), (direct, wanted) = console(False), console(False)
    with CheckDisplay(batched, 1) as display:
        for event in events():
            display.event(event)
    one_by_one = CheckDisplay(direct, 1)  # not entered: every line is written at once
    for event in events():
        one_by_one.event(event)
    assert out.getvalue() == wanted.getvalue() and out.getvalue().startswith("demo (1/1)\n")
