"""The sandbox interface: a :class:`Sandbox` opens one :class:`Session` per guide run.

A session is a fresh workspace, a scrubbed environment and the requirements the sandbox can meet.
The runner only talks to this interface; the Kubernetes sandboxes add a namespace and
``KUBECONFIG`` to the environment and support ``cluster``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from goldenpath.errors import SandboxError
from goldenpath.sandbox.containment import RunGroup
from goldenpath.sandbox.records import RunRecord
from goldenpath.sandbox.workspace import bash_version, remove_tree, scratch_folder

if TYPE_CHECKING:  # annotations: the run history reads results (and their coverage) without Jinja2
    from goldenpath.render.renderer import RenderedGuide, RenderedStep

ENV_ALLOW: tuple[str, ...] = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "USER",
    "LOGNAME",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
"""Variables passed from the caller's environment into a sandbox; ``LC_*`` pass too."""

StepCoverage = Literal["real", "simulated", "skipped"]
"""How a step ran: for real; against something simulated (a fake node, a stand-in); or not at all."""

SKIP_HINTS: Mapping[str, tuple[str, str]] = {
    "cluster": ("needs a cluster", "real-node, kwok or kubernetes"),
    "images": ("builds or pushes a container image", "real-node or kubernetes"),
}
"""Per requirement: what a step that has it does, and the sandboxes that provide it."""


@dataclass(frozen=True)
class GuideRun:
    """What a sandbox needs to know about the run it opens a session for."""

    guide_id: str
    run_id: str
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra variables for the session (e.g. the secrets the reader has exported)."""


@dataclass(frozen=True)
class Session:
    """An open sandbox for one guide run."""

    workspace: Path
    """Where the steps start; the reader's working directory."""
    home: Path
    scratch: Path
    """Private to the runner (step scripts, logs); not visible to the steps' working directory."""
    env: Mapping[str, str]
    """The complete environment the steps run with."""
    sandbox: Sandbox
    leaks: list[str] = field(default_factory=list)
    """What the run left behind; filled in while the session closes."""
    resources: dict[str, Any] = field(default_factory=dict)
    """What :meth:`Sandbox.setup` created (a namespace, a ledger), for :meth:`Sandbox.teardown`."""
    group: RunGroup = field(default_factory=lambda: RunGroup(None))
    """The run's cgroup: every process the run starts joins it (see :mod:`.containment`)."""
    record: RunRecord | None = None
    """The run's record on disk, for whoever cleans up should this process be killed."""

    def with_env(self, env: Mapping[str, str]) -> Session:
        """The same session with another environment (leaks and resources stay shared)."""
        return dataclasses.replace(self, env=dict(env))

    def contained(self, argv: Sequence[str]) -> list[str]:
        """``argv`` made to join the run's cgroup before it starts (see :mod:`.containment`)."""
        return self.group.wrap(argv)

    def owns(self, **things: str) -> None:
        """Record what the session is about to make (a namespace, a podman store), before making it."""
        if self.record is not None:
            self.record.note(**things)


class Sandbox:
    """Where guides run: a base class with the local behaviour.

    Subclasses set :attr:`name` and :attr:`provides` and override :meth:`setup` /
    :meth:`teardown` (and :meth:`versions`, :meth:`check`) to add resources to each session.
    """

    name: str = ""
    provides: Mapping[str, StepCoverage] = {}
    """The step requirements (``cluster``, ``images``) this sandbox meets, and how: for ``real``,
    or ``simulated`` (a fake node answers for the cluster). Steps needing anything else are
    skipped."""

    def __init__(self, allow_env: Iterable[str] = ()) -> None:
        self.allow_env = (*ENV_ALLOW, *allow_env)

    def coverage(self, requires: Iterable[str]) -> tuple[StepCoverage, str]:
        """How a step with these requirements runs here, and why it is skipped if it is."""
        how = {requirement: self.provides.get(requirement, "skipped") for requirement in requires}
        for requirement, coverage in how.items():
            if coverage == "skipped":
                what, where = SKIP_HINTS.get(requirement, (f"needs {requirement}", "another sandbox"))
                return (
                    "skipped",
                    f"{what}, which the {self.name} sandbox cannot do; run with --sandbox {where}",
                )
        return ("simulated" if "simulated" in how.values() else "real"), ""

    def versions(self) -> dict[str, str]:
        """Versions of what the guides run on, recorded with every result."""
        return {"os": f"{platform.system()} {platform.release()}", "bash": bash_version()}

    def base_env(self, run: GuideRun, root: Path, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in self.allow_env or k.startswith("LC_")}
        env.setdefault("PATH", os.defpath)
        tmp = root / "tmp"
        tmp.mkdir()
        env.update(
            HOME=str(home),
            TMPDIR=str(tmp),
            GOLDENPATH_RUN_ID=run.run_id,
            GOLDENPATH_GUIDE=run.guide_id,
            GOLDENPATH_SANDBOX=self.name,
        )
        env.update(run.env)
        return env

    def setup(self, session: Session) -> Session:
        """Add resources to a fresh session (a namespace, a kubeconfig); return the session."""
        return session

    def before_step(self, session: Session, guide: RenderedGuide, step: RenderedStep) -> None:
        """Called before each step that runs; raise :class:`SandboxError` if it cannot run."""

    def diagnose(self, session: Session) -> str | None:
        """After a step that needs the sandbox failed: why the sandbox is broken, or None."""
        return None

    def failure_context(self, session: Session) -> str:
        """After a step that needs the sandbox failed: what the sandbox saw that explains it
        (a pod that cannot pull its image, a failing readiness probe), in one line, or ""."""
        return ""

    def teardown(self, session: Session) -> list[str]:
        """Remove what :meth:`setup` added; return descriptions of anything left behind."""
        return []

    @contextlib.contextmanager
    def open(self, run: GuideRun) -> Iterator[Session]:
        """A fresh session for one guide run, removed afterwards (also on errors and Ctrl-C)."""
        try:
            root = Path(tempfile.mkdtemp(prefix=f"goldenpath-{run.guide_id}-"))
        except OSError as exc:
            raise SandboxError(f"cannot create a workspace: {exc}") from exc
        session: Session | None = None
        scratch = root / "scratch"
        record = RunRecord(run.run_id, run.guide_id, str(root))
        group = RunGroup(None)
        try:
            workspace, home = root / "work", root / "home"
            try:
                record.save()
                for folder in (workspace, home):
                    folder.mkdir()
                scratch = scratch_folder(root)
                record.note(scratch=str(scratch))
                group = RunGroup.create(run.run_id)
                record.note(cgroup=str(group.path or ""))
                env = self.base_env(run, root, home)
            except OSError as exc:
                raise SandboxError(f"the workspace {root} is not usable: {exc}") from exc
            env["GOLDENPATH_WORKSPACE"] = str(workspace)
            # setup records what it creates in session.resources as it goes, so teardown can
            # remove it even when setup fails half way
            session = Session(workspace, home, scratch, env, self, group=group, record=record)
            try:
                session = self.setup(session)
                yield session
            finally:
                session.leaks.extend(self.teardown(session))
        finally:
            leaks = group.close()
            leaks += remove_tree(root)
            if scratch.exists():
                leaks += remove_tree(scratch)
            if session is not None:
                session.leaks.extend(leaks)
            record.discard()

    def check(self) -> None:
        """Raise :class:`SandboxError` when the sandbox cannot run anything."""
        if shutil.which("bash") is None:
            raise SandboxError("bash is not installed; the sandbox runs every step with bash")
