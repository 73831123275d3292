"""Captured values and bite checks: which steps use which captures, and the rules they follow.

A step captures a value from its output (:class:`~goldenpath.spec.model.Capture`); later steps
use it as ``{{ name }}``. The page renders it as the reader's placeholder (``<pod-name>``), a
check renders it again with the value the run captured.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

from goldenpath.spec import matching
from goldenpath.spec.model import Capture, Guide, Step
from goldenpath.spec.patterns import pattern_problem

Hint = tuple[str, str, str]
"""(dotted path, message, how to fix it)."""


def captures(guide: Guide) -> dict[str, tuple[Capture, Step]]:
    """Every capture of the guide by name, with the step that takes it."""
    found: dict[str, tuple[Capture, Step]] = {}
    for step in guide.all_steps():
        for capture in step.capture:
            found.setdefault(capture.name, (capture, step))
    return found


def placeholders(guide: Guide) -> dict[str, str]:
    """The value every capture has on the page (and before the run captured it): ``<pod-name>``."""
    return {name: capture.placeholder for name, (capture, _) in captures(guide).items()}


_TEXT_FIELDS: dict[type, tuple[str, ...]] = {}


def _text_fields(cls: type) -> tuple[str, ...]:
    """The fields of a model class that can hold a spec's texts (not its captures)."""
    if cls not in _TEXT_FIELDS:
        _TEXT_FIELDS[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if f.name != "capture" and not f.metadata.get("internal")
        )
    return _TEXT_FIELDS[cls]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name in _text_fields(type(value)):
            yield from _strings(getattr(value, name))


_TAG = re.compile(r"\{[{%](.*?)[}%]\}", re.S)


def uses(step: Step, names: Iterator[str] | list[str] | set[str]) -> list[str]:
    """The captured names the step's texts refer to inside ``{{ }}`` or ``{% %}``."""
    wanted = list(names)
    if not wanted:  # most guides capture nothing: no need to read the step's texts
        return []
    tags = " ".join(tag for text in _strings(step) if "{" in text for tag in _TAG.findall(text))
    return [name for name in wanted if re.search(rf"\b{re.escape(name)}\b", tags)]


def problems(guide: Guide) -> list[Hint]:
    """Captures and bite checks that cannot work: clashing names, a use before the capture, ..."""
    found: list[Hint] = []
    parameters = {p.name for p in guide.spec.parameters}
    every = set(captures(guide))
    taken: set[str] = set()
    for section in ("steps", "cleanup"):
        for index, step in enumerate(getattr(guide.spec, section)):
            path = f"spec.{section}[{index}]"
            for name in uses(step, sorted(every - taken)):
                found.append(
                    (path, f"step '{step.id}' uses '{name}' before a step captures it", "capture it earlier")
                )
            found += _step_problems(step, path, parameters, taken)
    return found


def _step_problems(step: Step, path: str, parameters: set[str], taken: set[str]) -> list[Hint]:
    found: list[Hint] = []
    for k, capture in enumerate(step.capture):
        where = f"{path}.capture[{k}]"
        if capture.name in parameters:
            found.append((f"{where}.name", f"'{capture.name}' is also a parameter", "give it another name"))
        elif capture.name in taken:
            found.append((f"{where}.name", f"'{capture.name}' is captured twice", "give it another name"))
        taken.add(capture.name)
        if (capture.regex is None) == (capture.json is None):
            found.append((where, "set exactly one of 'regex' or 'json'", ""))
        elif capture.regex is not None and (problem := pattern_problem(capture.regex)):
            found.append((f"{where}.regex", f"invalid regular expression: {problem}", "fix the pattern"))
        if step.file is not None or step.background or step.variants:
            found.append(
                (where, "only a run or http step that ends has one output to capture", "move it there")
            )
    check = step.check
    if check is not None:
        if (check.run is None) == (check.http is None):
            found.append((f"{path}.check", "set exactly one of 'run' or 'http'", ""))
        if not 0 <= check.within <= 3600:
            found.append((f"{path}.check.within", "within must be 0 to 3600 seconds", "use e.g. 30"))
        for k, pattern in enumerate(check.expect.matches):
            if problem := pattern_problem(pattern):
                where = f"{path}.check.expect.matches[{k}]"
                found.append((where, f"invalid regular expression: {problem}", "fix the pattern"))
        for message in matching.check_pattern(check.expect.output or ""):
            found.append((f"{path}.check.expect.output", message, "fix that ' (re)' line"))
    return found
