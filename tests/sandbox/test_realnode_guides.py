"""The shipped guides on the real-node sandbox: everything runs for real, and a broken manifest
breaks the guide at the step that waits for the pods, with what the pods say.

Each test checks a copy of the repository's guides with ``goldenpath check --sandbox real-node``
in a subprocess, on the session's real-node cluster (the ``real_node`` fixture), whose kubeconfig
the subprocess inherits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = [pytest.mark.node, pytest.mark.cluster, pytest.mark.xdist_group("realnode")]

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
GUIDES = (
    "hello-world",
    "add-an-endpoint",
    "configure-environment",
    "scale-a-service",
    "roll-back-a-deployment",
    "use-a-service",
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's guides and settings, with a history of its own."""
    for name in ("pyproject.toml", "mkdocs.yml"):
        shutil.copy2(REPO / name, tmp_path / name)
    for folder in ("golden_paths", "checks"):
        shutil.copytree(REPO / folder, tmp_path / folder, symlinks=True)
    return tmp_path


def check(project: Path, *guides: str) -> tuple[subprocess.CompletedProcess[str], dict[str, ET.Element]]:
    junit = project / "junit.xml"
    done = subprocess.run(
        [GOLDENPATH, "check", "--sandbox", "real-node", "--junit", str(junit), *guides],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "200"},
    )
    cases = {case.get("name", ""): case for case in ET.parse(junit).getroot().iter("testcase")}
    return done, cases


def properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def mutate(project: Path, template: str, old: str, new: str) -> None:
    path = project / "golden_paths" / "hello-world" / "templates" / template
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def shorter_rollout(project: Path) -> None:
    """The rollout step waits 120 s on the page; a broken rollout need not keep a test that long."""
    spec = project / "golden_paths" / "hello-world" / "guide.yaml"
    spec.write_text(
        spec.read_text().replace(
            "rollout status deployment/{{ service_name }} --timeout=120s",
            "rollout status deployment/{{ service_name }} --timeout=30s",
        )
    )


def test_every_shipped_guide_runs_for_real(real_node: object, project: Path) -> None:
    real_node.up()  # type: ignore[attr-defined]
    done, cases = check(project)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert set(cases) == set(GUIDES)
    for guide, case in cases.items():
        props = properties(case)
        assert props["coverage"] == "full", (guide, props["coverage.summary"])
        assert props["steps.simulated"] == "0" and props["steps.skipped"] == "0", guide
    hello = properties(cases["hello-world"])
    for step in ("build-image", "push-image", "watch-rollout", "call-in-cluster", "read-logs"):
        assert hello[f"step.{step}"].startswith("passed"), (step, hello[f"step.{step}"])
    assert any(name.startswith("sandbox.") and "containerd" in name for name in hello), hello
    assert "6 passed (6 verified: every step ran for real; 0 partly)" in done.stdout
    service = properties(cases["use-a-service"])
    for step in ("expose", "describe-pod", "port-forward", "call"):  # bite checks, a captured pod
        assert service[f"step.{step}"].startswith("passed"), (step, service[f"step.{step}"])
    status = subprocess.run(
        [GOLDENPATH, "status", "--format", "json"], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert '"status": "verified"' in status.stdout and '"partial"' not in status.stdout


@pytest.mark.parametrize(
    ("template", "old", "new", "says"),
    [
        # The container listens on 8080; the port the probe and the tunnel use is wrong.
        ("deploy.yaml.j2", "containerPort: 8080", "containerPort: 8081", "Readiness probe failed"),
        # A typo in the image name: the node cannot pull it.
        (
            "deploy.yaml.j2",
            "image: registry.example.com/{{ team }}/{{ service_name }}:1.0.0",
            "image: registry.example.com/{{ team }}/{{ service_name }}x:1.0.0",
            "ErrImagePull",
        ),
        # The readiness probe asks a path the service does not serve.
        ("deploy.yaml.j2", "path: /healthz", "path: /health", "statuscode: 404"),
    ],
    ids=["wrong-container-port", "image-name-typo", "probe-on-a-wrong-path"],
)
def test_a_broken_manifest_breaks_the_guide_at_the_rollout(
    real_node: object, project: Path, template: str, old: str, new: str, says: str
) -> None:
    real_node.up()  # type: ignore[attr-defined]
    mutate(project, template, old, new)
    shorter_rollout(project)
    done, cases = check(project, "hello-world")
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr[-2000:]
    failure = cases["hello-world"].find("failure")
    assert failure is not None
    assert (failure.get("message") or "").startswith('step 12 "Wait for the rollout"'), failure.get("message")
    assert says in (failure.get("message") or ""), failure.get("message")
    assert "FAILED: golden path 'hello-world' at step 12 \"Wait for the rollout\"" in done.stdout
