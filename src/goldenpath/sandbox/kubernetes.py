"""The ``kubernetes`` sandbox: any cluster by kubeconfig context, one namespace per guide run.

Each run gets a fresh namespace labelled with the guide and run ids, and a kubeconfig of its own
whose current context points at that namespace, so the guides' plain ``kubectl`` commands work
unchanged and two guides never see each other's objects. The namespace is deleted when the run
ends, the fast way (:meth:`KubernetesSandbox.teardown`): it finishes going a few seconds later.
Namespaces of runs that were killed are found by label at the next start. Cluster-scoped objects
that appear during a run are reported as leaks (a resource ledger).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from goldenpath.errors import SandboxError
from goldenpath.host import pid_alive
from goldenpath.sandbox import workloads
from goldenpath.sandbox.base import Sandbox, Session, StepCoverage

if TYPE_CHECKING:  # annotations: a check on any sandbox imports this module to collect leftovers
    from goldenpath.render.renderer import RenderedGuide, RenderedStep

LABEL_GUIDE = "goldenpath.dev/guide"
LABEL_RUN = "goldenpath.dev/run"
ANNOTATION_OWNER = "goldenpath.dev/owner"
"""``host:pid`` of the process that created a namespace, to tell live runs from killed ones."""
ORPHAN_AGE = datetime.timedelta(hours=6)
"""Namespaces of another host are only collected when older than this."""

# Cluster-scoped kinds that churn on their own and say nothing about what a guide left behind.
_LEDGER_IGNORE = (
    "events",
    "leases",
    "tokenreviews",
    "selfsubject",
    "subjectaccessreviews",
    "componentstatuses",
    "bindings",
    "localsubjectaccessreviews",
)


class KubectlError(SandboxError):
    """kubectl failed talking to the cluster."""


def namespace_name(guide_id: str, run_id: str) -> str:
    """A DNS-1123 label naming the guide and the run: ``gp-hello-world-3f9a1c2b``.

    The suffix is a digest of the whole run id (run ids start with a timestamp, so a prefix
    would give two runs of a guide on the same day the same namespace).
    """
    guide = re.sub(r"[^a-z0-9-]", "-", guide_id.lower())[:40].strip("-")
    return f"gp-{guide}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


class Kubectl:
    """Runs kubectl against one kubeconfig and context."""

    def __init__(self, kubeconfig: str = "", context: str = "", binary: str = "kubectl") -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.binary = binary

    def args(self) -> list[str]:
        args = [self.binary]
        if self.kubeconfig:
            args += ["--kubeconfig", self.kubeconfig]
        if self.context:
            args += ["--context", self.context]
        return args

    def __call__(self, *args: str, timeout: float = 60, stdin: str | None = None) -> str:
        command = [*self.args(), *args]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                input=stdin,
                check=False,
                stdin=None if stdin is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            raise SandboxError("kubectl is not installed; install it to use a cluster sandbox") from exc
        except subprocess.TimeoutExpired as exc:
            raise KubectlError(
                f"kubectl {' '.join(args)} timed out after {timeout:.0f}s: "
                "the cluster is unreachable or overloaded"
            ) from exc
        if done.returncode != 0:
            raise KubectlError(_explain(done.stderr.strip() or done.stdout.strip(), args))
        return done.stdout


def _explain(stderr: str, args: Sequence[str]) -> str:
    first = stderr.splitlines()[-1] if stderr else "no output"
    lowered = stderr.lower()
    if "unauthorized" in lowered or "forbidden" in lowered:
        return f"the cluster refused the credentials: {first} (check the kubeconfig's user)"
    if any(
        sign in lowered
        for sign in ("refused", "no such host", "i/o timeout", "unable to connect", "no route to host")
    ):
        return f"the cluster is unreachable: {first} (is it running? check the kubeconfig and --context)"
    if "context" in lowered and "does not exist" in lowered:
        return f"{first} (check --context or [tool.goldenpath] context)"
    return f"kubectl {' '.join(args)} failed: {first}"


class KubernetesSandbox(Sandbox):
    """A namespace per guide run on an existing cluster."""

    name = "kubernetes"
    provides: Mapping[str, StepCoverage] = {"cluster": "real", "images": "real"}

    def __init__(self, kubeconfig: str = "", context: str = "") -> None:
        super().__init__()
        kubeconfig = kubeconfig or os.environ.get("KUBECONFIG", "")
        self.kubectl = Kubectl(kubeconfig, context)
        self._server_version = ""
        self._ledger_kinds: list[str] | None = None
        self._base_config: dict[str, Any] | None = None

    def check(self) -> None:
        super().check()
        if shutil.which(self.kubectl.binary) is None:
            raise SandboxError("kubectl is not installed; install it to use a cluster sandbox")
        info = json.loads(self.kubectl("version", "-o", "json", "--request-timeout=15s", timeout=30))
        self._server_version = info.get("serverVersion", {}).get("gitVersion", "")
        if not self._server_version:
            raise SandboxError("the cluster did not report its version; is it reachable?")
        self.collect_orphans()

    def versions(self) -> dict[str, str]:
        versions = super().versions()
        versions["kubernetes"] = self._server_version or "unknown"
        return versions

    # -- namespaces -----------------------------------------------------------------------

    def collect_orphans(self) -> list[str]:
        """Delete namespaces of runs that were killed; return their names."""
        listing = json.loads(self.kubectl("get", "namespaces", "-l", LABEL_RUN, "-o", "json"))
        host = socket.gethostname()
        now = datetime.datetime.now(datetime.timezone.utc)
        removed = []
        for item in listing.get("items", []):
            meta = item["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            owner = meta.get("annotations", {}).get(ANNOTATION_OWNER, "")
            owner_host, _, pid = owner.rpartition(":")
            created = datetime.datetime.fromisoformat(meta["creationTimestamp"].replace("Z", "+00:00"))
            if owner_host == host and pid.isdigit():
                orphan = not pid_alive(int(pid))
            else:
                orphan = now - created > ORPHAN_AGE
            if orphan:
                self.kubectl("delete", "namespace", meta["name"], "--wait=false", "--ignore-not-found")
                removed.append(meta["name"])
        return removed

    def setup(self, session: Session) -> Session:
        run_id = session.env["GOLDENPATH_RUN_ID"]
        guide_id = session.env["GOLDENPATH_GUIDE"]
        namespace = namespace_name(guide_id, run_id)
        manifest = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": {LABEL_GUIDE: guide_id[:63], LABEL_RUN: run_id[:63]},
                "annotations": {ANNOTATION_OWNER: f"{socket.gethostname()}:{os.getpid()}"},
            },
        }
        # The kubeconfig first: with it, the run's record lets a later run delete the namespace
        # should this process be killed while it exists.
        kubeconfig = session.scratch / "kubeconfig"
        kubeconfig.write_text(self._kubeconfig_for(namespace), encoding="utf-8")
        kubeconfig.chmod(0o600)
        session.owns(namespace=namespace, kubeconfig=str(kubeconfig))
        # The ledger ignores goldenpath's namespaces, so it is listed while ours is created.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            ledger = pool.submit(self._ledger)
            created = pool.submit(self.kubectl, "create", "-f", "-", stdin=json.dumps(manifest))
            try:
                created.result()
            except SandboxError as exc:
                if "already exists" not in str(exc).lower():  # never delete what is not ours
                    session.resources["namespace"] = namespace
                raise
            # recorded as soon as it exists, so teardown deletes it even if the rest fails
            session.resources["namespace"] = namespace
            session.resources["ledger"] = ledger.result()
        env = dict(session.env, KUBECONFIG=str(kubeconfig), GOLDENPATH_NAMESPACE=namespace)
        return session.with_env(env)

    def _kubeconfig_for(self, namespace: str) -> str:
        if self._base_config is None:
            config = yaml.safe_load(self.kubectl("config", "view", "--minify", "--flatten", "--raw"))
            if not config or not config.get("contexts"):
                raise SandboxError("the kubeconfig has no usable context; set --context")
            self._base_config = config
        config = json.loads(json.dumps(self._base_config))  # a deep copy per run
        for context in config["contexts"]:
            context["context"]["namespace"] = namespace
        config["current-context"] = config["contexts"][0]["name"]
        return yaml.safe_dump(config)

    def before_step(self, session: Session, guide: RenderedGuide, step: RenderedStep) -> None:
        """Before a cluster step, make sure the API server still answers.

        A cluster that went away during a run is the sandbox's fault, not the guide's: the step
        is then an ``error`` instead of a failure of its ``kubectl`` command.
        """
        if "cluster" in step.step.requires:
            self._ensure_reachable()

    def diagnose(self, session: Session) -> str | None:
        """After a cluster step failed: was it the cluster that went away?"""
        try:
            self._ensure_reachable()
        except SandboxError as exc:
            return str(exc)
        return None

    def failure_context(self, session: Session) -> str:
        """After a cluster step failed: what the run's pods say (a pull error, a failing probe)."""
        namespace = session.resources.get("namespace")
        if not isinstance(namespace, str):
            return ""
        try:
            return workloads.explain_pods(self.kubectl, namespace)
        except SandboxError:
            return ""  # the cluster went away: diagnose() says so

    def _ensure_reachable(self) -> None:
        address = self._server_address()
        if address is not None:
            try:
                socket.create_connection(address, timeout=2).close()
                return
            except OSError:
                pass  # maybe only reachable through a proxy: ask kubectl, which knows
        try:
            self.kubectl("get", "--raw", "/readyz", "--request-timeout=10s", timeout=20)
        except SandboxError as exc:
            raise SandboxError(f"the cluster stopped answering during the run: {exc}") from exc

    def _server_address(self) -> tuple[str, int] | None:
        """Host and port of the API server, for a cheap liveness probe (None: unknown)."""
        try:
            server = self._base_config["clusters"][0]["cluster"]["server"]  # type: ignore[index]
            url = urllib.parse.urlsplit(server)
            return (url.hostname or "", url.port or (443 if url.scheme == "https" else 80))
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    def teardown(self, session: Session) -> list[str]:
        """Delete the run's namespace the fast way and report what the run left cluster-wide.

        Where the time goes otherwise: the namespace controller waits a hard-coded 5 s before it
        looks at a deleted namespace, and then for each pod's termination grace period (30 s by
        default; a Python app as a container's PID 1 ignores SIGTERM, so it is always the whole
        wait). So the workloads and pods are force-deleted without grace (their API objects go at
        once; a real node's kubelet stops the containers in the background), the namespace is
        deleted without waiting, and the ledger is compared right away. The namespaces finish
        deleting on their own a few seconds later: :func:`wait_for_deleted_namespaces` at the end
        of a check run, or never waited for when the cluster goes.
        """
        namespace = session.resources.get("namespace")
        if not isinstance(namespace, str):
            return []
        before = session.resources.get("ledger")
        # the ledger leaves out what goes with the namespace, so it is listed while that goes
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            after = pool.submit(self._ledger, namespace) if isinstance(before, set) else None
            leaks = self._delete_namespace(session, namespace)
            if after is None or not isinstance(before, set):
                return leaks
            try:
                created = after.result() - before
            except SandboxError as exc:
                created = set()
                leaks.append(f"could not list cluster-scoped objects after the run: {exc}")
        leaks += [
            f"cluster-scoped {name} was created by the run and is still there" for name in sorted(created)
        ]
        return leaks

    def _delete_namespace(self, session: Session, namespace: str) -> list[str]:
        """Force-delete the namespace's workloads and pods, then the namespace, without waiting."""
        with contextlib.suppress(SandboxError):  # best effort: deleting the namespace removes the rest
            self.kubectl(
                "delete",
                _WORKLOADS,
                "--all",
                "--namespace",
                namespace,
                "--grace-period=0",
                "--force",
                "--wait=false",
                "--ignore-not-found",
                timeout=60,
            )
        try:
            self.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found")
        except SandboxError as exc:
            return [f"namespace {namespace} could not be deleted: {exc}"]
        return []

    # -- resource ledger -------------------------------------------------------------------

    def _ledger(self, namespace: str = "") -> set[str]:
        """Names of every listable cluster-scoped object, except goldenpath's own namespaces and
        what the cluster derives from ``namespace``'s objects (a Service's IPAddress), which
        goes with the namespace and is no leak."""
        if self._ledger_kinds is None:
            kinds = self.kubectl("api-resources", "--namespaced=false", "--verbs=list", "-o", "name")
            self._ledger_kinds = [
                k for k in kinds.split() if not any(k.startswith(ignored) for ignored in _LEDGER_IGNORE)
            ]
        if not self._ledger_kinds:
            return set()
        # one request per kind in a single kubectl; the run label marks goldenpath's namespaces
        listing = self.kubectl("get", ",".join(self._ledger_kinds), "-o", _LEDGER_TEMPLATE, timeout=90)
        names = set()
        for line in listing.splitlines():
            name, _, rest = line.partition("\t")
            run, _, parent = rest.partition("\t")
            if (
                name
                and not (run and name.startswith("Namespace/"))
                and not (namespace and parent == namespace)
            ):
                names.add(name)
        return names


def wait_for_deleted_namespaces(kubectl: Kubectl, timeout: float = 60) -> list[str]:
    """Wait until goldenpath's namespaces that are being deleted are gone; those still there.

    Called once at the end of a check run on a cluster that stays up, instead of once per guide.
    """
    try:
        listing = json.loads(kubectl("get", "namespaces", "-l", LABEL_RUN, "-o", "json"))
    except (SandboxError, ValueError):
        return []
    deleting = [
        item["metadata"]["name"]
        for item in listing.get("items", [])
        if item["metadata"].get("deletionTimestamp")
    ]
    if not deleting:
        return []
    with contextlib.suppress(SandboxError):
        kubectl(
            "wait",
            "--for=delete",
            *(f"namespace/{name}" for name in deleting),
            f"--timeout={timeout:.0f}s",
            timeout=timeout + 30,
        )
        return []
    return deleting


_WORKLOADS = (
    "cronjobs,deployments,statefulsets,daemonsets,replicasets,replicationcontrollers,jobs,pods,services"
)
"""What runs pods, in the order to delete it (pods after their controllers, which would recreate
them), and Services, whose cluster IPs (cluster-scoped IPAddresses) go with them."""
_LEDGER_TEMPLATE = (
    "jsonpath={range .items[*]}{.kind}/{.metadata.name}\t{.metadata.labels.goldenpath\\.dev/run}"
    '\t{.spec.parentRef.namespace}{"\\n"}{end}'
)
