"""Command functions shared by the CLI, the scheduler and the plugins."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from goldenpath import config, params, render, spec
from goldenpath.errors import EXIT_BROKEN, EXIT_INFRA, EXIT_OK, SandboxError, UserError
from goldenpath.interrupts import sigterm_as_interrupt


def lint(golden_paths: Path | None = None, strict: bool = False) -> int:
    """Validate every spec, template and rendered manifest, then apply the lint rules.

    Prints every problem and finding with ``file:line``; returns 2 on an error (or, with
    ``strict``, a warning), else 0. See :mod:`goldenpath.rules`.
    """
    from goldenpath import rules

    settings = config.load_settings(golden_paths=golden_paths)
    guides, problems = spec.collect_guides(settings.golden_paths_dir)
    for guide in guides:
        try:
            render.render_guide(guide, kubernetes_version=settings.kubernetes_version)
        except UserError as exc:
            problems.extend(exc.problems)
    return rules.report(settings, guides, problems, strict=strict)


def new(template: str, dest: Path, assignments: Sequence[str], golden_paths: Path | None = None) -> int:
    """Scaffold the files of one golden path into ``dest`` with parameter values."""
    settings = config.load_settings(golden_paths=golden_paths)
    (guide,) = spec.load_guides(settings.golden_paths_dir, only=[template])
    values = params.parse_assignments(assignments, guide)
    for path in render.scaffold(guide, dest, values):
        print(path)
    return 0


def schema(output: Path | None = None) -> int:
    """Print or write the JSON Schema of the spec format."""
    from goldenpath.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0


def check(
    names: Sequence[str] = (),
    sandbox_name: str | None = None,
    golden_paths: Path | None = None,
    junit: Path | None = None,
    console: Any = None,
    jobs: int = 1,
    keep: bool = False,
    history: bool = True,
) -> int:
    """Run guides end to end in a sandbox with a live display; return the exit code.

    With ``jobs`` above 1, guides run in parallel threads (each in its own sandbox session).
    ``keep`` leaves the kwok sandbox's cluster running afterwards, for debugging. Each guide's
    result is recorded in the run history as it finishes (unless ``history`` is False); a
    history that cannot be written counts as a sandbox error.

    0 every guide passed, 1 a guide is broken, 3 a sandbox error (and none broken). Bad specs,
    parameters or a missing secret raise :class:`UserError` (exit 2) before anything runs.
    """
    from rich.console import Console

    from goldenpath import history as history_mod
    from goldenpath import results as results_mod
    from goldenpath import runner, sandbox

    settings = config.load_settings(golden_paths=golden_paths, sandbox=sandbox_name)
    guides = spec.load_guides(settings.golden_paths_dir, only=names)
    rendered, problems = [], []
    for guide in guides:
        try:
            rendered.append(runner.prepare(guide, settings.kubernetes_version))
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    console = console or Console(highlight=False)
    display = _CheckDisplay(console, len(rendered), parallel=jobs > 1)
    record = history_mod.Recorder(history_mod.History(settings.history_path) if history else None)
    done: list[results_mod.GuideResult] = []
    unavailable: SandboxError | None = None
    try:
        with sigterm_as_interrupt(), sandbox.provisioned(settings.sandbox, settings, keep):
            box = sandbox.get_sandbox(settings.sandbox, settings)
            with display:
                if jobs > 1:
                    done.extend(_run_parallel(rendered, box, display, jobs, record))
                else:
                    for item in rendered:
                        done.append(runner.run_guide(item, box, on_event=display.event))
                        record(done[-1])
    except SandboxError as exc:
        if done:
            raise  # the guides ran; the sandbox broke afterwards (e.g. stopping the cluster)
        # Nothing could run: record it, so pages say the last attempt hit a sandbox error.
        unavailable = exc
        for item in rendered:
            done.append(runner.unavailable(item, settings.sandbox, exc))
            record(done[-1])
    finally:
        if junit is not None:
            results_mod.write_junit(done, {g.id: g for g in guides}, junit, settings.site_url)
    if unavailable is not None:
        print(f"error: {unavailable}", file=sys.stderr)
        for error in record.errors:
            print(f"error: {error}", file=sys.stderr)
        return EXIT_INFRA
    by_id = {g.id: g for g in guides}
    display.summary(done)
    for result in done:
        if result.outcome != "passed":
            console.print()
            console.print(
                results_mod.describe_failure(result, by_id[result.guide_id], settings.site_url), markup=False
            )
    for error in record.errors:
        console.print(f"error: {error}", markup=False, style="red")
    if any(r.broken for r in done):
        return EXIT_BROKEN
    if any(r.outcome == "error" for r in done) or record.errors:
        return EXIT_INFRA
    return EXIT_OK


def _run_parallel(
    rendered: Sequence[Any], box: Any, display: _CheckDisplay, jobs: int, on_result: Any = None
) -> list[Any]:
    """Run guides in ``jobs`` threads; on Ctrl-C cancel them all, let cleanup finish, re-raise."""
    from concurrent.futures import ThreadPoolExecutor, wait

    from goldenpath import runner

    cancel = threading.Event()
    lock = threading.Lock()

    def on_event(event: Any) -> None:
        with lock:
            display.event(event)
        if on_result is not None and event.kind == "guide-finished":
            on_result(event.guide_result)

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="goldenpath")
    futures = [
        pool.submit(runner.run_guide, item, box, on_event=on_event, cancel=cancel) for item in rendered
    ]
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


_SYMBOLS = {
    "passed": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "timeout": "[red]⏱[/]",
    "error": "[yellow]![/]",
    "skipped": "[dim]○[/]",
}
_WORDS = {
    "passed": "[green]passed[/]",
    "failed": "[red]FAILED[/]",
    "timeout": "[red]TIMED OUT[/]",
    "error": "[yellow]ERROR (sandbox)[/]",
}


class _CheckDisplay:
    """Live progress of ``goldenpath check``: each guide and its steps as they run.

    Finished steps are printed as lines (on a terminal above a live line showing the running
    step and its elapsed time), so CI logs and terminals show the same record.
    """

    def __init__(self, console: Any, total: int, parallel: bool = False) -> None:
        self.console = console
        self.total = total
        self.parallel = parallel
        self.index = 0
        self.current = ""
        self.started = 0.0
        self.live: Any = None

    def __enter__(self) -> _CheckDisplay:
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(
                console=self.console, refresh_per_second=8, transient=True, get_renderable=self._render
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _render(self) -> Any:
        from rich.spinner import Spinner

        if not self.current:
            return ""
        elapsed = time.monotonic() - self.started
        return Spinner("dots", text=f"{self.current} [dim]{elapsed:.0f}s[/]", style="cyan")

    def event(self, event: Any) -> None:
        from rich.markup import escape

        if event.kind == "guide-started":
            self.index += 1
            self.console.print(f"[bold]{escape(event.guide_id)}[/] [dim]({self.index}/{self.total})[/]")
        elif event.kind == "step-started":
            self.current = escape(_step_name(event))
            self.started = time.monotonic()
        elif event.kind == "step-finished":
            result = event.result
            self.current = ""
            prefix = f"[dim]{escape(event.guide_id)}[/] " if self.parallel else ""
            line = (
                f"  {prefix}{_SYMBOLS[result.outcome]} {escape(_step_name(event))} "
                f"[dim]{result.duration:.1f}s[/]"
            )
            if result.outcome != "passed" and result.message:
                line += f" [dim]— {escape(result.message)}[/]"
            self.console.print(line, soft_wrap=True)
        elif event.kind == "guide-finished":
            result = event.guide_result
            prefix = f"{escape(event.guide_id)} " if self.parallel else ""
            self.console.print(f"  {prefix}{_WORDS[result.outcome]} [dim]in {result.duration:.1f}s[/]")
            for leak in result.leaks:
                self.console.print(f"  [yellow]left behind:[/] {escape(leak)}", soft_wrap=True)

    def summary(self, done: Sequence[Any]) -> None:
        from rich.table import Table

        table = Table(title="goldenpath check", title_justify="left")
        for column in ("Guide", "Result", "Passed", "Skipped", "Time"):
            table.add_column(column)
        for result in done:
            ran = [s for s in result.steps if s.section != "prerequisites"]
            table.add_row(
                result.guide_id,
                _WORDS[result.outcome],
                str(sum(s.outcome == "passed" for s in ran)),
                str(sum(s.outcome == "skipped" for s in ran)),
                f"{result.duration:.1f}s",
            )
        self.console.print(table)
        counts = {k: sum(r.outcome == k for r in done) for k in _WORDS}
        self.console.print(", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no guides")


def _step_name(event: Any) -> str:
    if event.section == "prerequisites":
        return f"prerequisite: {event.title}"
    if event.section == "cleanup":
        return f"cleanup: {event.title}"
    if event.number is None:
        return f"(hidden) {event.title}"
    return f"{event.number}. {event.title}"


def sandbox_command(action: str, sandbox_name: str) -> int:
    """``goldenpath sandbox up|down|status``: the shared kwok cluster, outside a check."""
    from goldenpath import kwok

    if sandbox_name != "kwok":
        raise UserError(
            f"'goldenpath sandbox {action}' manages the kwok sandbox; "
            "the local sandbox needs nothing and a kubernetes cluster is yours"
        )
    settings = config.load_settings()
    kwokctl = kwok.KwokCtl(settings)
    if action == "up":
        cluster = kwokctl.get(kwok.SHARED_NAME) or kwokctl.create(kwok.SHARED_NAME)
        print(f"cluster {cluster.name} is up; checks with --sandbox kwok use it")
        print(f"export KUBECONFIG={cluster.kubeconfig}")
    elif action == "down":
        kwokctl.delete(kwok.SHARED_NAME)
        print(f"cluster {kwok.SHARED_NAME} is down")
    else:
        clusters = kwokctl.status()
        if not clusters:
            print("no kwok cluster")
        for name, ready in clusters:
            print(f"{name}: {'running' if ready else 'not answering'}")
    return 0


def status(
    fmt: str = "table",
    fail_on: Sequence[str] = (),
    only: Sequence[str] = (),
    golden_paths: Path | None = None,
) -> int:
    """``goldenpath status``: every guide's status; 1 when any is in a ``fail_on`` state."""
    from goldenpath import status as status_mod

    settings = config.load_settings(golden_paths=golden_paths)
    reports = status_mod.collect(settings)
    shown = [r for r in reports if r.state in only] if only else reports
    status_mod.print_report(shown, fmt, sys.stdout, settings.site_url)
    return status_mod.exit_code(reports, fail_on)


def build(strict: bool = True, site_dir: Path | None = None, config_file: Path | None = None) -> int:
    """``goldenpath build``: the site with every guide's status, strict by default."""
    from goldenpath import site

    built = site.build(config_file, strict=strict, site_dir=site_dir)
    print(f"site built in {built}")
    return 0


def serve(dev_addr: str | None = None, config_file: Path | None = None) -> int:
    """``goldenpath serve``: the site with live reload, until Ctrl-C."""
    from goldenpath import site

    site.serve(config_file, dev_addr=dev_addr)
    return 0


def schedule(
    once: bool = False,
    daily_at: str | None = None,
    full_every_days: int | None = None,
    sandbox_name: str | None = None,
    golden_paths: Path | None = None,
) -> int:
    """``goldenpath schedule``: checks on a cadence (or one full run with ``once``)."""
    from goldenpath import scheduler

    return scheduler.run_schedule(
        once=once,
        daily_at=daily_at,
        full_every_days=full_every_days,
        sandbox=sandbox_name,
        golden_paths=golden_paths,
    )
