"""The real-node sandbox end to end: a guide builds and pushes its own image, deploys it, calls it
through ``kubectl port-forward`` and finds its request in ``kubectl logs``; nothing of the run is
left (namespace, podman store, images); a later run never finds that image again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from goldenpath.host import free_port
from goldenpath.node import containerd, registry
from goldenpath.sandbox import realnode
from goldenpath.sandbox.base import GuideRun
from goldenpath.sandbox.kubernetes import Kubectl
from helpers import write_guide

if TYPE_CHECKING:  # the fixture's class; conftest is never imported by tests
    from conftest import NodeCluster

pytestmark = [pytest.mark.cluster, pytest.mark.node, pytest.mark.xdist_group("realnode")]

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
APP = """\
import http.server

GREETING = open("greeting.txt").read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\\n" if self.path == "/healthz" else f"{GREETING}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        if self.path != "/healthz":
            print(f'"{self.requestline}" {args[1]}', flush=True)


http.server.ThreadingHTTPServer(("", 8080), Handler).serve_forever()
"""
DOCKERFILE = """\
FROM registry.example.com/platform/python:3.11
COPY app.py .
RUN echo "{greeting}" > greeting.txt
CMD ["python3", "app.py"]
"""
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: app
          image: {image}
          ports: [{{containerPort: 8080}}]
          readinessProbe: {{httpGet: {{path: /healthz, port: 8080}}, periodSeconds: 1}}
"""


def step(step_id: str, run: str, *requires: str, **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "title": step_id.capitalize(), "run": run, "requires": list(requires), **extra}


def check(tmp_path: Path, real_node: NodeCluster, junit: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "GOLDENPATH_SANDBOX_DIR": str(real_node.sandbox_dir)}
    env[realnode.ENV_KUBECONFIG] = str(real_node.kubeconfig)
    args = ["check", "--golden-paths", str(tmp_path / "gp"), "--sandbox", "real-node", "--no-history"]
    return subprocess.run(
        [GOLDENPATH, *args, "--junit", str(junit)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def properties(junit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in ET.parse(junit).getroot().iter("property"):
        found.setdefault(str(prop.get("name")), []).append(str(prop.get("value")))
    return found


def images_on_the_node(real_node: NodeCluster) -> dict[str, str]:
    info = real_node.node.running()
    assert info is not None
    return containerd.images(containerd.Layout(Path(info.containerd_socket).parent))


def test_a_guide_builds_pushes_deploys_and_calls_its_own_image(
    tmp_path: Path, real_node: NodeCluster
) -> None:
    team = f"t{uuid.uuid4().hex[:8]}"
    image = f"registry.example.com/{team}/web:1.0.0"
    port = free_port()
    write_guide(
        tmp_path / "gp",
        "build-and-deploy",
        [
            {"id": "app", "title": "App", "file": {"path": "web/app.py", "template": "app.py"}},
            {
                "id": "dockerfile",
                "title": "Dockerfile",
                "file": {"path": "web/Dockerfile", "template": "Dockerfile"},
            },
            {
                "id": "manifest",
                "title": "Manifest",
                "file": {"path": "web/deploy.yaml", "template": "deploy.yaml"},
            },
            step("build", f"docker build -t {image} web", "images", timeout=180),
            step("push", f"docker push {image}", "images", timeout=120),
            step("deploy", "kubectl apply -f web/deploy.yaml", "cluster"),
            step("rollout", "kubectl rollout status deployment/web --timeout=120s", "cluster", timeout=150),
            step(
                "forward",
                f"kubectl port-forward deployment/web {port}:8080",
                "cluster",
                background=True,
                ready={"port": port, "timeout": 30},
                expect={"nothing": True},
            ),
            step(
                "call",
                f"curl -s http://127.0.0.1:{port}/hello",
                "cluster",
                expect={"output": "hello, real node"},
            ),
            step(
                "logs",
                "kubectl logs deployment/web",
                "cluster",
                retry={"within": 15},
                expect={"contains": ['"GET /hello HTTP/1.1" 200']},
            ),
        ],
        templates={
            "app.py": APP,
            "Dockerfile": DOCKERFILE.format(greeting="hello, real node"),
            "deploy.yaml": DEPLOY.format(image=image),
        },
    )
    junit = tmp_path / "junit.xml"
    out = check(tmp_path, real_node, junit)
    assert out.returncode == 0, out.stdout + out.stderr
    props = properties(junit)
    assert props["sandbox"] == ["real-node"]
    assert props["coverage"] == ["full"]
    assert props["sandbox.node"][0].startswith("real")
    assert props["sandbox.containerd"][0][0].isdigit() and props["sandbox.runc"][0][0].isdigit()
    assert "leak" not in props

    info = real_node.node.running()
    assert info is not None
    assert registry.tags(info.registry, f"{team}/web") == [], "the run's image left the registry stand-in"
    assert not [ref for ref in images_on_the_node(real_node) if team in ref], "the run's image left the node"
    assert registry.tags(info.registry, "platform/python") == ["3.11"], "base images stay"

    # a later run whose build is broken never finds the earlier run's image
    shutil.rmtree(tmp_path / "gp")
    write_guide(
        tmp_path / "gp",
        "stale-image",
        [
            {
                "id": "manifest",
                "title": "Manifest",
                "file": {"path": "web/deploy.yaml", "template": "deploy.yaml"},
            },
            step("deploy", "kubectl apply -f web/deploy.yaml", "cluster"),
            step(
                "pull",
                "kubectl get pods -l app=web -o jsonpath='{..state.waiting.message}'",
                "cluster",
                retry={"within": 60},
                expect={"contains": [f"{image}: not found"]},
            ),
        ],
        templates={"deploy.yaml": DEPLOY.format(image=image)},
    )
    out = check(tmp_path, real_node, tmp_path / "stale.xml")
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_session_has_podman_first_on_path_and_goes_fast(real_node: NodeCluster) -> None:
    real_node.up()
    sandbox = realnode.real_node_factory(real_node.settings)
    sandbox.check()
    assert sandbox.provides == {"cluster": "real", "images": "real"}
    durations = []
    for _ in range(3):
        started = time.perf_counter()
        with sandbox.open(GuideRun("session", uuid.uuid4().hex)) as session:
            docker = shutil.which("docker", path=session.env["PATH"])
            root = session.workspace.parent / "containers"
            assert docker == str(root / "bin" / "docker")
            assert session.env["CONTAINERS_STORAGE_CONF"] == str(root / "storage.conf")
            namespace = session.env["GOLDENPATH_NAMESPACE"]
        durations.append(time.perf_counter() - started)
        assert session.leaks == []
        assert not root.exists()
        listed = Kubectl(str(real_node.kubeconfig))(
            "get",
            "namespace",
            namespace,
            "--ignore-not-found",
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        )
        assert listed.strip() or not listed, "the namespace is being deleted (or gone)"
    assert min(durations) <= 2.0, f"set-up + teardown took {durations}"
