"""The JSON Schema (draft 2020-12) of the spec format, generated from :mod:`goldenpath.model`.

Editors use it to complete and check ``guide.yaml`` while it is typed; the loader stays the
authority (it also checks rules that span fields, such as one action per step).
"""

from __future__ import annotations

import dataclasses
import datetime
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from goldenpath.spec import model

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = "golden-path.schema.json"
"""File name the site publishes the schema under (``reference/golden-path.schema.json``)."""
SCHEMA_PATH = f"reference/{SCHEMA_FILE}"
"""Where the site publishes the schema, relative to the site root."""

_SCALARS: Mapping[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    datetime.date: {"type": "string", "format": "date"},
}


def spec_classes(root: type = model.Guide) -> list[type]:
    """Every dataclass reachable from ``root`` through user-set fields, in first-seen order."""
    seen: list[type] = []

    def visit(hint: Any) -> None:
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            if hint in seen:
                return
            seen.append(hint)
            hints = typing.get_type_hints(hint)
            for spec_field in user_fields(hint):
                visit(hints[spec_field.name])
            return
        for arg in typing.get_args(hint):
            visit(arg)

    visit(root)
    return seen


def user_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields of a spec dataclass that users set in YAML (internal fields left out)."""
    return [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]


def is_required(spec_field: dataclasses.Field[Any]) -> bool:
    return spec_field.default is dataclasses.MISSING and spec_field.default_factory is dataclasses.MISSING


def default_value(spec_field: dataclasses.Field[Any]) -> Any:
    """The field's default as JSON data, or :data:`dataclasses.MISSING` when it has none to show."""
    if spec_field.default is not dataclasses.MISSING:
        value: Any = spec_field.default
    elif spec_field.default_factory is not dataclasses.MISSING:
        value = spec_field.default_factory()
        if dataclasses.is_dataclass(value):
            return {}
    else:
        return dataclasses.MISSING
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def type_schema(hint: Any) -> dict[str, Any]:
    """The schema of one type hint of the model."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return {"$ref": f"#/$defs/{hint.__name__}"}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [type_schema(a) for a in args if a is not type(None)]
        nullable = type(None) in args
        simple = [o for o in options if set(o) == {"type"}]
        if len(simple) == len(options):
            kinds = [o["type"] for o in simple] + (["null"] if nullable else [])
            return {"type": kinds[0] if len(kinds) == 1 else kinds}
        if nullable:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is Literal:
        return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
    if origin is tuple:
        return {"type": "array", "items": type_schema(args[0])}
    if origin in (Mapping, dict):
        return {"type": "object", "additionalProperties": type_schema(args[1])}
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    if hint is Any:
        return {}
    raise TypeError(f"no JSON Schema for {hint!r}")


def class_schema(cls: type) -> dict[str, Any]:
    """The schema of one spec dataclass: an object with exactly its camelCase keys."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec_field in user_fields(cls):
        key = model.yaml_key(spec_field.name)
        prop = type_schema(hints[spec_field.name])
        meta = spec_field.metadata
        if meta.get("doc"):
            prop["description"] = meta["doc"]
            # The YAML language server (VS Code) shows this one as Markdown on hover.
            prop["markdownDescription"] = meta["doc"]
        if meta.get("pattern"):
            target = prop["items"] if prop.get("type") == "array" else prop
            target["pattern"] = meta["pattern"]
        if meta.get("min_items"):
            prop["minItems"] = meta["min_items"]
        default = default_value(spec_field)
        if default is not dataclasses.MISSING:
            prop["default"] = default.isoformat() if isinstance(default, datetime.date) else default
        if meta.get("example") is not None:
            prop["examples"] = [meta["example"]]
        properties[key] = prop
        if is_required(spec_field):
            required.append(key)
    schema: dict[str, Any] = {
        "type": "object",
        "description": (cls.__doc__ or "").strip(),
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def schema_url(site_url: str) -> str:
    """The schema's address: ``<site_url>/reference/golden-path.schema.json``.

    Without a site URL only the path relative to the site root is known: ``reference/...``.
    """
    return f"{site_url.rstrip('/')}/{SCHEMA_PATH}" if site_url else SCHEMA_PATH


def guide_ids(golden_paths: Path) -> list[str]:
    """The ids of the guides in a folder (the names of its folders holding a spec), unparsed."""
    if not golden_paths.is_dir():
        return []
    return sorted(p.name for p in golden_paths.iterdir() if (p / model.SPEC_FILE).is_file())


def json_schema(site_url: str = "", guide_ids: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON Schema of ``guide.yaml``, with one ``$defs`` entry per spec dataclass.

    ``$id`` is :func:`schema_url` of ``site_url``; without one it is the bare file name, a
    relative reference that resolves to wherever the file is read from. ``guide_ids`` (the
    guides of a project) are offered as examples of ``nextSteps[].guide`` for completion.
    """
    classes = spec_classes(model.Guide)
    root = class_schema(model.Guide)
    defs = {cls.__name__: class_schema(cls) for cls in classes if cls is not model.Guide}
    if guide_ids:
        defs[model.NextStep.__name__]["properties"]["guide"]["examples"] = sorted(guide_ids)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_url(site_url) if site_url else SCHEMA_FILE,
        "title": "Golden path",
        **root,
        "$defs": defs,
    }
