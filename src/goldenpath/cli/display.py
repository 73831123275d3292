"""The live display of ``goldenpath check``: each guide and its steps as they run, then a summary."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from goldenpath.run.events import Event
from goldenpath.run.results import GuideResult, StepResult

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.live import Live
    from rich.segment import Segment

Part = tuple[str, str]
"""A piece of a line: its text and its rich style ("" for none)."""

_SYMBOLS: dict[str, Part] = {
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "timeout": ("⏱", "red"),
    "error": ("!", "yellow"),
    "skipped": ("○", "dim"),
}
_SIMULATED: Part = ("≈", "yellow")
_WORDS = {
    "passed": "[green]passed[/]",
    "failed": "[red]FAILED[/]",
    "timeout": "[red]TIMED OUT[/]",
    "error": "[yellow]ERROR (sandbox)[/]",
}
REFRESH_PER_SECOND = 8
"""How often the terminal's live line is redrawn, and finished steps' lines are written at most."""


class CheckDisplay:
    """Live progress of ``goldenpath check``: each guide and its steps as they run.

    Finished steps are printed as lines (on a terminal above a live line showing the running
    step and its elapsed time), so CI logs and terminals show the same record. Step lines are
    written in batches, at most :data:`REFRESH_PER_SECOND` times a second, by a thread of the
    display (printing each one costs more than a trivial step); a guide's own lines, and
    whatever is waiting, are written at once. A step line whose texts rich's markup would print
    as they are goes to rich as styled segments, skipping the markup parser (the output is the
    same); any other line goes as markup.
    """

    def __init__(self, console: Console, total: int, parallel: bool = False) -> None:
        from rich.markup import escape  # rich loads when a display is made, not with the CLI

        self.escape: Callable[[str], str] = escape
        self.console = console
        self.total = total
        self.parallel = parallel
        self.index = 0
        self.current = ""
        self.started = 0.0
        self.live: Live | None = None
        self._waiting: list[tuple[str | list[Part], bool]] = []
        """Lines (markup or parts, soft wrap) not written yet, in order."""
        self._segments = getattr(console, "_highlight", True) is False
        """Whether parts may skip the markup parser (which would also highlight them)."""
        self._lock = threading.Lock()
        """Guards ``_waiting``."""
        self._writing = threading.Lock()
        """Held while lines are taken and written, so batches never overtake each other."""
        self._pending = threading.Event()
        self._closing = threading.Event()
        self._writer: threading.Thread | None = None

    def __enter__(self) -> CheckDisplay:
        if self.console.is_terminal:
            from rich.live import Live  # only a terminal has a live line

            self.live = Live(
                console=self.console,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=True,
                get_renderable=self._render,
            )
            self.live.__enter__()
        self._closing.clear()
        self._writer = threading.Thread(target=self._write_batches, name="check-display", daemon=True)
        self._writer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._pending.set()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        self.flush()
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _render(self) -> RenderableType:
        from rich.spinner import Spinner  # loaded with the live line

        current = self.current
        if not current:
            return ""
        elapsed = time.monotonic() - self.started
        return Spinner("dots", text=f"{self.escape(current)} [dim]{elapsed:.0f}s[/]", style="cyan")

    def _print(self, line: str | list[Part], soft_wrap: bool = False, now: bool = False) -> None:
        with self._lock:
            self._waiting.append((line, soft_wrap))
        if now or self._writer is None:
            self.flush()
        elif not self._pending.is_set():
            self._pending.set()

    def flush(self) -> None:
        """Write every line waiting, in order: one print per run of lines of one kind."""
        with self._writing:
            with self._lock:
                lines, self._waiting = self._waiting, []
                self._pending.clear()
            start = 0
            for end in range(1, len(lines) + 1):
                first, soft_wrap = lines[start]
                if end < len(lines) and _kind(lines[end]) == _kind(lines[start]):
                    continue
                group = [line for line, _ in lines[start:end]]
                start = end
                if isinstance(first, str):
                    self.console.print("\n".join(s for s in group if isinstance(s, str)), soft_wrap=soft_wrap)
                else:
                    self.console.print(
                        _Segments([p for p in group if not isinstance(p, str)]), soft_wrap=True
                    )

    def _write_batches(self) -> None:
        while not self._closing.is_set():
            self._pending.wait()
            self._closing.wait(1 / REFRESH_PER_SECOND)  # gather what follows for one print
            self.flush()

    def event(self, event: Event) -> None:
        escape = self.escape
        if event.kind == "guide-started":
            self.index += 1
            self._print(f"[bold]{escape(event.guide_id)}[/] [dim]({self.index}/{self.total})[/]", now=True)
        elif event.kind == "step-started":
            self.current = _step_name(event)  # escaped when the live line shows it
            self.started = time.monotonic()
        elif event.kind == "step-finished":
            result = event.result
            assert result is not None
            self.current = ""
            parts = _step_parts(event, result, self.parallel)
            # As markup when rich would change a text: unescape, replace, or trim trailing spaces
            # past the console's width.
            as_is = all(_as_is(text) for text, _ in parts) and not parts[-1][0].endswith(" ")
            self._print(
                parts if self._segments and as_is else self._step_markup(event, result), soft_wrap=True
            )
        elif event.kind == "guide-finished":
            finished = event.guide_result
            assert finished is not None
            prefix = f"{escape(event.guide_id)} " if self.parallel else ""
            self._print(f"  {prefix}{_result_words(finished)} [dim]in {finished.duration:.1f}s[/]")
            for leak in finished.leaks:
                self._print(f"  [yellow]left behind:[/] {escape(leak)}", soft_wrap=True)
            self.flush()

    def _step_markup(self, event: Event, result: StepResult) -> str:
        escape = self.escape
        prefix = f"[dim]{escape(event.guide_id)}[/] " if self.parallel else ""
        symbol = (
            "[yellow]≈[/]"
            if result.coverage == "simulated"
            else "[{1}]{0}[/]".format(*_SYMBOLS[result.outcome])
        )
        line = f"  {prefix}{symbol} {escape(_step_name(event))} [dim]{result.duration:.1f}s[/]"
        if result.coverage == "simulated":
            line += " [yellow](simulated)[/]"
        if result.outcome != "passed" and result.message:
            line += f" [dim]— {escape(result.message)}[/]"
        return line

    def summary(self, done: Sequence[GuideResult]) -> None:
        from rich.table import Table  # only the summary draws a table

        self.flush()
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


def _kind(line: tuple[str | list[Part], bool]) -> tuple[bool, bool]:
    """Lines of one kind print together: markup or parts, soft wrapped or not."""
    return isinstance(line[0], str), line[1]


def _step_parts(event: Event, result: StepResult, parallel: bool) -> list[Part]:
    """A finished step's line as parts: the same texts and styles as its markup."""
    line: list[Part] = [("  ", "")]
    if parallel:
        line += [(event.guide_id, "dim"), (" ", "")]
    simulated = result.coverage == "simulated"
    line += [
        _SIMULATED if simulated else _SYMBOLS[result.outcome],
        (f" {_step_name(event)} ", ""),
        (f"{result.duration:.1f}s", "dim"),
    ]
    if simulated:
        line += [(" ", ""), ("(simulated)", "yellow")]
    if result.outcome != "passed" and result.message:
        line += [(" ", ""), (f"— {result.message}", "dim")]
    return line


class _Segments:
    """Step lines as rich segments, one style per part: what rich's markup makes of them."""

    def __init__(self, lines: list[list[Part]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.segment import Segment  # loaded with rich, by the console that prints these

        styles = {
            style: console.get_style(style) for style in {s for line in self.lines for _, s in line if s}
        }
        for line in self.lines:
            for text, style in line:
                yield Segment(text, styles[style]) if style else Segment(text)
            yield Segment.line()


_EMOJI_CODE = re.compile(r":\S*:")
"""What could be an emoji code (``:smile:``), which rich's markup replaces."""


def _as_is(text: str) -> bool:
    """Whether rich's markup prints this text exactly as it is: printable characters on one
    line, nothing rich unescapes (``[``, backslashes) or replaces (emoji codes)."""
    return (
        text.isprintable()
        and "[" not in text
        and "\\" not in text
        and not (":" in text and _EMOJI_CODE.search(text))
    )


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
