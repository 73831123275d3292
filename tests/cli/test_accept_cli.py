"""``goldenpath check --accept`` as an author runs it: a real subprocess on real spec files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import unreachable_kubeconfig

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
SHIPPED = Path(__file__).resolve().parents[2] / "golden_paths"


def gp(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOLDENPATH, "check", "--golden-paths", str(tmp_path / "gp"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


def copy_shipped(tmp_path: Path) -> Path:
    shutil.copytree(SHIPPED, tmp_path / "gp", symlinks=True)
    return tmp_path / "gp"


def test_accept_restores_a_shipped_guide_whose_expected_output_was_changed(tmp_path: Path) -> None:
    spec = copy_shipped(tmp_path) / "scale-a-service" / "guide.yaml"
    original = spec.read_text()
    stale = "        output: |\n          replicas: {{ replicas }}\n"
    assert original.count(stale) == 1
    spec.write_text(original.replace(stale, "        output: |\n          replicas: 7\n"))
    changed = spec.read_text()

    dry = gp(tmp_path, "--accept", "--dry-run", "scale-a-service")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "-          replicas: 7\n+          replicas: {{ replicas }}\n" in dry.stdout
    assert "dry run: no file was changed" in dry.stdout
    assert spec.read_text() == changed

    plain = gp(tmp_path, "scale-a-service")
    assert plain.returncode == 1  # the stale block breaks the guide

    done = gp(tmp_path, "--accept", "scale-a-service")
    assert done.returncode == 0, done.stdout + done.stderr
    assert spec.read_text() == original
    assert "accepted 1 block(s) in 1 guide(s)" in done.stdout
    assert "checking the accepted guides again:" in done.stdout
    # The cluster steps did not run here, so their blocks are said to be left alone.
    assert "not run on the local sandbox, so not accepted: check-current, scale" in done.stdout


COMMENTED = """\
# A guide with the shapes an author writes: comments, folded text, flow mappings.
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  id: demo
  title: Demo   # the page title
  summary: >-
    A folded summary that spans
    two lines.
  owner: "@acme/platform"
  stage: build
spec:
  type: how-to
  parameters:
    - {name: service_name, description: The name., default: hello}
  steps:
    # Lists pods; the hashes change every run.
    - id: pods
      title: List the pods
      explain: >
        Folded explanation
        of the step.
      run: |
        printf 'NAME   READY\\n{{ service_name }}-7d9f8b6c5-x2kq4   1/1\\n'
        printf 'took 1.5s at 2026-12-02T07:20:01Z\\n'
      expect:
        output: |  # refreshed with --accept
          NAME   READY
          {{ service_name }}-<hash>-<hash>   0/1
      # a comment after the block

    - id: same
      title: Stays
      run: echo unchanged
      expect: {output: "unchanged\\n"}   # flow style
"""


def test_accept_changes_only_the_block_and_generalises_run_values(tmp_path: Path) -> None:
    spec = tmp_path / "gp" / "demo" / "guide.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(COMMENTED)
    done = gp(tmp_path, "--accept", "demo")
    assert done.returncode == 0, done.stdout + done.stderr
    after = spec.read_text()
    start = COMMENTED.index("        output: |  # refreshed")
    end = COMMENTED.index("      # a comment after the block")
    assert after[:start] == COMMENTED[:start]
    assert after.endswith(COMMENTED[end:])
    block = after[start : len(after) - len(COMMENTED) + end]
    assert block == (
        "        output: |  # refreshed with --accept\n"
        "          NAME   READY\n"
        "          {{ service_name }}-<hash>-<hash>   1/1\n"
        "          took <duration> at <timestamp>\n"
    )
    assert gp(tmp_path, "demo").returncode == 0


def test_accept_writes_no_secret(tmp_path: Path) -> None:
    spec = tmp_path / "gp" / "demo" / "guide.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(
        COMMENTED.replace(
            "    - {name: service_name, description: The name., default: hello}",
            "    - {name: service_name, description: The name., default: hello}\n"
            "    - {name: token, description: A token., secret: true, env: DEMO_TOKEN}",
        ).replace("took 1.5s", "token {{ token }} took 1.5s")
    )
    env = {"DEMO_TOKEN": "s3cr3t-t0ken-value"}
    done = gp(tmp_path, "--accept", "demo", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    after = spec.read_text()
    assert "s3cr3t" not in after and "s3cr3t" not in done.stdout
    assert "          token <any> took <duration> at <timestamp>\n" in after


@pytest.mark.parametrize("cause", ["missing tool", "unreachable cluster"])
def test_accept_refuses_on_a_sandbox_error_and_changes_nothing(tmp_path: Path, cause: str) -> None:
    spec = tmp_path / "gp" / "demo" / "guide.yaml"
    spec.parent.mkdir(parents=True)
    text = COMMENTED
    env: dict[str, str] = {}
    args = ["--accept", "demo"]
    if cause == "missing tool":
        text = text.replace("run: echo unchanged", "run: no-such-tool-here")
    else:
        text = text.replace("      title: Stays\n", "      title: Stays\n      requires: [cluster]\n")
        args = ["--sandbox", "kubernetes", *args]
        env = {"KUBECONFIG": str(unreachable_kubeconfig(tmp_path))}
    spec.write_text(text)
    done = gp(tmp_path, *args, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert spec.read_text() == text
    if cause == "missing tool":
        assert 'demo: nothing accepted: step 2 "Stays" hit an error' in done.stdout
    else:
        assert "the cluster is unreachable" in done.stderr


def test_dry_run_needs_accept(tmp_path: Path) -> None:
    copy_shipped(tmp_path)
    wrong = gp(tmp_path, "--dry-run")
    assert wrong.returncode == 2 and "--dry-run goes with --accept" in wrong.stderr
