"""The spec reference page, generated from :mod:`goldenpath.model` like the JSON Schema.

One section per spec dataclass, each with a table of its YAML keys, their types, defaults and
documentation, so the reference can never drift from what the loader accepts.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

from goldenpath.lint.rules import RULES
from goldenpath.spec import model
from goldenpath.spec.schema import (
    SCHEMA_FILE,
    SCHEMA_PATH,
    default_value,
    is_required,
    schema_url,
    spec_classes,
    user_fields,
)

REFERENCE_PAGE = "reference/spec.md"
LINT_RULES_PAGE = "reference/lint-rules.md"
"""Where the site publishes the lint rules."""
"""Where the site publishes the reference."""

_SCALAR_NAMES: Mapping[Any, str] = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "boolean",
    datetime.date: "date (YYYY-MM-DD)",
}


def anchor(cls: type) -> str:
    return cls.__name__.lower()


def type_name(hint: Any) -> str:
    """A type hint as readers say it, linking spec objects to their section."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return f"[{hint.__name__}](#{anchor(hint)})"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        text = " or ".join(names)
        return f"{text} or null" if type(None) in args else text
    if origin is Literal and len(args) == 1:
        return f"`{args[0]}`"
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is tuple:
        return f"list of {type_name(args[0])}"
    if origin in (Mapping, dict):
        return f"mapping of text to {type_name(args[1])}"
    return _SCALAR_NAMES.get(hint, getattr(hint, "__name__", str(hint)))


def _default(spec_field: dataclasses.Field[Any]) -> str:
    if is_required(spec_field):
        return "**required**"
    value = default_value(spec_field)
    if value is None or value in ([], {}, ""):
        return ""
    return f"`{json.dumps(value)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _where(classes: list[type]) -> dict[type, list[str]]:
    """The dotted YAML paths at which each spec object appears."""
    found: dict[type, list[str]] = {}

    def visit(cls: type, path: str) -> None:
        hints = typing.get_type_hints(cls)
        for spec_field in user_fields(cls):
            key = model.yaml_key(spec_field.name)
            child = f"{path}.{key}" if path else key
            for target, suffix in _nested(hints[spec_field.name]):
                places = found.setdefault(target, [])
                if child + suffix not in places:
                    places.append(child + suffix)
                    visit(target, child + suffix)

    visit(classes[0], "")
    return found


def _nested(hint: Any) -> list[tuple[type, str]]:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return [(hint, "")]
    origin = typing.get_origin(hint)
    suffix = "[]" if origin is tuple else ".*" if origin in (Mapping, dict) else ""
    return [(cls, suffix + inner) for arg in typing.get_args(hint) for cls, inner in _nested(arg)]


def reference_markdown(schema_link: str = "golden-path.schema.json") -> str:
    """The Markdown of the spec reference page."""
    classes = spec_classes(model.Guide)
    where = _where(classes)
    lines = [
        "# Spec reference",
        "",
        "Every key of `golden_paths/<id>/guide.yaml`. This page is generated from the spec model, "
        "so it always matches what `goldenpath lint` accepts. Editors can check the file as you "
        f"type with the [JSON Schema]({schema_link}) (`{SCHEMA_FILE}`).",
        "",
    ]
    for cls in classes:
        hints = typing.get_type_hints(cls)
        lines += [f"## {cls.__name__} {{ #{anchor(cls)} }}", "", (cls.__doc__ or "").strip(), ""]
        if cls in where:
            lines += ["Used at: " + ", ".join(f"`{p}`" for p in where[cls]) + ".", ""]
        lines += ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
        for spec_field in user_fields(cls):
            meta = spec_field.metadata
            description = meta.get("doc", "")
            if meta.get("pattern"):
                description += f" Must match `{meta['pattern']}`."
            if meta.get("min_items"):
                description += f" At least {meta['min_items']} item(s)."
            if meta.get("example") is not None:
                description += f" Example: `{meta['example']}`."
            lines.append(
                f"| `{model.yaml_key(spec_field.name)}` | {_cell(type_name(hints[spec_field.name]))} "
                f"| {_default(spec_field)} | {_cell(description)} |"
            )
        lines.append("")
    return "\n".join(lines)


def rules_markdown() -> str:
    """The lint-rules reference page, generated from :data:`RULES`."""
    lines = [
        "# Lint rules",
        "",
        "`goldenpath lint` checks more than the [spec format](spec.md): these rules say what makes "
        "a guide good to follow. Rules run on guides that load and render without errors. "
        "Findings show as `file:line: path: ID message (fix: ...)`; errors fail `goldenpath lint` "
        "(exit 2), warnings fail it with `--strict`, as the pull-request workflow runs it.",
        "",
        "| Rule | Name | Default | Asks for |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES:
        lines.append(
            f"| [{rule.id}](#{rule.id.lower()}) | `{rule.name}` | {rule.severity} | {rule.summary} |"
        )
    lines += [
        "",
        "## Configure the rules",
        "",
        "In the repository's `pyproject.toml`, turn rules off or change their severity "
        "(`error`, `warning` or `off`):",
        "",
        "```toml",
        "[tool.goldenpath.lint]",
        'disable = ["GP108"]',
        'severity = {GP109 = "error", GP102 = "off"}',
        "```",
        "",
    ]
    for rule in RULES:
        lines += [
            f"## {rule.id} {rule.name} {{ #{rule.id.lower()} }}",
            "",
            f"**{rule.summary}** Default severity: {rule.severity}.",
            "",
            rule.why,
            "",
            f"**Fix:** {rule.fix[0].upper()}{rule.fix[1:]}.",
            "",
        ]
    return "\n".join(lines)


SCHEMA_URL_TOKEN = "{{ goldenpath.schema_url }}"
"""In a hand-written page: the schema's address, derived from ``[tool.goldenpath] site_url``."""
SCHEMA_NOTE_TOKEN = "{{ goldenpath.schema_url_note }}"
"""In a hand-written page: where that address comes from, or a warning that it is only relative."""


def schema_tokens(markdown: str, site_url: str) -> str:
    """``markdown`` with the schema tokens filled in (text without them is returned unchanged)."""
    if SCHEMA_URL_TOKEN not in markdown and SCHEMA_NOTE_TOKEN not in markdown:
        return markdown
    if site_url:
        note = (
            f"This is the address of this site's schema: `site_url` of `[tool.goldenpath]` "
            f"(`{site_url}`) plus `{SCHEMA_PATH}`; the schema's `$id` is the same."
        )
    else:
        note = (
            '!!! warning "No site_url is configured"\n'
            "    `[tool.goldenpath]` in `pyproject.toml` has no `site_url`, so the site cannot know "
            f"its own address: the line above has only the schema's path relative to the site "
            f"root, `{SCHEMA_PATH}`, and the schema's `$id` is the bare file name `{SCHEMA_FILE}`. "
            "Set `site_url` and rebuild to get the full address here, or map the specs to a schema "
            "file in the repository as below."
        )
    return markdown.replace(SCHEMA_URL_TOKEN, schema_url(site_url)).replace(SCHEMA_NOTE_TOKEN, note)
