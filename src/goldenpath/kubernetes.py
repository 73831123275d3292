"""The ``kubernetes`` sandbox: any cluster by kubeconfig context, one namespace per guide run.

Each run gets a fresh namespace labelled with the guide and run ids, and a kubeconfig of its own
whose current context points at that namespace, so the guides' plain ``kubectl`` commands work
unchanged and two guides never see each other's objects. The namespace is deleted, and waited
for, when the run ends. Namespaces of runs that were killed are found by label at the next start.
Cluster-scoped objects that appear during a run are reported as leaks (a resource ledger).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

import yaml

from goldenpath.errors import SandboxError
from goldenpath.sandbox import Sandbox, Session

LABEL_GUIDE = "goldenpath.dev/guide"
LABEL_RUN = "goldenpath.dev/run"
ANNOTATION_OWNER = "goldenpath.dev/owner"
"""``host:pid`` of the process that created a namespace, to tell live runs from killed ones."""
ORPHAN_AGE = datetime.timedelta(hours=6)
"""Namespaces of another host are only collected when older than this."""

# Cluster-scoped kinds that churn on their own and say nothing about what a guide left behind.
_LEDGER_IGNORE = ("events", "leases", "tokenreviews", "selfsubject", "subjectaccessreviews",
                  "componentstatuses", "bindings", "localsubjectaccessreviews")


class KubectlError(SandboxError):
    """kubectl failed talking to the cluster."""


def namespace_name(guide_id: str, run_id: str) -> str:
    """A DNS-1123 label naming the guide and the run: ``gp-hello-world-3f9a1c2b``."""
    guide = re.sub(r"[^a-z0-9-]", "-", guide_id.lower())[:40].strip("-")
    return f"gp-{guide}-{run_id[:8].lower()}"


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
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  input=stdin, check=False,
                                  stdin=None if stdin is not None else subprocess.DEVNULL)
        except FileNotFoundError as exc:
            raise SandboxError("kubectl is not installed; install it to use a cluster sandbox") \
                from exc
        except subprocess.TimeoutExpired as exc:
            raise KubectlError(f"kubectl {' '.join(args)} timed out after {timeout:.0f}s: "
                               "the cluster is unreachable or overloaded") from exc
        if done.returncode != 0:
            raise KubectlError(_explain(done.stderr.strip() or done.stdout.strip(), args))
        return done.stdout


def _explain(stderr: str, args: Sequence[str]) -> str:
    first = stderr.splitlines()[-1] if stderr else "no output"
    lowered = stderr.lower()
    if "unauthorized" in lowered or "forbidden" in lowered:
        return f"the cluster refused the credentials: {first} (check the kubeconfig's user)"
    if any(sign in lowered for sign in ("refused", "no such host", "i/o timeout",
                                        "unable to connect", "no route to host")):
        return (f"the cluster is unreachable: {first} "
                "(is it running? check the kubeconfig and --context)")
    if "context" in lowered and "does not exist" in lowered:
        return f"{first} (check --context or [tool.goldenpath] context)"
    return f"kubectl {' '.join(args)} failed: {first}"


class KubernetesSandbox(Sandbox):
    """A namespace per guide run on an existing cluster."""

    name = "kubernetes"
    requirements = frozenset({"cluster"})

    def __init__(self, kubeconfig: str = "", context: str = "") -> None:
        super().__init__()
        kubeconfig = kubeconfig or os.environ.get("KUBECONFIG", "")
        self.kubectl = Kubectl(kubeconfig, context)
        self._server_version = ""
        self._ledger_kinds: list[str] | None = None

    def check(self) -> None:
        super().check()
        if shutil.which(self.kubectl.binary) is None:
            raise SandboxError("kubectl is not installed; install it to use a cluster sandbox")
        info = json.loads(self.kubectl("version", "-o", "json", "--request-timeout=15s",
                                       timeout=30))
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
                orphan = not _pid_alive(int(pid))
            else:
                orphan = now - created > ORPHAN_AGE
            if orphan:
                self.kubectl("delete", "namespace", meta["name"], "--wait=false",
                             "--ignore-not-found")
                removed.append(meta["name"])
        return removed

    def setup(self, session: Session) -> Session:
        run_id = session.env["GOLDENPATH_RUN_ID"]
        guide_id = session.env["GOLDENPATH_GUIDE"]
        namespace = namespace_name(guide_id, run_id)
        session.resources["namespace"] = namespace
        session.resources["ledger"] = self._ledger()
        manifest = {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": {LABEL_GUIDE: guide_id[:63], LABEL_RUN: run_id[:63]},
                "annotations": {ANNOTATION_OWNER: f"{socket.gethostname()}:{os.getpid()}"},
            },
        }
        self.kubectl("create", "-f", "-", stdin=json.dumps(manifest))
        kubeconfig = session.scratch / "kubeconfig"
        kubeconfig.write_text(self._kubeconfig_for(namespace), encoding="utf-8")
        kubeconfig.chmod(0o600)
        env = dict(session.env, KUBECONFIG=str(kubeconfig), GOLDENPATH_NAMESPACE=namespace)
        return session.with_env(env)

    def _kubeconfig_for(self, namespace: str) -> str:
        config = yaml.safe_load(self.kubectl("config", "view", "--minify", "--flatten", "--raw"))
        if not config or not config.get("contexts"):
            raise SandboxError("the kubeconfig has no usable context; set --context")
        for context in config["contexts"]:
            context["context"]["namespace"] = namespace
        config["current-context"] = config["contexts"][0]["name"]
        return yaml.safe_dump(config)

    def teardown(self, session: Session) -> list[str]:
        namespace = session.resources.get("namespace")
        if not isinstance(namespace, str):
            return []
        leaks = []
        before = session.resources.get("ledger")
        if isinstance(before, set):
            try:
                created = sorted(self._ledger() - before)
            except SandboxError as exc:
                created = []
                leaks.append(f"could not list cluster-scoped objects after the run: {exc}")
            leaks += [f"cluster-scoped {name} was created by the run and is still there"
                      for name in created]
        try:
            self.kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=180s",
                         "--ignore-not-found", timeout=200)
        except SandboxError as exc:
            leaks.append(f"namespace {namespace} could not be deleted: {exc}")
        return leaks

    # -- resource ledger -------------------------------------------------------------------

    def _ledger(self) -> set[str]:
        """Names of every listable cluster-scoped object, except goldenpath's own namespaces."""
        if self._ledger_kinds is None:
            kinds = self.kubectl("api-resources", "--namespaced=false", "--verbs=list", "-o", "name")
            self._ledger_kinds = [k for k in kinds.split()
                                  if not any(k.startswith(ignored) for ignored in _LEDGER_IGNORE)]
        if not self._ledger_kinds:
            return set()
        names = self.kubectl("get", ",".join(self._ledger_kinds), "-o", "name", timeout=90)
        ours = set(self.kubectl("get", "namespaces", "-l", LABEL_RUN, "-o", "name").split())
        return {n for n in names.split() if n not in ours}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
