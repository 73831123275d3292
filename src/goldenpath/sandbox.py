"""Sandboxes: where a guide runs. The local sandbox is the embedded default.

A :class:`Sandbox` opens one :class:`Session` per guide run: a fresh workspace, a scrubbed
environment and the requirements it can meet. The runner only talks to this interface, so the
Kubernetes sandboxes (which add a namespace and ``KUBECONFIG`` to the environment and support
``cluster``) plug in by subclassing :class:`Sandbox` and registering a factory in
:data:`SANDBOXES`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.config import Settings
from goldenpath.errors import Problem, SandboxError, UserError
from goldenpath.render import RenderedGuide, RenderedStep

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

CLUSTER_HINT = "needs a cluster; run with --sandbox kwok or --sandbox kubernetes"


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

    def with_env(self, env: Mapping[str, str]) -> Session:
        """The same session with another environment (leaks and resources stay shared)."""
        return dataclasses.replace(self, env=dict(env))

    def supports(self, requirement: str) -> bool:
        return self.sandbox.supports(requirement)


class Sandbox:
    """Where guides run: a base class with the local behaviour.

    Subclasses set :attr:`name` and :attr:`requirements` and override :meth:`setup` /
    :meth:`teardown` (and :meth:`versions`, :meth:`check`) to add resources to each session.
    """

    name: str = ""
    requirements: frozenset[str] = frozenset()
    """Step requirements (``cluster``) this sandbox meets."""

    def __init__(self, allow_env: Iterable[str] = ()) -> None:
        self.allow_env = (*ENV_ALLOW, *allow_env)

    def supports(self, requirement: str) -> bool:
        return requirement in self.requirements

    def skip_reason(self, requirement: str) -> str:
        """Why a step with an unmet requirement is skipped here."""
        if requirement == "cluster":
            return CLUSTER_HINT
        return f"needs {requirement}, which the {self.name} sandbox does not provide"

    def versions(self) -> dict[str, str]:
        """Versions of what the guides run on, recorded with every result."""
        return {"os": f"{platform.system()} {platform.release()}", "bash": _bash_version()}

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
        try:
            workspace, home = root / "work", root / "home"
            try:
                for folder in (workspace, home):
                    folder.mkdir()
                scratch = _scratch_folder(root)
                env = self.base_env(run, root, home)
            except OSError as exc:
                raise SandboxError(f"the workspace {root} is not usable: {exc}") from exc
            env["GOLDENPATH_WORKSPACE"] = str(workspace)
            # setup records what it creates in session.resources as it goes, so teardown can
            # remove it even when setup fails half way
            session = Session(workspace, home, scratch, env, self)
            try:
                session = self.setup(session)
                yield session
            finally:
                session.leaks.extend(self.teardown(session))
        finally:
            leaks = _remove_tree(root)
            if scratch.exists():
                leaks += _remove_tree(scratch)
            if session is not None:
                session.leaks.extend(leaks)

    def check(self) -> None:
        """Raise :class:`SandboxError` when the sandbox cannot run anything."""
        if shutil.which("bash") is None:
            raise SandboxError("bash is not installed; the sandbox runs every step with bash")


class LocalSandbox(Sandbox):
    """A temporary folder on this machine: fresh workspace, ``HOME`` inside it, scrubbed env."""

    name = "local"


SCRATCH_TMPFS = Path("/dev/shm")


def _scratch_folder(root: Path) -> Path:
    """The runner's private folder: on tmpfs when there is one (each step creates and reads a few
    small files there, which costs milliseconds on a busy disk), else inside the run's folder."""
    if SCRATCH_TMPFS.is_dir() and os.access(SCRATCH_TMPFS, os.W_OK | os.X_OK):
        try:
            return Path(tempfile.mkdtemp(prefix="goldenpath-scratch-", dir=SCRATCH_TMPFS))
        except OSError:
            pass
    scratch = root / "scratch"
    scratch.mkdir()
    return scratch


def _bash_version() -> str:
    try:
        out = subprocess.run(
            ["bash", "-c", "echo $BASH_VERSION"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _remove_tree(root: Path) -> list[str]:
    """Remove a workspace, including read-only folders some tools create (Go's module cache)."""

    def make_writable(func: Callable[..., object], path: str, _exc: object) -> None:
        try:
            parent = os.path.dirname(path)
            os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
            func(path)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(root, onexc=make_writable)
    else:
        shutil.rmtree(root, onerror=make_writable)
    return [f"files in {root} that could not be removed"] if root.exists() else []


def _kubernetes(settings: Settings) -> Sandbox:
    from goldenpath.kubernetes import KubernetesSandbox  # imports this module

    return KubernetesSandbox(settings.kubeconfig, settings.context)


def _kwok(settings: Settings) -> Sandbox:
    from goldenpath.kwok import kwok_factory  # imports this module

    return kwok_factory(settings)


SANDBOXES: dict[str, Callable[[Settings], Sandbox]] = {
    "local": lambda settings: LocalSandbox(),
    "kubernetes": _kubernetes,
    "kwok": _kwok,
}
"""Sandbox name -> factory."""


def provisioned(
    name: str, settings: Settings, keep: bool = False
) -> contextlib.AbstractContextManager[object]:
    """What a sandbox needs for a whole check run: the kwok sandbox's local cluster.

    Entered once per run (by the CLI, or by the main pytest process before xdist workers start,
    which inherit the cluster through the environment); torn down at the end unless ``keep``.
    """
    if name == "kwok":
        from goldenpath.kwok import running_cluster  # imports this module

        return running_cluster(settings, keep=keep)
    return contextlib.nullcontext()


def get_sandbox(name: str, settings: Settings) -> Sandbox:
    """The sandbox called ``name``, checked to be usable (else :class:`SandboxError`, exit 3)."""
    factory = SANDBOXES.get(name)
    if factory is None:
        known = ", ".join(sorted(SANDBOXES))
        raise UserError(
            [Problem("--sandbox", None, "", f"unknown sandbox '{name}'", f"choose one of: {known}")]
        )
    sandbox = factory(settings)
    sandbox.check()
    return sandbox
