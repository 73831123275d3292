"""The golden-path spec as frozen dataclasses.

This module is the single description of the spec format: the loader validates YAML against these
classes, the JSON Schema and the reference page are generated from them. Every field a user sets
carries its documentation in ``doc`` metadata; its YAML key is the camelCase form of its name.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from goldenpath.spec.actions import (
    BiteCheck as BiteCheck,
)
from goldenpath.spec.actions import (
    Capture as Capture,
)
from goldenpath.spec.actions import (
    Expect as Expect,
)
from goldenpath.spec.actions import (
    FileAction as FileAction,
)
from goldenpath.spec.actions import (
    HttpAction as HttpAction,
)
from goldenpath.spec.actions import (
    Ready as Ready,
)
from goldenpath.spec.actions import (
    Retry as Retry,
)
from goldenpath.spec.actions import (
    Variant as Variant,
)
from goldenpath.spec.fields import (
    ID_PATTERN as ID_PATTERN,
)
from goldenpath.spec.fields import (
    NAME_PATTERN as NAME_PATTERN,
)
from goldenpath.spec.fields import (
    Scalar as Scalar,
)
from goldenpath.spec.fields import (
    internal_field as internal_field,
)
from goldenpath.spec.fields import (
    spec_field as spec_field,
)
from goldenpath.spec.fields import (
    yaml_key as yaml_key,
)
from goldenpath.spec.patterns import PatternError, compile_pattern

SPEC_FILE = "guide.yaml"
TEMPLATES_DIR = "templates"

Stage = Literal["discover", "build", "test", "integrate", "verify"]
GuideType = Literal["getting-started", "how-to"]
ParamType = Literal["string", "integer", "number", "boolean", "port"]
Requirement = Literal["cluster", "images"]


@dataclass(frozen=True, kw_only=True)
class Review:
    """Who last reviewed the guide's content, and when."""

    by: str = spec_field("Reviewer's name or handle.", example="alice")
    date: datetime.date = spec_field("Date of the review (YYYY-MM-DD).", example="2026-11-01")


@dataclass(frozen=True, kw_only=True)
class Freshness:
    """Per-guide override of the site's freshness policy."""

    max_age_days: int | None = spec_field(
        "A passing run older than this many days makes the guide stale (site default: 90).", None
    )
    review_age_days: int | None = spec_field(
        "A review older than this many days makes the guide stale (site default: 365).", None
    )


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What the guide is, who owns it and where it sits on the developer journey."""

    id: str = spec_field(
        "Stable identifier; must equal the guide's folder name. Used in URLs and test ids.",
        pattern=ID_PATTERN,
        example="hello-world",
    )
    title: str = spec_field("Page title.", example="Hello world: your first service")
    summary: str = spec_field("One or two sentences: what the reader will have at the end.")
    owner: str = spec_field(
        "Team that owns the guide (a GitHub team such as `@acme/platform` for CODEOWNERS).",
        example="@acme/platform",
    )
    stage: Stage = spec_field("Developer-activity stage the guide serves.")
    tags: tuple[str, ...] = spec_field("Free-form tags; each also becomes a pytest marker.", ())
    review: Review | None = spec_field("Review record.", None)
    freshness: Freshness = spec_field("Freshness policy override.", factory=Freshness)


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """A value the developer chooses; templates and commands use it as ``{{ name }}``."""

    name: str = spec_field("Jinja2 variable name.", pattern=NAME_PATTERN, example="service_name")
    description: str = spec_field("What the value is for, shown on the page.")
    type: ParamType = spec_field(
        "Value type. A `port` is an integer that checks replace with a free port.", "string"
    )
    default: Scalar | None = spec_field(
        "Value used on the page and in checks. Required unless the parameter is secret.", None
    )
    pattern: str | None = spec_field("Regular expression (RE2 syntax) a string value must match fully.", None)
    choices: tuple[Scalar, ...] = spec_field("Allowed values.", ())
    secret: bool = spec_field(
        "A secret: the page shows a placeholder, checks read it from `env`, and every report masks it"
        " (`***`): raw, base64 and base64url (also inside a longer value), URL-encoded, JSON-escaped,"
        " and split by a line break.",
        False,
    )
    env: str | None = spec_field(
        "Environment variable a secret's value is read from at run time (default: GOLDENPATH_SECRET_<NAME>).",
        None,
    )

    @property
    def env_var(self) -> str:
        return self.env or f"GOLDENPATH_SECRET_{self.name.upper()}"


@dataclass(frozen=True, kw_only=True)
class Prerequisite:
    """Something the reader needs before starting."""

    text: str = spec_field("What is needed, in Markdown.")
    command: str | None = spec_field(
        "A command that exits 0 when the prerequisite is met; checks run it first.", None
    )


@dataclass(frozen=True, kw_only=True)
class Step:
    """One thing the reader does. Set exactly one action: `run`, `file`, `http` or `variants`."""

    id: str = spec_field("Stable id, unique in the guide; the page anchor.", pattern=ID_PATTERN)
    title: str = spec_field("Short imperative title.", example="Deploy your service")
    explain: str = spec_field("Markdown shown before the action.", "")
    run: str | None = spec_field(
        "Shell command (bash), copied by the reader and run by checks; no `$ ` prompt.", None
    )
    file: FileAction | None = spec_field("Create a file from a template.", None)
    http: HttpAction | None = spec_field("Call an HTTP endpoint.", None)
    variants: tuple[Variant, ...] = spec_field("Equivalent commands shown as tabs.", ())
    background: bool = spec_field(
        "Start `run` in the background (a server); it is stopped when the guide ends.", False
    )
    ready: Ready | None = spec_field("Readiness condition of a background step.", None)
    expect: Expect = spec_field("Expectations.", factory=Expect)
    after: str = spec_field("Markdown shown after the action and expected output.", "")
    timeout: float = spec_field("Seconds before the step is stopped and counted as timed out.", 120.0)
    retry: Retry | None = spec_field("Retry budget for eventually-consistent checks.", None)
    hidden: bool = spec_field(
        "A verification-only step: run by checks, not shown as a step on the page.", False
    )
    check: BiteCheck | None = spec_field(
        "A check that must fail before the step and pass after it; the page shows it as the way "
        "to see that the step worked.",
        None,
    )
    capture: tuple[Capture, ...] = spec_field("Values later steps use, taken from this step's output.", ())
    requires: tuple[Requirement, ...] = spec_field(
        "What the step needs from the sandbox: `cluster` (a Kubernetes cluster) or `images` (a "
        "container image builder and the platform's registry). A sandbox without it skips the step "
        "and says so; a guide is verified only when every step ran for real.",
        (),
    )
    line: int = internal_field(0)


@dataclass(frozen=True, kw_only=True)
class Symptom:
    """What a failure of the entry's step shows when this problem is the cause. Any key that holds
    is enough; texts and patterns are looked for in the step's output and its failure message."""

    contains: tuple[str, ...] = spec_field("Texts, any of which the failure shows.", ())
    regex: tuple[str, ...] = spec_field("Regular expressions (RE2), any of which the failure matches.", ())
    exit_code: int | None = spec_field("The step's exit code.", None)

    def seen_in(self, text: str, exit_code: int | None) -> bool:
        """Whether a failure with this output and message, and this exit code, shows the symptom."""
        return (
            any(needle in text for needle in self.contains)
            or any(_found(pattern, text) for pattern in self.regex)
            or (self.exit_code is not None and self.exit_code == exit_code)
        )


def _found(pattern: str, text: str) -> bool:
    try:
        return compile_pattern(pattern, multiline=True).search(text) is not None
    except PatternError:
        return False  # lint reports the pattern


@dataclass(frozen=True, kw_only=True)
class Troubleshooting:
    """A known problem and its fix."""

    problem: str = spec_field("What the reader sees.")
    fix: str = spec_field("What to do about it, in Markdown.")
    step: str | None = spec_field("Id of the step this entry belongs to.", None)
    symptom: Symptom | None = spec_field(
        "How to recognise the problem in a failure of its step: reports and the page show an "
        "entry whose symptom matches first, and point at the page when none does.",
        None,
    )


@dataclass(frozen=True, kw_only=True)
class NextStep:
    """Where to go after this guide: another guide, or a URL."""

    guide: str | None = spec_field("Id of another guide.", None)
    url: str | None = spec_field("A URL, when the next step is not a guide.", None)
    title: str | None = spec_field("Link text (default: the other guide's title).", None)
    text: str = spec_field("Why to go there.", "")


@dataclass(frozen=True, kw_only=True)
class StandIn:
    """A local process that plays a container on the kwok sandbox, where no container runs."""

    deployment: str = spec_field("Name of the Deployment whose pods it stands in for (in messages).")
    port: int | str = spec_field(
        "Container port it serves; port-forwards to this port in the guide's namespace reach it, "
        "so two stand-ins of one guide need different container ports."
    )
    run: str = spec_field("Command that serves the port; `$PORT` holds the local port to bind.")


@dataclass(frozen=True, kw_only=True)
class GuideSpec:
    """What the reader does."""

    type: GuideType = spec_field("`getting-started` for newcomers, `how-to` for one task.")
    estimated_minutes: int | None = spec_field(
        "Minutes the commands take, added to the reading time until a run passes and is measured.", None
    )
    parameters: tuple[Parameter, ...] = spec_field("Values the developer chooses.", ())
    prerequisites: tuple[Prerequisite, ...] = spec_field("What the reader needs first.", ())
    steps: tuple[Step, ...] = spec_field("The steps, in order.", min_items=1)
    cleanup: tuple[Step, ...] = spec_field(
        "Steps that undo the guide; checks always run them, also after a failure.", ()
    )
    troubleshooting: tuple[Troubleshooting, ...] = spec_field("Known problems and fixes.", ())
    next_steps: tuple[NextStep, ...] = spec_field("Where to go next.", ())
    stand_ins: tuple[StandIn, ...] = spec_field("Local stand-ins for containers.", ())


@dataclass(frozen=True, kw_only=True)
class Guide:
    """A golden path: `golden_paths/<id>/guide.yaml`."""

    api_version: Literal["goldenpath.dev/v1"] = spec_field("Spec format version.")
    kind: Literal["GoldenPath"] = spec_field("Always `GoldenPath`.")
    metadata: Metadata = spec_field("About the guide.")
    spec: GuideSpec = spec_field("The guide itself.")
    source: Path = internal_field(Path())
    lines: Mapping[str, int] = internal_field(factory=dict)

    @property
    def id(self) -> str:
        return self.metadata.id

    @property
    def folder(self) -> Path:
        return self.source.parent

    @property
    def templates_dir(self) -> Path:
        return self.folder / TEMPLATES_DIR

    def line_of(self, dotted: str) -> int:
        """Line of a dotted path in the spec file, falling back to the closest parent."""
        while dotted:
            if dotted in self.lines:
                return self.lines[dotted]
            cut = max(dotted.rfind("."), dotted.rfind("["))
            dotted = dotted[:cut] if cut > 0 else ""
        return 1

    def all_steps(self) -> tuple[Step, ...]:
        return self.spec.steps + self.spec.cleanup

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.all_steps() if s.id == step_id), None)

    def known_problems(
        self, step_id: str, text: str, exit_code: int | None
    ) -> tuple[list[Troubleshooting], list[Troubleshooting]]:
        """The step's troubleshooting entries whose symptom a failure shows, and the others."""
        entries = [e for e in self.spec.troubleshooting if e.step == step_id]
        matching = [e for e in entries if e.symptom is not None and e.symptom.seen_in(text, exit_code)]
        return matching, [e for e in entries if e not in matching]
