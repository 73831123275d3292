"""How long a reader needs for a guide: the time to read its page plus the time its commands take.

**Reading time** is counted on the unrendered spec (a ``{{ name }}`` tag counts as a word):

- prose at :data:`PROSE_WORDS_PER_MINUTE` words a minute: the summary, the prerequisites' texts,
  and each visible step's title, ``explain`` and ``after`` text;
- code at :data:`CODE_LINES_PER_MINUTE` lines a minute (non-blank lines): the prerequisites' check
  commands, and each visible step's command (of ``variants`` the first, the tab the page opens
  with), HTTP request (its URL, headers and body) and "You should see" output;
- file content at :data:`FILE_LINES_PER_MINUTE` lines a minute (non-blank lines of the template as
  written): a reader saves a file and skims it, where a command is read, copied and its output
  compared.

Only what a reader reads to reach the goal counts: hidden steps are not on the page, clean-up
comes after the goal and troubleshooting is optional reading. **Command time** is the measured
duration of the same steps (the visible steps of ``spec.steps``) in a passing run: no hidden
step, clean-up step or prerequisite check. The page rounds up to whole minutes both the reading
time (at least 1) and the sum of reading and command time; the author's ``estimatedMinutes``
stands in for the commands until a run passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from goldenpath.spec.model import Guide, Step

PROSE_WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 20
FILE_LINES_PER_MINUTE = 60


@dataclass(frozen=True)
class Reading:
    """What a reader reads on a guide's page: words of prose, lines of code and of files."""

    words: int
    lines: int
    file_lines: int

    @property
    def seconds(self) -> float:
        return 60 * (
            self.words / PROSE_WORDS_PER_MINUTE
            + self.lines / CODE_LINES_PER_MINUTE
            + self.file_lines / FILE_LINES_PER_MINUTE
        )


def _words(text: str | None) -> int:
    return len(text.split()) if text else 0


def _lines(text: str | None) -> int:
    return sum(1 for line in text.splitlines() if line.strip()) if text else 0


def _file_lines(guide: Guide, step: Step) -> int:
    """Lines of a file step's template; none when it cannot be read (lint reports that)."""
    assert step.file is not None
    try:
        return _lines((guide.templates_dir / step.file.template).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return 0


def shown_steps(guide: Guide) -> tuple[Step, ...]:
    """The steps a reader reads and runs: the visible steps of ``spec.steps``."""
    return tuple(s for s in guide.spec.steps if not s.hidden)


def reading(guide: Guide) -> Reading:
    """The words and code lines of a guide's page that count for its reading time."""
    words = _words(guide.metadata.summary) + sum(_words(p.text) for p in guide.spec.prerequisites)
    lines = sum(_lines(p.command) for p in guide.spec.prerequisites)
    file_lines = 0
    for step in shown_steps(guide):
        words += _words(step.title) + _words(step.explain) + _words(step.after)
        lines += _lines(step.run) + _lines(step.variants[0].run if step.variants else None)
        lines += _lines(step.expect.output)
        if step.http is not None:
            lines += 1 + len(step.http.headers) + _lines(step.http.body)
        if step.file is not None:
            file_lines += _file_lines(guide, step)
    return Reading(words, lines, file_lines)


def reading_seconds(guide: Guide) -> float:
    """Seconds a reader needs to read the guide's page (see the module's rule)."""
    return reading(guide).seconds


def command_seconds(durations: Mapping[str, float], guide: Guide) -> float | None:
    """Seconds the reader's commands took: ``durations`` (per step id, of one run) summed over the
    visible steps of ``spec.steps``; None when none of them has a duration."""
    found = [durations[s.id] for s in shown_steps(guide) if s.id in durations]
    return sum(found) if found else None


def reading_minutes(seconds: float) -> int:
    """Reading time as the page says it: whole minutes, rounded up, at least 1."""
    return max(1, math.ceil(seconds / 60))


def total_minutes(reading_secs: float, command_secs: float) -> int:
    """The reader's time in whole minutes: reading plus commands, rounded up, at least 1."""
    return max(1, math.ceil((reading_secs + command_secs) / 60))


def format_span(seconds: float) -> str:
    """``under 1 s``, ``40 s``, ``1 min 40 s``, ``2 min``, ``1 h 5 min``."""
    whole = round(seconds)
    if seconds < 0.5:
        return "under 1 s"
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _minutes(n: int) -> str:
    return f"{n} minute{'s' if n != 1 else ''}"


def describe(
    reading_secs: float, command_secs: float | None, estimated_minutes: int | None, skipped: int = 0
) -> str:
    """The page's estimate: ``about 7 minutes (5 min reading, 1 min 40 s of commands in the last
    passing run)``; the author's ``estimatedMinutes`` stands in for the commands until a run
    passes, and without it the estimate says the commands are not measured yet. ``skipped``
    counts the reader's steps the last pass could not run (their time is missing, so it says so)."""
    read = reading_minutes(reading_secs)
    read_text = f"{read} min reading"
    if command_secs is not None:
        total = total_minutes(reading_secs, command_secs)
        commands = f"{format_span(command_secs)} of commands in the last passing run"
        if skipped:  # its sandbox could not run them: the time is a floor, not the reader's
            commands += f", which skipped {skipped} step{'s' if skipped != 1 else ''}"
            return f"{_minutes(total)} or more ({read_text}, {commands})"
        return f"about {_minutes(total)} ({read_text}, {commands})"
    if estimated_minutes:
        return (
            f"about {_minutes(read + estimated_minutes)} ({read_text}; "
            f"the author estimates {_minutes(estimated_minutes)} for the commands)"
        )
    return f"about {_minutes(read)} ({read_text}; commands not measured yet)"


def expected_time(guide: Guide, durations: Mapping[str, float] | None = None) -> str:
    """The page's estimate of a guide, with the step durations of its last passing run if any."""
    return describe(
        reading_seconds(guide), command_seconds(durations or {}, guide), guide.spec.estimated_minutes
    )
