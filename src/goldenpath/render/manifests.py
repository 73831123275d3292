"""Offline validation of rendered Kubernetes manifests against the Kubernetes JSON Schemas.

The schemas ship with the ``kubernetes-validate`` package; validators are built once per kind and
reused, because loading the shared definitions dominates the cost of a single validation.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from goldenpath import config
from goldenpath.spec.convert import pure_python_yaml_error

if TYPE_CHECKING:
    import jsonschema
    from referencing import Registry

MANIFEST_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ManifestProblem:
    line: int
    """Line in the rendered file."""
    path: str
    """Dotted path inside the manifest document, e.g. ``spec.replicas``."""
    message: str
    hint: str


# libyaml's parser keeps the same line marks and is many times faster than the pure-Python one.
_SafeLoaderBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoaderBase):  # type: ignore[valid-type,misc]
    """Composes documents so that each value's line can be looked up by its path."""


def _node_lines(node: yaml.Node, prefix: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    # A value keeps the line of its key: a block mapping or list starts on the line below it.
    out.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, key.value)
            out[path] = key.start_mark.line + 1
            _node_lines(value, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*prefix, index), out)


@functools.cache  # listing the bundled versions costs ~2 ms a call
def _schema_dir(version: str, strict: bool) -> str:
    # The schemas and jsonschema load with the first manifest validated, not with the renderer.
    from kubernetes_validate import utils as kv

    wanted = kv.major_minor(version.lstrip("v"))
    known = [v for v in kv.all_versions() if _as_tuple(kv.major_minor(v)) <= _as_tuple(wanted)]
    chosen = known[-1] if known else kv.all_versions()[0]
    return f"v{chosen}-local" + ("-strict" if strict else "")


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@functools.cache
def _definitions(schema_dir: str) -> Registry:
    # See _schema_dir.
    from kubernetes_validate import utils as kv
    from referencing import Registry, Resource

    contents = kv.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", schema_dir)
    return Resource.from_contents(contents) @ Registry()


@functools.cache
def _validator(schema_dir: str, kind: str, api_version: str) -> jsonschema.Validator | None:
    # See _schema_dir.
    import jsonschema
    from kubernetes_validate import utils as kv
    from referencing import Resource

    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    name = f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group_version}.json"
    try:
        schema = kv.schema_contents(name, schema_dir)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _definitions(schema_dir)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate_manifest_text(text: str, version: str = config.KUBERNETES_VERSION) -> list[ManifestProblem]:
    """Every schema problem in a (possibly multi-document) YAML file of Kubernetes objects.

    Documents without ``apiVersion`` and ``kind`` are not Kubernetes objects and are skipped.
    """
    problems: list[ManifestProblem] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_LineLoader))
        docs = list(yaml.load_all(text, Loader=_SafeLoaderBase))
    except yaml.MarkedYAMLError as exc:
        exc = pure_python_yaml_error(text, all_documents=True) or exc
        mark = exc.problem_mark or exc.context_mark
        return [
            ManifestProblem(
                mark.line + 1 if mark else 1,
                "",
                f"invalid YAML: {exc.problem}",
                "fix the template so it renders valid YAML",
            )
        ]
    schema_dir = _schema_dir(version, strict=True)
    for node, doc in zip(nodes, docs, strict=True):
        if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
            continue
        lines: dict[tuple[Any, ...], int] = {}
        _node_lines(node, (), lines)
        validator = _validator(schema_dir, str(doc["kind"]), str(doc["apiVersion"]))
        if validator is None:
            problems.append(
                ManifestProblem(
                    lines.get(("kind",), lines[()]),
                    "kind",
                    f"unknown kind {doc['kind']} in {doc['apiVersion']} for Kubernetes {version}",
                    "check apiVersion and kind against `kubectl api-resources`",
                )
            )
            continue
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path))):
            path = tuple(error.path)
            extra = _unexpected(error)
            # An unknown field is reported at its own key, not at the object that holds it.
            for where in [(*path, key) for key in extra] or [path]:
                message = f"unknown field {where[-1]}" if extra else error.message
                problems.append(
                    ManifestProblem(lines.get(where, lines[()]), _dotted(where), message, _hint(error))
                )
    return problems


def _dotted(path: tuple[Any, ...]) -> str:
    """``("spec", "containers", 0, "image")`` -> ``spec.containers[0].image``, as in spec paths."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _unexpected(error: jsonschema.ValidationError) -> list[str]:
    if error.validator != "additionalProperties":
        return []
    # jsonschema says "... ('a' was unexpected)" or "... ('a', 'b' were unexpected)".
    tail = error.message.rpartition("(")[2]
    return re.findall(r"'([^']+)'", tail) if "unexpected" in tail else []


def _hint(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return "check the spelling against the Kubernetes API reference"
    if error.validator == "required":
        return "add the missing field"
    if error.validator == "type":
        return "fix the value's type (quote strings, unquote numbers)"
    return "see the Kubernetes API reference for this field"


def is_manifest_path(path: str) -> bool:
    return path.endswith(MANIFEST_SUFFIXES)
