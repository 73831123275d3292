"""How the spec model declares its fields: documentation, YAML keys and value patterns."""

from __future__ import annotations

from dataclasses import MISSING, field
from typing import Any

Scalar = str | int | float | bool

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def spec_field(
    doc: str,
    default: Any = MISSING,
    *,
    factory: Any = MISSING,
    pattern: str | None = None,
    min_items: int | None = None,
    example: Any = None,
) -> Any:
    """A dataclass field a user sets in YAML, with the documentation the schema and reference use."""
    meta = {"doc": doc, "pattern": pattern, "min_items": min_items, "example": example}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def internal_field(default: Any = MISSING, *, factory: Any = MISSING) -> Any:
    """A field filled in by the loader, never read from YAML."""
    if factory is not MISSING:
        return field(default_factory=factory, metadata={"internal": True}, compare=False)
    return field(default=default, metadata={"internal": True}, compare=False)


def yaml_key(name: str) -> str:
    """The YAML key of a dataclass field: ``max_age_days`` -> ``maxAgeDays``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
