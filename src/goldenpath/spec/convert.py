"""YAML nodes to model objects, field by field, keeping every value's line.

YAML is composed into nodes (which keep their line marks) and converted driven by the type hints
of :mod:`goldenpath.spec.model`, so the model is the only description of the format. Every problem
is collected with its line and dotted path instead of stopping at the first.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import functools
import math
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from goldenpath.errors import Problem
from goldenpath.spec import model
from goldenpath.spec.inputs import MAX_DEPTH, out_of_shape, shown

_MISSING = object()


# libyaml's parser keeps the same line marks and is many times faster than the pure-Python one.
_SafeLoaderBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _MarkedLoader(_SafeLoaderBase):  # type: ignore[valid-type,misc]
    """A private SafeLoader; we only compose nodes with it and construct scalars."""


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """Type hints of a model class; evaluating them is costly and they never change."""
    return typing.get_type_hints(cls)


@functools.cache
def _yaml_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    """The fields a user sets in YAML, by their YAML key (read once per class, not per value)."""
    return {model.yaml_key(f.name): f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


@functools.cache
def _required_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(YAML key, field name) of the fields a spec must set, in their order."""
    return tuple((key, f.name) for key, f in _yaml_fields(cls).items() if _is_required(f))


@functools.cache
def _internal_fields(cls: type) -> frozenset[str]:
    """The fields the loader fills in, never read from YAML."""
    return frozenset(f.name for f in dataclasses.fields(cls) if f.metadata.get("internal"))


_STR_TAG = "tag:yaml.org,2002:str"


@functools.cache
def _shape(hint: Any) -> tuple[str, tuple[Any, ...]]:
    """How a type hint converts (dataclass, union, literal, sequence, mapping or scalar) and its
    arguments, worked out once per hint."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return "dataclass", args
    if origin in (typing.Union, types.UnionType):
        return "union", args
    if origin is Literal:
        return "literal", args
    if origin is tuple:
        return "sequence", args
    if origin in (Mapping, dict):
        return "mapping", args
    return "scalar", args


_TYPE_NAMES = {
    str: "text",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    datetime.date: "a date (YYYY-MM-DD)",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, datetime.date):
        return f"a date ({value})"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class _Converter:
    """Converts composed YAML nodes to model objects, recording problems and line numbers."""

    def __init__(self, file: Path, loader: _MarkedLoader) -> None:
        self.file = file
        self.loader = loader
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}

    def problem(self, node: yaml.Node | None, path: str, message: str, hint: str = "") -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(self.file, line, path, message, hint))

    def convert(self, node: yaml.Node, hint: Any, path: str) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        kind, args = _shape(hint)
        if kind == "dataclass":
            return self._dataclass(node, typing.cast(type, hint), path)
        if kind == "union":
            return self._union(node, args, path)
        if kind == "literal":
            return self._literal(node, args, path)
        if kind == "sequence":
            return self._sequence(node, args[0], path)
        if kind == "mapping":
            return self._mapping(node, args[1], path)
        return self._scalar(node, hint, path)

    def _union(self, node: yaml.Node, args: tuple[Any, ...], path: str) -> Any:
        options = [a for a in args if a is not type(None)]
        is_null = isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
        if is_null and type(None) in args:
            return None
        if len(options) == 1:
            return self.convert(node, options[0], path)
        # A union of scalars: accept the value if it has any of the listed types.
        value = self._construct_scalar(node, path)
        if value is _MISSING:
            return None
        for option in options:
            if _scalar_fits(value, option):
                return float(value) if option is float and not isinstance(value, float) else value
        names = " or ".join(_TYPE_NAMES.get(o, str(o)) for o in options)
        self.problem(node, path, f"expected {names}, got {_describe(value)}")
        return None

    def _literal(self, node: yaml.Node, allowed: tuple[Any, ...], path: str) -> Any:
        value = self._construct_scalar(node, path)
        if value is _MISSING:
            return None
        if value not in allowed:
            choices = ", ".join(str(a) for a in allowed)
            close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {choices}"
            self.problem(node, path, f"'{shown(value)}' is not one of: {choices}", hint)
            return None
        return value

    def _sequence(self, node: yaml.Node, item: Any, path: str) -> tuple[Any, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, path, f"expected a list, got {self._kind(node)}", "write it as a YAML list")
            return ()
        # An item that does not convert is left out (its problems are recorded), so the rest of
        # the document can still be checked.
        items = (self.convert(child, item, f"{path}[{i}]") for i, child in enumerate(node.value))
        return tuple(value for value in items if value is not None)

    def _mapping(self, node: yaml.Node, value_hint: Any, path: str) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, f"expected a mapping, got {self._kind(node)}")
            return {}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            result[key] = self.convert(value_node, value_hint, f"{path}.{key}")
        return result

    def _dataclass(self, node: yaml.Node, cls: type, path: str) -> Any:
        where = path or "the document"
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, f"expected a mapping for {where}, got {self._kind(node)}")
            return None
        hints = _type_hints(cls)
        fields = _yaml_fields(cls)
        values: dict[str, Any] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = _key(key_node)
            child = f"{path}.{key}" if path else key
            if key in seen:
                self.problem(key_node, child, f"duplicate key '{key}'", "keep only one of them")
                continue
            seen.add(key)
            spec_field = fields.get(key)
            if spec_field is None:
                close = difflib.get_close_matches(key, list(fields), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(fields)
                self.problem(key_node, child, f"unknown key '{key}'", hint)
                continue
            known = len(self.problems)
            value = self.convert(value_node, hints[spec_field.name], child)
            self._check_constraints(value_node, spec_field, value, child)
            if len(self.problems) == known or _is_required(spec_field):
                values[spec_field.name] = value
            # else: a bad optional value keeps its default, so the object is still checked as a whole
        required = _required_fields(cls)
        for key, name in required:
            if name not in values:
                child = f"{path}.{key}" if path else key
                self.problem(node, child, f"missing required key '{key}'", f"add '{key}:' to {where}")
        if any(values.get(name) is None for _, name in required):
            return None  # a required value is missing or bad: already reported
        if "line" in _internal_fields(cls):  # where it is in the spec, for reports
            values["line"] = node.start_mark.line + 1
        return cls(**values)

    def _check_constraints(
        self, node: yaml.Node, spec_field: dataclasses.Field[Any], value: Any, path: str
    ) -> None:
        pattern = spec_field.metadata.get("pattern")
        if pattern and isinstance(value, str) and not re.fullmatch(pattern, value):
            self.problem(node, path, f"'{shown(value)}' does not match {pattern}", _pattern_hint(pattern))
        min_items = spec_field.metadata.get("min_items")
        if min_items and isinstance(value, tuple) and len(value) < min_items:
            self.problem(node, path, f"needs at least {min_items} item(s)", "add one")

    def _scalar(self, node: yaml.Node, hint: Any, path: str) -> Any:
        value = self._construct_scalar(node, path)
        if value is _MISSING:
            return None
        if hint is Any:
            return value
        if hint is float and isinstance(value, float) and not math.isfinite(value):
            self.problem(node, path, f"expected a finite number, got {value}", "write a number of seconds")
            return None
        if _scalar_fits(value, hint):
            return float(value) if hint is float else value
        expected = _TYPE_NAMES.get(hint, getattr(hint, "__name__", str(hint)))
        fix = "put it in quotes" if hint is str else f"write {expected}"
        self.problem(node, path, f"expected {expected}, got {_describe(value)}", fix)
        return None

    def _construct_scalar(self, node: yaml.Node, path: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, path, f"expected a single value, got {self._kind(node)}")
            return _MISSING
        if node.tag == _STR_TAG:
            return node.value  # what the constructor makes of a string, without its dispatch
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError) as exc:
            self.problem(node, path, f"cannot read value: {exc}")
            return _MISSING

    @staticmethod
    def _kind(node: yaml.Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return f"'{node.value}'" if node.value else "nothing"


def _is_required(spec_field: dataclasses.Field[Any]) -> bool:
    return spec_field.default is dataclasses.MISSING and spec_field.default_factory is dataclasses.MISSING


def _key(node: yaml.Node) -> str:
    # The raw text, so YAML 1.1 never turns keys such as `on` or `yes` into booleans.
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "<complex key>"


def _scalar_fits(value: Any, hint: Any) -> bool:
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is datetime.date:
        return isinstance(value, datetime.date)
    if hint is str:
        return isinstance(value, str)
    return False


def _pattern_hint(pattern: str) -> str:
    if pattern == model.ID_PATTERN:
        return "use lowercase letters, digits and dashes"
    if pattern == model.NAME_PATTERN:
        return "use letters, digits and underscores, not starting with a digit"
    return f"make it match {pattern}"


def pure_python_yaml_error(text: str, *, all_documents: bool = False) -> yaml.MarkedYAMLError | None:
    """The pure-Python parser's error for text that libyaml rejected; its wording is clearer."""
    loader = yaml.SafeLoader(text)
    try:
        if all_documents:
            while loader.check_node():
                loader.get_node()
        else:
            loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return exc
    except (yaml.YAMLError, RecursionError):  # deep nesting: keep libyaml's own words
        return None
    finally:
        loader.dispose()
    return None


def yaml_problem(file: Path, text: str, exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as a problem at the line a reader should look at."""
    if isinstance(exc, yaml.reader.ReaderError):  # a control character: at its line, on one line
        at = text[: exc.position].count("\n") + 1
        return Problem(
            file, at, "", f"invalid YAML: control character U+{exc.character:04X} is not allowed", "remove it"
        )
    if not isinstance(exc, yaml.MarkedYAMLError):
        return Problem(file, None, "", "invalid YAML: " + " ".join(str(exc).split()))
    exc = pure_python_yaml_error(text) or exc
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark and "end of stream" in (exc.problem or ""):
        # An unclosed quote or bracket runs to the end of the file: point at its start.
        mark = exc.context_mark
    line = mark.line + 1 if mark else None
    if "maximum nesting depth" in (exc.problem or ""):  # libyaml's own limit, above ours
        return _too_deep(file, line)
    message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.problem and exc.context and exc.context_mark:
        message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
    return Problem(file, line, "", message, "fix the YAML syntax at that line")


def _too_deep(file: Path, line: int | None, message: str = "") -> Problem:
    message = message or f"the YAML is nested more than {MAX_DEPTH} levels deep"
    return Problem(file, line, "", message, "no spec needs that much nesting or repetition")


def convert_document(file: Path, text: str, cls: type) -> tuple[Any, dict[str, int], list[Problem]]:
    """The single YAML document in ``text`` as a ``cls``, its lines by dotted path, and problems.

    The object is None when the document does not convert; every problem found is returned.
    """
    loader = _MarkedLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            return None, {}, [yaml_problem(file, text, exc)]
        except RecursionError:
            return None, {}, [_too_deep(file, None)]
        if root is None:
            return None, {}, [Problem(file, 1, "", "the spec is empty", "start from an existing guide")]
        shape = out_of_shape(root)
        if shape is not None:
            return None, {}, [_too_deep(file, *shape)]
        converter = _Converter(file, loader)
        value = converter.convert(root, cls, "")
        return value, converter.lines, converter.problems
    finally:
        loader.dispose()
