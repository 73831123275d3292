"""``goldenpath check --accept``: write "you should see" blocks from a real run, then check again."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from goldenpath import config
from goldenpath.accept import Acceptance, accept_guide
from goldenpath.check import CheckRun, plan
from goldenpath.cli.display import CheckDisplay
from goldenpath.errors import EXIT_BROKEN, EXIT_INFRA, EXIT_OK
from goldenpath.interrupts import sigterm_as_interrupt
from goldenpath.run.results import describe_failure
from goldenpath.sandbox import collect_leftovers


def accept(
    names: Sequence[str] = (),
    sandbox_name: str | None = None,
    golden_paths: Path | None = None,
    keep: bool = False,
    dry_run: bool = False,
    console: Console | None = None,
    recheck: Callable[..., int] | None = None,
) -> int:
    """Run guides in accept mode, print the diff of their specs, write it (unless ``dry_run``)
    and check the changed guides again, recording that run.

    Exit codes as ``check``: with ``dry_run`` 0 unless a guide is broken beyond its expected
    output (1) or a run hit a sandbox error (3, and nothing of that guide is accepted); else
    the exit code of ``recheck`` (``goldenpath check``) on the accepted guides.
    """
    settings = config.load_settings(golden_paths=golden_paths, sandbox=sandbox_name)
    guides, rendered = plan(settings, names)
    for line in collect_leftovers(settings):
        print(f"goldenpath: {line}", file=sys.stderr, flush=True)
    console = console or Console(highlight=False)
    display = CheckDisplay(console, len(rendered))
    outcomes: list[Acceptance] = []
    check_run = CheckRun(settings, keep=keep)
    with sigterm_as_interrupt(), check_run, display:
        for item in rendered:
            outcomes.append(accept_guide(check_run, item, display.event))
    if check_run.unavailable is not None:
        print(f"error: {check_run.unavailable}", file=sys.stderr)
        return EXIT_INFRA
    by_id = {g.id: g for g in guides}
    for outcome in outcomes:
        guide_id = outcome.rendered.id
        if outcome.refused:
            console.print(f"{guide_id}: nothing accepted: {outcome.refused}", markup=False, soft_wrap=True)
            continue
        if outcome.changed:
            console.print(outcome.diff(), markup=False, soft_wrap=True, end="")
        for note in outcome.notes:
            console.print(f"{guide_id}: {note}", markup=False, soft_wrap=True)
        if outcome.result.broken:
            report = describe_failure(outcome.result, by_id[guide_id], settings.site_url, settings.root)
            console.print(report, markup=False, soft_wrap=True)
    changed = [o for o in outcomes if o.changed and not o.refused]
    blocks = sum(len(o.accepted) for o in changed)
    console.print(
        f"accepted {blocks} block(s) in {len(changed)} guide(s)" if changed else "nothing to accept"
    )
    refused = any(o.refused for o in outcomes)
    if dry_run or not changed:
        if dry_run and changed:
            console.print("dry run: no file was changed")
        if any(o.result.broken for o in outcomes):
            return EXIT_BROKEN
        return EXIT_INFRA if refused else EXIT_OK
    for outcome in changed:
        outcome.write()
    console.print("checking the accepted guides again:")
    if recheck is None:
        return EXIT_INFRA if refused else EXIT_OK
    code = recheck([o.rendered.id for o in changed], sandbox_name, golden_paths, console=console, keep=keep)
    return EXIT_INFRA if refused and code == EXIT_OK else code
