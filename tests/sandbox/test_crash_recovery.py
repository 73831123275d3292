"""Fault suite: ``goldenpath check`` killed with SIGKILL mid-step, then the next command cleans up.

Real runs in subprocesses; afterwards the process table, the file system, the cgroup hierarchy
and the history are read directly, not through the product.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenpath import config
from goldenpath.sandbox import kwok
from helpers import REPO, locked, processes_with, write_guide

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")


def _env(tmp_path: Path) -> dict[str, str]:
    # records of this test's runs only: concurrent tests never collect each other's
    return {**os.environ, "GOLDENPATH_RUNS_DIR": str(tmp_path / "runs"), "COLUMNS": "200"}


def _wait_for(path: Path, proc: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _start_server_guide(tmp_path: Path, marker: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``goldenpath check`` of a guide with a server, a daemon and a long step (it touches
    ``<tmp>/started`` when the long step begins)."""
    _server_guide(tmp_path, marker)
    proc = subprocess.Popen(
        [GOLDENPATH, "check", "--golden-paths", "gp"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc


def _server_guide(tmp_path: Path, marker: str) -> None:
    write_guide(
        tmp_path / "gp",
        "server",
        [
            {
                "id": "serve",
                "title": "Start the server",
                "background": True,
                "run": f"mkdir -p {tmp_path / marker}; "
                f"python3 -m http.server --bind 127.0.0.1 --directory {tmp_path / marker} 0",
            },
            {
                "id": "daemon",
                "title": "A daemon that leaves its session and environment",
                "run": f"setsid env -i bash -c 'sleep 300; : {marker}' >/dev/null 2>&1 &",
            },
            {
                "id": "work",
                "title": "Work",
                "run": f"echo $PWD > {tmp_path}/workspace; touch {tmp_path}/started; "
                f"bash -c 'sleep 120; : {marker}'",
                "timeout": 200,
            },
        ],
    )


@pytest.fixture(autouse=True)
def _collect_whatever_a_failed_test_left(tmp_path: Path) -> Iterator[None]:
    yield
    subprocess.run(
        [sys.executable, "-c", "from goldenpath.sandbox.records import collect_dead_runs as c; c()"],
        env=_env(tmp_path),
        check=True,
        timeout=60,
    )


@pytest.mark.slow
def test_sigkill_mid_step_is_collected_by_the_next_check(tmp_path: Path) -> None:
    marker = f"gp-kill9-{uuid.uuid4().hex}"
    env = _env(tmp_path)
    proc = _start_server_guide(tmp_path, marker, env)
    _wait_for(tmp_path / "started", proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)

    # What SIGKILL leaves: the step, the server, the daemon, the folders, the record.
    assert len(processes_with(marker)) >= 3
    (record_file,) = (tmp_path / "runs").glob("*.json")
    record = json.loads(record_file.read_text())
    workspace = Path((tmp_path / "workspace").read_text().strip())
    owned = [Path(record["root"]), Path(record["scratch"])]
    assert workspace.is_relative_to(owned[0]) and all(p.exists() for p in owned)
    if record["cgroup"]:
        owned.append(Path(record["cgroup"]))
        assert owned[-1].is_dir()

    # The next check says what it removed, and removes it, before it runs anything.
    write_guide(tmp_path / "gp", "server", [{"id": "ok", "title": "OK", "run": "true"}])
    after = subprocess.run(
        [GOLDENPATH, "check", "--golden-paths", "gp"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert after.returncode == 0, after.stdout + after.stderr
    run = record["run_id"]
    assert f"removed the workspace {record['root']} left by run {run} of server" in after.stderr
    assert f"removed the scratch folder {record['scratch']}" in after.stderr
    assert "Traceback" not in after.stderr
    assert processes_with(marker) == []
    assert not any(p.exists() for p in owned)
    assert not (tmp_path / "runs").exists()

    # The killed run decided nothing: the history holds the clean run only.
    status = subprocess.run(
        [GOLDENPATH, "status", "--golden-paths", "gp", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (report,) = json.loads(status.stdout)
    assert report["status"] == "verified" and report["last_run"] != run


def test_a_live_run_is_never_collected(tmp_path: Path) -> None:
    marker = f"gp-live-{uuid.uuid4().hex}"
    env = _env(tmp_path)
    proc = _start_server_guide(tmp_path, marker, env)
    try:
        _wait_for(tmp_path / "started", proc)
        status = subprocess.run(
            [GOLDENPATH, "sandbox", "status"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "left by run" not in status.stdout + status.stderr
        assert len(list((tmp_path / "runs").glob("*.json"))) == 1
        assert processes_with(marker)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert processes_with(marker) == []
    assert not (tmp_path / "runs").exists()


# --- clusters ---------------------------------------------------------------------------------


def _tests_lock() -> contextlib.AbstractContextManager[None]:
    """The lock test sessions take to start clusters (kwokctl picks free ports racily)."""
    return locked(kwok.KwokCtl(config.load_settings(REPO)).workdir / "tests.lock")


@pytest.fixture
def sandbox_dir(tmp_path: Path, kwok_ctl: kwok.KwokCtl) -> Iterator[Path]:
    """A sandbox folder of its own (the built binaries linked in): its clusters are this test's."""
    folder = tmp_path / "sandbox"
    folder.mkdir()
    (folder / "bin").symlink_to(kwok_ctl.bin)
    versions = kwok_ctl.root / "versions.env"
    if versions.is_file():
        (folder / "versions.env").write_text(versions.read_text())
    yield folder
    for name in ("goldenpath", *(p.name for p in (folder / "kwok" / "clusters").glob("*"))):
        kwok.remove_cluster(folder / "kwok", name)  # whatever a failed assertion left


def _kill_when_started(argv: list[str], cwd: Path, env: dict[str, str], started: str) -> int:
    """Run ``argv``; SIGKILL it as soon as a process mentioning ``started`` runs (mid-start)."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any("etcd" in line for line in processes_with(started)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the cluster never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    return proc.pid


@pytest.mark.cluster
@pytest.mark.slow
def test_a_cluster_start_killed_half_way_is_removed(tmp_path: Path, sandbox_dir: Path) -> None:
    env = {**_env(tmp_path), "GOLDENPATH_SANDBOX_DIR": str(sandbox_dir)}
    env.pop("GOLDENPATH_KWOK_KUBECONFIG", None)
    clusters = sandbox_dir / "kwok" / "clusters"

    def goldenpath(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GOLDENPATH, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    # `sandbox up` killed while its cluster starts: `sandbox down` removes all of it.
    with _tests_lock():
        _kill_when_started([GOLDENPATH, "sandbox", "up"], tmp_path, env, f"{clusters}/goldenpath/")
    status = goldenpath("sandbox", "status")
    assert status.returncode == 0 and status.stdout.startswith("goldenpath: "), status.stdout + status.stderr
    down = goldenpath("sandbox", "down")
    assert down.returncode == 0 and "cluster goldenpath is down" in down.stdout, down.stdout + down.stderr
    assert processes_with(str(sandbox_dir / "kwok")) == []
    assert not (clusters / "goldenpath").exists()

    # A check killed while its own cluster starts: the next command removes that cluster.
    write_guide(
        tmp_path / "gp",
        "on-cluster",
        [{"id": "ns", "title": "Namespaces", "run": "kubectl get ns", "requires": ["cluster"]}],
    )
    check = [GOLDENPATH, "check", "--golden-paths", "gp", "--sandbox", "kwok"]
    with _tests_lock():
        pid = _kill_when_started(check, tmp_path, env, f"{clusters}/goldenpath-")
    status = goldenpath("sandbox", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"removed the kwok cluster goldenpath-{pid} of a check run that died" in status.stdout
    assert processes_with(str(sandbox_dir / "kwok")) == []
    assert list(clusters.iterdir()) == []
