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
from goldenpath.status import schema
from goldenpath.status.history import History
from goldenpath.status.timing import format_span, shown_steps, total_minutes

WINDOW = 10
"""Passing runs the trend shows."""
BARS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class RunTime:
    """The command time of one passing run: its visible steps of ``spec.steps``."""

    run_id: str
    finished: datetime.datetime
    command_seconds: float


def command_times(
    history: History, guides: Iterable[Guide], last: int | None = WINDOW
) -> dict[str, tuple[RunTime, ...]]:
    """Per guide, the command time of its ``last`` passing runs (None: of all), oldest to newest.

    The history does not record whether a step was hidden, so the steps that count are the visible
    steps of each guide's current spec; a pass that ran none of them is left out. One indexed
    query per guide reads its newest passes only, however long its history.
    """
    shown = {g.id: ids for g in guides if (ids := [s.id for s in shown_steps(g)])}
    if not shown or not history.path.exists():
        return {}
    found: dict[str, tuple[RunTime, ...]] = {}
    # The history's own connection: the same timeouts, schema upgrade and error messages.
    with history._connect() as conn:
        for guide_id, step_ids in shown.items():
            params = {"guide": guide_id, "steps": json.dumps(step_ids), "last": -1 if last is None else last}
            newest_first = [
                RunTime(str(run_id), datetime.datetime.fromisoformat(str(finished)), float(seconds))
                for run_id, finished, seconds in conn.execute(schema.PASS_WINDOW, params)
            ]
            if newest_first:
                found[guide_id] = tuple(reversed(newest_first))
    return found


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
    """Passing runs, oldest to newest: at least the last :data:`WINDOW`, or all there are."""

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
