"""Lint checks that see dead parts of a guide: what it carries but never shows or uses.

Templates no step renders, parameters nothing refers to, troubleshooting entries the page cannot
place and next steps that lead back to the same page. The checks only read the guide, so this
module imports nothing of :mod:`goldenpath.lint.rules`; the rules table there wraps them.
A check yields ``(dotted path or template file, line or None, message)``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jinja2
import jinja2.meta

from goldenpath.spec.model import Guide

DeadHit = tuple[str | Path, int | None, str]
DeadCheck = Callable[[Guide, object], Iterator[DeadHit]]


def _spec_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, text) for every string under ``value``: fields, items, mapping keys and values.

    Walks the dataclasses generically, so a field added to the model later counts too.
    """
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            if not item.metadata.get("internal"):
                yield from _spec_strings(getattr(value, item.name), f"{path}.{item.name}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _spec_strings(key, f"{path}.{key}")
            yield from _spec_strings(item, f"{path}.{key}")
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _spec_strings(item, f"{path}[{index}]")


def _guide_texts(guide: Guide) -> Iterator[str]:
    """Every string of ``guide.spec`` but the names and descriptions of the parameters."""
    for path, text in _spec_strings(guide.spec, "spec"):
        if re.fullmatch(r"spec\.parameters\[\d+\]\.(name|description)", path) is None:
            yield text


def _template_files(guide: Guide) -> dict[str, Path]:
    """Template name (relative to ``templates/``) -> file, for each regular, non-hidden file."""
    folder = guide.templates_dir
    if not folder.is_dir():
        return {}
    found = {}
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder)
        if file.is_file() and not any(part.startswith(".") for part in relative.parts):
            found[relative.as_posix()] = file
    return found


def _read(file: Path) -> str | None:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _references(env: jinja2.Environment, source: str) -> list[str | None]:
    """Templates a source includes, imports or extends; None for a computed name."""
    if "{%" not in source:
        return []
    try:
        return list(jinja2.meta.find_referenced_templates(env.parse(source)))
    except jinja2.TemplateSyntaxError:
        return []  # reported by the renderer


def _name(reference: str) -> str:
    return PurePosixPath(reference).as_posix().removeprefix("./")


def unused_templates(guide: Guide, ctx: object) -> Iterator[DeadHit]:
    """Templates no step creates a file from, directly or through include/import/extends."""
    files = _template_files(guide)
    if not files:
        return
    env = jinja2.Environment()
    queue: list[str | None] = [s.file.template for s in guide.all_steps() if s.file is not None]
    for text in _guide_texts(guide):  # spec strings render with the templates folder too
        queue += _references(env, text)
    used: set[str] = set()
    while queue:
        reference = queue.pop()
        if reference is None:
            return  # a computed name could be any template: nothing is known to be dead
        name = _name(reference)
        if name in used:
            continue
        used.add(name)
        source = _read(files[name]) if name in files else None
        if source is not None:
            queue += _references(env, source)
    for name, file in files.items():
        if name not in used:
            yield file, None, f"template '{name}' is used by no step"


def _variables(env: jinja2.Environment, source: str) -> set[str] | None:
    """Names a source reads as Jinja variables; None when it does not parse."""
    try:
        return set(jinja2.meta.find_undeclared_variables(env.parse(source)))
    except jinja2.TemplateSyntaxError:
        return None


def unused_parameters(guide: Guide, ctx: object) -> Iterator[DeadHit]:
    """Parameters that no spec text and no template reads as a variable."""
    if not guide.spec.parameters:
        return
    env = jinja2.Environment()
    sources = list(_guide_texts(guide))
    sources += [s for s in map(_read, _template_files(guide).values()) if s is not None]
    used: set[str] = set()
    unparsed: list[str] = []
    for source in sources:
        if not any(mark in source for mark in ("{{", "{%", "{#")):
            continue
        names = _variables(env, source)
        if names is None:
            unparsed.append(source)
        else:
            used |= names
    for index, parameter in enumerate(guide.spec.parameters):
        if parameter.name in used:
            continue
        word = re.compile(rf"\b{re.escape(parameter.name)}\b")
        if any(word.search(source) for source in unparsed):
            continue
        yield (
            f"spec.parameters[{index}]",
            None,
            f"parameter '{parameter.name}' is used by no template, command or text",
        )


def troubleshooting_on_hidden_steps(guide: Guide, ctx: object) -> Iterator[DeadHit]:
    """Troubleshooting entries attached to a step the page does not show."""
    hidden = {step.id for step in guide.all_steps() if step.hidden}
    for index, entry in enumerate(guide.spec.troubleshooting):
        if entry.step is not None and entry.step in hidden:
            yield (
                f"spec.troubleshooting[{index}].step",
                None,
                f"troubleshooting entry is attached to hidden step '{entry.step}'",
            )


def next_steps_to_self(guide: Guide, ctx: object) -> Iterator[DeadHit]:
    """Next steps that link the guide to itself."""
    for index, nxt in enumerate(guide.spec.next_steps):
        if nxt.guide == guide.id:
            yield (
                f"spec.nextSteps[{index}].guide",
                None,
                f"next step links the guide to itself ('{nxt.guide}')",
            )


DEAD_PART_RULES: tuple[tuple[str, str, Literal["error", "warning"], str, str, str, DeadCheck], ...] = (
    (
        "GP110",
        "unused-template",
        "warning",
        "Every file under `templates/` is used by a step.",
        "A template no `file` step names, and no used template pulls in through `{% include %}`, "
        "`{% import %}`, `{% from %}` or `{% extends %}`, is never rendered or checked: it goes "
        "stale unseen, and readers of the repository take it for part of the guide. Hidden files "
        "are ignored; a computed template name counts as using every template.",
        "delete it, or add the `file` step that creates it",
        unused_templates,
    ),
    (
        "GP111",
        "unused-parameter",
        "warning",
        "Every parameter is used by a template, a command or a text of the guide.",
        "A parameter shows on the page as a value to choose; when no `{{ name }}` reads it, "
        "changing it changes nothing, usually because a command or template spells the value out "
        "or misspells the name. Every string of the spec and every template counts.",
        "use `{{ name }}` where the value appears, or delete the parameter",
        unused_parameters,
    ),
    (
        "GP112",
        "troubleshooting-on-hidden-step",
        "warning",
        "Troubleshooting entries belong to steps the page shows.",
        "The page lists a step's troubleshooting entries under that step; a hidden step has no "
        'place on the page, so the entry cannot show there and its "Applies to" link has no '
        "target.",
        "attach the entry to the visible step where the reader meets the problem",
        troubleshooting_on_hidden_steps,
    ),
    (
        "GP113",
        "next-step-is-self",
        "error",
        "No next step links the guide to itself.",
        "A next step is where the reader goes after the guide; a link back to the same page is a "
        "loop, usually a copied entry whose `guide` was not changed.",
        "link the guide the reader should go to next, or delete the entry",
        next_steps_to_self,
    ),
)
"""The rules of this module as ``(id, name, severity, summary, why, fix, check)``."""
