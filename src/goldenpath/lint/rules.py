"""Lint rules beyond schema validity: what makes a guide good to follow, not just loadable.

Each rule has an id (``GP1xx``), a default severity, a message and a documented fix. A
repository tunes them in ``pyproject.toml``::

    [tool.goldenpath.lint]
    disable = ["GP108"]
    severity = {GP109 = "error", GP102 = "off"}

Rules run on guides that load and render; a guide with schema, template or manifest errors gets
those errors first. The table :data:`RULES` also generates the site's lint-rules reference page.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from goldenpath.lint.bite import BITE_RULES
from goldenpath.lint.dead_parts import DEAD_PART_RULES
from goldenpath.spec.model import Guide, Step

Severity = Literal["error", "warning"]
SEVERITIES = ("error", "warning", "off")


@dataclass(frozen=True)
class Finding:
    """One place where a guide breaks a rule."""

    rule: str
    severity: Severity
    file: Path | str
    line: int | None
    path: str
    """Dotted path in the spec, or empty for a template file."""
    message: str
    fix: str

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else str(self.file)

    def __str__(self) -> str:
        where = f"{self.location()}: " + (f"{self.path}: " if self.path else "")
        return f"{where}{self.rule} {self.message} (fix: {self.fix})"


@dataclass(frozen=True)
class Context:
    """What rules may look at beyond one guide."""

    guides: Mapping[str, Guide]
    docs_dir: Path | None = None
    """The site's ``docs/`` folder, to resolve site-relative next-step links."""


# A check yields (dotted path or template file, line or None, message).
Hit = tuple[str | Path, int | None, str]
Check = Callable[[Guide, Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    """What the rule asks for, one sentence."""
    why: str
    fix: str
    check: Check


# -- the checks --------------------------------------------------------------------------------


def _getting_started_prerequisites(guide: Guide, ctx: Context) -> Iterator[Hit]:
    if guide.spec.type == "getting-started" and not guide.spec.prerequisites:
        yield "spec.type", None, "a getting-started guide lists no prerequisites"


def _getting_started_time(guide: Guide, ctx: Context) -> Iterator[Hit]:
    if guide.spec.type == "getting-started" and guide.spec.estimated_minutes is None:
        yield "spec.type", None, "a getting-started guide has no estimated time"


def _sections(guide: Guide) -> Iterator[tuple[str, Step]]:
    for section in ("steps", "cleanup"):
        for index, step in enumerate(getattr(guide.spec, section)):
            yield f"spec.{section}[{index}]", step


def has_expectation(step: Step) -> bool:
    """A run step states what it must do: output, files, an explicit exit code, or ``nothing``.

    An explicit ``exitCode`` counts, because it is a decision (``exitCode: 1`` for a test that must
    fail, ``exitCode: 0`` to say the exit status is the whole check). A background step's
    ``ready`` condition counts too: it is checked.
    """
    expect = step.expect
    return bool(
        expect.output is not None
        or expect.contains
        or expect.not_contains
        or expect.matches
        or expect.files
        or expect.exit_code is not None
        or expect.nothing
        or (step.background and step.ready is not None)
    )


def _run_expectation(guide: Guide, ctx: Context) -> Iterator[Hit]:
    for path, step in _sections(guide):
        if (step.run is not None or step.variants) and not has_expectation(step):
            yield path, None, f"run step '{step.id}' has no expectation"


_PROMPT = re.compile(r"^\s*\$ ", re.MULTILINE)


def _commands(guide: Guide) -> Iterator[tuple[str, str]]:
    """Every shell command of a guide with its dotted path."""
    for index, prerequisite in enumerate(guide.spec.prerequisites):
        if prerequisite.command:
            yield f"spec.prerequisites[{index}].command", prerequisite.command
    for path, step in _sections(guide):
        if step.run is not None:
            yield f"{path}.run", step.run
        for index, variant in enumerate(step.variants):
            yield f"{path}.variants[{index}].run", variant.run
    for index, stand_in in enumerate(guide.spec.stand_ins):
        yield f"spec.standIns[{index}].run", stand_in.run


def _prompts(guide: Guide, ctx: Context) -> Iterator[Hit]:
    for path, command in _commands(guide):
        if _PROMPT.search(command):
            yield path, None, "command contains a '$ ' prompt"


_SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "an AWS secret access key",
        re.compile(r"(?i)aws_?secret_?access_?key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b"),
    ),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("a bearer token", re.compile(r"(?i)\bbearer\s+(?!\$|\{\{|<)[A-Za-z0-9._~+/=-]{20,}")),
    (
        "a password, token or key",
        re.compile(
            r"(?i)\b[a-z_]*(?:password|passwd|secret|token|api[_-]?key)[a-z_]*\b[\"']?\s*[=:]\s*"
            r"[\"']?(?![\"'\s]|\$|\{\{|<|\*\*\*|\.\.\.|\.{0,2}/|~/)[^\s\"'`,;}]{8,}"
        ),
    ),
)

_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|changeme|example\w*|your[-_]\w+|dummy\w*|fake\w*|"
    r"not-a-real-\w+|placeholder\w*|redacted)$"
)


def find_secrets(text: str) -> Iterator[tuple[int, str]]:
    """(line, what) for every secret-looking value in ``text``; placeholders are fine."""
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in _SECRET_PATTERNS:
            match = pattern.search(line)
            if match is None:
                continue
            value = re.split(r"[=:\s]\s*[\"']?", match.group(0))[-1].strip("\"'")
            if _PLACEHOLDER.match(value):
                continue
            yield number, what
            break


def _texts(guide: Guide) -> Iterator[tuple[str, str]]:
    yield from _commands(guide)
    for path, step in _sections(guide):
        if step.http is not None:
            yield f"{path}.http.url", step.http.url
            for key, value in step.http.headers.items():
                yield f"{path}.http.headers.{key}", f"{key}: {value}"
            if step.http.body:
                yield f"{path}.http.body", step.http.body
    for parameter in guide.spec.parameters:
        if isinstance(parameter.default, str):
            index = guide.spec.parameters.index(parameter)
            yield f"spec.parameters[{index}].default", f"{parameter.name}={parameter.default}"


def _secrets(guide: Guide, ctx: Context) -> Iterator[Hit]:
    for path, text in _texts(guide):
        for _, what in find_secrets(text):
            yield path, None, f"hard-coded secret: looks like {what}"
    templates = guide.templates_dir
    if templates.is_dir():
        for file in sorted(p for p in templates.rglob("*") if p.is_file()):
            try:
                source = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for line, what in find_secrets(source):
                yield file, line, f"hard-coded secret in a template: looks like {what}"


def _links(guide: Guide, ctx: Context) -> Iterator[Hit]:
    for index, nxt in enumerate(guide.spec.next_steps):
        path = f"spec.nextSteps[{index}]"
        if nxt.guide is not None and nxt.guide not in ctx.guides:
            close = difflib.get_close_matches(nxt.guide, sorted(ctx.guides), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            yield (
                f"{path}.guide",
                None,
                f"next step links to a guide that does not exist: '{nxt.guide}'{hint}",
            )
        if nxt.url is None:
            continue
        url = nxt.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            host = parts.hostname or ""
            if not host or ("." not in host and host != "localhost"):
                yield f"{path}.url", None, f"next-step URL has no valid host: {url}"
        elif parts.scheme == "mailto":
            continue
        elif parts.scheme or parts.netloc:
            yield f"{path}.url", None, f"next-step URL has an unsupported scheme: {url}"
        elif not _page_exists(parts.path, ctx):
            yield f"{path}.url", None, f"next-step link points at no page of the site: {url}"


def _page_exists(link: str, ctx: Context) -> bool:
    """A site-relative link (from a guide's page) names a page under ``docs/`` or a guide."""
    if not link:
        return True  # an anchor on the same page
    target = link.lstrip("/").split("#")[0]
    while target.startswith("../"):
        target = target[3:]
    stem = target.removesuffix("/").removesuffix(".md").removesuffix("/index")
    for guide in ctx.guides.values():
        if stem in (f"{guide.spec.type}/{guide.id}", guide.id):
            return True
    if ctx.docs_dir is None:
        return True  # no docs folder to look in: cannot tell
    candidates = [target, f"{stem}.md", f"{stem}/index.md", f"{stem}/README.md"]
    return any((ctx.docs_dir / c).is_file() for c in candidates if c)


def _titles(guide: Guide, ctx: Context) -> Iterator[Hit]:
    for path, step in _sections(guide):
        if not step.title.strip():
            yield f"{path}.title", None, f"step '{step.id}' has no title"


def _hidden_minority(guide: Guide, ctx: Context) -> Iterator[Hit]:
    steps = guide.spec.steps
    hidden = sum(s.hidden for s in steps)
    if hidden and hidden * 2 >= len(steps):
        yield "spec.steps", None, f"{hidden} of {len(steps)} steps are hidden"


def _review(guide: Guide, ctx: Context) -> Iterator[Hit]:
    if guide.metadata.review is None:
        yield "metadata", None, "no review record"


RULES: tuple[Rule, ...] = (
    Rule(
        "GP101",
        "getting-started-prerequisites",
        "warning",
        "A getting-started guide lists its prerequisites.",
        "Newcomers do not know what to install first; a prerequisite with a `command` is also "
        "checked before the guide runs.",
        "add `spec.prerequisites` with a `text` (and a `command` that proves it) for each tool",
        _getting_started_prerequisites,
    ),
    Rule(
        "GP102",
        "getting-started-time",
        "warning",
        "A getting-started guide gives an estimated time.",
        "Readers plan around it: the page adds the commands' estimate to the reading time until "
        "a run passes and measured step durations replace it.",
        "add `spec.estimatedMinutes`",
        _getting_started_time,
    ),
    Rule(
        "GP103",
        "run-step-expectation",
        "warning",
        "Every run step has an expectation, or says explicitly that none is needed.",
        "A step that only has to exit 0 rarely proves the doc is right. Counts: `output`, "
        "`contains`, `notContains`, `matches`, `files`, an explicit `exitCode` (a decision, "
        "e.g. 1 for a test that must fail), `ready` on a background step, or `nothing: true`.",
        "add `expect.output` (what the reader should see) or `expect: {nothing: true}`",
        _run_expectation,
    ),
    Rule(
        "GP104",
        "no-prompt",
        "error",
        "Commands carry no `$ ` prompt.",
        "The copy button copies the command as shown, and the check runs it byte for byte; a "
        "prompt makes both fail. Applies to every line of run steps, variants, prerequisite "
        "commands and stand-ins.",
        "remove the leading `$ ` from each line",
        _prompts,
    ),
    Rule(
        "GP105",
        "no-hard-coded-secret",
        "error",
        "No secret-looking values in commands, requests, parameter defaults or templates.",
        "A page is public inside the company and a repository is forever. Recognised: AWS keys, "
        "GitHub and Slack tokens, private keys, bearer tokens and `password=`/`token:`-style "
        "assignments of a literal; `{{ var }}`, `$VAR`, `<placeholder>` and `***` are fine.",
        "declare a parameter with `secret: true` (read from `env` at run time) and use "
        "`{{ name }}` instead of the value",
        _secrets,
    ),
    Rule(
        "GP106",
        "next-step-link-resolves",
        "error",
        "Every next-step link resolves.",
        "A dead link is the end of a reader's path. A `guide` must be a guide's id; a `url` must "
        "be an absolute http(s) URL with a host, or a site-relative link to a page under `docs/` "
        "or a guide's page. (URLs are not fetched: lint runs offline.)",
        "use the id of an existing guide, a full `https://` URL, or the path of a page in `docs/`",
        _links,
    ),
    Rule(
        "GP107",
        "step-title",
        "error",
        "Every step has a title.",
        "Titles are the page's headings, anchors and the names in check reports.",
        'give the step a short imperative `title`, e.g. "Deploy your service"',
        _titles,
    ),
    Rule(
        "GP108",
        "hidden-steps-minority",
        "warning",
        "Hidden steps are fewer than half of the steps.",
        "Hidden steps run in checks but not for readers; when most steps are hidden, the check "
        "no longer proves what the page says.",
        "show the steps a reader also needs, or move setup into prerequisites",
        _hidden_minority,
    ),
    Rule(
        "GP109",
        "review-record",
        "warning",
        "The guide has a review record.",
        "Who last read the guide, and when: old reviews make guides stale.",
        "add `metadata.review: {by: <handle>, date: YYYY-MM-DD}`",
        _review,
    ),
    *(Rule(*entry) for entry in DEAD_PART_RULES),
    *(Rule(*entry) for entry in BITE_RULES),  # type: ignore[arg-type]
)

RULES_BY_ID: Mapping[str, Rule] = {r.id: r for r in RULES}


# -- documentation -----------------------------------------------------------------------------
