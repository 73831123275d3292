"""The one check path: load, plan, provision the sandbox, run, record, report.

``goldenpath check``, ``goldenpath schedule`` and the pytest plugin all check guides through this
module, so a guide is rendered, run, recorded and classified the same way wherever it runs.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from goldenpath.config import Settings
from goldenpath.errors import EXIT_BROKEN, EXIT_INFRA, EXIT_OK, Problem, SandboxError, UserError
from goldenpath.render.renderer import RenderedGuide
from goldenpath.run import runner
from goldenpath.run.events import Event, EventHook
from goldenpath.run.results import GuideResult, Interrupted
from goldenpath.sandbox import get_sandbox, provisioned
from goldenpath.sandbox.base import Sandbox
from goldenpath.spec import loader
from goldenpath.spec.model import Guide
from goldenpath.status.history import History, Recorder


def plan(settings: Settings, names: Sequence[str] = ()) -> tuple[list[Guide], list[RenderedGuide]]:
    """The guides to check, rendered with run values (free ports, secrets from the environment).

    Every guide is loaded and validated (links span guides); a bad spec, a bad parameter or a
    missing secret of any of them raises one :class:`UserError` with every problem, before
    anything runs.
    """
    guides = loader.load_guides(settings.golden_paths_dir, only=names)
    rendered, problems = [], []
    for guide in guides:
        try:
            rendered.append(runner.prepare(guide, settings.kubernetes_version))
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    return guides, rendered


class CheckRun:
    """The sandbox of one check run and the history its results go to.

    The sandbox is provisioned once, when the first guide needs it (for the kwok sandbox: a local
    cluster, torn down on :meth:`close` unless ``keep``). A sandbox that cannot start is
    remembered: every guide of the run is then recorded as a sandbox error, so pages say that the
    last attempt failed while each guide keeps its previous status.
    """

    def __init__(self, settings: Settings, *, keep: bool = False, history: bool = True) -> None:
        self.settings = settings
        self.keep = keep
        self.recorder = Recorder(History.of(settings) if history else None)
        self.results: list[GuideResult] = []
        self.unavailable: SandboxError | None = None
        """Why the sandbox could not start, if it could not."""
        self._stack = contextlib.ExitStack()
        self._provisioned = False
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> CheckRun:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def provision(self) -> None:
        """Start what the sandbox needs for the whole run, once (before pytest-xdist workers start)."""
        if self._provisioned:
            return
        self._provisioned = True
        try:
            self._stack.enter_context(provisioned(self.settings.sandbox, self.settings, self.keep))
        except SandboxError as exc:
            self.unavailable = exc

    def sandbox(self) -> Sandbox | None:
        """The run's sandbox, checked to be usable; None when it is unavailable."""
        self.provision()
        if self._sandbox is None and self.unavailable is None:
            try:
                self._sandbox = get_sandbox(self.settings.sandbox, self.settings)
            except SandboxError as exc:
                self.unavailable = exc
        return self._sandbox

    def run(
        self,
        rendered: RenderedGuide,
        on_event: EventHook | None = None,
        cancel: threading.Event | None = None,
        accept: bool = False,
    ) -> GuideResult:
        """Run one guide (or record that the sandbox is unavailable) and record its result.

        ``accept`` runs it for accept mode (see :func:`goldenpath.run.runner.run_guide`), which
        is not recorded: it decides nothing about the guide.
        """
        sandbox = self.sandbox()
        if sandbox is None:
            assert self.unavailable is not None
            result = runner.unavailable(rendered, self.settings.sandbox, self.unavailable)
        else:
            try:
                result = runner.run_guide(rendered, sandbox, on_event=on_event, cancel=cancel, accept=accept)
            except Interrupted as stopped:
                # Reported (JUnit shows it as an error), not recorded: it decides nothing.
                with self._lock:
                    self.results.append(stopped.result)
                raise
        with self._lock:
            self.results.append(result)
            if not accept:
                self.recorder(result)
        return result

    def run_all(
        self, rendered: Sequence[RenderedGuide], on_event: EventHook | None = None, jobs: int = 1
    ) -> list[GuideResult]:
        """Run guides in order, or in ``jobs`` threads; on Ctrl-C every guide still cleans up."""
        if self.sandbox() is None or jobs <= 1:
            return [self.run(item, on_event) for item in rendered]
        from concurrent.futures import ThreadPoolExecutor, wait  # with logging: for --jobs only

        cancel = threading.Event()
        lock = threading.Lock()

        def locked(event: Event) -> None:
            if on_event is not None:
                with lock:
                    on_event(event)

        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="goldenpath")
        futures = [pool.submit(self.run, item, locked, cancel) for item in rendered]
        try:
            wait(futures)
        except KeyboardInterrupt:
            cancel.set()
            for future in futures:
                future.cancel()
            while True:
                try:
                    wait(futures)
                    break
                except KeyboardInterrupt:  # cleanup is bounded by its steps' timeouts; let it end
                    continue
            raise
        finally:
            pool.shutdown(wait=True)
        return [future.result() for future in futures]

    def close(self) -> None:
        """Tear down what :meth:`provision` started; raises :class:`SandboxError` if that fails."""
        self._stack.close()

    @property
    def errors(self) -> list[str]:
        """Results that could not be recorded in the history."""
        return self.recorder.errors


def preflight(settings: Settings, junit: Path | None, history: bool) -> None:
    """Before any guide runs: the report and the history can be written (else exit 2 or 3)."""
    if junit is not None:
        folder = junit.parent if junit.parent != Path("") else Path(".")
        problem = _unwritable(junit, folder)
        if problem:
            raise UserError(
                [Problem("--junit", None, "", f"cannot write {junit}: {problem}", "choose a writable path")]
            )
    if history:
        path = settings.history_path
        problem = _unwritable(path, _existing_parent(path.parent))
        if problem:
            raise SandboxError(
                f"cannot write the run history {path}: {problem} (fix it, or pass --no-history)"
            )


def _existing_parent(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _unwritable(path: Path, folder: Path) -> str:
    """Why ``path`` cannot be written, or "" when it can (``folder`` is its nearest existing parent)."""
    if path.is_dir():
        return "it is a folder"
    if path.exists():
        return "" if os.access(path, os.W_OK) else "permission denied"
    folder = _existing_parent(folder)
    if not folder.is_dir():
        return f"{folder} is not a folder"
    return "" if os.access(folder, os.W_OK | os.X_OK) else f"{folder} is not writable"


def exit_code(results: Sequence[GuideResult], record_errors: Sequence[str] = ()) -> int:
    """0 every guide passed, 1 a guide is broken, 3 a sandbox error (and none broken)."""
    if any(r.broken for r in results):
        return EXIT_BROKEN
    if any(r.outcome == "error" for r in results) or record_errors:
        return EXIT_INFRA
    return EXIT_OK
