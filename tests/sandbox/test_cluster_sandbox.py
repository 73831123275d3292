"""The kubernetes and kwok sandboxes against a real local kwok cluster (``kwok_cluster``).

In-process runs (the runner with a :class:`KubernetesSandbox`) where the result object is what
matters; ``goldenpath check`` subprocesses for exit codes, Ctrl-C and a killed run.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.run import runner
from goldenpath.run.results import GuideResult
from goldenpath.sandbox import kwok
from goldenpath.sandbox.kubernetes import ANNOTATION_OWNER, LABEL_GUIDE, LABEL_RUN, Kubectl, KubernetesSandbox
from goldenpath.spec import loader
from helpers import processes_with, write_guide

pytestmark = pytest.mark.cluster

GOLDENPATH = str(Path(sys.executable).parent / "goldenpath")
NAMESPACE = "kubectl config view --minify -o jsonpath='{..namespace}'"
"""What a step runs to see its namespace: the per-run kubeconfig's current context's."""


@pytest.fixture
def kubectl(kwok_cluster: kwok.Cluster) -> Kubectl:
    return Kubectl(str(kwok_cluster.kubeconfig))


def cluster_step(step_id: str, run: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "title": step_id.replace("-", " ").capitalize(),
        "run": run,
        "requires": ["cluster"],
        **extra,
    }


def run_in_sandbox(golden_paths: Path, guide_id: str, sandbox: KubernetesSandbox) -> GuideResult:
    (guide,) = loader.load_guides(golden_paths, only=[guide_id])
    return runner.run_guide(runner.prepare(guide, "1.32"), sandbox)


def sandbox_on(cluster: kwok.Cluster) -> KubernetesSandbox:
    box = KubernetesSandbox(str(cluster.kubeconfig))
    box.check()
    return box


def stdout_of(result: GuideResult, step_id: str) -> str:
    return next(s.stdout for s in result.steps if s.step_id == step_id).strip()


def namespace_exists(kubectl: Kubectl, name: str) -> bool:
    return bool(kubectl("get", "namespace", name, "--ignore-not-found", "-o", "name").strip())


def namespace_deleted(kubectl: Kubectl, name: str) -> bool:
    """Gone, or being deleted: teardown does not wait for the namespace controller (5 s more)."""
    found = kubectl("get", "namespace", name, "--ignore-not-found", "-o", "json").strip()
    return not found or "deletionTimestamp" in json.loads(found)["metadata"]


def check(
    tmp_path: Path,
    cluster: kwok.Cluster,
    *args: str,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOLDENPATH, "check", "--golden-paths", str(tmp_path / "gp"), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=check_env(cluster),
    )


def check_env(cluster: kwok.Cluster) -> dict[str, str]:
    """``--sandbox kubernetes`` and ``--sandbox kwok`` both use ``cluster`` (kwok: its versions
    come from the sandbox folder, ``<sandbox>/kwok/clusters/<name>``)."""
    return {
        **os.environ,
        "COLUMNS": "200",
        "KUBECONFIG": str(cluster.kubeconfig),
        "GOLDENPATH_KWOK_KUBECONFIG": str(cluster.kubeconfig),
        "GOLDENPATH_SANDBOX_DIR": str(cluster.workdir.parents[2]),
    }


def wait_for_file(path: Path, proc: subprocess.Popen[str], within: float = 60) -> str:
    deadline = time.monotonic() + within
    while not (path.exists() and path.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate(timeout=30)
            pytest.fail(f"{path.name} never written (exit {proc.returncode}):\n{out}\n{err}")
        time.sleep(0.05)
    return path.read_text().strip()


def kill_processes_with(marker: str) -> None:
    """SIGKILL what a killed check left running (its step shells carry the guide's id)."""
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read():
                    os.kill(int(entry), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


@pytest.fixture
def guide_id() -> Iterator[str]:
    """A guide id unique to the test, so leftovers of one test never match another's."""
    marker = f"gp-{uuid.uuid4().hex[:8]}"
    yield marker
    kill_processes_with(f"GOLDENPATH_GUIDE={marker}")


def test_namespace_created_per_run_and_deleted(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kubectl: Kubectl, guide_id: str
) -> None:
    write_guide(
        tmp_path / "gp",
        guide_id,
        [
            cluster_step("namespace", NAMESPACE),
            cluster_step("labels", f"kubectl get ns \"$({NAMESPACE})\" -o jsonpath='{{.metadata}}'"),
            cluster_step(
                "default",
                "kubectl create configmap hello --from-literal=a=b",
                expect={"output": "configmap/hello created"},
            ),
            cluster_step("listed", "kubectl get ns", expect={"contains": ["gp-"]}),
        ],
    )
    box = sandbox_on(kwok_cluster)
    first = run_in_sandbox(tmp_path / "gp", guide_id, box)
    second = run_in_sandbox(tmp_path / "gp", guide_id, box)

    for result in (first, second):
        assert result.outcome == "passed", result.steps
        assert result.leaks == ()
        namespace = stdout_of(result, "namespace")
        assert namespace.startswith(f"gp-{guide_id}-")
        meta = json.loads(stdout_of(result, "labels"))
        assert meta["labels"][LABEL_GUIDE] == guide_id
        assert meta["labels"][LABEL_RUN] == result.run_id
        assert meta["annotations"][ANNOTATION_OWNER].endswith(f":{os.getpid()}")
        assert namespace_deleted(kubectl, namespace), "the namespace outlived its run"
    assert stdout_of(first, "namespace") != stdout_of(second, "namespace")
    assert first.sandbox == "kubernetes"
    assert first.sandbox_versions["kubernetes"].startswith("v1.")


def test_parallel_guides_are_isolated(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kubectl: Kubectl, guide_id: str
) -> None:
    names = [f"{guide_id}-a", f"{guide_id}-b"]
    for name in names:
        other = next(n for n in names if n != name)
        write_guide(
            tmp_path / "gp",
            name,
            [
                cluster_step("create", f"kubectl create configmap shared --from-literal=owner={name}"),
                # both configmaps exist at the same time: wait for the other guide's
                {
                    "id": "meet",
                    "title": "Meet",
                    "timeout": 60,
                    "run": f"touch {tmp_path}/{name}.created; "
                    f"until [ -e {tmp_path}/{other}.created ]; do sleep 0.1; done",
                },
                cluster_step(
                    "own", "kubectl get configmap shared -o jsonpath='{.data.owner}'", expect={"output": name}
                ),
                cluster_step(
                    "only",
                    "kubectl get configmaps --no-headers -o custom-columns=N:.data.owner",
                    expect={"notContains": [other]},
                ),
                cluster_step("namespace", NAMESPACE),
            ],
            cleanup=[cluster_step("leave", "kubectl delete configmap shared")],
        )
    box = sandbox_on(kwok_cluster)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda n: run_in_sandbox(tmp_path / "gp", n, box), names))

    for result in results:
        assert result.outcome == "passed", [(s.step_id, s.message, s.stdout) for s in result.steps]
        assert result.leaks == ()
    spaces = [stdout_of(r, "namespace") for r in results]
    assert len(set(spaces)) == 2
    assert all(namespace_deleted(kubectl, ns) for ns in spaces)


def test_failing_step_still_deletes_the_namespace(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kubectl: Kubectl, guide_id: str
) -> None:
    write_guide(
        tmp_path / "gp",
        guide_id,
        [
            cluster_step("namespace", NAMESPACE),
            cluster_step("deploy", "kubectl create deployment web --image=example.com/web:1"),
            cluster_step(
                "wrong", "kubectl get deployment web -o jsonpath='{.spec.replicas}'", expect={"output": "3"}
            ),
        ],
    )
    result = run_in_sandbox(tmp_path / "gp", guide_id, sandbox_on(kwok_cluster))
    assert result.outcome == "failed" and result.broken
    assert result.problem is not None and result.problem.step_id == "wrong"
    assert namespace_deleted(kubectl, stdout_of(result, "namespace"))
    assert result.leaks == ()


def test_cluster_scoped_leak_is_reported(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kubectl: Kubectl, guide_id: str
) -> None:
    role = f"{guide_id}-reader"
    write_guide(
        tmp_path / "gp",
        guide_id,
        [
            cluster_step("role", f"kubectl create clusterrole {role} --verb=get --resource=pods"),
            # a Service's cluster IP is a cluster-scoped IPAddress that goes with its namespace
            cluster_step("service", "kubectl create service clusterip web --tcp=80:8080"),
        ],
    )
    try:
        result = run_in_sandbox(tmp_path / "gp", guide_id, sandbox_on(kwok_cluster))
        assert result.outcome == "passed", result.steps
        assert result.leaks == (
            f"cluster-scoped ClusterRole/{role} was created by the run and is still there",
        )
        kubectl("delete", "clusterrole", role)

        junit = tmp_path / "junit.xml"
        out = check(tmp_path, kwok_cluster, "--sandbox", "kubernetes", "--junit", str(junit))
        assert out.returncode == 0, out.stdout + out.stderr
        leaks = [
            p.get("value") for p in ET.parse(junit).getroot().iter("property") if p.get("name") == "leak"
        ]
        assert leaks == [f"cluster-scoped ClusterRole/{role} was created by the run and is still there"]
    finally:
        kubectl("delete", "clusterrole", role, "--ignore-not-found")


def test_interrupt_deletes_the_namespace(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kubectl: Kubectl, guide_id: str
) -> None:
    marker = tmp_path / "namespace.txt"
    write_guide(
        tmp_path / "gp",
        guide_id,
        [
            cluster_step("namespace", f"{NAMESPACE} > {marker}"),
            cluster_step("wait", "sleep 120", timeout=150),
        ],
    )
    proc = subprocess.Popen(
        [GOLDENPATH, "check", "--golden-paths", str(tmp_path / "gp"), "--sandbox", "kubernetes"],
        cwd=tmp_path,
        env=check_env(kwok_cluster),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    namespace = wait_for_file(marker, proc)
    assert namespace_exists(kubectl, namespace)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert namespace_deleted(kubectl, namespace)


def test_namespace_of_a_killed_run_is_collected_at_the_next_start(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kubectl: Kubectl, guide_id: str
) -> None:
    marker = tmp_path / "namespace.txt"
    write_guide(
        tmp_path / "gp",
        guide_id,
        [
            cluster_step("namespace", f"{NAMESPACE} > {marker}"),
            cluster_step("wait", "sleep 120", timeout=150),
        ],
    )
    env = {**check_env(kwok_cluster), "GOLDENPATH_RUNS_DIR": str(tmp_path / "runs")}
    proc = subprocess.Popen(
        [GOLDENPATH, "check", "--golden-paths", str(tmp_path / "gp"), "--sandbox", "kubernetes"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    namespace = wait_for_file(marker, proc)
    proc.kill()
    proc.communicate(timeout=30)
    meta = json.loads(kubectl("get", "namespace", namespace, "-o", "json"))["metadata"]
    assert meta["annotations"][ANNOTATION_OWNER].endswith(f":{proc.pid}")
    assert "deletionTimestamp" not in meta, "nothing deleted it: the run was killed"
    assert processes_with(f"GOLDENPATH_GUIDE={guide_id}"), "SIGKILL leaves the step running"

    # The next check, even one on the local sandbox, deletes the namespace and stops the step.
    write_guide(tmp_path / "next", "local", [{"id": "ok", "title": "OK", "run": "true"}])
    after = subprocess.run(
        [GOLDENPATH, "check", "--golden-paths", str(tmp_path / "next")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert after.returncode == 0, after.stdout + after.stderr
    assert f"deleted namespace {namespace} left by run" in after.stderr
    assert processes_with(f"GOLDENPATH_GUIDE={guide_id}") == []
    kubectl("wait", "--for=delete", f"namespace/{namespace}", "--timeout=60s", timeout=90)
    assert not namespace_exists(kubectl, namespace)


def test_namespace_of_an_unrecorded_dead_run_is_collected_by_the_sandbox(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kubectl: Kubectl, guide_id: str
) -> None:
    # A run record can be lost with its machine's temp folder; the owner annotation still tells.
    namespace = f"gp-{guide_id}-dead"
    kubectl("create", "namespace", namespace)
    kubectl("label", "namespace", namespace, f"{LABEL_RUN}=dead", f"{LABEL_GUIDE}={guide_id}")
    kubectl("annotate", "namespace", namespace, f"{ANNOTATION_OWNER}={socket.gethostname()}:999999999")
    sandbox_on(kwok_cluster)  # the next start: check() collects namespaces of dead runs
    kubectl("wait", "--for=delete", f"namespace/{namespace}", "--timeout=60s", timeout=90)
    assert not namespace_exists(kubectl, namespace)


def test_stopped_api_server_is_a_sandbox_error(
    tmp_path: Path, extra_cluster: kwok.Cluster, guide_id: str
) -> None:
    pid = int((extra_cluster.workdir / "pids" / "kube-apiserver.pid").read_text().strip())
    write_guide(
        tmp_path / "gp",
        guide_id,
        [
            cluster_step(
                "before", "kubectl get namespace default -o name", expect={"output": "namespace/default"}
            ),
            {
                "id": "stop",
                "title": "The API server stops",
                "run": f"kill -9 {pid}; while kill -0 {pid} 2>/dev/null; do sleep 0.1; done",
            },
            cluster_step("after", "kubectl get pods"),
        ],
    )
    junit = tmp_path / "during.xml"
    during = check(tmp_path, extra_cluster, "--sandbox", "kubernetes", "--junit", str(junit))
    assert during.returncode == 3, during.stdout + during.stderr
    assert "ERROR (sandbox)" in during.stdout and "not marked broken" in during.stdout
    assert "the cluster stopped answering" in during.stdout
    case = next(ET.parse(junit).getroot().iter("testcase"))
    assert case.find("failure") is None  # an error, not a broken guide

    before = check(tmp_path, extra_cluster, "--sandbox", "kubernetes")  # down from the start
    assert before.returncode == 3, before.stdout + before.stderr
    assert "the cluster is unreachable" in before.stderr
    assert "Traceback" not in before.stderr + during.stderr


def test_kwok_stand_in_answers_through_port_forward(
    tmp_path: Path, kwok_cluster: kwok.Cluster, kwok_ctl: kwok.KwokCtl, kubectl: Kubectl, guide_id: str
) -> None:
    local_port = _free_port()
    spec_file = write_guide(
        tmp_path / "gp",
        guide_id,
        [
            {"id": "page", "title": "Page", "run": f"echo served-by-{guide_id} > index.html"},
            cluster_step(
                "deploy", "kubectl create deployment web --image=registry.example.com/web:1 --port=8080"
            ),
            cluster_step("rollout", "kubectl rollout status deployment/web --timeout=60s", timeout=90),
            cluster_step(
                "forward",
                f"kubectl port-forward deployment/web {local_port}:8080",
                background=True,
                ready={"port": local_port, "timeout": 30},
                expect={"nothing": True},
            ),
            cluster_step(
                "call",
                f"curl -s http://127.0.0.1:{local_port}/index.html",
                retry={"within": 20},
                expect={"output": f"served-by-{guide_id}"},
            ),
        ],
    )
    document = yaml.safe_load(spec_file.read_text())
    document["spec"]["standIns"] = [
        {"deployment": "web", "port": 8080, "run": "exec python3 -m http.server --bind 127.0.0.1 $PORT"}
    ]
    spec_file.write_text(yaml.safe_dump(document, sort_keys=False))
    junit = tmp_path / "junit.xml"

    out = check(tmp_path, kwok_cluster, "--sandbox", "kwok", "--junit", str(junit))
    assert out.returncode == 0, out.stdout + out.stderr
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert props["sandbox"] == "kwok"
    versions = kwok._versions(kwok_ctl.settings)
    assert props["sandbox.kubernetes"] == versions["KUBE_VERSION"]
    assert props["sandbox.kwok"] == versions["KWOK_VERSION"]
    assert "leak" not in props
    assert kubectl("get", "clusterportforwards", "-o", "name").strip() == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
