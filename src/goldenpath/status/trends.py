"""The time to follow each guide over its run history, for the status page and ``status --format json``.

The time to follow a guide is its reading time (:mod:`.timing`, of the current page) plus the
command time of a passing run. The trend shows the last :data:`WINDOW` passing runs, oldest to
newest, as a sparkline, and the latest against the median of the runs before it in that window.
"""

from __future__ import annotations

import datetime
import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from goldenpath.spec.model import Guide
from goldenpath.status.history import History
from goldenpath.status.timing import format_span, shown_steps, total_minutes

WINDOW = 10
"""Passing runs the trend shows."""
BARS = "▁▂▃▄▅▆▇█"

# The history does not record whether a step was hidden, so the steps that count (the visible
# steps of each guide's current spec) come in as one JSON parameter: [[guide id, step id], ...].
_QUERY = """
    WITH shown AS (
        SELECT json_extract(value, '$[0]') AS guide_id, json_extract(value, '$[1]') AS step_id
        FROM json_each(?)
    )
    SELECT r.guide_id, r.run_id, r.finished, SUM(s.duration)
    FROM runs r
    JOIN steps s ON s.run_id = r.run_id AND s.guide_id = r.guide_id AND s.section = 'steps'
    JOIN shown v ON v.guide_id = s.guide_id AND v.step_id = s.step_id
    WHERE r.outcome = 'passed'
    GROUP BY r.guide_id, r.run_id
    ORDER BY r.guide_id, r.finished, r.run_id
"""


@dataclass(frozen=True)
class RunTime:
    """The command time of one passing run: its visible steps of ``spec.steps``."""

    run_id: str
    finished: datetime.datetime
    command_seconds: float


def command_times(history: History, guides: Iterable[Guide]) -> dict[str, tuple[RunTime, ...]]:
    """Per guide, the command time of each of its passing runs, oldest to newest, in one query."""
    shown = [[g.id, s.id] for g in guides for s in shown_steps(g)]
    if not shown or not history.path.exists():
        return {}
    found: dict[str, list[RunTime]] = {}
    # The history's own connection: the same timeouts, schema upgrade and error messages.
    with history._connect() as conn:
        for guide_id, run_id, finished, seconds in conn.execute(_QUERY, (json.dumps(shown),)):
            found.setdefault(str(guide_id), []).append(
                RunTime(str(run_id), datetime.datetime.fromisoformat(str(finished)), float(seconds))
            )
    return {guide_id: tuple(runs) for guide_id, runs in found.items()}


def sparkline(values: Sequence[float]) -> str:
    """One bar per value, from ▁ (the least) to █ (the most); middle bars when all are equal."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high - low < 0.5:  # within a second: no change worth a taller bar
        return BARS[3] * len(values)
    return "".join(BARS[round((v - low) / (high - low) * (len(BARS) - 1))] for v in values)


@dataclass(frozen=True)
class Trend:
    """A guide's time to follow over its passing runs."""

    reading_seconds: float
    runs: tuple[RunTime, ...] = ()
    """Every passing run, oldest to newest."""

    @property
    def window(self) -> tuple[RunTime, ...]:
        return self.runs[-WINDOW:]

    @property
    def seconds(self) -> list[float]:
        """The time to follow of each run in the window (reading plus commands), oldest first."""
        return [self.reading_seconds + run.command_seconds for run in self.window]

    @property
    def bars(self) -> str:
        """The window as a sparkline, oldest first."""
        return sparkline(self.seconds)

    @property
    def latest_minutes(self) -> int | None:
        """The latest time to follow in whole minutes, as the page says it."""
        return total_minutes(self.reading_seconds, self.runs[-1].command_seconds) if self.runs else None

    @property
    def median_earlier(self) -> float | None:
        """The median time to follow of the runs before the latest in the window."""
        earlier = self.seconds[:-1]
        return statistics.median(earlier) if earlier else None

    @property
    def change_seconds(self) -> float | None:
        median = self.median_earlier
        return None if median is None else self.seconds[-1] - median

    @property
    def change(self) -> str:
        """``↑ 1 min vs the median of 9 earlier runs``; "" with a single run."""
        change = self.change_seconds
        if change is None:
            return ""
        earlier = len(self.window) - 1
        against = f"the median of {earlier} earlier runs" if earlier > 1 else "the run before"
        if abs(change) < 0.5:
            return f"same as {against}"
        return f"{'↑' if change > 0 else '↓'} {format_span(abs(change))} vs {against}"

    @property
    def summary(self) -> str:
        """``6 min, ↑ 1 min vs the median of 9 earlier runs``; "" without a passing run."""
        if self.latest_minutes is None:
            return ""
        return ", ".join(part for part in (f"{self.latest_minutes} min", self.change) if part)

    def to_json(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "reading_seconds": rounded(self.reading_seconds),
            "latest_minutes": self.latest_minutes,
            "median_earlier_seconds": rounded(self.median_earlier),
            "change_seconds": rounded(self.change_seconds),
            "earlier_runs": max(0, len(self.window) - 1),
            "summary": self.summary,
            "sparkline": self.bars,
            "runs": [
                {
                    "run_id": run.run_id,
                    "finished": run.finished.isoformat(),
                    "command_seconds": rounded(run.command_seconds),
                    "seconds": rounded(self.reading_seconds + run.command_seconds),
                }
                for run in self.window
            ],
        }
