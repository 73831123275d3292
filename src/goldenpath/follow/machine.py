"""The reader's own machine as the place a guide runs: their working directory, their environment,
their cluster. Unlike a sandbox it makes nothing fresh and removes nothing it did not start."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from goldenpath.sandbox.base import GuideRun, Sandbox, Session, StepCoverage

GET_A_CLUSTER = (
    "get access to a cluster from your platform team (the guide's prerequisites say how), or start "
    "a local one: 'goldenpath sandbox up --sandbox real-node' prints the export lines to paste"
)
GET_A_BUILDER = (
    "install Docker or Podman's 'docker' command, or use the local sandbox's: "
    "'goldenpath sandbox up --sandbox real-node' prints the export lines to paste"
)


class ReaderMachine(Sandbox):
    """Steps run in ``workdir`` with ``env`` (default: this process's environment, in full).

    A step that needs a cluster runs only when kubectl has a current context; one that builds
    images only when a ``docker`` command is on the PATH. Otherwise it is refused, with the
    way to get what is missing."""

    name = "your machine"

    def __init__(self, workdir: Path, env: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.workdir = workdir
        self.env = dict(os.environ if env is None else env)
        self.keep_scratch = False
        """Set when background processes outlive the run: their logs are in the scratch folder."""
        self._context: str | None = None

    def coverage(self, requires: Iterable[str]) -> tuple[StepCoverage, str]:
        for requirement in requires:
            missing = self.missing(requirement)
            if missing:
                return "skipped", missing
        return "real", ""

    def missing(self, requirement: str) -> str:
        """Why a step with this requirement cannot run here and how to fix that, or ""."""
        if requirement == "cluster":
            if self.context():
                return ""
            return f"this step needs a Kubernetes cluster, and none is configured ({self._why_no_cluster()})"
        if requirement == "images":
            if shutil.which("docker", path=self.env.get("PATH")):
                return ""
            return "this step builds or pushes a container image, and no 'docker' command is on your PATH"
        return f"this step needs {requirement}, which goldenpath cannot find on your machine"

    def fix(self, requirement: str) -> str:
        return GET_A_CLUSTER if requirement == "cluster" else GET_A_BUILDER

    def context(self) -> str:
        """kubectl's current context, or "" when there is none (or no kubectl)."""
        if self._context is None:
            kubectl = shutil.which("kubectl", path=self.env.get("PATH"))
            self._context = ""
            if kubectl is not None:
                with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    done = subprocess.run(
                        [kubectl, "config", "current-context"],
                        env=self.env,
                        capture_output=True,
                        text=True,
                        timeout=20,
                    )
                    self._context = done.stdout.strip() if done.returncode == 0 else ""
        return self._context

    def _why_no_cluster(self) -> str:
        if shutil.which("kubectl", path=self.env.get("PATH")) is None:
            return "kubectl is not installed"
        return "kubectl has no current context"

    def versions(self) -> dict[str, str]:
        return {}

    @contextlib.contextmanager
    def open(self, run: GuideRun) -> Iterator[Session]:
        """A session in the reader's folder; only the runner's scratch folder is made (and removed
        unless :attr:`keep_scratch`)."""
        scratch = Path(tempfile.mkdtemp(prefix=f"goldenpath-follow-{run.guide_id}-"))
        env = {**self.env, **run.env, "GOLDENPATH_RUN_ID": run.run_id, "GOLDENPATH_GUIDE": run.guide_id}
        home = Path(env.get("HOME") or Path.home())
        try:
            yield Session(self.workdir, home, scratch, env, self)
        finally:
            if not self.keep_scratch:
                shutil.rmtree(scratch, ignore_errors=True)
