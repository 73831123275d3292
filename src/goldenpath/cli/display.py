"""The live display of ``goldenpath check``: each guide and its steps as they run, then a summary."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Console, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table

from goldenpath.run.events import Event
from goldenpath.run.results import GuideResult

_SYMBOLS = {
    "passed": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "timeout": "[red]⏱[/]",
    "error": "[yellow]![/]",
    "skipped": "[dim]○[/]",
}
_WORDS = {
    "passed": "[green]passed[/]",
    "failed": "[red]FAILED[/]",
    "timeout": "[red]TIMED OUT[/]",
    "error": "[yellow]ERROR (sandbox)[/]",
}


class CheckDisplay:
    """Live progress of ``goldenpath check``: each guide and its steps as they run.

    Finished steps are printed as lines (on a terminal above a live line showing the running
    step and its elapsed time), so CI logs and terminals show the same record.
    """

    def __init__(self, console: Console, total: int, parallel: bool = False) -> None:
        self.console = console
        self.total = total
        self.parallel = parallel
        self.index = 0
        self.current = ""
        self.started = 0.0
        self.live: Live | None = None

    def __enter__(self) -> CheckDisplay:
        if self.console.is_terminal:
            self.live = Live(
                console=self.console, refresh_per_second=8, transient=True, get_renderable=self._render
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _render(self) -> RenderableType:
        if not self.current:
            return ""
        elapsed = time.monotonic() - self.started
        return Spinner("dots", text=f"{self.current} [dim]{elapsed:.0f}s[/]", style="cyan")

    def event(self, event: Event) -> None:
        if event.kind == "guide-started":
            self.index += 1
            self.console.print(f"[bold]{escape(event.guide_id)}[/] [dim]({self.index}/{self.total})[/]")
        elif event.kind == "step-started":
            self.current = escape(_step_name(event))
            self.started = time.monotonic()
        elif event.kind == "step-finished":
            result = event.result
            assert result is not None
            self.current = ""
            prefix = f"[dim]{escape(event.guide_id)}[/] " if self.parallel else ""
            symbol = "[yellow]≈[/]" if result.coverage == "simulated" else _SYMBOLS[result.outcome]
            line = f"  {prefix}{symbol} {escape(_step_name(event))} [dim]{result.duration:.1f}s[/]"
            if result.coverage == "simulated":
                line += " [yellow](simulated)[/]"
            if result.outcome != "passed" and result.message:
                line += f" [dim]— {escape(result.message)}[/]"
            self.console.print(line, soft_wrap=True)
        elif event.kind == "guide-finished":
            finished = event.guide_result
            assert finished is not None
            prefix = f"{escape(event.guide_id)} " if self.parallel else ""
            self.console.print(f"  {prefix}{_result_words(finished)} [dim]in {finished.duration:.1f}s[/]")
            for leak in finished.leaks:
                self.console.print(f"  [yellow]left behind:[/] {escape(leak)}", soft_wrap=True)

    def summary(self, done: Sequence[GuideResult]) -> None:
        table = Table(title="goldenpath check", title_justify="left")
        for column in ("Guide", "Result", "Real", "Simulated", "Skipped", "Time"):
            table.add_column(column)
        for result in done:
            coverage = result.coverage
            table.add_row(
                result.guide_id,
                _result_words(result, detail=False),
                str(coverage.real),
                str(coverage.simulated),
                str(coverage.skipped),
                f"{result.duration:.1f}s",
            )
        self.console.print(table)
        counts = {k: sum(r.outcome == k for r in done) for k in _WORDS}
        line = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no guides"
        passed = [r for r in done if r.outcome == "passed"]
        if passed:
            real = sum(r.coverage.kind == "full" for r in passed)
            line += f" ({real} verified: every step ran for real; {len(passed) - real} partly)"
        self.console.print(line)


def _result_words(result: GuideResult, detail: bool = True) -> str:
    """``passed``, or what a pass covered when not every step ran for real (never green)."""
    if result.outcome != "passed" or result.coverage.kind == "full":
        return _WORDS[result.outcome]
    words = f"[yellow]passed, {result.coverage.kind}[/]"
    return words + (f" [dim]({result.coverage.describe()})[/]" if detail else "")


def _step_name(event: Event) -> str:
    if event.section == "prerequisites":
        return f"prerequisite: {event.title}"
    if event.section == "cleanup":
        return f"cleanup: {event.title}"
    if event.number is None:
        return f"(hidden) {event.title}"
    return f"{event.number}. {event.title}"
