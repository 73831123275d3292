"""The ``kwok`` sandbox: an ephemeral local Kubernetes cluster without Docker.

``kwokctl --runtime binary`` runs a real etcd, kube-apiserver, controller-manager and scheduler,
with kwok simulating the nodes: pods become Running and Ready, but no container runs. A guide can
therefore declare *stand-ins*: local commands that serve a container's port. When a guide run
reaches its first cluster step, the sandbox starts them and routes ``kubectl port-forward`` to
them through kwok's ClusterPortForward, so "call your service" is really exercised.

The binaries come from ``scripts/build-sandbox-cluster`` (in ``.sandbox/bin``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from goldenpath import host
from goldenpath.config import Settings
from goldenpath.errors import SandboxError
from goldenpath.host import stop_pid_files
from goldenpath.node.errors import NodeError
from goldenpath.sandbox import standins
from goldenpath.sandbox.base import Session, StepCoverage
from goldenpath.sandbox.kubernetes import Kubectl, KubernetesSandbox, wait_for_deleted_namespaces

if TYPE_CHECKING:
    from goldenpath.render.renderer import RenderedGuide, RenderedStep

BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwokctl", "etcd")
SHARED_NAME = "goldenpath"
"""The cluster ``goldenpath sandbox up`` starts; checks reuse it when it is running."""
ENV_KUBECONFIG = "GOLDENPATH_KWOK_KUBECONFIG"
"""Set for child processes (pytest-xdist workers) so they use the cluster their parent started."""
BUILD_HINT = "build them with scripts/build-sandbox-cluster"


@dataclass(frozen=True)
class Cluster:
    name: str
    kubeconfig: Path
    workdir: Path


def sandbox_dir(settings: Settings) -> Path:
    return Path(os.environ.get("GOLDENPATH_SANDBOX_DIR") or settings.root / ".sandbox")


def binaries_present(settings: Settings) -> bool:
    bin_dir = sandbox_dir(settings) / "bin"
    return all((bin_dir / name).is_file() for name in BINARIES)


def _versions(settings: Settings) -> dict[str, str]:
    versions: dict[str, str] = {}
    env_file = sandbox_dir(settings) / "versions.env"
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                versions[key.strip()] = value.strip()
    return versions


class KwokCtl:
    """Creates, inspects and deletes kwok clusters under ``.sandbox/kwok``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = sandbox_dir(settings)
        self.bin = self.root / "bin"
        self.workdir = self.root / "kwok"
        missing = [name for name in BINARIES if not (self.bin / name).is_file()]
        if missing:
            raise SandboxError(
                f"kwok sandbox binaries missing in {self.bin}: {', '.join(missing)}; {BUILD_HINT}"
            )
        if shutil.which("kubectl") is None:
            raise SandboxError("kubectl is not installed; the kwok sandbox needs it")

    def _run(self, *args: str, timeout: float = 300) -> str:
        env = dict(os.environ, KWOK_WORKDIR=str(self.workdir))
        try:
            done = subprocess.run(
                [str(self.bin / "kwokctl"), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"kwokctl {' '.join(args)} timed out after {timeout:.0f}s") from exc
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise SandboxError(f"kwokctl {' '.join(args)} failed: {' | '.join(tail)}")
        return done.stdout

    def cluster_dir(self, name: str) -> Path:
        return self.workdir / "clusters" / name

    def get(self, name: str) -> Cluster | None:
        """The cluster ``name`` if it exists and answers."""
        kubeconfig = self.cluster_dir(name) / "kubeconfig.yaml"
        if not kubeconfig.is_file():
            return None
        try:
            Kubectl(str(kubeconfig))("get", "--raw", "/readyz", timeout=10)
        except SandboxError:
            return None
        return Cluster(name, kubeconfig, self.cluster_dir(name))

    def create(self, name: str, real_node: bool = False) -> Cluster:
        """Start a cluster with one Ready fake node; remove what was left of a dead one first.

        With ``real_node`` the cluster is ready for :mod:`goldenpath.node` to join: the API server
        can call a kubelet, kwok manages only the fake nodes, and those are tainted so that
        ordinary pods go to the real node.
        """
        # The real node's modules load to make a cluster, not with this module (see collect_leftovers).
        from goldenpath.node import cluster as node_cluster
        from goldenpath.node.config import node_ca

        if self.cluster_dir(name).exists() and self.get(name) is None:
            self.delete(name)
        versions = _versions(self.settings)
        config = self.workdir / f"{name}.kwokctl.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        options = {
            "runtime": "binary",
            "bindAddress": "127.0.0.1",
            "kubeApiserverBinary": str(self.bin / "kube-apiserver"),
            "kubeControllerManagerBinary": str(self.bin / "kube-controller-manager"),
            "kubeSchedulerBinary": str(self.bin / "kube-scheduler"),
            "kwokControllerBinary": str(self.bin / "kwok"),
            "etcdBinary": str(self.bin / "etcd"),
            "kubectlBinary": shutil.which("kubectl") or "kubectl",
            "enableCRDs": ["ClusterPortForward", "ClusterLogs"],
        }
        if versions.get("KUBE_VERSION"):
            options["kubeVersion"] = versions["KUBE_VERSION"]
        patches = [node_cluster.flexvolume_patch(self.cluster_dir(name))]
        if real_node:
            # the API server's flags name the node CA's files: it must exist before the cluster
            ca = node_ca(self.root)
            ca.ensure()
            patches += node_cluster.real_node_patches(ca)
        document = {
            "kind": "KwokctlConfiguration",
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "options": options,
            "componentsPatches": patches,
        }
        config.write_text(json.dumps(document, indent=2))
        # --kubeconfig "" keeps kwokctl away from the user's ~/.kube/config.
        create = ["--config", str(config), "create", "cluster", "--name", name, "--runtime", "binary"]
        create += ["--kubeconfig", "", "--wait", "2m", "--timeout", "5m"]
        try:
            with self._creating():
                try:
                    self._run(*create)
                except SandboxError as exc:
                    # about one create in twenty: 'failed to init crds "<name>": resource not handled'
                    if "init crds" not in str(exc):
                        raise
                    self._run(
                        "delete", "cluster", "--name", name, "--kubeconfig", str(self.workdir / "no-such")
                    )
                    self._run(*create)
            self._run("--name", name, "scale", "node", "fake-node", "--replicas=1")
            cluster = Cluster(name, self.cluster_dir(name) / "kubeconfig.yaml", self.cluster_dir(name))
            if real_node:
                Kubectl(str(cluster.kubeconfig))(*node_cluster.taint_fake_nodes_args())
            Kubectl(str(cluster.kubeconfig))(
                "wait", "--for=condition=Ready", "node", "--all", "--timeout=120s", timeout=150
            )
            for crd in ("clusterportforwards.kwok.x-k8s.io", "clusterlogs.kwok.x-k8s.io"):
                Kubectl(str(cluster.kubeconfig))(
                    "wait", "--for=create", "crd", crd, "--timeout=60s", timeout=90
                )
        except BaseException:
            self.delete(name)
            raise
        return cluster

    @contextlib.contextmanager
    def _creating(self) -> Iterator[None]:
        """One cluster start at a time on this machine: kwokctl picks its components' free ports
        when it creates a cluster, so two creates at once can pick the same ones."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.workdir / "create.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def delete(self, name: str) -> None:
        """Stop the cluster's processes and remove its folder; safe when it is already gone."""
        folder = self.cluster_dir(name)
        stop_creator(self.workdir, name)  # a create still running would start what we stop
        if folder.exists():
            try:
                # A kubeconfig path that does not exist keeps kwokctl away from ~/.kube/config.
                self._run(
                    "delete",
                    "cluster",
                    "--name",
                    name,
                    "--kubeconfig",
                    str(folder.parent / "no-such-kubeconfig"),
                    timeout=120,
                )
            except SandboxError:
                stop_pid_files(folder / "pids")
        # a start that was killed half way leaves components kwokctl does not know of yet
        remove_cluster(self.workdir, name)

    def kept(self) -> list[str]:
        """Ephemeral clusters kept with ``--keep`` by check runs that have ended."""
        return [
            p.name.removesuffix(".kept")
            for p in sorted(self.workdir.glob("*.kept"))
            if (found := _EPHEMERAL.fullmatch(p.name.removesuffix(".kept")))
            and not host.pid_alive(int(found.group(1)))
        ]

    def status(self) -> list[tuple[str, bool]]:
        clusters = self.workdir / "clusters"
        if not clusters.is_dir():
            return []
        return [(d.name, self.get(d.name) is not None) for d in sorted(clusters.iterdir()) if d.is_dir()]


def stop_creator(workdir: Path, name: str) -> None:
    """Stop a ``kwokctl create`` of the cluster that outlived the run that started it."""
    host.stop_pids(host.mentioning(str(workdir / f"{name}.kwokctl.yaml")))


def remove_cluster(workdir: Path, name: str) -> None:
    """Stop every process of a cluster, also of one whose start was killed half way (its
    kwokctl first, so it starts nothing more), and remove its folder and files."""
    folder = workdir / "clusters" / name
    config = workdir / f"{name}.kwokctl.yaml"
    stop_creator(workdir, name)  # first, so it starts nothing more
    host.stop_pids(host.mentioning(f"{folder}/"))  # etcd, the control plane, kwok
    shutil.rmtree(folder, ignore_errors=True)
    for leftover in (config, workdir / f"{name}.kept"):
        leftover.unlink(missing_ok=True)


_EPHEMERAL = re.compile(r"goldenpath(?:-[a-z]+)*-([0-9]+)")
"""An ephemeral cluster's name: a flavour's prefix and the pid of the check run it belongs to."""


def collect_dead_clusters(settings: Settings, keep: str | None = None) -> list[str]:
    """Remove the ephemeral clusters of check runs that died, except those kept with ``--keep``
    (and ``keep``); one line per cluster removed. The cluster of a real node is spared: the node
    goes first, by the real-node sandbox's own collection."""
    from goldenpath.node import RealNode  # the real node's modules: for its state file, here only

    spared = {keep}
    with contextlib.suppress(NodeError):
        node = RealNode(sandbox_dir(settings)).state()
        spared.add(node.cluster if node is not None else None)
    workdir = sandbox_dir(settings) / "kwok"
    clusters = workdir / "clusters"
    names = {p.name for p in clusters.iterdir()} if clusters.is_dir() else set()
    names |= {p.name.removesuffix(".kwokctl.yaml") for p in workdir.glob("*.kwokctl.yaml")}
    lines = []
    for name in sorted(names):
        found = _EPHEMERAL.fullmatch(name)
        if found is None or name in spared or (workdir / f"{name}.kept").exists():
            continue
        if host.pid_alive(int(found.group(1))):
            continue
        remove_cluster(workdir, name)
        lines.append(f"removed the kwok cluster {name} of a check run that died (pid {found.group(1)})")
    return lines


@dataclass(frozen=True)
class Flavour:
    """Which clusters a check run shares or makes: the kwok sandbox's, or the real-node one's."""

    shared_name: str
    """The cluster ``goldenpath sandbox up`` starts; check runs use it when it is running."""
    env_var: str
    """Names the run's cluster's kubeconfig for child processes (pytest-xdist workers)."""
    prefix: str
    """Of an ephemeral cluster's name, followed by the pid of the check run it belongs to."""
    real_node: bool = False


KWOK = Flavour(SHARED_NAME, ENV_KUBECONFIG, "goldenpath")


@contextlib.contextmanager
def running_cluster(settings: Settings, keep: bool = False, flavour: Flavour = KWOK) -> Iterator[Cluster]:
    """A cluster for one check run: the shared one if it is up, else an ephemeral one.

    The ephemeral cluster is deleted at the end, also after a failure or Ctrl-C, unless ``keep``.
    A cluster that stays up is left without the run's namespaces still being deleted.
    """
    inherited = os.environ.get(flavour.env_var)
    if inherited:
        yield Cluster("inherited", Path(inherited), Path(inherited).parent)
        return
    kwokctl = KwokCtl(settings)
    cluster = kwokctl.get(flavour.shared_name)
    ephemeral = cluster is None
    if cluster is None:
        cluster = kwokctl.create(f"{flavour.prefix}-{os.getpid()}", real_node=flavour.real_node)
    previous = os.environ.get(flavour.env_var)
    os.environ[flavour.env_var] = str(cluster.kubeconfig)
    try:
        yield cluster
    finally:
        if previous is None:
            os.environ.pop(flavour.env_var, None)
        if ephemeral and not keep:
            kwokctl.delete(cluster.name)
        elif ephemeral:  # kept for debugging: no later run collects it; 'sandbox down' does
            (kwokctl.workdir / f"{cluster.name}.kept").touch()
        else:
            wait_for_deleted_namespaces(Kubectl(str(cluster.kubeconfig)))


class KwokSandbox(KubernetesSandbox):
    """The kubernetes sandbox on a local kwok cluster, plus stand-ins for containers."""

    name = "kwok"
    provides: Mapping[str, StepCoverage] = {"cluster": "simulated"}

    def __init__(self, cluster_kubeconfig: str, settings: Settings) -> None:
        super().__init__(kubeconfig=cluster_kubeconfig, context="")
        self.settings = settings

    def versions(self) -> dict[str, str]:
        versions = super().versions()
        kwok_version = _versions(self.settings).get("KWOK_VERSION")
        if kwok_version:
            versions["kwok"] = kwok_version
        return versions

    def before_step(self, session: Session, guide: RenderedGuide, step: RenderedStep) -> None:
        """Route the guide's stand-ins at its first step, start them before its first cluster step."""
        super().before_step(session, guide, step)
        standins.before_step(self.kubectl, session, guide, step)

    def teardown(self, session: Session) -> list[str]:
        return standins.teardown(self.kubectl, session) + super().teardown(session)


def kwok_factory(settings: Settings) -> KwokSandbox:
    """The kwok sandbox on the cluster of this run (started by the CLI or pytest session)."""
    inherited = os.environ.get(ENV_KUBECONFIG)
    if inherited:
        return KwokSandbox(inherited, settings)
    shared = KwokCtl(settings).get(SHARED_NAME)
    if shared is None:
        raise SandboxError(
            "no kwok cluster is running; 'goldenpath check --sandbox kwok' starts "
            "one, or run 'goldenpath sandbox up'"
        )
    return KwokSandbox(str(shared.kubeconfig), settings)
