"""Offline validation of Kubernetes manifests: line, dotted path, message and hint."""

from __future__ import annotations

import pytest

from goldenpath.config import KUBERNETES_VERSION
from goldenpath.render.manifests import (
    ManifestProblem,
    is_manifest_path,
    validate_manifest_text,
)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: app
          image: registry.example/shop:1.0
          ports:
            - containerPort: 8080
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {app: shop}
  ports:
    - port: 80
      targetPort: 8080
"""


def test_valid_manifests() -> None:
    assert validate_manifest_text(DEPLOYMENT) == []
    assert validate_manifest_text(DEPLOYMENT + "---\n" + SERVICE) == []


def test_wrong_type() -> None:
    (problem,) = validate_manifest_text(DEPLOYMENT.replace("replicas: 2", 'replicas: "two"'))
    assert problem == ManifestProblem(
        6,
        "spec.replicas",
        "'two' is not of type 'integer', 'null'",
        "fix the value's type (quote strings, unquote numbers)",
    )


def test_unknown_field_is_reported_at_its_own_key() -> None:
    text = DEPLOYMENT.replace("          ports:\n", "          imagePullPolcy: Always\n          ports:\n")
    (problem,) = validate_manifest_text(text)
    assert (problem.line, problem.path) == (16, "spec.template.spec.containers[0].imagePullPolcy")
    assert problem.message == "unknown field imagePullPolcy"
    assert problem.hint == "check the spelling against the Kubernetes API reference"


def test_misspelt_required_field_gives_both_problems() -> None:
    problems = validate_manifest_text(DEPLOYMENT.replace("containers:", "contianers:"))
    assert [(p.line, p.path, p.message) for p in problems] == [
        (12, "spec.template.spec", "'containers' is a required property"),
        (13, "spec.template.spec.contianers", "unknown field contianers"),
    ]
    assert problems[0].hint == "add the missing field"


def test_several_unknown_fields_in_one_object() -> None:
    text = SERVICE.replace("      targetPort: 8080\n", "      tragetPort: 8080\n      prot: TCP\n")
    problems = validate_manifest_text(text)
    assert sorted((p.line, p.path) for p in problems) == [
        (9, "spec.ports[0].tragetPort"),
        (10, "spec.ports[0].prot"),
    ]


def test_lines_count_from_the_start_of_the_file() -> None:
    text = DEPLOYMENT + "---\n" + SERVICE.replace("port: 80", "port: eighty")
    (problem,) = validate_manifest_text(text)
    assert (problem.line, problem.path) == (26, "spec.ports[0].port")


def test_unknown_kind_points_at_kind() -> None:
    text = "apiVersion: example.com/v1\nkind: Frobnicator\nmetadata: {name: x}\n"
    (problem,) = validate_manifest_text(text)
    assert (problem.line, problem.path) == (2, "kind")
    assert problem.message == (
        f"unknown kind Frobnicator in example.com/v1 for Kubernetes {KUBERNETES_VERSION}"
    )


def test_invalid_yaml() -> None:
    (problem,) = validate_manifest_text("apiVersion: v1\nkind: [Service\nmetadata: {}\n")
    assert problem.line == 3
    assert problem.message.startswith("invalid YAML: ")
    assert problem.hint == "fix the template so it renders valid YAML"


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment\n", "name: not kubernetes\n", "- 1\n- 2\n", "kind: Service\n"],
)
def test_documents_that_are_not_kubernetes_objects_are_skipped(text: str) -> None:
    assert validate_manifest_text(text) == []


@pytest.mark.parametrize("version", ["1.25", "v1.30", "1.32.4", "1.99"])
def test_kubernetes_versions(version: str) -> None:
    assert validate_manifest_text(DEPLOYMENT, version) == []
    (problem,) = validate_manifest_text(DEPLOYMENT.replace("replicas: 2", "replicas: x"), version)
    assert problem.path == "spec.replicas"


def test_is_manifest_path() -> None:
    assert is_manifest_path("shop/deploy.yaml")
    assert is_manifest_path("k8s.yml")
    assert not is_manifest_path("app.py")
    assert not is_manifest_path("values.yaml.j2")
