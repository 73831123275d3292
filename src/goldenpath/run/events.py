"""Progress of a check run, for displays: a guide or a step started or finished."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from goldenpath.run.results import GuideResult, StepResult

EventKind = Literal["guide-started", "step-started", "step-finished", "guide-finished", "output-seen"]


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
    output: str = ""
    """``output-seen`` (accept mode): what a step printed instead of its "you should see" block."""
    captured: Mapping[str, str] = field(default_factory=dict)
    """``output-seen``: the values captured so far (secret ones left out), to render the block."""


EventHook = Callable[[Event], None]
