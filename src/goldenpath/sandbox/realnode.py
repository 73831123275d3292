"""The ``real-node`` sandbox: a local kwok cluster with one real node, where pods really run.

The cluster is the kwok sandbox's (same binaries, same :class:`~goldenpath.sandbox.kwok.KwokCtl`),
made ready for a real node (:func:`goldenpath.node.cluster.real_node_patches`, the fake node
tainted), and :mod:`goldenpath.node` joins a kubelet with a private containerd to it, plus a
local registry standing in for the platform's. A guide runs unchanged: each run gets its
namespace (as on the kubernetes sandbox) and ``docker``/``podman`` wrappers first on its PATH,
so its own ``docker build -t registry.example.com/...`` and ``docker push`` land in the stand-in
and its Deployment pulls from there. No stand-ins: the containers run.

When a run ends, every image it pushed or its pods pulled (except the base and pause images) is
deleted from the registry and from containerd, so a later run can never pass on an old image.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from goldenpath.config import Settings
from goldenpath.errors import SandboxError
from goldenpath.node import NodeConfig, NodeInfo, RealNode, containerd, podman, registry
from goldenpath.sandbox import kwok
from goldenpath.sandbox.base import Session, StepCoverage
from goldenpath.sandbox.kubernetes import KubernetesSandbox

SHARED_NAME = "goldenpath-real-node"
"""The cluster ``goldenpath sandbox up --sandbox real-node`` starts; checks use it when it runs."""
ENV_KUBECONFIG = "GOLDENPATH_REAL_NODE_KUBECONFIG"
"""Set for child processes (pytest-xdist workers) so they use the cluster their parent started."""
PREFIX = "goldenpath-node"
READER_STORE = "reader-containers"
"""The podman store of the reader's ``docker`` (:func:`reader_env`), in the cluster's folder."""
FLAVOUR = kwok.Flavour(SHARED_NAME, ENV_KUBECONFIG, PREFIX, real_node=True)
_POD_IMAGES = (
    "jsonpath={range .items[*]}{range .spec.initContainers[*]}{.image}{'\\n'}{end}"
    "{range .spec.containers[*]}{.image}{'\\n'}{end}{end}"
)


def say(line: str) -> None:
    """Progress of a node start or collection, on stderr (stdout is the check's display)."""
    print(f"goldenpath: {line}", file=sys.stderr, flush=True)


def node_config(settings: Settings, cluster: kwok.Cluster, owner_pid: int | None) -> NodeConfig:
    """The node to start for ``cluster`` with this project's settings."""
    return NodeConfig(
        sandbox_dir=kwok.sandbox_dir(settings),
        cluster_name=cluster.name,
        cluster_dir=cluster.workdir,
        recipes=settings.path(settings.base_images),
        platform_registry=settings.platform_registry,
        owner_pid=owner_pid,
    )


def collect_dead(settings: Settings, node: RealNode, report: Callable[[str], None] = say) -> list[str]:
    """Collect a node whose owner died and the ephemeral clusters of check runs that died."""
    with node.locked():
        done = node.collect_dead()
        for line in done:
            report(line)
        running = node.running()
        # a node kept with --keep keeps its cluster alive until 'goldenpath sandbox down'
        for line in kwok.collect_dead_clusters(settings, keep=running.cluster if running else None):
            done.append(line)
            report(line)
    return done


@contextlib.contextmanager
def running_node(settings: Settings, keep: bool = False) -> Iterator[kwok.Cluster]:
    """The cluster with a real node for one check run: the shared one if it is up, else an
    ephemeral one whose node lives as long as this process; both stopped at the end unless
    ``keep`` or shared. A node left by a dead run is collected first."""
    inherited = os.environ.get(ENV_KUBECONFIG)
    if inherited:
        yield kwok.Cluster(Path(inherited).parent.name, Path(inherited), Path(inherited).parent)
        return
    node = RealNode(kwok.sandbox_dir(settings), say)
    with contextlib.ExitStack() as stack:
        # one start at a time on this machine: a second run shares or is refused, never races
        with node.locked():
            collect_dead(settings, node)
            kwokctl = kwok.KwokCtl(settings)
            shared = kwokctl.get(SHARED_NAME)
            node.check_free(shared.name if shared is not None else f"{PREFIX}-{os.getpid()}")
            cluster = stack.enter_context(kwok.running_cluster(settings, keep, FLAVOUR))
            ephemeral = cluster.name != SHARED_NAME
            owner = os.getpid() if ephemeral and not keep else None
            info = node.up(node_config(settings, cluster, owner))
            if ephemeral and not keep and not info.shared:
                stack.callback(node.down, cluster.name)
        yield cluster


class RealNodeSandbox(KubernetesSandbox):
    """The kubernetes sandbox on the local cluster with a real node, plus per-session podman."""

    name = "real-node"
    provides: Mapping[str, StepCoverage] = {"cluster": "real", "images": "real"}

    def __init__(self, cluster_kubeconfig: str, settings: Settings) -> None:
        super().__init__(kubeconfig=cluster_kubeconfig, context="")
        self.settings = settings
        self.cluster_name = Path(cluster_kubeconfig).parent.name
        self.node = RealNode(kwok.sandbox_dir(settings))
        self._info: NodeInfo | None = None

    @property
    def info(self) -> NodeInfo:
        if self._info is None:
            info = self.node.running(self.cluster_name)
            if info is None:
                raise SandboxError(
                    f"the real node of cluster {self.cluster_name} is not running: 'goldenpath check "
                    "--sandbox real-node' starts one, or run 'goldenpath sandbox up --sandbox real-node'"
                )
            self._info = info
        return self._info

    def check(self) -> None:
        """The cluster answers, podman is installed, and the cluster's real node runs."""
        super().check()
        podman.check()
        _ = self.info

    def versions(self) -> dict[str, str]:
        """The kubernetes sandbox's versions plus the node's: containerd, runc, kubelet, kwok."""
        versions = super().versions()
        versions["node"] = f"real ({self.info.node_name})"
        for name in ("containerd", "runc", "kubelet"):
            versions[name] = self.info.versions.get(name, "unknown")
        kwok_version = kwok._versions(self.settings).get("KWOK_VERSION")
        if kwok_version:
            versions["kwok"] = kwok_version
        return versions

    def setup(self, session: Session) -> Session:
        """The run's namespace and kubeconfig, plus podman configured for the session."""
        session = super().setup(session)
        # beside the workspace, not in the runner's scratch folder (tmpfs): image layers are big
        root = session.workspace.parent / "containers"
        session.resources["podman"] = root
        session.owns(podman=str(root))
        env = podman.prepare(
            root,
            platform_registry=self.info.platform_registry,
            registry_address=self.info.registry,
            path=session.env.get("PATH", os.defpath),
        )
        return session.with_env({**session.env, **env})

    def teardown(self, session: Session) -> list[str]:
        """Remove the session's podman store, the namespace, then the run's images."""
        # the podman store goes while the namespace does: they do not touch each other
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            cleaned = pool.submit(self._remove_podman, session)
            leaks = super().teardown(session)
            leaks = cleaned.result() + leaks
        images = set(session.resources.get("pod_images", ())) | set(session.resources.get("named_images", ()))
        return leaks + self._forget_images(images)

    def _remove_podman(self, session: Session) -> list[str]:
        root = session.resources.get("podman")
        if not isinstance(root, Path):
            return []
        session.resources["named_images"] = podman.named_images(root, self.info.platform_registry)
        try:
            return podman.cleanup(root, dict(session.env))
        except SandboxError as exc:
            return [f"the session's podman store could not be removed: {exc}"]

    def _delete_namespace(self, session: Session, namespace: str) -> list[str]:
        # what the pods run is only known while they exist: their images are deleted after the run
        with contextlib.suppress(SandboxError):
            session.resources["pod_images"] = set(
                self.kubectl("get", "pods", "-n", namespace, "-o", _POD_IMAGES).split()
            )
        return super()._delete_namespace(session, namespace)

    def _forget_images(self, names: set[str]) -> list[str]:
        """Delete the images a run pushed or pulled, except the base and pause images."""
        info = self.info
        doomed = {full_name(n) for n in names} - set(info.keep_images)
        if not doomed:
            return []
        leaks = []
        for name in sorted(n for n in doomed if n.startswith(f"{info.platform_registry}/")):
            try:
                registry.delete_image(info.registry, name)
            except (SandboxError, OSError) as exc:
                leaks.append(f"image {name} could not be deleted from the registry stand-in: {exc}")
        try:
            containerd.remove_images(
                containerd.Layout(Path(info.containerd_socket).parent), doomed, info.keep_images
            )
        except SandboxError as exc:
            leaks.append(f"images {', '.join(sorted(doomed))} could not be deleted from the node: {exc}")
        return leaks


def full_name(image: str) -> str:
    """An image reference as containerd names it: registry host and tag (or digest) included."""
    first, _, rest = image.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        image = f"docker.io/{image if rest else 'library/' + image}"
    last = image.rsplit("/", 1)[-1]
    return image if (":" in last or "@" in last) else f"{image}:latest"


def real_node_factory(settings: Settings) -> RealNodeSandbox:
    """The real-node sandbox on the cluster of this run (started by the CLI or pytest session)."""
    inherited = os.environ.get(ENV_KUBECONFIG)
    if inherited:
        return RealNodeSandbox(inherited, settings)
    shared = kwok.KwokCtl(settings).get(SHARED_NAME)
    if shared is None:
        raise SandboxError(
            "no real-node cluster is running; 'goldenpath check --sandbox real-node' starts one, "
            "or run 'goldenpath sandbox up --sandbox real-node'"
        )
    return RealNodeSandbox(str(shared.kubeconfig), settings)


def reader_env(settings: Settings, cluster: kwok.Cluster, path: str = "$PATH") -> dict[str, str]:
    """What a reader's own shell needs to follow a guide on ``cluster`` (``goldenpath follow``):
    its ``KUBECONFIG``, and ``docker``/``podman`` wrappers in front of ``path`` that push to the
    registry stand-in, with a podman store of their own beside the cluster."""
    info = RealNode(kwok.sandbox_dir(settings)).running(cluster.name)
    if info is None:
        raise SandboxError(f"the real node of cluster {cluster.name} is not running")
    root = cluster.workdir / READER_STORE
    env = podman.prepare(
        root, platform_registry=info.platform_registry, registry_address=info.registry, path=path
    )
    return {"KUBECONFIG": str(cluster.kubeconfig), **env}


def forget_reader(settings: Settings, cluster: kwok.Cluster) -> list[str]:
    """Remove what :func:`reader_env` made: the reader's podman store and the images it named."""
    root = cluster.workdir / READER_STORE
    if not root.exists():
        return []
    sandbox = RealNodeSandbox(str(cluster.kubeconfig), settings)
    names = podman.named_images(root, sandbox.info.platform_registry)
    leaks = podman.cleanup(root, None)
    return leaks + sandbox._forget_images(names)


def up(settings: Settings) -> list[str]:
    """``goldenpath sandbox up --sandbox real-node``: the shared cluster and its node, started
    (or found running) for checks to use until :func:`down`."""
    node = RealNode(kwok.sandbox_dir(settings), say)
    with node.locked():
        lines = collect_dead(settings, node, report=lambda _line: None)
        node.check_free(SHARED_NAME)
        kwokctl = kwok.KwokCtl(settings)
        cluster = kwokctl.get(SHARED_NAME) or kwokctl.create(SHARED_NAME, real_node=True)
        info = node.up(node_config(settings, cluster, owner_pid=None))
    state = "was already running" if info.shared else "is up"
    exports = reader_env(settings, cluster)
    path = exports.pop("PATH")
    return [
        *lines,
        f"cluster {cluster.name} with the real node {info.node_name} {state}; "
        "checks with --sandbox real-node use it",
        "to follow a guide on it ('goldenpath follow'), paste into your shell:",
        *(f"export {name}={shlex.quote(value)}" for name, value in exports.items()),
        f'export PATH="{path}"',
    ]


def down(settings: Settings) -> list[str]:
    """``goldenpath sandbox down --sandbox real-node``: the node and the shared cluster gone, also
    half-started ones; a node a live check run owns is left alone."""
    node = RealNode(kwok.sandbox_dir(settings), say)
    kwokctl = kwok.KwokCtl(settings)
    with node.locked():
        lines = collect_dead(settings, node, report=lambda _line: None)
        # the reader's images go while the node still runs: the registry and containerd hold them
        shared_dir = kwokctl.cluster_dir(SHARED_NAME)
        shared = kwok.Cluster(SHARED_NAME, shared_dir / "kubeconfig.yaml", shared_dir)
        with contextlib.suppress(SandboxError):
            lines += [f"removed for the reader's docker: {line}" for line in forget_reader(settings, shared)]
        state = node.state()
        if state is not None and state.owner is not None and state.running():
            lines.append(f"the real node of cluster {state.cluster} belongs to a running check: left running")
        elif state is not None:
            node.down(kubeconfig=kwokctl.cluster_dir(state.cluster) / "kubeconfig.yaml")
            lines.append(f"the real node {state.node_name} of cluster {state.cluster} is down")
            if state.cluster != SHARED_NAME and state.cluster.startswith(f"{PREFIX}-"):
                kwokctl.delete(state.cluster)  # a cluster kept with --keep goes with its node
                lines.append(f"cluster {state.cluster} is down")
        if (
            kwokctl.cluster_dir(SHARED_NAME).exists()
            or (kwokctl.workdir / f"{SHARED_NAME}.kwokctl.yaml").exists()
        ):
            kwokctl.delete(SHARED_NAME)
            lines.append(f"cluster {SHARED_NAME} is down")
    return lines or ["no real node and no real-node cluster"]


def status(settings: Settings) -> list[str]:
    """``goldenpath sandbox status --sandbox real-node``: the node and the real-node clusters."""
    node = RealNode(kwok.sandbox_dir(settings), say)
    lines = collect_dead(settings, node, report=lambda _line: None)
    found = node.status()
    if found["running"]:
        processes = ", ".join(f"{name} {pid}" for name, pid in found["processes"].items())
        lines.append(
            f"real node {found['node']} of cluster {found['cluster']}: running ({processes}; "
            f"registry stand-in at {found['registry']})"
        )
    else:
        lines.append("no real node")
    for name, ready in kwok.KwokCtl(settings).status():
        if name == SHARED_NAME or name.startswith(f"{PREFIX}-"):
            lines.append(f"{name}: {'running' if ready else 'not answering'}")
    return lines
