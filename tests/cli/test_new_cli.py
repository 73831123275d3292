"""`goldenpath new` as a real subprocess, against a small copy of hello-world in tmp_path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import build_file_tree

GUIDE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  id: hello-world
  title: "Hello world: your first service"
  summary: Create a small HTTP service and its manifests.
  owner: "@acme/platform"
  stage: build
spec:
  type: getting-started
  parameters:
    - name: service_name
      description: Lowercase name of your service.
      default: hello
      pattern: "^[a-z][a-z0-9-]{1,30}$"
    - name: port
      type: port
      description: Local port the service listens on.
      default: 8080
  steps:
    - id: create-service
      title: Create your service
      file: {path: "{{ service_name }}/app.py", template: app.py.j2}
    - id: run-locally
      title: Run it locally
      run: python3 {{ service_name }}/app.py --port {{ port }}
    - id: manifests
      title: Generate your Kubernetes manifests
      file: {path: "{{ service_name }}/deploy.yaml", template: deploy.yaml.j2}
"""

APP = '''\
"""{{ service_name }}: a tiny HTTP service."""

PORT = {{ port }}
'''

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ service_name }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ service_name }}}
  template:
    metadata:
      labels: {app: {{ service_name }}}
    spec:
      containers:
        - name: app
          image: registry.example/{{ service_name }}:1.0
          ports: [{containerPort: {{ port }}}]
"""


@pytest.fixture
def golden_paths(tmp_path: Path) -> Path:
    root = tmp_path / "golden_paths"
    build_file_tree(
        root,
        {
            "hello-world/guide.yaml": GUIDE,
            "hello-world/templates/app.py.j2": APP,
            "hello-world/templates/deploy.yaml.j2": DEPLOY,
        },
    )
    return root


def new(golden_paths: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goldenpath.cli", "new", *args, "--golden-paths", str(golden_paths)],
        cwd=golden_paths.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_new_writes_the_files_with_the_values(golden_paths: Path, tmp_path: Path) -> None:
    result = new(golden_paths, "hello-world", "out", "--set", "service_name=shop")
    assert result.returncode == 0, result.stderr
    dest = tmp_path / "out"
    assert result.stdout.splitlines() == ["out/shop/app.py", "out/shop/deploy.yaml"]
    assert (dest / "shop/app.py").read_text() == '"""shop: a tiny HTTP service."""\n\nPORT = 8080\n'
    deploy = (dest / "shop/deploy.yaml").read_text()
    assert "  name: shop\n" in deploy
    assert "image: registry.example/shop:1.0" in deploy
    assert "{{" not in deploy
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "shop/app.py",
        "shop/deploy.yaml",
    ]


def test_new_with_several_values(golden_paths: Path, tmp_path: Path) -> None:
    result = new(golden_paths, "hello-world", "out", "--set", "service_name=cart", "--set", "port=9000")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out/cart/app.py").read_text().endswith("PORT = 9000\n")
    assert "containerPort: 9000" in (tmp_path / "out/cart/deploy.yaml").read_text()


def test_new_with_defaults(golden_paths: Path, tmp_path: Path) -> None:
    result = new(golden_paths, "hello-world", str(tmp_path / "abs"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "abs/hello/app.py").is_file()


def test_bad_value_exits_2_and_writes_nothing(golden_paths: Path, tmp_path: Path) -> None:
    result = new(golden_paths, "hello-world", "out", "--set", "service_name=My_Shop")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --set: service_name: 'My_Shop' does not match the pattern")
    assert "Lowercase name of your service." in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_bad_port_exits_2(golden_paths: Path, tmp_path: Path) -> None:
    result = new(golden_paths, "hello-world", "out", "--set", "port=99999")
    assert result.returncode == 2
    assert "port 99999 is out of range (use 1-65535)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_parameter_suggests_the_close_name(golden_paths: Path, tmp_path: Path) -> None:
    result = new(golden_paths, "hello-world", "out", "--set", "servce_name=shop")
    assert result.returncode == 2
    assert result.stderr == (
        "error: --set: servce_name: 'hello-world' has no parameter 'servce_name' "
        "(did you mean 'service_name'?)\n"
    )
    assert not (tmp_path / "out").exists()


def test_assignment_without_equals(golden_paths: Path) -> None:
    result = new(golden_paths, "hello-world", "out", "--set", "service_name")
    assert result.returncode == 2
    assert "expected key=value" in result.stderr


def test_unknown_guide_suggests_the_close_name(golden_paths: Path) -> None:
    result = new(golden_paths, "helo-world", "out")
    assert result.returncode == 2
    assert "no guide named 'helo-world' (did you mean 'hello-world'?)" in result.stderr


def test_existing_files_are_not_overwritten(golden_paths: Path, tmp_path: Path) -> None:
    build_file_tree(tmp_path / "out", {"shop/deploy.yaml": "mine\n"})
    result = new(golden_paths, "hello-world", "out", "--set", "service_name=shop")
    assert result.returncode == 2
    assert "out/shop/deploy.yaml: file already exists (choose an empty DEST)" in result.stderr
    assert (tmp_path / "out/shop/deploy.yaml").read_text() == "mine\n"
    assert not (tmp_path / "out/shop/app.py").exists()


def test_a_broken_guide_is_reported_not_scaffolded(golden_paths: Path, tmp_path: Path) -> None:
    template = golden_paths / "hello-world/templates/app.py.j2"
    template.write_text(APP.replace("{{ port }}", "{{ prot }}"))
    result = new(golden_paths, "hello-world", "out", "--set", "service_name=shop")
    assert result.returncode == 2
    assert f"error: {template}:3: undefined template variable" in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_arguments_are_a_usage_error(golden_paths: Path) -> None:
    result = new(golden_paths, "hello-world")
    assert result.returncode == 2
    assert "usage: goldenpath new" in result.stderr
