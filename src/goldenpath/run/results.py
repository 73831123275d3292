"""Results of a guide run: what each step did, how the guide is classified, and how to report it.

Everything stored here has secrets masked (``***``) before it is stored, so a result can be
printed, written to JUnit or kept in history without leaking a secret (see :mod:`.masking`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from goldenpath.sandbox.base import StepCoverage
from goldenpath.spec.model import Guide
from goldenpath.spec.urls import page_url

StepOutcome = Literal["passed", "failed", "error", "timeout", "skipped"]
GuideOutcome = Literal["passed", "failed", "error", "timeout"]

BROKEN: frozenset[str] = frozenset({"failed", "timeout"})
"""Step outcomes that mean the guide itself is broken (the doc is wrong, or too slow)."""

TAIL_LINES = 40


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of ``text``, saying how many were left out."""
    parts = text.splitlines()
    if len(parts) <= lines:
        return text
    return f"[... {len(parts) - lines} earlier lines]\n" + "\n".join(parts[-lines:]) + "\n"


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """What one step (or prerequisite) did."""

    step_id: str
    title: str
    number: int | None
    """Number shown on the page; None for hidden, cleanup and prerequisite steps."""
    section: str
    """``prerequisites``, ``steps`` or ``cleanup``."""
    outcome: StepOutcome
    message: str = ""
    """Why the step did not pass (or was skipped); empty when it passed."""
    command: str = ""
    exit_code: int | None = None
    stdout: str = ""
    """Tail of standard output (for a background step: of its log)."""
    stderr: str = ""
    expected: str = ""
    """What was expected and not seen: a diff for "you should see", else a description."""
    duration: float = 0.0
    line: int = 0
    """Line of the step in the spec file."""
    attempts: int = 1
    hidden: bool = False
    coverage: StepCoverage = "real"
    """Whether the step ran for real, ran against something simulated, or was skipped."""

    @property
    def label(self) -> str:
        """How reports name the step: ``step 3 "Call it"``, ``cleanup "Stop it"``, ..."""
        if self.section == "prerequisites":
            return f'prerequisite "{self.title}"'
        if self.section == "cleanup":
            return f'cleanup step "{self.title}"'
        if self.number is None:
            return f'hidden step "{self.title}" ({self.step_id})'
        return f'step {self.number} "{self.title}"'


@dataclass(frozen=True)
class Coverage:
    """How much of a guide a run exercised: its steps and cleanup steps by how they ran."""

    real: int = 0
    simulated: int = 0
    skipped: int = 0

    @classmethod
    def of(cls, steps: Iterable[StepResult]) -> Coverage:
        counted = [s.coverage for s in steps if s.section in ("steps", "cleanup")]
        return cls(counted.count("real"), counted.count("simulated"), counted.count("skipped"))

    @property
    def total(self) -> int:
        return self.real + self.simulated + self.skipped

    @property
    def kind(self) -> Literal["full", "simulated", "partial"]:
        """``full``: every step ran for real; ``partial``: some were skipped; else ``simulated``."""
        if self.skipped:
            return "partial"
        return "simulated" if self.simulated else "full"

    def describe(self) -> str:
        """``every step ran for real``, ``8 of 14 steps ran for real; 6 were skipped``, ..."""
        if self.kind == "full":
            return "every step ran for real"
        parts = [f"{self.real} of {self.total} step{'s' if self.total != 1 else ''} ran for real"]
        if self.simulated:
            parts.append(f"{self.simulated} ran against simulated parts")
        if self.skipped:
            parts.append(f"{self.skipped} {'were' if self.skipped != 1 else 'was'} skipped")
        return "; ".join(parts)


def sandbox_step(step_id: str, title: str, message: str) -> StepResult:
    """A step the guide does not have, saying what kept the guide from running (an error)."""
    return StepResult(
        step_id=step_id, title=title, number=None, section="sandbox", outcome="error", message=message
    )


@dataclass(frozen=True, kw_only=True)
class GuideResult:
    """One run of one guide."""

    guide_id: str
    outcome: GuideOutcome
    run_id: str
    started: datetime.datetime
    finished: datetime.datetime
    sandbox: str
    sandbox_versions: Mapping[str, str] = field(default_factory=dict)
    steps: tuple[StepResult, ...] = ()
    leaks: tuple[str, ...] = ()
    """What the run left behind (and was then removed): processes, files."""
    content_hash: str = ""
    source: str = ""
    """The spec file."""

    @property
    def broken(self) -> bool:
        """The guide itself is broken: a step failed or timed out."""
        return self.outcome in BROKEN

    @property
    def duration(self) -> float:
        return (self.finished - self.started).total_seconds()

    @property
    def problem(self) -> StepResult | None:
        """The step that decided the outcome, if the guide did not pass."""
        return (
            next((s for s in self.steps if s.outcome == self.outcome), None)
            if self.outcome != "passed"
            else None
        )

    @property
    def coverage(self) -> Coverage:
        return Coverage.of(self.steps)

    @property
    def skipped(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if s.outcome == "skipped")


def guide_outcome(steps: Sequence[StepResult]) -> GuideOutcome:
    """The guide's outcome: that of the first step that neither passed nor was skipped.

    The runner stops the guide's steps at the first problem, so only cleanup can follow one; a
    cleanup failure after a sandbox error is a consequence of the error and must not mark the
    guide broken, which is why the first problem decides. Skipped steps never fail a guide, and
    a guide whose steps were all skipped still passes (the skips are reported).
    """
    for step in steps:
        if step.outcome in ("failed", "timeout", "error"):
            return step.outcome
    return "passed"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())


def shown_path(path: str, root: Path | None = None) -> str:
    """A path relative to ``root`` (default: the working directory) when it is below it, as
    editors and CI annotations link it."""
    try:
        return str(Path(path).resolve().relative_to((root or Path.cwd()).resolve()))
    except (ValueError, OSError):
        return path


def describe_step(step: StepResult) -> list[str]:
    """The details of one step that did not pass, as report lines."""
    lines = []
    if step.command:
        lines += ["  command:", _indent(step.command)]
    if step.exit_code is not None:
        lines.append(f"  exit code: {step.exit_code}")
    if step.attempts > 1:
        lines.append(f"  attempts: {step.attempts}")
    if step.expected:
        lines += ["  expected:", _indent(step.expected)]
    if step.stdout.strip():
        lines += ["  stdout (tail):", _indent(step.stdout)]
    if step.stderr.strip():
        lines += ["  stderr (tail):", _indent(step.stderr)]
    return lines


def failure_text(step: StepResult) -> str:
    """What troubleshooting symptoms are looked for in: the step's message and output."""
    return "\n".join((step.message, step.stdout, step.stderr))


def describe_failure(result: GuideResult, guide: Guide, site_url: str = "", root: Path | None = None) -> str:
    """A report of why a guide did not pass, pointing at the page, the spec line and the fix.

    Paths are shown relative to ``root`` (the repository) when they are below it.
    """
    step = result.problem
    if step is None:
        return f"golden path '{result.guide_id}' passed"
    kind = {"failed": "FAILED", "timeout": "TIMED OUT", "error": "ERROR (sandbox)"}[result.outcome]
    head = f"{kind}: golden path '{result.guide_id}' at {step.label}"
    lines = [head, f"  {step.message}"]
    if result.outcome == "error":
        lines.append("  the sandbox or a tool is broken, not the guide; the guide is not marked broken")
    lines += describe_step(step)
    if step.section != "prerequisites":
        lines.append(f"  page: {page_url(guide, site_url, step.step_id)}")
    lines.append(f"  spec: {shown_path(result.source or str(guide.source), root)}:{step.line or 1}")
    matching, others = guide.known_problems(step.step_id, failure_text(step), step.exit_code)
    for entry in matching:
        lines.append(f"  known problem: {' '.join(entry.problem.split())}")
        lines.append(f"  fix: {' '.join(entry.fix.split())}")
    if others and not matching:
        lines.append(
            "  no known problem of this step matches; see the troubleshooting of this step on the page: "
            f"{page_url(guide, site_url, step.step_id)}"
        )
    skipped = [s for s in result.skipped if not s.message.startswith("not run")]
    for s in skipped:
        lines.append(f"  skipped {s.label}: {s.message}")
    for leak in result.leaks:
        lines.append(f"  left behind: {leak}")
    return "\n".join(lines)


def step_summary(step: StepResult) -> str:
    """One line per step for JUnit properties and logs."""
    text = f"{step.outcome}{' (simulated)' if step.coverage == 'simulated' else ''} in {step.duration:.2f}s"
    if step.attempts > 1:
        text += f" after {step.attempts} attempts"
    if step.message:
        text += f": {step.message}"
    return text


INTERRUPTED = "the run was interrupted (Ctrl-C or SIGTERM); its cleanup ran"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped a guide run; its cleanup ran. Carries the result so far, whose
    outcome is ``error``: reports show the guide as interrupted, never as a clean pass."""

    def __init__(self, result: GuideResult) -> None:
        super().__init__(f"{result.guide_id} was interrupted")
        self.result = result
