"""Progress of a check run, for displays: a guide or a step started or finished."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from goldenpath.run.results import GuideResult, StepResult

EventKind = Literal["guide-started", "step-started", "step-finished", "guide-finished"]


@dataclass(frozen=True)
class Event:
    """One moment of a run; a step's events carry its result once it finished."""

    kind: EventKind
    guide_id: str
    step_id: str = ""
    title: str = ""
    number: int | None = None
    section: str = ""
    result: StepResult | None = None
    guide_result: GuideResult | None = None


EventHook = Callable[[Event], None]
