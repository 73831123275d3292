"""``goldenpath check``: the check path with a live display, a summary and failure reports.

What only some runs use (``--affected``, ``--shard``, ``--junit``, GitHub annotations) loads
when it is used: a plain check starts with the check path alone.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from goldenpath import config
from goldenpath.check import CheckRun, exit_code, plan, preflight
from goldenpath.cli.display import CheckDisplay
from goldenpath.errors import EXIT_INFRA, EXIT_OK
from goldenpath.interrupts import sigterm_as_interrupt
from goldenpath.run.results import describe_failure
from goldenpath.sandbox import collect_leftovers

if TYPE_CHECKING:
    from rich.console import Console


def check(
    names: Sequence[str] = (),
    sandbox_name: str | None = None,
    golden_paths: Path | None = None,
    junit: Path | None = None,
    console: Console | None = None,
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
    settings = config.load_settings(golden_paths=golden_paths, sandbox=sandbox_name)
    guides, rendered = plan(settings, names)
    preflight(settings, junit, history)
    for line in collect_leftovers(settings):  # of runs that were killed: said, then gone
        print(f"goldenpath: {line}", file=sys.stderr, flush=True)
    if console is None:
        from rich.console import Console  # see cli.display: rich loads with the display

        console = Console(highlight=False)
    display = CheckDisplay(console, len(rendered), parallel=jobs > 1)
    check_run = CheckRun(settings, keep=keep, history=history)
    try:
        with sigterm_as_interrupt(), check_run, display:
            check_run.run_all(rendered, display.event, jobs)
    finally:
        if junit is not None:
            from goldenpath.run.junit import write_junit  # for --junit only

            write_junit(
                check_run.results, {g.id: g for g in guides}, junit, settings.site_url, root=settings.root
            )
    if check_run.unavailable is not None:
        # Nothing could run; every guide was recorded as a sandbox error.
        print(f"error: {check_run.unavailable}", file=sys.stderr)
        for error in check_run.errors:
            print(f"error: {error}", file=sys.stderr)
        return EXIT_INFRA
    by_id = {g.id: g for g in guides}
    display.summary(check_run.results)
    for result in check_run.results:
        if result.outcome != "passed":
            console.print()
            # soft_wrap: a spec:line location is never broken across lines, so it can be copied.
            report = describe_failure(result, by_id[result.guide_id], settings.site_url, settings.root)
            console.print(report, markup=False, soft_wrap=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from goldenpath.run.junit import github_annotations  # on GitHub Actions only

        for line in github_annotations(check_run.results, by_id, settings.root):
            print(line, flush=True)
    for error in check_run.errors:
        console.print(f"error: {error}", markup=False, style="red")
    return exit_code(check_run.results, check_run.errors)


def check_command(
    names: Sequence[str],
    sandbox_name: str | None,
    golden_paths: Path | None,
    junit: Path | None,
    jobs: int,
    keep: bool,
    affected: bool,
    base: str | None,
    history: bool,
    accept: bool = False,
    dry_run: bool = False,
    shard: tuple[int, int] | None = None,
) -> int:
    """``goldenpath check``: every guide or the named ones, or those a change since ``base`` affects.

    With ``shard`` (K, N), only shard K of N of those (:mod:`goldenpath.status.shards`). With
    ``accept``, accept mode (:mod:`goldenpath.cli.accept`) instead of a plain check.
    """
    if affected and base is not None:
        from goldenpath.review.affected import guides_to_check  # git and the change's review: --affected only

        names = guides_to_check(base, golden_paths, names)
        if not names:
            print(f"no guides affected by the changes since {base}: nothing to check")
            return EXIT_OK
    if shard is not None:
        names = _shard(names, golden_paths, shard)
        if not names:
            if junit is not None:  # a matrix job uploads its report whether or not it ran a guide
                settings = config.load_settings(golden_paths=golden_paths, sandbox=sandbox_name)
                preflight(settings, junit, history=False)
                from goldenpath.run.junit import write_junit  # as in check()

                write_junit([], {}, junit, settings.site_url, root=settings.root)
            return EXIT_OK
    if accept:
        from goldenpath.cli.accept import accept as run_accept  # imports this module: not at the top

        return run_accept(names, sandbox_name, golden_paths, keep=keep, dry_run=dry_run, recheck=check)
    return check(names, sandbox_name, golden_paths, junit, jobs=jobs, keep=keep, history=history)


def _shard(names: Sequence[str], golden_paths: Path | None, shard: tuple[int, int]) -> list[str]:
    """The guides of this shard of the selected ones (every guide when none is named), said."""
    # The split reads the run history: --shard only.
    from goldenpath.spec import loader
    from goldenpath.status.history import History
    from goldenpath.status.shards import describe, recorded_seconds, shard_of

    settings = config.load_settings(golden_paths=golden_paths)
    selected = [g.id for g in loader.load_guides(settings.golden_paths_dir, only=names)]
    chosen = shard_of(selected, recorded_seconds(History(settings.history_path)), shard)
    print(describe(shard, chosen, len(selected)), flush=True)
    return chosen
