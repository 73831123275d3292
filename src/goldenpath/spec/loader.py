"""Load golden-path specs into the frozen model: one file, a folder of guides, and their links.

Every problem is collected (with ``file:line``, the dotted path and a hint) before anything runs;
rules that span fields (one action per step, unique ids, references that resolve) run once a
spec converts.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from goldenpath.errors import Problem, UserError
from goldenpath.spec import captures, matching, model, params
from goldenpath.spec.convert import convert_document
from goldenpath.spec.inputs import read_text
from goldenpath.spec.model import Guide, Step
from goldenpath.spec.patterns import pattern_problem


def parse_guide(file: Path, text: str | None = None) -> tuple[Guide | None, list[Problem]]:
    """Read one spec file into a :class:`Guide`, returning every problem found on the way.

    The guide is None unless there are no problems. Rules that span fields run on a spec whose
    fields are all well formed.
    """
    guide, problems = _build(file, text)
    if guide is None or problems:
        return None, problems
    problems = _check_guide(guide)
    return (None if problems else guide), problems


def parse_partial(file: Path, text: str | None = None) -> tuple[Guide | None, list[Problem]]:
    """For lint: the guide as far as it could be built (a bad optional value keeps its default),
    with the problems of its fields and of the rules that span them, all in one pass. A guide
    with problems is for checking the rest of it, never for running."""
    guide, problems = _build(file, text)
    if guide is not None:
        problems += _check_guide(guide)
    return guide, problems


def _build(file: Path, text: str | None) -> tuple[Guide | None, list[Problem]]:
    if text is None:
        text, problem = read_text(file, "spec")
        if text is None:
            assert problem is not None
            return None, [problem]
    guide, lines, problems = convert_document(file, text, Guide)
    if guide is None:
        return None, problems
    steps = _with_lines(guide.spec.steps, lines, "spec.steps")
    cleanup = _with_lines(guide.spec.cleanup, lines, "spec.cleanup")
    guide = dataclasses.replace(
        guide,
        spec=dataclasses.replace(guide.spec, steps=steps, cleanup=cleanup),
        source=file,
        lines=lines,
    )
    return guide, problems


def _with_lines(steps: tuple[Step, ...], lines: dict[str, int], path: str) -> tuple[Step, ...]:
    """Each step with the line of the spec entry at its index (the converter gave it its own
    line: the same, unless a step before it did not convert)."""
    return tuple(
        s if s.line == (line := lines.get(f"{path}[{i}]", 0)) else dataclasses.replace(s, line=line)
        for i, s in enumerate(steps)
    )


def _check_guide(guide: Guide) -> list[Problem]:
    """Rules that span fields: one action per step, unique ids, references that resolve."""
    problems: list[Problem] = []

    def add(path: str, message: str, hint: str = "") -> None:
        problems.append(Problem(guide.source, guide.line_of(path), path, message, hint))

    folder = guide.source.parent.name
    if guide.id != folder:
        add(
            "metadata.id",
            f"id '{guide.id}' differs from the folder name '{folder}'",
            f"rename the folder or set id: {folder}",
        )

    minutes = guide.spec.estimated_minutes
    if minutes is not None and not 1 <= minutes <= 24 * 60:
        add("spec.estimatedMinutes", f"{minutes} minutes is out of range", "use 1 to 1440")

    seen_params: set[str] = set()
    for i, param in enumerate(guide.spec.parameters):
        path = f"spec.parameters[{i}]"
        if param.name in seen_params:
            add(f"{path}.name", f"duplicate parameter '{param.name}'", "give each a unique name")
        seen_params.add(param.name)
        if param.pattern and (problem := pattern_problem(param.pattern)):
            add(
                f"{path}.pattern",
                f"invalid pattern for '{param.name}': {problem}",
                "fix the regular expression",
            )
            continue
        for message, hint in params.check_default(param):
            add(f"{path}.default", message, hint)

    seen_steps: dict[str, str] = {}
    for section in ("steps", "cleanup"):
        for i, step in enumerate(getattr(guide.spec, section)):
            path = f"spec.{section}[{i}]"
            if step.id in seen_steps:
                add(
                    f"{path}.id",
                    f"duplicate step id '{step.id}' (also {seen_steps[step.id]})",
                    "give each step a unique id",
                )
            else:
                seen_steps[step.id] = path
            actions = [
                name for name in ("run", "file", "http", "variants") if getattr(step, name) not in (None, ())
            ]
            if len(actions) != 1:
                found = ", ".join(actions) or "none"
                add(
                    path,
                    f"a step needs exactly one action of run, file, http, variants; found {found}",
                    "split it into several steps" if actions else "add 'run:' with a command",
                )
            if step.background and step.run is None:
                add(
                    f"{path}.background",
                    "only a 'run' step can run in the background",
                    "add 'run:' or remove 'background'",
                )
            if step.ready is not None and not step.background:
                add(f"{path}.ready", "'ready' only applies to background steps", "add 'background: true'")
            if step.ready is not None:
                set_keys = [k for k in ("port", "http", "log") if getattr(step.ready, k) is not None]
                if len(set_keys) != 1:
                    add(f"{path}.ready", "set exactly one of port, http, log", "keep one condition")
            if step.file is not None:
                template = guide.templates_dir / step.file.template
                name = Path(step.file.template)
                if name.is_absolute() or ".." in name.parts:
                    add(
                        f"{path}.file.template",
                        f"template '{step.file.template}' is not under templates/",
                        "name a file of the guide's templates/ folder",
                    )
                elif not template.is_file():
                    add(
                        f"{path}.file.template",
                        f"template '{step.file.template}' not found in {guide.templates_dir}",
                        "create it or fix the name",
                    )
            for pattern_index, pattern in enumerate(step.expect.matches):
                if problem := pattern_problem(pattern):
                    add(
                        f"{path}.expect.matches[{pattern_index}]",
                        f"invalid regular expression: {problem}",
                        "escape special characters",
                    )
            log = step.ready.log if step.ready is not None else None
            if log is not None and (problem := pattern_problem(log)):
                add(f"{path}.ready.log", f"invalid regular expression: {problem}", "fix the pattern")
            if step.expect.output is not None:
                for message in matching.check_pattern(step.expect.output):
                    add(f"{path}.expect.output", message, "fix the regular expression of that ' (re)' line")
            if step.run is not None and re.match(r"^\s*\$ ", step.run):
                add(
                    f"{path}.run",
                    "command starts with a '$ ' prompt",
                    "remove the prompt so the copy button copies a runnable command",
                )
            for where, bound in _bounds(step):
                add(f"{path}.{where}", *bound)

    for where, message, hint in captures.problems(guide):
        add(where, message, hint)
    problems += _escaping_templates(guide)
    for i, entry in enumerate(guide.spec.troubleshooting):
        if entry.symptom is not None:
            for k, pattern in enumerate(entry.symptom.regex):
                if problem := pattern_problem(pattern):
                    add(
                        f"spec.troubleshooting[{i}].symptom.regex[{k}]",
                        f"invalid regular expression: {problem}",
                        "escape special characters",
                    )
            if entry.step is None:
                add(f"spec.troubleshooting[{i}].symptom", "a symptom needs the entry's 'step'", "add 'step:'")
        if entry.step is not None and entry.step not in seen_steps:
            close = difflib.get_close_matches(entry.step, list(seen_steps), n=1)
            add(
                f"spec.troubleshooting[{i}].step",
                f"no step with id '{entry.step}'",
                f"did you mean '{close[0]}'?" if close else "use the id of a step of this guide",
            )

    for i, nxt in enumerate(guide.spec.next_steps):
        if (nxt.guide is None) == (nxt.url is None):
            add(f"spec.nextSteps[{i}]", "set exactly one of 'guide' or 'url'", "")

    stand_in_names: set[str] = set()
    for i, stand_in in enumerate(guide.spec.stand_ins):
        if stand_in.deployment in stand_in_names:
            add(f"spec.standIns[{i}].deployment", f"duplicate stand-in for '{stand_in.deployment}'")
        stand_in_names.add(stand_in.deployment)
    return problems


def _escaping_templates(guide: Guide) -> list[Problem]:
    """Templates that are links to files outside the golden-paths folder: they are never read
    (a link to /etc/passwd would publish it on the site). Links between guides' templates are fine."""
    root = guide.folder.parent.resolve()
    problems = []
    pending = [guide.templates_dir] if guide.templates_dir.is_dir() else []
    walked: set[Path] = set()
    while pending:
        path = pending.pop()
        target = path.resolve()
        if not target.is_relative_to(root):
            what = "template folder" if path.is_dir() else "template"
            problems.append(
                Problem(
                    path,
                    None,
                    "",
                    f"the {what} links outside the golden paths ({target})",
                    "copy the file into the guide's templates/ folder, or link one under golden_paths/",
                )
            )
        elif path.is_dir() and target not in walked:  # a link back up is walked once
            walked.add(target)
            pending.extend(sorted(path.iterdir(), reverse=True))
    return problems


MAX_SECONDS = 24 * 3600.0
"""Longest timeout or retry budget a step may ask for."""
MIN_RETRY_INTERVAL = 0.05
"""Shortest pause between retries: anything less is a busy loop of thousands of attempts."""


def _bounds(step: Step) -> list[tuple[str, tuple[str, str]]]:
    """Numbers of a step that are out of range, as (key, (message, hint))."""
    found: list[tuple[str, tuple[str, str]]] = []

    def seconds(key: str, value: float, minimum: float = 0.0) -> None:
        name = key.rpartition(".")[2]
        if value <= 0 and minimum == 0.0:
            found.append((key, (f"{name} must be positive", "use seconds, e.g. 60")))
        elif value < minimum:
            found.append((key, (f"{name} {value:g} is too short", f"use at least {minimum:g} seconds")))
        elif value > MAX_SECONDS:
            found.append((key, (f"{name} {value:g} is too long", f"use at most {MAX_SECONDS:g} seconds")))

    seconds("timeout", step.timeout)
    if step.retry is not None:
        seconds("retry.within", step.retry.within)
        seconds("retry.interval", step.retry.interval, MIN_RETRY_INTERVAL)
        if not 1.0 <= step.retry.backoff <= 10.0:
            found.append(
                ("retry.backoff", (f"{step.retry.backoff:g} is out of range", "use 1 (no growth) to 10"))
            )
        if step.retry.settle < 0:
            found.append(("retry.settle", ("settle cannot be negative", "use 0 to retry to the end, or 3")))
    if step.ready is not None:
        seconds("ready.timeout", step.ready.timeout)
    code = step.expect.exit_code
    if code is not None and not 0 <= code <= 255:
        found.append(("expect.exitCode", (f"exit code {code} cannot happen", "use 0 to 255")))
    return found


def find_specs(root: Path) -> list[Path]:
    """Every spec file under a golden-paths directory, in a stable order."""
    if not root.is_dir():
        raise UserError(
            [
                Problem(
                    root,
                    None,
                    "",
                    "golden-paths directory not found",
                    "pass --golden-paths DIR or set golden_paths in [tool.goldenpath]",
                )
            ]
        )
    return sorted(root.glob(f"*/{model.SPEC_FILE}"))


def collect_guides(root: Path, *, partial: bool = False) -> tuple[list[Guide], list[Problem]]:
    """Every guide under ``root`` that loads, and the problems of those that do not.

    With ``partial``, guides with problems are returned too when they could be built, so lint
    can render and check the rest of them in the same pass.
    """
    guides: list[Guide] = []
    problems: list[Problem] = []
    for file in find_specs(root):
        guide, found = parse_partial(file) if partial else parse_guide(file)
        problems.extend(found)
        if guide is not None:
            guides.append(guide)
    problems.extend(check_links(guides))
    return guides, problems


def load_guides(root: Path, only: Iterable[str] = ()) -> list[Guide]:
    """Load and validate every guide under ``root``; raise :class:`UserError` with all problems.

    With ``only``, every guide is still validated (links span guides) but only those are returned.
    """
    guides, problems = collect_guides(root)
    wanted = list(only)
    known = {g.id for g in guides}
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "run 'goldenpath status' to list guides"
            problems.append(Problem(root, None, "", f"no guide named '{name}'", hint))
    if problems:
        raise UserError(problems)
    if wanted:
        guides = [g for g in guides if g.id in wanted]
    return guides


def check_links(guides: list[Guide]) -> list[Problem]:
    """Next steps must point at guides that exist."""
    known = {g.id for g in guides}
    problems = []
    for guide in guides:
        for i, nxt in enumerate(guide.spec.next_steps):
            if nxt.guide is not None and nxt.guide not in known:
                path = f"spec.nextSteps[{i}].guide"
                close = difflib.get_close_matches(nxt.guide, sorted(known), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "link an existing guide or use 'url'"
                problems.append(
                    Problem(guide.source, guide.line_of(path), path, f"no guide with id '{nxt.guide}'", hint)
                )
    return problems


def content_hash(guide: Guide) -> str:
    """A hash of the spec and every template: a change makes a passed guide stale.

    It covers the source, not the rendering with one run's values (free ports differ per run),
    and parameter defaults are part of the spec.
    """
    digest = hashlib.sha256()
    digest.update(guide.source.read_bytes())
    if guide.templates_dir.is_dir():
        for path in sorted(p for p in guide.templates_dir.rglob("*") if p.is_file()):
            digest.update(path.relative_to(guide.templates_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
