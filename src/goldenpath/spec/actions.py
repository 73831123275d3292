"""The parts of a step in the spec model: what it does, what it must show, what it proves and
what it hands on. :mod:`goldenpath.spec.model` assembles them into steps and guides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from goldenpath.spec.fields import NAME_PATTERN, Scalar, spec_field


@dataclass(frozen=True, kw_only=True)
class FileAction:
    """Create a file from a Jinja2 template in the guide's `templates/` folder."""

    path: str = spec_field("Where the file goes, relative to the working directory.")
    template: str = spec_field("Template file name under `templates/`.")
    language: str | None = spec_field(
        "Code-block language on the page (default: from the file extension).", None
    )


@dataclass(frozen=True, kw_only=True)
class HttpAction:
    """Call an HTTP endpoint; the page shows it as a URL to open and the equivalent `curl`."""

    url: str = spec_field("URL to call.", example="http://localhost:{{ port }}/")
    method: str = spec_field("HTTP method.", "GET")
    headers: Mapping[str, str] = spec_field("Request headers.", factory=dict)
    body: str | None = spec_field("Request body.", None)


@dataclass(frozen=True, kw_only=True)
class Ready:
    """When a background process counts as ready. Set one of `port`, `http` or `log`."""

    port: int | str | None = spec_field("TCP port on 127.0.0.1 that accepts connections.", None)
    http: str | None = spec_field("URL that answers with a 2xx status.", None)
    log: str | None = spec_field("Regular expression (RE2) to wait for in the process output.", None)
    timeout: float = spec_field("Seconds to wait for readiness.", 30.0)


@dataclass(frozen=True, kw_only=True)
class Expect:
    """What the step must produce. A run step expects exit code 0 unless told otherwise."""

    exit_code: int | None = spec_field("Expected exit code of a `run` step (default 0).", None)
    contains: tuple[str, ...] = spec_field("Text the output must contain.", ())
    not_contains: tuple[str, ...] = spec_field("Text the output must not contain.", ())
    matches: tuple[str, ...] = spec_field("Regular expressions (RE2) the output must match.", ())
    output: str | None = spec_field(
        '"You should see": output shown on the page and matched tolerantly: `...` skips lines '
        "or text, placeholders such as `<hash>`, `<ip>`, `<duration>`, `<timestamp>`, `<number>`, "
        "`<namespace>` and `<any>` match variable parts.",
        None,
    )
    status: int | None = spec_field("Expected HTTP status of an `http` step (default 2xx).", None)
    json: Mapping[str, Scalar | None] = spec_field(
        "JSON fields of an `http` response body, by dotted path, and their expected values.",
        factory=dict,
    )
    files: tuple[str, ...] = spec_field("Files that must exist afterwards.", ())
    nothing: bool = spec_field(
        "Say explicitly that the step needs no check beyond running without error.", False
    )


@dataclass(frozen=True, kw_only=True)
class Retry:
    """Repeat the step until its expectations hold, for eventually-consistent results."""

    within: float = spec_field("Give up after this many seconds.")
    interval: float = spec_field("Seconds before the first retry.", 1.0)
    backoff: float = spec_field("Factor the interval grows by after each retry.", 1.5)
    settle: int = spec_field(
        "Stop early, as failed, after this many attempts in a row with the same wrong output and "
        "exit code (durations and timestamps aside): that output will not change. 0 retries to "
        "the end of `within`, for a step whose output stays the same while it converges.",
        3,
    )


@dataclass(frozen=True, kw_only=True)
class Capture:
    """A value taken from a step's output for later steps, which use it as ``{{ name }}``.

    The page shows the reader ``<name>`` (underscores as dashes) with the description, since
    their value differs; checks use the value the step printed. Set one of `regex` or `json`.
    """

    name: str = spec_field(
        "Variable name later steps use, as `{{ name }}`.", pattern=NAME_PATTERN, example="pod_name"
    )
    description: str = spec_field(
        "What the value is, shown to the reader beside its placeholder.",
        example="the name of one of the pods in the list",
    )
    regex: str | None = spec_field(
        "Regular expression (RE2) searched in the output: its first group, or the whole match.", None
    )
    json: str | None = spec_field(
        "Dotted path into the output read as JSON (an `http` step: the response body), e.g. "
        "`items[0].metadata.name`.",
        None,
    )
    secret: bool = spec_field("The value is a secret: every report masks it (`***`).", False)

    @property
    def placeholder(self) -> str:
        return "<" + self.name.replace("_", "-") + ">"


@dataclass(frozen=True, kw_only=True)
class BiteCheck:
    """A check that must fail before its step and pass after it: proof the step did the work.

    Checks run it twice. When it already passes before the step, the step is not what makes it
    pass, and the guide is reported as broken ("this check would pass without the step").
    """

    run: str | None = spec_field("Shell command of the check.", None)
    http: HttpAction | None = spec_field("Or an HTTP call.", None)
    expect: Expect = spec_field("What the check shows once the step did its work.", factory=Expect)
    within: float = spec_field(
        "After the step, keep trying for this many seconds until it passes (0: once).", 0.0
    )


@dataclass(frozen=True, kw_only=True)
class Variant:
    """An equivalent way to do a step, shown as a content tab. Every variant is checked."""

    label: str = spec_field("Tab label.", example="curl")
    run: str = spec_field("Shell command of this variant.")
