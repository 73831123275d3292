"""The JSON Schema generated from the model accepts every shipped spec and rejects broken ones."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from goldenpath.site.reference import reference_markdown
from goldenpath.spec import model
from goldenpath.spec.schema import json_schema
from helpers import FIXTURES, REPO

SHIPPED = sorted((REPO / "golden_paths").glob(f"*/{model.SPEC_FILE}"))
FIXTURE_SPECS = sorted(FIXTURES.glob(f"**/{model.SPEC_FILE}"))


def as_json(data: Any) -> Any:
    """YAML data as an editor's YAML language server sees it: dates stay text."""
    if isinstance(data, dict):
        return {str(k): as_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_json(v) for v in data]
    if isinstance(data, datetime.date):
        return data.isoformat()
    return data


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def load(path: Path) -> Any:
    return as_json(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", SHIPPED + FIXTURE_SPECS, ids=lambda p: str(p.relative_to(REPO)))
def test_accepts_every_shipped_spec(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(load(path))
    ]
    assert errors == []


@pytest.fixture
def good() -> dict[str, Any]:
    return dict(load(FIXTURE_SPECS[0]))


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda d: d["metadata"].update(colour="red"), "Additional properties"),
        (lambda d: d["spec"]["steps"][0].update(comand="ls"), "Additional properties"),
        (lambda d: d["spec"].update(estimatedMinutes="ten"), "is not of type 'integer'"),
        (lambda d: d["spec"]["steps"][0].update(timeout="soon"), "is not of type 'number'"),
        (lambda d: d["metadata"].pop("id"), "'id' is a required property"),
        (lambda d: d["spec"].update(steps=[]), "should be non-empty"),
        (lambda d: d["metadata"].update(stage="ship"), "is not one of"),
        (lambda d: d.update(kind="Guide"), "was expected"),
        (lambda d: d["metadata"].update(id="Bad Id"), "does not match"),
    ],
    ids=[
        "unknown-key",
        "unknown-step-key",
        "wrong-type",
        "wrong-number",
        "missing-required",
        "empty-steps",
        "bad-enum",
        "bad-kind",
        "bad-id",
    ],
)
def test_rejects_broken_specs(
    validator: jsonschema.Draft202012Validator, good: dict[str, Any], breakage: Any, expected: str
) -> None:
    broken = copy.deepcopy(good)
    breakage(broken)
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any(expected in m for m in messages), messages


def test_keys_are_camel_case_and_documented() -> None:
    schema = json_schema()
    step = schema["$defs"]["Step"]["properties"]
    assert "line" not in step  # internal field
    assert step["run"]["description"].startswith("Shell command")
    assert step["timeout"]["default"] == 120.0
    assert "nextSteps" in schema["$defs"]["GuideSpec"]["properties"]
    assert schema["$defs"]["GuideSpec"]["required"] == ["type", "steps"]


def test_reference_documents_every_key() -> None:
    text = reference_markdown()
    for key in ("apiVersion", "estimatedMinutes", "nextSteps", "notContains", "standIns"):
        assert f"| `{key}` |" in text
    assert "## Step { #step }" in text
