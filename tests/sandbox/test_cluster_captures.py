"""Captured values and accept mode against a real Kubernetes API server (the kwok cluster): a pod
name taken from ``kubectl get pods`` reaches a later ``kubectl describe pod``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from goldenpath.run import runner
from goldenpath.sandbox import kwok
from goldenpath.sandbox.kubernetes import KubernetesSandbox
from goldenpath.spec import loader
from helpers import write_guide

pytestmark = pytest.mark.cluster

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")


def steps(describe_output: str) -> list[dict[str, object]]:
    return [
        {
            "id": "create",
            "title": "Create a Deployment",
            "run": "kubectl create deployment web --image=registry.example.com/acme/web:1.0.0",
            "requires": ["cluster"],
            "expect": {"output": "deployment.apps/web created\n"},
        },
        {
            "id": "list",
            "title": "List its pods",
            "run": "kubectl get pods -l app=web --no-headers",
            "requires": ["cluster"],
            "retry": {"within": 60, "settle": 0},
            "expect": {"contains": ["Running"]},
            "capture": [{"name": "pod_name", "regex": "^(web-\\S+)", "description": "the pod's name"}],
        },
        {
            "id": "describe",
            "title": "Describe it",
            "run": "kubectl describe pod {{ pod_name }}",
            "requires": ["cluster"],
            "expect": {"output": describe_output},
        },
    ]


DESCRIBED = "Name: ... {{ pod_name }}\nNamespace: ... <namespace>\n...\n"


def test_a_captured_pod_name_reaches_kubectl_describe_pod(tmp_path: Path, kwok_cluster: kwok.Cluster) -> None:
    guide_id = f"capture-{uuid.uuid4().hex[:6]}"
    write_guide(tmp_path / "gp", guide_id, steps(DESCRIBED))
    (guide,) = loader.load_guides(tmp_path / "gp")
    box = KubernetesSandbox(str(kwok_cluster.kubeconfig))
    box.check()
    result = runner.run_guide(runner.prepare(guide, "1.32"), box)
    assert result.outcome == "passed", [(s.step_id, s.message, s.expected) for s in result.steps]
    listed = next(s for s in result.steps if s.step_id == "list").stdout.split()[0]
    described = next(s for s in result.steps if s.step_id == "describe")
    assert listed.startswith("web-") and described.command == f"kubectl describe pod {listed}"
    # It passed, so its "Name: ... {{ pod_name }}" line matched the pod the list step printed.
    assert described.outcome == "passed" and f"/{listed} to " in described.stdout


def test_accept_fills_a_describe_block_with_the_namespace_as_a_placeholder(
    tmp_path: Path, kwok_cluster: kwok.Cluster
) -> None:
    guide_id = f"accept-{uuid.uuid4().hex[:6]}"
    stale = "Name: {{ pod_name }}\nNamespace: default\n...\n"  # pasted with other padding
    spec = write_guide(tmp_path / "gp", guide_id, steps(stale))
    done = subprocess.run(
        [GOLDENPATH, "check", "--accept", "--sandbox", "kubernetes", "--golden-paths", str(tmp_path / "gp")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KUBECONFIG": str(kwok_cluster.kubeconfig), "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = spec.read_text()
    assert re.search(r"\n +Name: +\{\{ pod_name \}\}\n +Namespace: +<namespace>\n", text), text
